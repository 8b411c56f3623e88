/*
 * test_clients_fetch.c - the fetch facade over real HTTP on 127.0.0.1,
 * against the in-process fake exchange: pagination, the weight budget and
 * Retry-After (checked with the server's arrival times), 418 bans, bounded
 * retries, the circuit breaker and fallback to spot / Yahoo, bad responses
 * never becoming candles, the fetch-log records and the absence of secrets.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "clients.h"
#include "fake_exchange.h"
#include "log.h"
#include "source.h"
#include "timeutil.h"

#define H MDE_HOUR_MS
static const int64_t T0 = INT64_C(1735689600000); /* 2025-01-01 */
static const char *const KEY = "pk_SeCrEt_4242";

struct rec {
	char source[16], endpoint[160], symbol[32], params[512], error[256];
	int status, attempt;
	size_t rows, bytes;
	int64_t at;
	bool failed;
};

static struct rec recs[512];
static size_t nrecs;

static void on_rec(void *ud, const mde_fetch_rec *r)
{
	if (nrecs >= MDE_ARRAY_LEN(recs))
		return;
	struct rec *x = &recs[nrecs++];
	snprintf(x->source, sizeof x->source, "%s", r->source);
	snprintf(x->endpoint, sizeof x->endpoint, "%s", r->endpoint);
	snprintf(x->symbol, sizeof x->symbol, "%s",
		 r->symbol ? r->symbol : "");
	snprintf(x->params, sizeof x->params, "%s", r->params);
	snprintf(x->error, sizeof x->error, "%s", r->error ? r->error : "");
	x->failed = r->error != NULL;
	x->status = r->http_status;
	x->attempt = r->attempt;
	x->rows = r->rows;
	x->bytes = r->bytes;
	x->at = r->requested_at_ms;
}

struct env {
	fx *x;
	mde_fetcher *f;
	mde_fetch_opts o;
};

static mde_fetch_opts opts_for(fx *x)
{
	mde_fetch_opts o = {.binance_url = fx_url(x),
			    .binance_spot_url = fx_url(x),
			    .yahoo_url = fx_url(x),
			    .polygon_url = fx_url(x),
			    .timeout_ms = 3000,
			    .max_attempts = 3,
			    .backoff_base_ms = 20,
			    .breaker_threshold = 5,
			    .log_cb = on_rec};
	return o;
}

static void open_fetcher(struct env *e)
{
	mde_err err = {0};
	assert_int_equal(mde_fetcher_open(&e->f, &e->o, &err), 0);
}

/* A fake with n futures and spot 1h candles from T0 (the last one still
 * open at "now"), and a fetcher pointed at it. */
static struct env *setup_n(size_t n, const fx_opts *fo)
{
	struct env *e = calloc(1, sizeof *e);
	fx_opts d = {0};
	e->x = fx_start(fo ? fo : &d);
	assert_non_null(e->x);
	int64_t now = T0 + (int64_t)(n - 1) * H + 30 * MDE_MINUTE_MS;
	fx_set_now(e->x, now);
	assert_int_equal(fx_add_synthetic(e->x, FX_FUTURES, "BTCUSDT", H, T0, n,
					  7), 0);
	assert_int_equal(fx_add_synthetic(e->x, FX_SPOT, "BTCUSDT", H, T0, n,
					  8), 0);
	e->o = opts_for(e->x);
	e->o.now_ms = now;
	nrecs = 0;
	return e;
}

static void teardown_env(struct env *e)
{
	mde_fetcher_close(e->f);
	fx_stop(e->x);
	free(e);
}

static int64_t qparam(const char *q, const char *k)
{
	char pat[64];
	snprintf(pat, sizeof pat, "%s=", k);
	const char *p = strstr(q, pat);
	return p ? atoll(p + strlen(pat)) : -1;
}

static void test_pagination_and_log(void **st)
{
	struct env *e = setup_n(2501, NULL);
	open_fetcher(e);
	mde_candles c = {0};
	mde_err err = {0};
	assert_int_equal(mde_fetch_candles(e->f, "binance", MDE_CRYPTO,
					   "BTCUSDT", H, T0, T0 + 3000 * H, &c,
					   &err), 0);
	/* 2501 stored, the last still open: 2500 closed candles */
	assert_int_equal(c.n, 2500);
	for (size_t i = 0; i < c.n; i++) {
		assert_int_equal(c.open_time_ms[i], T0 + (int64_t)i * H);
		assert_int_equal(c.origin[i], MDE_SRC_BINANCE);
	}
	assert_int_equal(fx_nreq(e->x), 3);
	assert_int_equal(fx_connections(e->x), 1); /* keep-alive reuse */
	int64_t want[3] = {T0, T0 + 1000 * H, T0 + 2000 * H};
	for (size_t i = 0; i < 3; i++) {
		fx_req r;
		assert_int_equal(fx_get_req(e->x, i, &r), 0);
		assert_string_equal(r.path, "/fapi/v1/klines");
		assert_int_equal(qparam(r.query, "startTime"), want[i]);
		assert_int_equal(qparam(r.query, "endTime"), T0 + 3000 * H - 1);
		assert_int_equal(qparam(r.query, "limit"), 1000);
	}
	assert_int_equal(nrecs, 3);
	size_t rows[3] = {1000, 1000, 501};
	for (size_t i = 0; i < 3; i++) {
		assert_string_equal(recs[i].source, "binance");
		assert_string_equal(recs[i].endpoint, "/fapi/v1/klines");
		assert_string_equal(recs[i].symbol, "BTCUSDT");
		assert_non_null(strstr(recs[i].params, "symbol=BTCUSDT&interval=1h"));
		assert_int_equal(recs[i].status, 200);
		assert_int_equal(recs[i].rows, rows[i]);
		assert_true(recs[i].bytes > 100);
		assert_int_equal(recs[i].attempt, 1);
		assert_false(recs[i].failed);
		assert_true(recs[i].at > T0);
	}
	/* amend a candle: the next fetch returns the new value */
	assert_int_equal(fx_amend(e->x, FX_FUTURES, "BTCUSDT", H, T0 + 5 * H,
				  NULL, "99999.50", NULL, "12345.25", NULL), 0);
	mde_candles_clear(&c);
	assert_int_equal(mde_fetch_candles(e->f, "binance", MDE_CRYPTO,
					   "BTCUSDT", H, T0, T0 + 10 * H, &c,
					   &err), 0);
	assert_int_equal(c.n, 10);
	assert_string_equal(mde_candles_text(&c, 5, MDE_CLOSE), "12345.25");
	assert_string_equal(mde_candles_text(&c, 5, MDE_HIGH), "99999.50");
	mde_candles_free(&c);
	teardown_env(e);
}

static void test_weight_budget(void **st)
{
	/* window 2 s, budget 20: 5-weight pages, at most 3 per window */
	fx_opts fo = {.weight_window_ms = 2000, .weight_limit = 20};
	struct env *e = setup_n(6001, &fo);
	e->o.weight_window_ms = 2000;
	e->o.weight_budget_per_min = 20;
	open_fetcher(e);
	mde_candles c = {0};
	mde_err err = {0};
	assert_int_equal(mde_fetch_candles(e->f, "binance", MDE_CRYPTO,
					   "BTCUSDT", H, T0, T0 + 6000 * H, &c,
					   &err), 0);
	assert_int_equal(c.n, 6000);
	assert_int_equal(fx_weight_violations(e->x), 0);
	assert_true(fx_max_used_weight(e->x) <= 20);
	size_t n = fx_nreq(e->x);
	assert_int_equal(n, 6); /* 6 full pages, the last ends the range */
	/* never more than 3 requests inside one server window */
	for (size_t i = 3; i < n; i++) {
		fx_req a, b;
		fx_get_req(e->x, i - 3, &a);
		fx_get_req(e->x, i, &b);
		assert_true(b.wall_ms / 2000 != a.wall_ms / 2000);
	}
	mde_fetch_stats s;
	mde_fetch_get_stats(e->f, &s);
	assert_true(s.waited_ms > 0);
	mde_candles_free(&c);
	teardown_env(e);
}

static void test_retry_after(void **st)
{
	struct env *e = setup_n(101, NULL);
	open_fetcher(e);
	fx_fault(e->x, "/fapi/v1/klines", FX_429, 0, 1, 1);
	mde_candles c = {0};
	mde_err err = {0};
	assert_int_equal(mde_fetch_candles(e->f, "binance", MDE_CRYPTO,
					   "BTCUSDT", H, T0, T0 + 100 * H, &c,
					   &err), 0);
	assert_int_equal(c.n, 100);
	assert_int_equal(fx_nreq(e->x), 2);
	fx_req a, b;
	fx_get_req(e->x, 0, &a);
	fx_get_req(e->x, 1, &b);
	assert_int_equal(a.status, 429);
	assert_true(b.mono_ms - a.mono_ms >= 995); /* Retry-After: 1 */
	assert_int_equal(nrecs, 2);
	assert_int_equal(recs[0].status, 429);
	assert_true(recs[0].failed);
	assert_int_equal(recs[1].attempt, 2);
	mde_candles_free(&c);
	teardown_env(e);
}

static void test_ban_418(void **st)
{
	struct env *e = setup_n(101, NULL);
	open_fetcher(e);
	fx_fault(e->x, "/fapi/", FX_418, 0, 1, 120);
	mde_candles c = {0};
	mde_err err = {0};
	/* futures banned: "binance" is futures only, nothing from spot */
	assert_int_equal(mde_fetch_candles(e->f, "binance", MDE_CRYPTO,
					   "BTCUSDT", H, T0, T0 + 100 * H, &c,
					   &err), MDE_EBANNED);
	assert_int_equal(c.n, 0);
	assert_int_equal(fx_nreq(e->x), 1);
	/* the opted-in plan takes the klines from spot */
	assert_int_equal(mde_fetch_candles(e->f, "binance+binance-spot",
					   MDE_CRYPTO, "BTCUSDT", H, T0,
					   T0 + 100 * H, &c, &err), 0);
	assert_int_equal(c.n, 100);
	assert_int_equal(c.origin[0], MDE_SRC_BINANCE_SPOT);
	size_t n = fx_nreq(e->x);
	assert_int_equal(n, 2);
	/* the ban holds: no request reaches the futures host */
	mde_candles_clear(&c);
	assert_int_equal(mde_fetch_candles(e->f, "binance+binance-spot",
					   MDE_CRYPTO,
					   "BTCUSDT", H, T0, T0 + 100 * H, &c,
					   &err), 0);
	assert_int_equal(c.origin[0], MDE_SRC_BINANCE_SPOT);
	mde_aux a = {0};
	int64_t hole;
	assert_int_equal(mde_fetch_aux(e->f, "binance", MDE_AUX_FUNDING,
				       "BTCUSDT", 0, T0, T0 + 10 * H, &a, &hole,
				       &err), MDE_EBANNED);
	assert_true(err.retry_after_ms > 100000);
	for (size_t i = n; i < fx_nreq(e->x); i++) {
		fx_req r;
		fx_get_req(e->x, i, &r);
		assert_string_equal(r.path, "/api/v3/klines");
	}
	mde_fetch_stats s;
	mde_fetch_get_stats(e->f, &s);
	assert_true(s.src[MDE_SRC_BINANCE].banned_until_ms > mde_now_ms());
	assert_int_equal(s.fallbacks, 2);
	mde_aux_free(&a);
	mde_candles_free(&c);
	teardown_env(e);
}

/* One fault on spot klines: how many requests, and the outcome. */
static void retry_case(int fault, int count, int arg, size_t want_reqs,
		       int want_rc, size_t want_rows)
{
	struct env *e = setup_n(101, NULL);
	e->o.timeout_ms = 400;
	open_fetcher(e);
	fx_fault(e->x, "/api/v3/klines", fault, 0, count, arg);
	mde_candles c = {0};
	mde_err err = {0};
	int rc = mde_fetch_candles(e->f, "binance-spot", MDE_CRYPTO, "BTCUSDT",
				   H, T0, T0 + 100 * H, &c, &err);
	if (rc != want_rc || fx_nreq(e->x) != want_reqs || c.n != want_rows)
		fail_msg("fault %d: rc %d (%s), %zu requests, %zu rows", fault,
			 rc, err.msg, fx_nreq(e->x), c.n);
	/* one fetch-log record per request that reached the server */
	assert_int_equal(nrecs, want_reqs);
	for (size_t i = 0; i + 1 < nrecs; i++) {
		assert_true(recs[i].failed);
		assert_int_equal(recs[i].attempt, (int)i + 1);
		assert_int_equal(recs[i].rows, 0);
	}
	mde_candles_free(&c);
	teardown_env(e);
}

static void test_retries(void **st)
{
	/* retryable, then success */
	retry_case(FX_503, 2, 0, 3, 0, 100);
	retry_case(FX_500, 1, 0, 2, 0, 100);
	retry_case(FX_1001, 1, 0, 2, 0, 100);     /* HTTP 400, code -1001 */
	retry_case(FX_1001_200, 1, 0, 2, 0, 100); /* error body, HTTP 200 */
	retry_case(FX_RESET, 1, 0, 2, 0, 100);
	retry_case(FX_SLOW, 1, 1500, 2, 0, 100);  /* timeout */
	retry_case(FX_TRUNCATED, 1, 0, 2, 0, 100);
	retry_case(FX_HTML, 1, 0, 2, 0, 100);
	retry_case(FX_EMPTY, 0, 0, 1, 0, 100);    /* count 0: no fault */
	/* bounded: max_attempts = 3 */
	retry_case(FX_503, 100, 0, 3, MDE_ENET, 0);
	retry_case(FX_MALFORMED, 100, 0, 3, MDE_EPARSE, 0);
	/* never retried */
	retry_case(FX_BADSYM, 100, 0, 1, MDE_ENOTFOUND, 0);
	retry_case(FX_ERR200, 100, 0, 1, MDE_ENOTFOUND, 0);
	/* a bad row is data, not a failed request: the page is kept, the
	 * row marked malformed for validation to reject */
	retry_case(FX_WRONG_TYPES, 100, 0, 1, 0, 100);
	retry_case(FX_GARBAGE_NUM, 100, 0, 1, 0, 100);
	retry_case(FX_WRONG_LEN, 100, 0, 1, 0, 100);
	retry_case(FX_MISSING, 100, 0, 1, 0, 100);
}

static void test_body_cap(void **st)
{
	/* a body past max_body_bytes is an error, never a truncated page */
	struct env *e = setup_n(101, NULL);
	e->o.max_body_bytes = 2000;
	open_fetcher(e);
	mde_candles c = {0};
	mde_err err = {0};
	assert_int_equal(mde_fetch_candles(e->f, "binance-spot", MDE_CRYPTO,
					   "BTCUSDT", H, T0, T0 + 100 * H, &c,
					   &err), MDE_ENET);
	assert_non_null(strstr(err.msg, "larger than 2000"));
	assert_false(err.retryable);
	assert_int_equal(c.n, 0);
	assert_int_equal(fx_nreq(e->x), 1);
	/* a small page still fits */
	mde_candles_clear(&c);
	assert_int_equal(mde_fetch_candles(e->f, "binance-spot", MDE_CRYPTO,
					   "BTCUSDT", H, T0, T0 + 3 * H, &c,
					   &err), 0);
	assert_int_equal(c.n, 3);
	mde_candles_free(&c);
	teardown_env(e);
}

static void test_bad_mid_range(void **st)
{
	/* page 2 is not JSON: page 1 is kept, nothing of page 2 is */
	struct env *e = setup_n(2001, NULL);
	e->o.max_attempts = 2;
	open_fetcher(e);
	fx_fault(e->x, "/api/v3/klines", FX_MALFORMED, 1, 100, 0);
	mde_candles c = {0};
	mde_err err = {0};
	assert_int_equal(mde_fetch_candles(e->f, "binance-spot", MDE_CRYPTO,
					   "BTCUSDT", H, T0, T0 + 2000 * H, &c,
					   &err), MDE_EPARSE);
	assert_int_equal(c.n, 1000);
	assert_non_null(strstr(err.msg, "JSON"));
	/* an empty page in the middle is retried, then the data comes */
	fx_clear_faults(e->x);
	fx_clear_reqs(e->x);
	fx_fault(e->x, "/api/v3/klines", FX_EMPTY, 1, 1, 0);
	mde_candles_clear(&c);
	assert_int_equal(mde_fetch_candles(e->f, "binance-spot", MDE_CRYPTO,
					   "BTCUSDT", H, T0, T0 + 2000 * H, &c,
					   &err), 0);
	assert_int_equal(c.n, 2000);
	assert_int_equal(fx_nreq(e->x), 3);
	mde_candles_free(&c);
	teardown_env(e);
}

static void test_breaker_fallback(void **st)
{
	struct env *e = setup_n(1501, NULL);
	e->o.max_attempts = 2;
	e->o.breaker_threshold = 2;
	e->o.breaker_cooldown_ms = 300;
	open_fetcher(e);
	mde_candles c = {0};
	mde_err err = {0};
	/* futures serve page 1, then fail: page 2 comes from spot (the
	 * plan opted in) */
	fx_fault(e->x, "/fapi/v1/klines", FX_500, 1, 1000, 0);
	assert_int_equal(mde_fetch_candles(e->f, "binance+binance-spot",
					   MDE_CRYPTO,
					   "BTCUSDT", H, T0, T0 + 1500 * H, &c,
					   &err), 0);
	assert_int_equal(c.n, 1500);
	assert_int_equal(c.origin[999], MDE_SRC_BINANCE);
	assert_int_equal(c.origin[1000], MDE_SRC_BINANCE_SPOT);
	assert_int_equal(c.open_time_ms[1000], T0 + 1000 * H);
	assert_string_equal(mde_fetch_breaker(e->f, MDE_SRC_BINANCE), "closed");
	/* second failure opens the breaker */
	mde_candles_clear(&c);
	assert_int_equal(mde_fetch_candles(e->f, "binance+binance-spot",
					   MDE_CRYPTO,
					   "BTCUSDT", H, T0, T0 + 10 * H, &c,
					   &err), 0);
	assert_int_equal(c.origin[0], MDE_SRC_BINANCE_SPOT);
	assert_string_equal(mde_fetch_breaker(e->f, MDE_SRC_BINANCE), "open");
	/* open: futures are not even asked; "binance" alone fails */
	fx_clear_reqs(e->x);
	mde_candles_clear(&c);
	assert_int_equal(mde_fetch_candles(e->f, "binance", MDE_CRYPTO,
					   "BTCUSDT", H, T0, T0 + 10 * H, &c,
					   &err), MDE_EBANNED);
	assert_int_equal(c.n, 0);
	assert_int_equal(fx_nreq(e->x), 0);
	assert_int_equal(mde_fetch_candles(e->f, "binance+binance-spot",
					   MDE_CRYPTO, "BTCUSDT", H, T0,
					   T0 + 10 * H, &c, &err), 0);
	assert_int_equal(c.n, 10);
	assert_int_equal(c.origin[0], MDE_SRC_BINANCE_SPOT);
	fx_req r;
	assert_int_equal(fx_nreq(e->x), 1);
	fx_get_req(e->x, 0, &r);
	assert_string_equal(r.path, "/api/v3/klines");
	/* after the cool-down one trial goes to futures; it succeeds */
	fx_clear_faults(e->x);
	struct timespec ts = {0, 350 * 1000000L};
	nanosleep(&ts, NULL);
	mde_candles_clear(&c);
	assert_int_equal(mde_fetch_candles(e->f, "binance", MDE_CRYPTO,
					   "BTCUSDT", H, T0, T0 + 10 * H, &c,
					   &err), 0);
	assert_int_equal(c.origin[0], MDE_SRC_BINANCE);
	assert_string_equal(mde_fetch_breaker(e->f, MDE_SRC_BINANCE), "closed");
	mde_fetch_stats s;
	mde_fetch_get_stats(e->f, &s);
	assert_int_equal(s.src[MDE_SRC_BINANCE].breaker_opens, 1);
	mde_candles_free(&c);
	teardown_env(e);
}

/*
 * The funding of all symbols at once: 30 symbols sharing every funding
 * time to the millisecond, 40 events each, 1200 rows: the first page ends
 * inside a time (1000 = 33 times and 10 rows of the 34th); the second
 * starts at that time again and nothing is lost or repeated. A symbol not
 * asked for is dropped; an exchange that wants a symbol fails the fetch.
 */
static void test_funding_of_all_symbols(void **st)
{
	struct env *e = setup_n(2, NULL);
	int64_t now = T0 + 20 * MDE_DAY_MS;
	fx_set_now(e->x, now);
	e->o.now_ms = now;
	open_fetcher(e);
	char names[30][16], v[32];
	const char *list[29];
	for (int k = 0; k < 30; k++) {
		snprintf(names[k], sizeof names[k], "S%02dUSDT", k);
		for (int i = 0; i < 40; i++) {
			snprintf(v, sizeof v, "0.0000%02d%02d", k, i);
			fx_add_aux(e->x, MDE_AUX_FUNDING, names[k], 0,
				   T0 + i * 8 * H + 3, v);
		}
	}
	for (int k = 0; k < 29; k++) /* S29USDT is not asked for */
		list[k] = names[k];
	mde_aux out[29] = {{0}};
	mde_err err = {0};
	assert_int_equal(mde_fetch_funding_all(e->f, list, 29, T0, now, out,
					       &err), 0);
	assert_int_equal(fx_nreq(e->x), 2);
	fx_req r;
	fx_get_req(e->x, 0, &r);
	assert_null(strstr(r.query, "symbol="));
	fx_get_req(e->x, 1, &r);
	assert_int_equal(qparam(r.query, "startTime"), T0 + 33 * 8 * H + 3);
	assert_int_equal(nrecs, 2);
	assert_string_equal(recs[0].symbol, "");
	assert_int_equal(recs[0].rows, 1000);
	assert_int_equal(recs[1].rows, 1200 - 990);
	for (int k = 0; k < 29; k++) {
		assert_int_equal(out[k].n, 40);
		for (int i = 0; i < 40; i++) {
			assert_int_equal(out[k].t[i], T0 + i * 8 * H + 3);
			snprintf(v, sizeof v, "0.0000%02d%02d", k, i);
			assert_true(out[k].v[i] == strtod(v, NULL));
		}
		mde_aux_free(&out[k]);
	}
	/* a window inside: only its events */
	assert_int_equal(mde_fetch_funding_all(e->f, list, 29, T0 + 8 * H,
					       T0 + 24 * H + 3, out, &err), 0);
	for (int k = 0; k < 29; k++) {
		assert_int_equal(out[k].n, 2);
		mde_aux_free(&out[k]);
	}
	/* unsorted symbols are refused before any request */
	const char *bad[2] = {"S02USDT", "S01USDT"};
	fx_clear_reqs(e->x);
	assert_int_equal(mde_fetch_funding_all(e->f, bad, 2, T0, now, out,
					       &err), MDE_EINVAL);
	assert_int_equal(fx_nreq(e->x), 0);
	teardown_env(e);

	fx_opts fo = {.funding_needs_symbol = 1};
	e = setup_n(2, &fo);
	fx_set_now(e->x, now);
	e->o.now_ms = now;
	open_fetcher(e);
	fx_add_aux(e->x, MDE_AUX_FUNDING, "S00USDT", 0, T0, "0.0001");
	assert_int_not_equal(mde_fetch_funding_all(e->f, list, 1, T0, now, out,
						   &err), 0);
	assert_int_equal(err.http_status, 400);
	assert_int_equal(fx_nreq(e->x), 1); /* a client error: no retry */
	assert_int_equal(out[0].n, 0);
	teardown_env(e);
}

static void test_aux(void **st)
{
	fx_opts fo = {.ts_as_string = 1};
	struct env *e = setup_n(2, &fo);
	int64_t now = T0 + 60 * MDE_DAY_MS + 1234;
	fx_set_now(e->x, now);
	e->o.now_ms = now;
	open_fetcher(e);
	char v[32];
	for (int i = 0; i < 1200; i++) { /* 400 days of funding, ms jitter */
		snprintf(v, sizeof v, "0.000%04d", i);
		fx_add_aux(e->x, MDE_AUX_FUNDING, "BTCUSDT", 0,
			   T0 - 340 * MDE_DAY_MS + i * 8 * H + (i % 7), v);
	}
	for (int i = 0; i < 60 * 24; i++) { /* hourly OI over 60 days */
		snprintf(v, sizeof v, "%d.5", 80000 + i);
		fx_add_aux(e->x, MDE_AUX_OPEN_INTEREST, "BTCUSDT", H,
			   T0 + i * H, v);
		fx_add_aux(e->x, MDE_AUX_LONG_SHORT, "BTCUSDT", H, T0 + i * H,
			   "1.0773");
	}
	mde_aux a = {0};
	mde_err err = {0};
	int64_t hole = 0, fs = T0 - 340 * MDE_DAY_MS;
	assert_int_equal(mde_fetch_aux(e->f, "binance", MDE_AUX_FUNDING,
				       "BTCUSDT", 0, fs, now, &a, &hole, &err),
			 0);
	assert_int_equal(hole, fs);
	assert_int_equal(a.n, 1200);
	assert_int_equal(fx_nreq(e->x), 2);
	fx_req r;
	fx_get_req(e->x, 1, &r);
	assert_int_equal(qparam(r.query, "startTime"), a.t[999] + 1);
	mde_aux_free(&a);

	/* OI over 60 days: only the last 30 can be fetched */
	fx_clear_reqs(e->x);
	nrecs = 0;
	assert_int_equal(mde_fetch_aux(e->f, "binance", MDE_AUX_OPEN_INTEREST,
				       "BTCUSDT", H, T0, now, &a, &hole, &err),
			 0);
	int64_t oldest = now - 30 * MDE_DAY_MS;
	assert_true(hole > oldest && hole <= oldest + 2 * H);
	assert_int_equal(hole % H, 0);
	assert_int_equal(a.t[0], hole);
	assert_int_equal(a.t[a.n - 1], T0 + (60 * 24 - 1) * H);
	assert_int_equal(a.n, (size_t)((a.t[a.n - 1] - hole) / H + 1));
	for (size_t i = 1; i < a.n; i++)
		assert_true(a.t[i] > a.t[i - 1]);
	assert_true(a.v[a.n - 1] == 81439.5);
	size_t n = fx_nreq(e->x);
	assert_int_equal(n, 2); /* 500 h windows over ~720 h */
	for (size_t i = 0; i < n; i++) {
		fx_get_req(e->x, i, &r);
		assert_int_equal(r.status, 200);
		assert_string_equal(r.path, "/futures/data/openInterestHist");
		assert_int_equal(qparam(r.query, "startTime"),
				 hole + (int64_t)i * 500 * H);
		assert_int_equal(qparam(r.query, "limit"), 500);
	}
	mde_fetch_stats s;
	mde_fetch_get_stats(e->f, &s);
	assert_int_equal(s.holes, 1);
	assert_int_equal(s.hole_ms, hole - T0);
	mde_aux_free(&a);
	assert_int_equal(mde_fetch_aux(e->f, NULL, MDE_AUX_LONG_SHORT,
				       "BTCUSDT", H, now - 2 * MDE_DAY_MS, now,
				       &a, &hole, &err), 0);
	assert_int_equal(hole, now - 2 * MDE_DAY_MS);
	assert_true(a.n >= 47);
	assert_true(a.v[0] == 1.0773);
	mde_aux_free(&a);
	assert_int_equal(mde_fetch_aux(e->f, "binance", MDE_AUX_LIQUIDATIONS,
				       "BTCUSDT", H, T0, now, &a, &hole, &err),
			 MDE_ENOTFOUND);
	teardown_env(e);
}

static void test_equities(void **st)
{
	fx_opts fo = {.polygon_key = KEY, .polygon_page = 20};
	struct env *e = setup_n(2, &fo);
	assert_int_equal(fx_load_dir(e->x, "data/replay"), 0);
	e->o.polygon_key = KEY;
	e->o.now_ms = 0; /* wall clock */
	char *logbuf = NULL;
	size_t loglen = 0;
	FILE *logf = open_memstream(&logbuf, &loglen);
	mde_log_setup(logf, MDE_LOG_TEXT);
	int level = mde_log_level;
	mde_log_level = MDE_LOG_DEBUG;
	open_fetcher(e);
	mde_candles c = {0};
	mde_err err = {0};
	int64_t a = INT64_C(1598832000000), z = INT64_C(1604707200000);
	assert_int_equal(mde_fetch_candles(e->f, "polygon", MDE_EQUITY, "AAPL",
					   MDE_DAY_MS, a, z, &c, &err), 0);
	assert_int_equal(c.n, 49);
	assert_int_equal(c.origin[0], MDE_SRC_POLYGON);
	assert_int_equal(c.open_time_ms[0], a); /* 00:00 UTC of the date */
	assert_int_equal(fx_nreq(e->x), 3);     /* next_url pages of 20 */
	for (size_t i = 0; i < 3; i++) {
		fx_req r;
		fx_get_req(e->x, i, &r);
		assert_string_equal(r.auth, "Bearer pk_SeCrEt_4242");
		assert_null(strstr(r.query, KEY));
		assert_int_equal(r.status, 200);
	}
	/* Polygon down: the same bars from Yahoo, same open_time */
	fx_fault(e->x, "/v2/aggs", FX_500, 0, 100, 0);
	fx_fault(e->x, "/v8/finance", FX_TEXT429, 0, 1, 0);
	mde_candles y = {0};
	/* "polygon" named alone is Polygon only: the series fails */
	assert_int_equal(mde_fetch_candles(e->f, "polygon", MDE_EQUITY, "AAPL",
					   MDE_DAY_MS, a, z, &y, &err),
			 MDE_ENET);
	assert_int_equal(y.n, 0);
	assert_int_equal(mde_fetch_candles(e->f, "polygon+yahoo", MDE_EQUITY,
					   "AAPL", MDE_DAY_MS, a, z, &y, &err),
			 0);
	assert_int_equal(y.n, 49);
	assert_int_equal(y.origin[0], MDE_SRC_YAHOO);
	for (size_t i = 0; i < y.n; i++) {
		assert_int_equal(y.open_time_ms[i], c.open_time_ms[i]);
		assert_true(y.val[MDE_CLOSE][i] == c.val[MDE_CLOSE][i]);
	}
	/* no secret in any fetch-log record or log line */
	for (size_t i = 0; i < nrecs; i++) {
		assert_null(strstr(recs[i].params, KEY));
		assert_null(strstr(recs[i].error, KEY));
		assert_null(strstr(recs[i].endpoint, KEY));
	}
	fflush(logf);
	assert_non_null(strstr(logbuf, "fetch.fallback"));
	assert_null(strstr(logbuf, KEY));
	mde_log_setup(stderr, -1);
	mde_log_level = level;
	fclose(logf);
	free(logbuf);
	/* unknown Yahoo symbol: a clear, non-retryable error */
	mde_candles_clear(&y);
	assert_int_equal(mde_fetch_candles(e->f, "yahoo", MDE_EQUITY, "NOPE",
					   MDE_DAY_MS, a, z, &y, &err), MDE_ENET);
	assert_int_equal(err.http_status, 404);
	assert_false(err.retryable);
	mde_candles_free(&c);
	mde_candles_free(&y);
	teardown_env(e);
}

static void test_no_key_goes_to_yahoo(void **st)
{
	struct env *e = setup_n(2, NULL);
	assert_int_equal(fx_load_dir(e->x, "data/replay"), 0);
	e->o.now_ms = 0;
	open_fetcher(e);
	mde_candles c = {0};
	mde_err err = {0};
	assert_int_equal(mde_fetch_candles(e->f, NULL, MDE_EQUITY, "AAPL",
					   MDE_DAY_MS, INT64_C(1598832000000),
					   INT64_C(1604707200000), &c, &err), 0);
	assert_int_equal(c.n, 49);
	assert_int_equal(fx_nreq(e->x), 1);
	fx_req r;
	fx_get_req(e->x, 0, &r);
	assert_string_equal(r.path, "/v8/finance/chart/AAPL");
	mde_candles_free(&c);
	teardown_env(e);
}

static void test_polygon_next_url_elsewhere(void **st)
{
	/* a next_url to another host must not get the key: the client
	 * stops Polygon there and Yahoo serves the rest */
	fx_opts fo = {.polygon_key = KEY, .polygon_page = 20,
		      .polygon_next_base = "http://127.0.0.2:9"};
	struct env *e = setup_n(2, &fo);
	assert_int_equal(fx_load_dir(e->x, "data/replay"), 0);
	e->o.polygon_key = KEY;
	e->o.now_ms = 0;
	open_fetcher(e);
	mde_candles c = {0};
	mde_err err = {0};
	assert_int_equal(mde_fetch_candles(e->f, "polygon+yahoo", MDE_EQUITY,
					   "AAPL", MDE_DAY_MS,
					   INT64_C(1598832000000),
					   INT64_C(1604707200000), &c, &err), 0);
	assert_int_equal(c.n, 49);
	assert_int_equal(c.origin[0], MDE_SRC_POLYGON);
	assert_int_equal(c.origin[19], MDE_SRC_POLYGON);
	assert_int_equal(c.origin[20], MDE_SRC_YAHOO);
	assert_int_equal(fx_nreq(e->x), 2); /* one Polygon page, one Yahoo */
	mde_candles_free(&c);
	teardown_env(e);
}

static void test_replay_facade(void **st)
{
	mde_fetch_opts o = {.log_cb = on_rec};
	mde_fetcher *f = NULL;
	mde_err err = {0};
	nrecs = 0;
	assert_int_equal(mde_fetcher_open(&f, &o, &err), 0);
	mde_candles c = {0};
	int64_t a = INT64_C(1782864000000);
	assert_int_equal(mde_fetch_candles(f, "replay:data/replay", MDE_CRYPTO,
					   "ETHUSDT", H, a, a + 48 * H, &c,
					   &err), 0);
	assert_int_equal(c.n, 48);
	assert_int_equal(c.origin[0], MDE_SRC_REPLAY);
	assert_int_equal(nrecs, 1);
	assert_string_equal(recs[0].source, "replay");
	assert_string_equal(recs[0].endpoint, "ETHUSDT/klines_1h.json");
	mde_aux x = {0};
	int64_t hole;
	/* no 30-day clamp in replay */
	assert_int_equal(mde_fetch_aux(f, "replay:data/replay",
				       MDE_AUX_LONG_SHORT, "BTCUSDT", H, 0,
				       INT64_C(4102444800000), &x, &hole, &err),
			 0);
	assert_int_equal(hole, 0);
	assert_int_equal(x.n, 31);
	mde_aux_free(&x);
	assert_int_equal(mde_fetch_candles(f, "replay", MDE_CRYPTO, "ETHUSDT",
					   H, a, a + H, &c, &err), MDE_EINVAL);
	assert_int_equal(mde_fetch_candles(f, "bogus", MDE_CRYPTO, "ETHUSDT",
					   H, a, a + H, &c, &err), MDE_EINVAL);
	mde_candles_free(&c);
	mde_fetcher_close(f);
}

int main(void)
{
	mde_log_level = MDE_LOG_ERROR + 1; /* quiet; tests look at records */
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pagination_and_log),
		cmocka_unit_test(test_weight_budget),
		cmocka_unit_test(test_retry_after),
		cmocka_unit_test(test_ban_418),
		cmocka_unit_test(test_retries),
		cmocka_unit_test(test_body_cap),
		cmocka_unit_test(test_bad_mid_range),
		cmocka_unit_test(test_breaker_fallback),
		cmocka_unit_test(test_aux),
		cmocka_unit_test(test_funding_of_all_symbols),
		cmocka_unit_test(test_equities),
		cmocka_unit_test(test_no_key_goes_to_yahoo),
		cmocka_unit_test(test_polygon_next_url_elsewhere),
		cmocka_unit_test(test_replay_facade),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
