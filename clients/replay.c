/*
 * replay.c - the "replay:DIR" source: recorded REST bodies read from files
 * and fed to the same parsers as live responses, so a replay exercises
 * the real parsing code with no network. Layout (data/README.md):
 *   DIR/<SYMBOL>/klines_<tf>.json        Binance kline array (futures/spot)
 *   DIR/<SYMBOL>/chart_<tf>.json         Yahoo /v8/finance/chart body
 *   DIR/<SYMBOL>/aggs_<tf>.json          Polygon /v2/aggs body
 *   DIR/<SYMBOL>/funding.json            /fapi/v1/fundingRate array
 *   DIR/<SYMBOL>/open_interest[_<tf>].json, long_short[_<tf>].json,
 *   DIR/<SYMBOL>/taker[_<tf>].json       /futures/data arrays
 * The requested range is served by filtering on time; there is no 30-day
 * limit and no rate limit.
 */
#include "clients.h"
#include "source.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "timeutil.h"

/* A symbol is one path component: no "..", no "/". */
static bool safe_symbol(const char *s)
{
	if (!s || !*s || strlen(s) > 40 || s[0] == '.')
		return false;
	for (; *s; s++)
		if (!(*s >= 'A' && *s <= 'Z') && !(*s >= 'a' && *s <= 'z') &&
		    !(*s >= '0' && *s <= '9') && !strchr("-_.=^:", *s))
			return false;
	return true;
}

/* Reads the first of the candidate files that exists. */
static int read_first(const char *dir, const char *symbol,
		      const char *const *names, size_t nnames,
		      size_t max_bytes, char **body, size_t *len,
		      size_t *which, mde_replay_info *info, mde_err *err)
{
	char path[1024];
	if (!safe_symbol(symbol))
		return mde_err_set(err, MDE_EINVAL, false,
				   "bad symbol for replay: \"%.40s\"",
				   symbol ? symbol : "");
	for (size_t i = 0; i < nnames; i++) {
		if (!names[i])
			continue;
		snprintf(path, sizeof path, "%s/%s/%s", dir, symbol, names[i]);
		int rc = mde_read_file(path, max_bytes, body, len, err);
		if (rc == MDE_ENOTFOUND)
			continue;
		snprintf(info->file, sizeof info->file, "%s/%s", symbol,
			 names[i]);
		info->bytes = *len;
		*which = i;
		return rc;
	}
	snprintf(info->file, sizeof info->file, "%s/%s", symbol, names[0]);
	return mde_err_set(err, MDE_ENOTFOUND, false,
			   "replay: no %s for %s in %s", names[0], symbol,
			   dir);
}

int mde_replay_candles(const char *dir, const char *symbol,
		       const mde_window *w, size_t max_bytes,
		       mde_candles *out, mde_replay_info *info, mde_err *err)
{
	const char *tf = mde_tf_name(w->period_ms);
	char n0[48], n1[48], n2[48];
	char *body = NULL;
	size_t len = 0, which = 0;
	mde_page pg;
	memset(info, 0, sizeof *info);
	if (!tf)
		return mde_err_set(err, MDE_EINVAL, false,
				   "unsupported timeframe");
	snprintf(n0, sizeof n0, "klines_%s.json", tf);
	snprintf(n1, sizeof n1, "chart_%s.json", tf);
	snprintf(n2, sizeof n2, "aggs_%s.json", tf);
	const char *names[] = {n0, n1, n2};
	int rc = read_first(dir, symbol, names, 3, max_bytes, &body, &len,
			    &which, info, err);
	if (rc)
		return rc;
	if (which == 0)
		rc = mde_binance_parse_klines(body, len, MDE_SRC_REPLAY, w, out,
					      &pg, err);
	else if (which == 1)
		rc = mde_yahoo_parse_chart(body, len, MDE_SRC_REPLAY, w, out,
					   &pg, err);
	else
		rc = mde_polygon_parse_aggs(body, len, MDE_SRC_REPLAY, w, out,
					    &pg, err);
	if (rc == 0)
		info->rows = pg.rows;
	else if (err)
		err->retryable = false; /* a file does not get better */
	free(body);
	return rc;
}

int mde_replay_aux(const char *dir, int kind, const char *symbol,
		   int64_t period_ms, const mde_window *w, size_t max_bytes,
		   mde_aux *out, mde_replay_info *info, mde_err *err)
{
	const char *stem = kind == MDE_AUX_FUNDING	   ? "funding"
			   : kind == MDE_AUX_OPEN_INTEREST ? "open_interest"
			   : kind == MDE_AUX_LONG_SHORT	   ? "long_short"
			   : kind == MDE_AUX_TAKER	   ? "taker"
							   : NULL;
	const char *tf = mde_tf_name(period_ms);
	char n0[48], n1[48];
	char *body = NULL;
	size_t len, which;
	mde_page pg;
	memset(info, 0, sizeof *info);
	if (!stem)
		return mde_err_set(err, MDE_ENOTFOUND, false,
				   "no replay source for aux kind %d", kind);
	snprintf(n1, sizeof n1, "%s.json", stem);
	if (kind != MDE_AUX_FUNDING && tf)
		snprintf(n0, sizeof n0, "%s_%s.json", stem, tf);
	else
		snprintf(n0, sizeof n0, "%s.json", stem);
	const char *names[] = {n0, n1};
	int rc = read_first(dir, symbol, names, 2, max_bytes, &body, &len,
			    &which, info, err);
	if (rc)
		return rc;
	if (kind == MDE_AUX_FUNDING)
		rc = mde_binance_parse_funding(body, len, w, out, &pg, err);
	else
		rc = mde_binance_parse_futdata(body, len, kind, w, INT64_MIN,
					       out, &pg, err);
	if (rc == 0)
		info->rows = pg.rows;
	else if (err)
		err->retryable = false;
	free(body);
	return rc;
}
