/*
 * archive_csv.c - the funding and metrics CSVs of Binance's archive
 * (archive.h). Columns are found by their header names when there is a
 * header, else by the archive's documented positions; times in ms or µs
 * (funding) or UTC text (metrics). Any bad line rejects the whole file.
 */
#include "archive.h"

#include <math.h>
#include <string.h>

#include "klinecsv.h"

static int col_of(const mde_csv_line *h, const char *a, const char *b, int def)
{
	for (int i = 0; i < h->nf && i < MDE_CSV_MAXF; i++) {
		size_t n = h->len[i];
		if ((strlen(a) == n && memcmp(h->f[i], a, n) == 0) ||
		    (b && strlen(b) == n && memcmp(h->f[i], b, n) == 0))
			return i;
	}
	return def;
}

static int bad(mde_aux *out, size_t n0, mde_err *err, size_t line,
	       const char *what)
{
	out->n = n0;
	return mde_err_set(err, MDE_EPARSE, false, "line %zu: %s", line, what);
}

int mde_ar_parse_funding(const char *buf, size_t len, int64_t start_ms,
			 int64_t end_ms, mde_aux *out, size_t *rows,
			 mde_err *err)
{
	size_t pos = 0, n0 = out->n;
	mde_csv_line ln = {0};
	int ct = 0, cr = 2;
	*rows = 0;
	bool first = true;
	while (mde_csv_next(buf, len, &pos, &ln)) {
		if (first && mde_csv_is_header(&ln)) {
			ct = col_of(&ln, "calc_time", "fundingTime", -1);
			cr = col_of(&ln, "last_funding_rate", "fundingRate",
				    -1);
			if (ct < 0 || cr < 0)
				return bad(out, n0, err, ln.lineno,
					   "no calc_time/last_funding_rate "
					   "column");
			first = false;
			continue;
		}
		first = false;
		int64_t t;
		double v;
		if (ln.nf <= ct || ln.nf <= cr || ln.nf > MDE_CSV_MAXF ||
		    !mde_csv_int(ln.f[ct], ln.len[ct], &t) ||
		    mde_parse_decimal(ln.f[cr], ln.len[cr], &v) || !isfinite(v))
			return bad(out, n0, err, ln.lineno,
				   "bad funding time or rate");
		t = mde_csv_ms(t, NULL);
		(*rows)++;
		if (t < start_ms || t >= end_ms)
			continue;
		if (mde_aux_push(out, t, v)) {
			out->n = n0;
			return mde_err_set(err, MDE_ENOMEM, false,
					   "out of memory");
		}
	}
	return 0;
}

static int metrics_col(int kind)
{
	switch (kind) {
	case MDE_AUX_OPEN_INTEREST:
		return 2;
	case MDE_AUX_LONG_SHORT:
		return 6;
	default:
		return 7;
	}
}

static const char *metrics_name(int kind)
{
	switch (kind) {
	case MDE_AUX_OPEN_INTEREST:
		return "sum_open_interest";
	case MDE_AUX_LONG_SHORT:
		return "count_long_short_ratio";
	default:
		return "sum_taker_long_short_vol_ratio";
	}
}

int mde_ar_parse_metrics(const char *buf, size_t len, int kind,
			 int64_t period_ms, int64_t start_ms, int64_t end_ms,
			 mde_aux *out, size_t *rows, mde_err *err)
{
	size_t pos = 0, n0 = out->n;
	mde_csv_line ln = {0};
	int ct = 0, cv = metrics_col(kind);
	bool first = true;
	*rows = 0;
	while (mde_csv_next(buf, len, &pos, &ln)) {
		if (first && ln.nf > 0 && ln.len[0] >= 4 &&
		    memcmp(ln.f[0], "crea", 4) == 0) {
			ct = col_of(&ln, "create_time", NULL, -1);
			cv = col_of(&ln, metrics_name(kind), NULL, -1);
			if (ct < 0 || cv < 0)
				return bad(out, n0, err, ln.lineno,
					   "no create_time or value column");
			first = false;
			continue;
		}
		first = false;
		int64_t t;
		double v = NAN;
		if (ln.nf <= ct || ln.nf <= cv || ln.nf > MDE_CSV_MAXF ||
		    mde_time_parse_n(ln.f[ct], ln.len[ct], &t))
			return bad(out, n0, err, ln.lineno,
				   "bad create_time or too few fields");
		if (ln.len[cv] &&
		    (mde_parse_decimal(ln.f[cv], ln.len[cv], &v) ||
		     !isfinite(v)))
			return bad(out, n0, err, ln.lineno, "bad value");
		t = mde_csv_ms(t, NULL);
		(*rows)++;
		/* REST with period=P serves the snapshots on multiples of P */
		if (!ln.len[cv] || t < start_ms || t >= end_ms ||
		    mde_floor_div(t, period_ms) * period_ms != t)
			continue;
		if (mde_aux_push(out, t, v)) {
			out->n = n0;
			return mde_err_set(err, MDE_ENOMEM, false,
					   "out of memory");
		}
	}
	return 0;
}
