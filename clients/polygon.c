/*
 * polygon.c - /v2/aggs/ticker/{T}/range/{mult}/{timespan}/{from}/{to}:
 * URL and parser (no I/O). The key is never put in a URL: fetch.c sends it
 * as "Authorization: Bearer", also when following next_url.
 *
 * Body: {"ticker","status":"OK"|"DELAYED","resultsCount","results":[{"t":ms,
 * "o","h","l","c","v","vw","n"}],"next_url":...}. results may be missing
 * (no data); v may be fractional or in exponent form (cJSON reads both);
 * {"status":"ERROR","error":...} and {"status":"NOT_AUTHORIZED",
 * "message":...} are errors. A daily bar starts at 00:00 New York (04:00 or
 * 05:00 UTC): its open_time becomes 00:00 UTC of that UTC date.
 */
#include "clients.h"
#include "log.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "http.h"
#include "timeutil.h"

static int span(int64_t period_ms, int *mult, const char **unit)
{
	if (period_ms == MDE_DAY_MS)
		*mult = 1, *unit = "day";
	else if (period_ms % MDE_HOUR_MS == 0 && period_ms < MDE_DAY_MS)
		*mult = (int)(period_ms / MDE_HOUR_MS), *unit = "hour";
	else if (period_ms % MDE_MINUTE_MS == 0 && period_ms < MDE_HOUR_MS)
		*mult = (int)(period_ms / MDE_MINUTE_MS), *unit = "minute";
	else
		return MDE_EINVAL;
	return 0;
}

static void ymd(int64_t ms, char *buf, size_t cap)
{
	int64_t y;
	unsigned m, d;
	mde_civil_from_days(mde_floor_div(ms, MDE_DAY_MS), &y, &m, &d);
	snprintf(buf, cap, "%04lld-%02u-%02u", (long long)y, m, d);
}

int mde_polygon_aggs_url(char *buf, size_t cap, const char *base,
			 const char *psymbol, int64_t period_ms,
			 int64_t start_ms, int64_t end_ms)
{
	int mult;
	const char *unit;
	char sym[64] = "", from[32], to[32];
	if (span(period_ms, &mult, &unit) || end_ms <= start_ms ||
	    mde_url_escape(sym, sizeof sym, psymbol))
		return MDE_EINVAL;
	if (period_ms == MDE_DAY_MS) {
		/* dates, both inclusive; a day's bar is stamped 00:00 NY */
		ymd(start_ms, from, sizeof from);
		ymd(end_ms - 1, to, sizeof to);
	} else {
		snprintf(from, sizeof from, "%lld", (long long)start_ms);
		snprintf(to, sizeof to, "%lld", (long long)(end_ms - 1));
	}
	int k = snprintf(buf, cap,
			 "%s/v2/aggs/ticker/%s/range/%d/%s/%s/%s"
			 "?adjusted=true&sort=asc&limit=50000",
			 base, sym, mult, unit, from, to);
	return (k < 0 || (size_t)k >= cap) ? MDE_EINVAL : 0;
}

int mde_polygon_parse_aggs(const char *body, size_t len, enum mde_origin origin,
			   const mde_window *w, mde_candles *out,
			   mde_page *pg, mde_err *err)
{
	static const char *const keys[5] = {"o", "h", "l", "c", "v"};
	size_t n0 = out->n, t0 = out->text_len, i = 0;
	cJSON *root = NULL;
	mde_page_reset(pg);
	int rc = mde_json_parse(body, len, &root, err);
	if (rc)
		goto done;
	const cJSON *st = cJSON_GetObjectItemCaseSensitive(root, "status");
	if (!cJSON_IsObject(root) || !cJSON_IsString(st)) {
		rc = mde_err_set(err, MDE_EPARSE, false,
				 "not an aggregates body (no status)");
		goto done;
	}
	if (strcmp(st->valuestring, "OK") != 0 &&
	    strcmp(st->valuestring, "DELAYED") != 0) {
		const cJSON *m = cJSON_GetObjectItemCaseSensitive(root, "error");
		if (!cJSON_IsString(m))
			m = cJSON_GetObjectItemCaseSensitive(root, "message");
		rc = mde_err_set(err, MDE_ENET,
				 strcmp(st->valuestring, "ERROR") == 0 &&
					 !cJSON_IsString(m),
				 "polygon status %.40s: %.200s", st->valuestring,
				 cJSON_IsString(m) ? m->valuestring : "?");
		goto done;
	}
	const cJSON *res = cJSON_GetObjectItemCaseSensitive(root, "results");
	if (res && !cJSON_IsArray(res)) {
		rc = mde_err_set(err, MDE_EPARSE, false,
				 "results is not an array");
		goto done;
	}
	const cJSON *row;
	cJSON_ArrayForEach(row, res)
	{
		mde_candle_in in = {.origin = origin, .lenient = true,
				    .trades = MDE_NULL_TRADES};
		char bufs[5][48];
		const cJSON *tj = cJSON_GetObjectItemCaseSensitive(row, "t");
		if (!cJSON_IsNumber(tj) || mde_json_int(tj, &in.open_time_ms)) {
			/* no time, no key: dropped, and logged */
			mde_warn("fetch.row_dropped", "row=%zu reason=\"t is not "
				 "an integer\"", i++);
			pg->dropped++;
			continue;
		}
		/* o h l c v; a missing, null or non-number one makes the
		 * row malformed (validation rejects it, the page goes on) */
		for (int k = 0; k < 5; k++) {
			const cJSON *x = cJSON_GetObjectItemCaseSensitive(row,
									  keys[k]);
			mde_json_field(x, false, &in, k, bufs[k],
				       sizeof bufs[k]);
			in.malformed |= !cJSON_IsNumber(x);
		}
		const cJSON *nj = cJSON_GetObjectItemCaseSensitive(row, "n");
		if (nj && (!cJSON_IsNumber(nj) || mde_json_int(nj, &in.trades)))
			in.malformed = true;
		int64_t t = in.open_time_ms;
		pg->rows++;
		i++;
		if (w->period_ms == MDE_DAY_MS)
			t = mde_floor_div(t, MDE_DAY_MS) * MDE_DAY_MS;
		in.open_time_ms = t;
		mde_page_time(pg, t);
		if (!mde_window_keeps(w, t))
			continue;
		if (mde_candles_push(out, &in, NULL)) {
			rc = mde_err_set(err, MDE_ENOMEM, false,
					 "out of memory");
			goto done;
		}
		pg->kept++;
	}
	const cJSON *nu = cJSON_GetObjectItemCaseSensitive(root, "next_url");
	if (cJSON_IsString(nu) && nu->valuestring[0]) {
		if (strlen(nu->valuestring) >= sizeof pg->next_url) {
			rc = mde_err_set(err, MDE_EPARSE, false,
					 "next_url too long");
			goto done;
		}
		strcpy(pg->next_url, nu->valuestring);
		pg->has_next = true;
	}
done:
	if (rc) {
		mde_candles_truncate(out, n0, t0);
		pg->kept = 0;
		pg->has_next = false;
	}
	cJSON_Delete(root);
	return rc;
}
