/*
 * yahoo.c - /v8/finance/chart/{symbol}: URL and parser (no I/O).
 *
 * Body: {"chart":{"result":[{"meta":{...},"timestamp":[s...],
 * "indicators":{"quote":[{"open":[...],"high":[...],...}]}}],"error":null}}.
 * Times are Unix seconds; OHLCV are parallel arrays looked up by name (key
 * order is not stable); a null at index i in any of them means no bar at i
 * (the whole index is skipped); an empty window has no "timestamp" key;
 * a non-null chart.error is an error. A daily bar's open_time is 00:00 UTC
 * of the UTC date of its stamp (AAPL stamps the session open, 13:30 UTC);
 * Yahoo may append the current, unfinished bar past period2: the window
 * filter drops it.
 */
#include "clients.h"
#include "log.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "http.h"
#include "timeutil.h"

const char *mde_yahoo_interval(int64_t period_ms)
{
	switch (period_ms) {
	case MDE_MINUTE_MS: return "1m";
	case 5 * MDE_MINUTE_MS: return "5m";
	case 15 * MDE_MINUTE_MS: return "15m";
	case 30 * MDE_MINUTE_MS: return "30m";
	case MDE_HOUR_MS: return "60m";
	case MDE_DAY_MS: return "1d";
	default: return NULL;
	}
}

int mde_yahoo_chart_url(char *buf, size_t cap, const char *base,
			const char *ysymbol, int64_t period_ms,
			int64_t start_ms, int64_t end_ms)
{
	const char *iv = mde_yahoo_interval(period_ms);
	char sym[64] = "";
	if (!iv || mde_url_escape(sym, sizeof sym, ysymbol))
		return MDE_EINVAL;
	/* period1 inclusive, period2 exclusive, in seconds */
	int64_t p1 = mde_floor_div(start_ms, 1000);
	int64_t p2 = mde_floor_div(end_ms + 999, 1000);
	int k = snprintf(buf, cap,
			 "%s/v8/finance/chart/%s?period1=%lld&period2=%lld"
			 "&interval=%s&includePrePost=false&events=div%%7Csplit",
			 base, sym, (long long)p1, (long long)p2, iv);
	return (k < 0 || (size_t)k >= cap) ? MDE_EINVAL : 0;
}

static const char *const quote_names[5] = {"open", "high", "low", "close",
					   "volume"};

int mde_yahoo_parse_chart(const char *body, size_t len, enum mde_origin origin,
			  const mde_window *w, mde_candles *out,
			  mde_page *pg, mde_err *err)
{
	size_t n0 = out->n, t0 = out->text_len;
	cJSON *root = NULL;
	mde_page_reset(pg);
	int rc = mde_json_parse(body, len, &root, err);
	if (rc)
		goto done;
	const cJSON *chart = cJSON_GetObjectItemCaseSensitive(root, "chart");
	const cJSON *cerr = cJSON_GetObjectItemCaseSensitive(chart, "error");
	if (!cJSON_IsObject(chart)) {
		rc = mde_err_set(err, MDE_EPARSE, false, "no \"chart\" object");
		goto done;
	}
	if (cerr && !cJSON_IsNull(cerr)) {
		const cJSON *d = cJSON_GetObjectItemCaseSensitive(cerr,
								  "description");
		const cJSON *c = cJSON_GetObjectItemCaseSensitive(cerr, "code");
		rc = mde_err_set(err, MDE_ENET, false, "yahoo error %s: %.200s",
				 cJSON_IsString(c) ? c->valuestring : "?",
				 cJSON_IsString(d) ? d->valuestring : "?");
		goto done;
	}
	const cJSON *res = cJSON_GetArrayItem(
		cJSON_GetObjectItemCaseSensitive(chart, "result"), 0);
	if (!cJSON_IsObject(res)) {
		rc = mde_err_set(err, MDE_EPARSE, false,
				 "chart.result[0] missing");
		goto done;
	}
	const cJSON *ts = cJSON_GetObjectItemCaseSensitive(res, "timestamp");
	if (!ts)
		goto done; /* an empty window */
	if (!cJSON_IsArray(ts)) {
		rc = mde_err_set(err, MDE_EPARSE, false,
				 "timestamp is not an array");
		goto done;
	}
	const cJSON *q = cJSON_GetArrayItem(
		cJSON_GetObjectItemCaseSensitive(
			cJSON_GetObjectItemCaseSensitive(res, "indicators"),
			"quote"),
		0);
	const cJSON *col[5];
	int n = cJSON_GetArraySize(ts);
	for (int k = 0; k < 5; k++) {
		col[k] = cJSON_GetObjectItemCaseSensitive(q, quote_names[k]);
		if (!cJSON_IsArray(col[k]) || cJSON_GetArraySize(col[k]) != n) {
			rc = mde_err_set(err, MDE_EPARSE, false,
					 "indicators.quote[0].%s missing or "
					 "not %d long", quote_names[k], n);
			goto done;
		}
	}
	/* walk the six arrays together (cJSON arrays are linked lists) */
	const cJSON *it[6] = {ts->child, col[0]->child, col[1]->child,
			      col[2]->child, col[3]->child, col[4]->child};
	for (int i = 0; i < n; i++) {
		mde_candle_in in = {.origin = origin, .lenient = true,
				    .trades = MDE_NULL_TRADES};
		char bufs[5][48];
		int64_t sec;
		bool skip = false, keyed = true;
		if (mde_json_int(it[0], &sec) || !cJSON_IsNumber(it[0]))
			keyed = false; /* no time, no key: dropped, logged */
		/* A null is a bar Yahoo has not got (skipped); any other
		 * non-number makes the row malformed: rejected, the page
		 * goes on. */
		for (int k = 0; k < 5; k++) {
			const cJSON *x = it[k + 1];
			skip |= cJSON_IsNull(x);
			mde_json_field(x, false, &in, k, bufs[k],
				       sizeof bufs[k]);
			in.malformed |= !cJSON_IsNull(x) && !cJSON_IsNumber(x);
		}
		for (int k = 0; k < 6; k++)
			it[k] = it[k]->next;
		if (!keyed) {
			mde_warn("fetch.row_dropped", "row=%d reason=\"timestamp "
				 "is not an integer\"", i);
			pg->dropped++;
			continue;
		}
		pg->rows++;
		int64_t t = sec * 1000;
		if (w->period_ms == MDE_DAY_MS)
			t = mde_floor_div(t, MDE_DAY_MS) * MDE_DAY_MS;
		mde_page_time(pg, t);
		if (skip || !mde_window_keeps(w, t))
			continue;
		in.open_time_ms = t;
		if (mde_candles_push(out, &in, NULL)) {
			rc = mde_err_set(err, MDE_ENOMEM, false,
					 "out of memory");
			goto done;
		}
		pg->kept++;
	}
done:
	if (rc) {
		mde_candles_truncate(out, n0, t0);
		pg->kept = 0;
	}
	cJSON_Delete(root);
	return rc;
}
