/*
 * features.c - GET /api/v1/market/features/{symbol}/{timeframe}: the
 * market_data_v2 rows of a range in open_time order, as JSON or as the
 * compute command's CSV, streamed: the answer is written page by page
 * (keyset pages of PAGE_ROWS rows; the next page is computed by the
 * server while this one is formatted, and the pooled connection goes back
 * to the pool before the client is written to), so that 100,000 rows never
 * sit in memory and a slow reader holds no database connection. Values
 * are read in binary (float8 bits, int64 microseconds) and printed with
 * 17 significant digits, as `compute` prints them.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_queries.h"
#include "candles.h"
#include "log.h"
#include "srv.h"
#include "timeutil.h"

#define PAGE_ROWS 1000
#define PG_EPOCH_MS INT64_C(946684800000) /* 2000-01-01 */

typedef struct stream {
	mde_server *srv;
	char symbol[33], tf[8];
	int64_t from_ms, to_ms, after_ms;
	long remaining;
	bool csv, started, done;
	long rows;
	char next[400];       /* URL of the rest, or "" */
	PGresult *ahead;      /* the next page, fetched while this one was
				 formatted */
	mde_sbuf buf;
	size_t off;
} stream;

static uint64_t be64(const char *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | (unsigned char)p[i];
	return v;
}

static int64_t bint(const PGresult *r, int i, int j)
{
	const char *p = PQgetvalue(r, i, j);
	switch (PQgetlength(r, i, j)) {
	case 2: return (int16_t)((unsigned char)p[0] << 8 | (unsigned char)p[1]);
	case 4: return (int32_t)((uint32_t)(unsigned char)p[0] << 24 |
				 (uint32_t)(unsigned char)p[1] << 16 |
				 (uint32_t)(unsigned char)p[2] << 8 |
				 (uint32_t)(unsigned char)p[3]);
	default: return (int64_t)be64(p);
	}
}

static double bdouble(const PGresult *r, int i, int j)
{
	uint64_t u = be64(PQgetvalue(r, i, j));
	double d;
	memcpy(&d, &u, sizeof d);
	return d;
}

static int64_t bts_ms(const PGresult *r, int i, int j)
{
	return mde_floor_div(bint(r, i, j), 1000) + PG_EPOCH_MS;
}

static void put_time(mde_sbuf *b, int64_t ms, bool quoted)
{
	char t[40];
	mde_time_format(ms, t, sizeof t);
	if (quoted)
		mde_sbuf_json(b, t, strlen(t));
	else
		mde_sbuf_puts(b, t);
}

/* Column j as CSV (NULL: nothing) or JSON (NULL: null). */
static void put_value(mde_sbuf *b, const PGresult *r, int i, int j, bool json)
{
	if (PQgetisnull(r, i, j)) {
		if (json)
			mde_sbuf_put(b, "null", 4);
		return;
	}
	if (j == MDE_AF_OPEN_TIME || j == MDE_AF_CTIME || j == MDE_AF_MTIME) {
		put_time(b, bts_ms(r, i, j), json);
	} else if (j == MDE_AF_TRADES || j == MDE_AF_FLAGS ||
		   j == MDE_AF_FEATURE_VERSION || j == MDE_AF_REVISION ||
		   j == MDE_AF_RUN_ID ||
		   (j >= MDE_AF_FEATURES && j < MDE_AF_FLAGS &&
		    mde_column_int2(j - MDE_AF_FEATURES))) {
		mde_sbuf_int(b, bint(r, i, j));
	} else if ((j >= MDE_AF_FEATURES && j < MDE_AF_FLAGS) ||
		   j == MDE_AF_QUALITY) {
		double v = bdouble(r, i, j);
		if (json || isfinite(v))
			mde_sbuf_double(b, v);
	} else {
		const char *v = PQgetvalue(r, i, j);
		size_t n = (size_t)PQgetlength(r, i, j);
		if (json)
			mde_sbuf_json(b, v, n);
		else
			mde_sbuf_put(b, v, n);
	}
}

static void put_row(stream *s, const PGresult *r, int i)
{
	mde_sbuf *b = &s->buf;
	if (s->csv) {
		for (int j = 0; j <= MDE_AF_QUALITY; j++) {
			if (j)
				mde_sbuf_put(b, ",", 1);
			put_value(b, r, i, j, false);
		}
		mde_sbuf_put(b, "\n", 1);
		return;
	}
	mde_sbuf_puts(b, s->rows ? ",\n{" : "\n{");
	for (int j = 0; j < MDE_AF_NCOLS; j++) {
		mde_sbuf_puts(b, j ? ",\"" : "\"");
		mde_sbuf_puts(b, mde_api_feature_cols[j]);
		mde_sbuf_put(b, "\":", 2);
		put_value(b, r, i, j, true);
	}
	mde_sbuf_put(b, "}", 1);
}

static void put_header(stream *s)
{
	if (s->csv) {
		for (int j = 0; j <= MDE_AF_QUALITY; j++)
			mde_sbuf_printf(&s->buf, "%s%s", j ? "," : "",
					mde_api_feature_cols[j]);
		mde_sbuf_put(&s->buf, "\n", 1);
		return;
	}
	mde_sbuf_printf(&s->buf, "{\"symbol\":\"%s\",\"timeframe\":\"%s\","
			"\"rows\":[", s->symbol, s->tf);
}

static void put_footer(stream *s)
{
	if (s->csv)
		return;
	mde_sbuf_printf(&s->buf, "\n],\"count\":%ld,\"next\":", s->rows);
	if (s->next[0])
		mde_sbuf_json(&s->buf, s->next, strlen(s->next));
	else
		mde_sbuf_puts(&s->buf, "null");
	mde_sbuf_puts(&s->buf, "}\n");
}

static mde_api_page page_of(const stream *s)
{
	long want = s->remaining < PAGE_ROWS ? s->remaining : PAGE_ROWS;
	mde_api_page q = {s->symbol, s->tf, s->from_ms, s->to_ms,
			  s->after_ms, want, s->csv};
	return q;
}

/*
 * The next page into the buffer: the page fetched before (or fetched
 * now), and while it is formatted the server already computes the one
 * after it on the same connection. The connection goes back to the pool
 * before the answer is written to the client. MDE_EDB when a query
 * failed.
 */
static int fill(stream *s)
{
	s->buf.n = 0;
	s->off = 0;
	if (!s->started) {
		s->started = true;
		put_header(s);
	}
	if (s->remaining <= 0) {
		put_footer(s);
		s->done = true;
		return 0;
	}
	mde_err err = {0};
	PGconn *c = mde_pool_get(s->srv->pool, &err);
	mde_api_page q = page_of(s);
	PGresult *r = s->ahead;
	s->ahead = NULL;
	int rc = !c ? MDE_EDB : r ? 0
		 : mde_api_features_send(c, &q, &err) ||
				   mde_api_features_recv(c, &r, &err);
	int n = rc ? 0 : PQntuples(r);
	if (n > 0)
		s->after_ms = bts_ms(r, n - 1, MDE_AF_OPEN_TIME);
	s->remaining = n < q.limit ? 0 : s->remaining - n;
	bool more = !rc && s->remaining > 0;
	if (more) {
		q = page_of(s);
		rc = mde_api_features_send(c, &q, &err);
	}
	for (int i = 0; !rc && i < n; i++, s->rows++)
		put_row(s, r, i);
	PQclear(r);
	if (more && !rc)
		rc = mde_api_features_recv(c, &s->ahead, &err);
	mde_pool_put(s->srv->pool, c);
	if (rc) {
		mde_warn("serve.features", "symbol=%s timeframe=%s error=\"%s\"",
			 s->symbol, s->tf, err.msg);
		return rc;
	}
	return s->buf.failed ? MDE_ENOMEM : 0;
}

static ssize_t reader(void *cls, uint64_t pos, char *out, size_t max)
{
	stream *s = cls;
	while (s->off == s->buf.n) {
		if (s->done)
			return MHD_CONTENT_READER_END_OF_STREAM;
		if (fill(s))
			return MHD_CONTENT_READER_END_WITH_ERROR;
	}
	size_t k = s->buf.n - s->off;
	if (k > max)
		k = max;
	memcpy(out, s->buf.s + s->off, k);
	s->off += k;
	return (ssize_t)k;
}

static void reader_free(void *cls)
{
	stream *s = cls;
	PQclear(s->ahead);
	mde_sbuf_free(&s->buf);
	free(s);
}

/* Reads from, to, limit and format into s; -1 when good, else answered. */
static int read_args(mde_req *r, stream *s)
{
	static const char *const args[] = {"from", "to", "limit", "format",
					   NULL};
	int a = mde_srv_check_args(r, args);
	if (a >= 0)
		return a;
	const char *from = mde_srv_arg(r, "from"), *to = mde_srv_arg(r, "to");
	const char *limit = mde_srv_arg(r, "limit");
	const char *fmt = mde_srv_arg(r, "format");
	s->from_ms = INT64_C(-62135596800000); /* 0001-01-01 */
	s->to_ms = INT64_C(253402300800000);   /* 10000-01-01 */
	if ((from && mde_time_parse(from, &s->from_ms)) ||
	    (to && mde_time_parse(to, &s->to_ms)))
		return mde_srv_error(r, 400, "bad time in %s (use ISO 8601 "
				     "such as 2024-01-01T00:00:00Z, or epoch "
				     "milliseconds)",
				     from && mde_time_parse(from, &s->from_ms)
					     ? "from" : "to");
	if (s->from_ms >= s->to_ms)
		return mde_srv_error(r, 400, "from must be before to");
	long lim = MDE_SRV_DEFAULT_ROWS;
	if (limit && mde_int_parse(limit, 1, 1000000000L, &lim))
		return mde_srv_error(r, 400, "bad limit (a number of rows "
				     "from 1; at most %ld are answered)",
				     MDE_SRV_MAX_ROWS);
	s->remaining = lim > MDE_SRV_MAX_ROWS ? MDE_SRV_MAX_ROWS : lim;
	if (fmt && strcmp(fmt, "json") && strcmp(fmt, "csv"))
		return mde_srv_error(r, 400, "bad format (json or csv)");
	s->csv = fmt && strcmp(fmt, "csv") == 0;
	return -1;
}

/* Where the answer ends: the URL of the rest when more rows remain. */
static int plan(mde_req *r, stream *s, bool *exists, mde_err *err)
{
	mde_mhd_rc rc;
	PGconn *c = mde_srv_db(r, &rc);
	if (!c)
		return MDE_EDB;
	int64_t next = INT64_MIN;
	int q = mde_api_series_exists(c, s->symbol, s->tf, exists, err);
	if (!q && *exists)
		q = mde_api_features_nth(c, s->symbol, s->tf, s->from_ms,
					 s->to_ms, s->remaining, &next, err);
	mde_srv_db_put(r, c);
	if (q) {
		mde_srv_db_error(r, err);
		return q;
	}
	if (next != INT64_MIN) {
		char f[40], t[40];
		mde_time_format(next, f, sizeof f);
		mde_time_format(s->to_ms, t, sizeof t);
		snprintf(s->next, sizeof s->next,
			 "/api/v1/market/features/%s/%s?from=%s%s%s&limit=%ld"
			 "&format=%s", s->symbol, s->tf, f,
			 mde_srv_arg(r, "to") ? "&to=" : "",
			 mde_srv_arg(r, "to") ? t : "", s->remaining,
			 s->csv ? "csv" : "json");
	}
	return 0;
}

static mde_mhd_rc stream_answer(mde_req *r, stream *s)
{
	struct MHD_Response *resp = MHD_create_response_from_callback(
		MHD_SIZE_UNKNOWN, 64 * 1024, reader, s, reader_free);
	if (!resp) {
		free(s);
		return MHD_NO;
	}
	MHD_add_response_header(resp, "Content-Type",
				s->csv ? "text/csv; charset=utf-8"
				       : "application/json");
	if (s->next[0]) {
		char link[460];
		snprintf(link, sizeof link, "<%s>; rel=\"next\"", s->next);
		MHD_add_response_header(resp, "Link", link);
	}
	return mde_srv_queue(r, 200, resp);
}

/* Checks the request into s; -1 when it can be streamed, else the
 * answer already queued. */
static int prepare(mde_req *r, stream *s, const char *symbol,
		   const char *timeframe)
{
	int a;
	if (mde_param_symbol(symbol, s->symbol))
		return mde_srv_error(r, 400, "bad symbol (use 1 to 32 of A-Z "
				     "0-9 . _ -, e.g. BTCUSDT)");
	if (mde_param_timeframe(timeframe))
		return mde_srv_error(r, 400, "bad timeframe (one of 1m 5m 15m "
				     "30m 1h 4h 1d)");
	if ((a = read_args(r, s)) >= 0)
		return a;
	snprintf(s->tf, sizeof s->tf, "%s", timeframe);
	bool exists = false;
	mde_err err = {0};
	if (plan(r, s, &exists, &err))
		return MHD_YES; /* answered */
	if (!exists)
		return mde_srv_error(r, 404, "no series %s %s is stored",
				     s->symbol, s->tf);
	return -1;
}

mde_mhd_rc mde_api_get_features(mde_req *r, const char *symbol,
				const char *timeframe)
{
	stream *s = calloc(1, sizeof *s);
	if (!s)
		return MHD_NO;
	s->srv = r->srv;
	s->after_ms = INT64_MIN;
	int a = prepare(r, s, symbol, timeframe);
	if (a >= 0) {
		free(s);
		return (mde_mhd_rc)a;
	}
	return stream_answer(r, s);
}
