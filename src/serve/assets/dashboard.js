/*
 * dashboard.js - the charts of mdenrich's series page, drawn with
 * dygraphs (served by mdenrich itself). Reads every stored row of the
 * series from the features endpoint (following "next"), draws the close
 * with sma_20 and sma_50, and below, on the same time axis, volatility_20,
 * funding_rate and open_interest. A missing candle becomes a null row, so
 * that gaps are drawn as gaps; zoom by dragging (both charts follow) or
 * with the range selector. When done, #chart-status carries
 * data-points (rows read), data-chart-points (points in the chart) and
 * data-gaps, for people and for the browser test.
 */
(function () {
  'use strict';

  function fail(status, e) {
    status.className = 'error';
    status.setAttribute('data-error', String(e));
    status.textContent = 'Cannot draw the charts: ' + e;
  }

  function loadAll(url, rows, done, onError) {
    fetch(url, {headers: {Accept: 'application/json'}}).then(function (r) {
      if (!r.ok) throw new Error('HTTP ' + r.status + ' for ' + url);
      return r.json();
    }).then(function (j) {
      for (var i = 0; i < j.rows.length; i++) rows.push(j.rows[i]);
      if (j.next) loadAll(j.next, rows, done, onError);
      else done(rows);
    }).catch(onError);
  }

  function num(v) { return v === null || v === undefined ? null : +v; }

  /* Rows to the two charts' data, with a null row in each gap. */
  function layout(rows, periodMs, equity) {
    var maxStep = equity ? 4 * 86400000 : periodMs;
    var price = [], aux = [], gaps = 0, prev = null;
    for (var i = 0; i < rows.length; i++) {
      var r = rows[i], t = Date.parse(r.open_time);
      if (prev !== null && t - prev > maxStep) {
        var g = new Date(prev + periodMs);
        price.push([g, null, null, null]);
        aux.push([g, null, null, null]);
        gaps++;
      }
      price.push([new Date(t), num(r.close), num(r.sma_20), num(r.sma_50)]);
      aux.push([new Date(t), num(r.volatility_20), num(r.funding_rate),
                num(r.open_interest)]);
      prev = t;
    }
    return {price: price, aux: aux, gaps: gaps};
  }

  function draw(root) {
    var status = document.getElementById('chart-status');
    var sym = root.getAttribute('data-symbol');
    var tf = root.getAttribute('data-timeframe');
    var periodMs = +root.getAttribute('data-period-ms');
    var equity = root.getAttribute('data-asset') === 'equity';
    status.textContent = 'Loading...';
    var url = '/api/v1/market/features/' + encodeURIComponent(sym) + '/' +
      encodeURIComponent(tf) + '?limit=100000&format=json';
    loadAll(url, [], function (rows) {
      if (!rows.length) { status.textContent = 'No stored candles.'; return; }
      var d = layout(rows, periodMs, equity);
      var common = {connectSeparatedPoints: false, drawGapEdgePoints: true,
                    labelsUTC: true, legend: 'always', animatedZooms: false};
      var g1 = new Dygraph(document.getElementById('chart-price'), d.price,
        Object.assign({labels: ['time', 'close', 'sma_20', 'sma_50'],
                       showRangeSelector: true}, common));
      var g2 = new Dygraph(document.getElementById('chart-aux'), d.aux,
        Object.assign({labels: ['time', 'volatility_20', 'funding_rate',
                                'open_interest'],
                       series: {open_interest: {axis: 'y2'}},
                       axes: {y: {axisLabelWidth: 70},
                              y2: {independentTicks: true}},
                       ylabel: 'volatility, funding', y2label: 'open interest'},
                      common));
      var busy = false;
      function follow(src, dst) {
        src.updateOptions({drawCallback: function (g, initial) {
          if (initial || busy) return;
          busy = true;
          dst.updateOptions({dateWindow: g.xAxisRange()});
          busy = false;
        }}, true);
      }
      follow(g1, g2);
      follow(g2, g1);
      status.setAttribute('data-points', String(rows.length));
      status.setAttribute('data-chart-points', String(g1.numRows() - d.gaps));
      status.setAttribute('data-aux-points', String(g2.numRows() - d.gaps));
      status.setAttribute('data-gaps', String(d.gaps));
      status.className = 'ok';
      status.textContent = rows.length + ' candles drawn, ' + d.gaps +
        (d.gaps === 1 ? ' gap.' : ' gaps.');
    }, function (e) { fail(status, e); });
  }

  window.addEventListener('error', function (e) {
    document.documentElement.setAttribute('data-js-error',
      String(e.message || (e.target && e.target.src) || 'error'));
  }, true);

  function start() {
    document.documentElement.setAttribute('data-js', 'ready');
    var root = document.getElementById('chart-root');
    if (!root) return;
    if (typeof Dygraph === 'undefined') {
      fail(document.getElementById('chart-status'), 'dygraphs did not load');
      return;
    }
    draw(root);
  }

  if (document.readyState === 'loading')
    document.addEventListener('DOMContentLoaded', start);
  else start();
})();
