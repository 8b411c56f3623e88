/*
 * binance.c - request URLs and response parsers for Binance USD-M futures
 * (/fapi/v1/klines, /fapi/v1/fundingRate, the /futures/data/ series) and spot
 * (/api/v3/klines). No I/O: fetch.c sends the requests and pages.
 *
 * Shapes (docs/EXCHANGES.md §2-7; how we use them: docs/SOURCES.md): a
 * kline is a 12-element array [openTime:int, open:str, high:str, low:str, close:str,
 * volume:str, closeTime:int, quoteVolume:str, trades:int, takerBuyBase:str,
 * takerBuyQuote:str, ignore]; decimals are strings and keep their text;
 * times are integer ms (the /futures/data timestamp may be a string). A
 * body that is an object instead of an array is an error body, even with
 * HTTP 200. A bad kline is data, not a failed request: it is kept as
 * received, marked malformed, and validation rejects it (rejected_candles)
 * while the rest of the page is stored; only a row without an open time
 * is dropped (and logged). A bad aux row still fails its page.
 */
#include "clients.h"
#include "source.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "log.h"
#include "timeutil.h"

static const struct {
	int64_t ms;
	const char *name;
} intervals[] = {
	{MDE_MINUTE_MS, "1m"},       {3 * MDE_MINUTE_MS, "3m"},
	{5 * MDE_MINUTE_MS, "5m"},   {15 * MDE_MINUTE_MS, "15m"},
	{30 * MDE_MINUTE_MS, "30m"}, {MDE_HOUR_MS, "1h"},
	{2 * MDE_HOUR_MS, "2h"},     {4 * MDE_HOUR_MS, "4h"},
	{6 * MDE_HOUR_MS, "6h"},     {8 * MDE_HOUR_MS, "8h"},
	{12 * MDE_HOUR_MS, "12h"},   {MDE_DAY_MS, "1d"},
};

const char *mde_binance_interval(int64_t period_ms)
{
	for (size_t i = 0; i < MDE_ARRAY_LEN(intervals); i++)
		if (intervals[i].ms == period_ms)
			return intervals[i].name;
	return NULL;
}

int mde_binance_klines_weight(int limit)
{
	return limit < 100 ? 1 : limit < 500 ? 2 : limit <= 1000 ? 5 : 10;
}

int mde_binance_klines_limit(bool spot, int64_t need)
{
	int max = spot ? MDE_BINANCE_SPOT_KLINES_LIMIT : MDE_BINANCE_KLINES_LIMIT;
	return need < 1 ? 1 : need > max ? max : (int)need;
}

static int put(char *buf, size_t cap, int k)
{
	return (k < 0 || (size_t)k >= cap) ? MDE_EINVAL : 0;
}

int mde_binance_klines_url(char *buf, size_t cap, const char *base,
			   bool spot, const char *symbol, int64_t period_ms,
			   int64_t start_ms, int64_t end_incl_ms, int limit)
{
	const char *iv = mde_binance_interval(period_ms);
	if (!iv)
		return MDE_EINVAL;
	char sym[64] = "";
	if (mde_url_escape(sym, sizeof sym, symbol))
		return MDE_EINVAL;
	return put(buf, cap,
		   snprintf(buf, cap,
			    "%s%s?symbol=%s&interval=%s&startTime=%lld"
			    "&endTime=%lld&limit=%d",
			    base, spot ? "/api/v3/klines" : "/fapi/v1/klines",
			    sym, iv, (long long)start_ms,
			    (long long)end_incl_ms, limit));
}

int mde_binance_funding_url(char *buf, size_t cap, const char *base,
			    const char *symbol, int64_t start_ms,
			    int64_t end_incl_ms, int limit)
{
	char sym[64] = "";
	if (symbol && mde_url_escape(sym, sizeof sym, symbol))
		return MDE_EINVAL;
	return put(buf, cap,
		   snprintf(buf, cap,
			    "%s/fapi/v1/fundingRate?%s%s%sstartTime=%lld"
			    "&endTime=%lld&limit=%d",
			    base, symbol ? "symbol=" : "", sym,
			    symbol ? "&" : "", (long long)start_ms,
			    (long long)end_incl_ms, limit));
}

const char *mde_binance_futdata_path(int kind)
{
	switch (kind) {
	case MDE_AUX_OPEN_INTEREST:
		return "/futures/data/openInterestHist";
	case MDE_AUX_LONG_SHORT:
		return "/futures/data/globalLongShortAccountRatio";
	case MDE_AUX_TAKER:
		return "/futures/data/takerlongshortRatio";
	default:
		return NULL;
	}
}

static const char *futdata_field(int kind)
{
	switch (kind) {
	case MDE_AUX_OPEN_INTEREST:
		return "sumOpenInterest";
	case MDE_AUX_LONG_SHORT:
		return "longShortRatio";
	case MDE_AUX_TAKER:
		return "buySellRatio";
	default:
		return NULL;
	}
}

int mde_binance_futdata_url(char *buf, size_t cap, const char *base,
			    int kind, const char *symbol, int64_t period_ms,
			    int64_t start_ms, int64_t end_incl_ms, int limit)
{
	const char *path = mde_binance_futdata_path(kind);
	const char *iv = mde_binance_interval(period_ms);
	/* the period enum of /futures/data: 5m ... 1d, no 1m/3m/8h */
	if (!path || !iv || period_ms < 5 * MDE_MINUTE_MS ||
	    period_ms == 8 * MDE_HOUR_MS)
		return MDE_EINVAL;
	char sym[64] = "";
	if (mde_url_escape(sym, sizeof sym, symbol))
		return MDE_EINVAL;
	return put(buf, cap,
		   snprintf(buf, cap,
			    "%s%s?symbol=%s&period=%s&startTime=%lld"
			    "&endTime=%lld&limit=%d",
			    base, path, sym, iv, (long long)start_ms,
			    (long long)end_incl_ms, limit));
}

int mde_binance_error_body(const char *body, size_t len, mde_err *err)
{
	if (!body || len == 0 || len > 4096)
		return 0;
	cJSON *j = cJSON_ParseWithLength(body, len);
	const cJSON *code = cJSON_GetObjectItemCaseSensitive(j, "code");
	const cJSON *msg = cJSON_GetObjectItemCaseSensitive(j, "msg");
	int64_t c = 0;
	int rc = 0;
	if (cJSON_IsObject(j) && cJSON_IsNumber(code) &&
	    mde_json_int(code, &c) == 0 && c < 0) {
		int status = err ? err->http_status : 0;
		int64_t ra = err ? err->retry_after_ms : 0;
		bool retry = c == -1000 || c == -1001 || c == -1007 ||
			     c == -1008;
		const char *m = cJSON_IsString(msg) ? msg->valuestring : "";
		bool banned = c == -1003 && strstr(m, "banned");
		if (c == -1121) /* Invalid symbol: asking again cannot help */
			rc = mde_err_set(err, MDE_ENOTFOUND, false,
					 "unknown symbol: the exchange does not "
					 "list it (binance error -1121: %.100s)",
					 m);
		else
			rc = mde_err_set(err, banned ? MDE_EBANNED : MDE_ENET,
					 retry || (c == -1003 && !banned),
					 "binance error %lld: %.200s%s",
					 (long long)c, m,
					 status == 200 ? " (with HTTP 200)"
						       : "");
		if (err) {
			err->http_status = status;
			err->retry_after_ms = ra;
		}
	}
	cJSON_Delete(j);
	return rc;
}

/* A body that should be an array: JSON, an array, not an error object. */
static int parse_array(const char *body, size_t len, cJSON **out,
		       mde_err *err)
{
	int rc = mde_json_parse(body, len, out, err);
	if (rc)
		return rc;
	if (cJSON_IsArray(*out))
		return 0;
	if (err)
		err->http_status = 200;
	rc = mde_binance_error_body(body, len, err);
	if (rc == 0)
		rc = mde_err_set(err, MDE_EPARSE, false,
				 "expected a JSON array, got %s",
				 cJSON_IsObject(*out) ? "an object" : "a scalar");
	if (err)
		err->http_status = 200;
	cJSON_Delete(*out);
	*out = NULL;
	return rc;
}

/* kline index of each mde_field */
static const int kline_idx[MDE_NFIELDS] = {1, 2, 3, 4, 5, 7, 9, 10};

/*
 * Kline row i into in (texts in bufs): a row with no integer open time
 * cannot be keyed and returns MDE_EPARSE (it is dropped and logged); a
 * row of the wrong shape, a bad close time or trade count, or a field
 * that is no decimal string is kept as received, marked malformed, for
 * validation to reject with every reason.
 */
static int kline_row(const cJSON *row, size_t i, int origin,
		     mde_candle_in *in, char bufs[MDE_NFIELDS][48])
{
	/* the row's elements in one walk (cJSON_GetArrayItem walks from the
	   first each time); NULL past the end, as GetArrayItem gives */
	const cJSON *el[12] = {NULL};
	int nel = 0;
	if (cJSON_IsArray(row))
		for (const cJSON *e = row->child; e; e = e->next, nel++)
			if (nel < 12)
				el[nel] = e;
	const cJSON *t = el[0];
	*in = (mde_candle_in){.origin = origin, .lenient = true,
			      .trades = MDE_NULL_TRADES};
	if (!cJSON_IsArray(row) || !cJSON_IsNumber(t) ||
	    mde_json_int(t, &in->open_time_ms)) {
		char *raw = cJSON_PrintUnformatted(row);
		mde_warn("fetch.row_dropped", "row=%zu reason=\"no integer open "
			 "time\" raw=\"%.80s\"", i, raw ? raw : "?");
		cJSON_free(raw);
		return MDE_EPARSE;
	}
	int64_t ct;
	const cJSON *tr = el[8];
	if (nel != 12 || mde_json_int(el[6], &ct) || !cJSON_IsNumber(tr) ||
	    mde_json_int(tr, &in->trades))
		in->malformed = true;
	for (int f = 0; f < MDE_NFIELDS; f++)
		mde_json_field(el[kline_idx[f]], true, in, f, bufs[f],
			       sizeof bufs[f]);
	return 0;
}

/* ---- the usual page without a document ---------------------------- */

struct scan {
	const char *p, *end;
};

static void skip_ws(struct scan *s)
{
	while (s->p < s->end && (*s->p == ' ' || *s->p == '\n' ||
				 *s->p == '\r' || *s->p == '\t'))
		s->p++;
}

static bool eat(struct scan *s, char c)
{
	skip_ws(s);
	if (s->p == s->end || *s->p != c)
		return false;
	s->p++;
	return true;
}

/* A non-negative integer of 1 to 15 digits (exact in the double cJSON
 * reads), no leading zero (JSON's). */
static bool scan_int(struct scan *s, int64_t *v)
{
	skip_ws(s);
	const char *q = s->p;
	int64_t x = 0;
	while (s->p < s->end && (unsigned)(*s->p - '0') < 10 && s->p - q < 16)
		x = x * 10 + (*s->p++ - '0'); /* a 16th digit: refused below */
	size_t n = (size_t)(s->p - q);
	if (n == 0 || n > 15 || (n > 1 && *q == '0') ||
	    (s->p < s->end && (*s->p == '.' || *s->p == 'e' || *s->p == 'E' ||
			       (unsigned)(*s->p - '0') < 10)))
		return false;
	*v = x;
	return true;
}

/* A string of printable ASCII without escapes: its text (txt, len). */
static bool scan_str(struct scan *s, const char **txt, size_t *len)
{
	if (!eat(s, '"'))
		return false;
	const char *q = s->p;
	while (s->p < s->end && *s->p != '"') {
		unsigned char c = (unsigned char)*s->p;
		if (c < 0x20 || c > 0x7e || c == '\\')
			return false;
		s->p++;
	}
	if (s->p == s->end)
		return false;
	*txt = q;
	*len = (size_t)(s->p++ - q);
	return true;
}

/*
 * The page as kline_row and mde_binance_parse_klines read it, for the
 * shape Binance sends: an array of rows of 12 elements, [int, 5 strings,
 * int, string, int, 3 strings], integers plain, strings of printable
 * ASCII without escapes. A page of any other shape, or anything cJSON
 * would read otherwise, is left to the document parser: false, with out
 * as it was. The page of 1000 klines is about 13,000 values: cJSON's
 * nodes, and its parse of every value (strncmp against null, false and
 * true before each, strtod for every integer), took a fifth of a REST
 * backfill's client CPU.
 */
static bool klines_fast(const char *body, size_t len, int origin,
			const mde_window *w, mde_candles *out, mde_page *pg,
			int *rc, mde_err *err)
{
	struct scan s = {body, body + len};
	size_t n0 = out->n, t0 = out->text_len;
	mde_page_reset(pg);
	*rc = 0;
	if (!eat(&s, '['))
		return false;
	bool first = true;
	for (;;) {
		if (first && eat(&s, ']'))
			break;
		const char *str[12];
		size_t slen[12];
		int64_t num[12];
		mde_candle_in in = {.origin = origin, .lenient = true};
		if (!eat(&s, '['))
			goto bail;
		for (int e = 0; e < 12; e++) {
			if (e && !eat(&s, ','))
				goto bail;
			bool isnum = e == 0 || e == 6 || e == 8;
			if (isnum ? !scan_int(&s, &num[e])
				  : !scan_str(&s, &str[e], &slen[e]))
				goto bail;
		}
		if (!eat(&s, ']'))
			goto bail;
		in.open_time_ms = num[0];
		in.trades = num[8];
		for (int f = 0; f < MDE_NFIELDS; f++) {
			int e = kline_idx[f];
			in.txt[f] = slen[e] ? str[e] : NULL;
			in.len[f] = slen[e];
		}
		pg->rows++;
		mde_page_time(pg, in.open_time_ms);
		if (mde_window_keeps(w, in.open_time_ms)) {
			mde_err e2;
			int r = mde_candles_push(out, &in, &e2);
			if (r) {
				*rc = mde_err_set(err, r, false, "kline %zu: %s",
						  pg->rows - 1, e2.msg);
				goto bail;
			}
			pg->kept++;
		}
		first = false;
		if (eat(&s, ']'))
			break;
		if (!eat(&s, ','))
			goto bail;
	}
	skip_ws(&s);
	if (s.p == s.end)
		return true;
bail:
	mde_candles_truncate(out, n0, t0);
	mde_page_reset(pg);
	return *rc != 0; /* out of memory: that error, not a second try */
}

int mde_binance_parse_klines(const char *body, size_t len,
			     enum mde_origin origin,
			     const mde_window *w, mde_candles *out,
			     mde_page *pg, mde_err *err)
{
	int rc;
	if (body && klines_fast(body, len, origin, w, out, pg, &rc, err))
		return rc;
	return mde_binance_parse_klines_doc(body, len, origin, w, out, pg,
					    err);
}

int mde_binance_parse_klines_doc(const char *body, size_t len,
				 enum mde_origin origin,
				 const mde_window *w, mde_candles *out,
				 mde_page *pg, mde_err *err)
{
	size_t n0 = out->n, t0 = out->text_len, i = 0;
	cJSON *root = NULL;
	mde_page_reset(pg);
	mde_json_arena_begin();
	int rc = parse_array(body, len, &root, err);
	if (rc)
		goto done;
	const cJSON *row;
	cJSON_ArrayForEach(row, root)
	{
		mde_candle_in in;
		char bufs[MDE_NFIELDS][48];
		if (kline_row(row, i++, origin, &in, bufs)) {
			pg->dropped++;
			continue;
		}
		pg->rows++;
		mde_page_time(pg, in.open_time_ms);
		if (!mde_window_keeps(w, in.open_time_ms))
			continue;
		mde_err e2;
		rc = mde_candles_push(out, &in, &e2);
		if (rc) {
			rc = mde_err_set(err, rc, false, "kline %zu: %s", i - 1,
					 e2.msg);
			goto done;
		}
		pg->kept++;
	}
	if (pg->dropped && !pg->rows)
		rc = mde_err_set(err, MDE_EPARSE, false,
				 "not a JSON array of klines (%zu elements, "
				 "none with an open time)", pg->dropped);
done:
	if (rc) {
		mde_candles_truncate(out, n0, t0);
		pg->kept = 0;
	}
	mde_json_arena_end(); /* root's nodes with it */
	return rc;
}

static int push_aux(mde_aux *out, int64_t t, double v, mde_err *err)
{
	if (mde_aux_push(out, t, v))
		return mde_err_set(err, MDE_ENOMEM, false, "out of memory");
	return 0;
}

/* Which rows of a page parse_points drops as repeats. */
enum repeats {
	KEEP_ALL,     /* rows in any order, for the caller to sort */
	IN_PAGE,      /* a row not after the one kept before it in the page */
	IN_TABLE,     /* a row not after its table's last (a page boundary's
			 repeat, whatever page it came in) */
};

/* Where parse_points puts rows: out[0], or, with symbols (nsym sorted
 * names), out[k] for the rows whose "symbol" is symbols[k]; the rows of
 * other symbols are checked and dropped, and rows must come in time
 * order. */
struct points_to {
	mde_aux *out;
	const char *const *symbols;
	size_t nsym;
};

static int symcmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The table of row, NULL for a symbol not asked for; MDE_EPARSE when
 * the row has no symbol. */
static int points_table(const struct points_to *to, const cJSON *row,
			mde_aux **a)
{
	*a = to->out;
	if (!to->nsym)
		return 0;
	const cJSON *sj = cJSON_GetObjectItemCaseSensitive(row, "symbol");
	if (!cJSON_IsString(sj))
		return MDE_EPARSE;
	const char *key = sj->valuestring;
	const char *const *hit = bsearch(&key, to->symbols, to->nsym,
					 sizeof *to->symbols, symcmp);
	*a = hit ? &to->out[hit - to->symbols] : NULL;
	return 0;
}

/*
 * An array of objects {tkey: time, vkey: "decimal"} into to: the rows of
 * [w) after after_ms (a page boundary's repeat), repeats dropped as rep
 * says. Any bad row rejects the whole page, and every table is left as it
 * was.
 */
static int parse_points(const char *body, size_t len, const char *tkey,
			const char *vkey, const mde_window *w, int64_t after_ms,
			enum repeats rep, const struct points_to *to,
			mde_page *pg, mde_err *err)
{
	size_t ntab = to->nsym ? to->nsym : 1, i = 0;
	cJSON *root = NULL;
	mde_page_reset(pg);
	/* each table's size before the page: what a bad page goes back to */
	size_t *n0 = malloc(ntab * sizeof *n0);
	if (!n0)
		return mde_err_set(err, MDE_ENOMEM, false, "out of memory");
	for (size_t k = 0; k < ntab; k++)
		n0[k] = to->out[k].n;
	mde_json_arena_begin();
	int rc = parse_array(body, len, &root, err);
	if (rc)
		goto done;
	const cJSON *row;
	cJSON_ArrayForEach(row, root)
	{
		int64_t t;
		double v;
		mde_aux *a;
		if (!cJSON_IsObject(row) || points_table(to, row, &a) ||
		    mde_json_int(cJSON_GetObjectItemCaseSensitive(row, tkey),
				 &t) ||
		    mde_json_decstr(cJSON_GetObjectItemCaseSensitive(row, vkey),
				    &v)) {
			rc = mde_err_set(err, MDE_EPARSE, false,
					 "row %zu: missing or bad %s%s/%s", i,
					 to->nsym ? "symbol/" : "", tkey, vkey);
			goto done;
		}
		if (to->nsym && pg->rows && t < pg->last_ms) {
			rc = mde_err_set(err, MDE_EPARSE, false,
					 "row %zu: %s before the row above it "
					 "(the pages of all symbols are read in "
					 "time order)", i, tkey);
			goto done;
		}
		pg->rows++;
		mde_page_time(pg, t);
		i++;
		if (!a || t < w->start_ms || t >= w->end_ms || t <= after_ms)
			continue;
		size_t from = rep == IN_PAGE ? n0[a - to->out] : 0;
		if (rep != KEEP_ALL && a->n > from && t <= a->t[a->n - 1])
			continue; /* a repeat */
		if ((rc = push_aux(a, t, v, err)))
			goto done;
		pg->kept++;
	}
done:
	if (rc) {
		for (size_t k = 0; k < ntab; k++)
			to->out[k].n = n0[k];
		pg->kept = 0;
	}
	free(n0);
	mde_json_arena_end(); /* root's nodes with it */
	return rc;
}

int mde_binance_parse_funding(const char *body, size_t len,
			      const mde_window *w, mde_aux *out,
			      mde_page *pg, mde_err *err)
{
	struct points_to to = {.out = out};
	return parse_points(body, len, "fundingTime", "fundingRate", w,
			    INT64_MIN, KEEP_ALL, &to, pg, err);
}

int mde_binance_parse_funding_all(const char *body, size_t len,
				  const mde_window *w,
				  const char *const *symbols, size_t nsymbols,
				  mde_aux *out, mde_page *pg, mde_err *err)
{
	struct points_to to = {.out = out, .symbols = symbols,
			       .nsym = nsymbols};
	return parse_points(body, len, "fundingTime", "fundingRate", w,
			    INT64_MIN, IN_TABLE, &to, pg, err);
}

int mde_binance_parse_futdata(const char *body, size_t len, int kind,
			      const mde_window *w, int64_t after_ms,
			      mde_aux *out, mde_page *pg, mde_err *err)
{
	const char *field = futdata_field(kind);
	if (!field) {
		mde_page_reset(pg);
		return mde_err_set(err, MDE_EINVAL, false, "bad aux kind %d",
				   kind);
	}
	struct points_to to = {.out = out};
	return parse_points(body, len, "timestamp", field, w, after_ms, IN_PAGE,
			    &to, pg, err);
}
