/*
 * test_concurrency.c - requests in flight at once stay within the rules:
 *   - fetchers on 8 threads sharing their parent's host state send
 *     requests that overlap in time, never past the weight budget (the
 *     fake refuses past it), one fetch-log record per attempt;
 *   - a 429 with Retry-After stops every thread: no request reaches the
 *     server inside the window, and every fetch still completes;
 *   - `run` and `backfill` with fetch threads (--concurrency 8) overlap
 *     their requests, log every request the server saw, and store the
 *     same table as the sequential run (--concurrency 1);
 *   - `backfill --writers 3` enriches series side by side and stores the
 *     same table as one writer;
 *   - a writer side by side keeps to its series until another has 6 more
 *     chunks left (then takes that one); alone it claims in chunk order;
 *   - an hourly run over many symbols asks for their new funding in one
 *     request of all symbols, and stores what a request per symbol does.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fake_exchange.h"
#include "jobs.h"
#include "source.h"
#include "storeutil.h"
#include "testutil.h"
#include "timeutil.h"

#define H MDE_HOUR_MS
#define NTHREADS 8

static char dir[] = "/tmp/mdetest-concXXXXXX";
static char cfg[700];

static int setup(void **state)
{
	if (!mkdtemp(dir))
		return -1;
	snprintf(cfg, sizeof cfg, "%s/c.conf", dir);
	FILE *f = fopen(cfg, "w");
	fputs("[run]\nbatch_rows = 50\nchunk = 1d\n"
	      "[http]\nmax_attempts = 3\nbackoff_ms = 10\n", f);
	fclose(f);
	return 0;
}

static int teardown(void **state)
{
	return mde_test_rmtree(dir);
}

/* ---- fetchers on threads -------------------------------------------- */

struct worker {
	mde_fetcher *f;
	int64_t t0;
	int rounds, fails;
	size_t recs;      /* fetch-log records of this fetcher */
};

static void on_rec(void *ud, const mde_fetch_rec *r)
{
	(void)r;
	((struct worker *)ud)->recs++;
}

static void *work(void *arg)
{
	struct worker *w = arg;
	for (int i = 0; i < w->rounds; i++) {
		mde_candles c = {0};
		mde_err err = {0};
		if (mde_fetch_candles(w->f, "binance", MDE_CRYPTO, "BTCUSDT", H,
				      w->t0 + i * 20 * H, w->t0 + (i + 1) * 20 * H,
				      &c, &err) || c.n != 20)
			w->fails++;
		mde_candles_free(&c);
	}
	return NULL;
}

/* Runs rounds fetches of 20 candles (weight 1 each) on NTHREADS child
 * fetchers of one parent; returns the log records of all of them. */
static size_t fetch_on_threads(fx *x, mde_fetch_opts *o, int64_t t0,
			       int rounds)
{
	mde_fetcher *parent;
	mde_err err = {0};
	assert_int_equal(mde_fetcher_open(&parent, o, &err), 0);
	struct worker w[NTHREADS];
	pthread_t th[NTHREADS];
	for (int i = 0; i < NTHREADS; i++) {
		w[i] = (struct worker){.t0 = t0, .rounds = rounds};
		assert_int_equal(mde_fetcher_open_child(&w[i].f, parent, &err),
				 0);
		mde_fetcher_set_log(w[i].f, on_rec, &w[i]);
		assert_int_equal(pthread_create(&th[i], NULL, work, &w[i]), 0);
	}
	size_t recs = 0;
	for (int i = 0; i < NTHREADS; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(w[i].fails, 0);
		recs += w[i].recs;
		mde_fetcher_close(w[i].f);
	}
	mde_fetch_stats st;
	mde_fetch_get_stats(parent, &st);
	assert_int_equal(st.src[MDE_SRC_BINANCE].requests, fx_nreq(x));
	mde_fetcher_close(parent);
	(void)x;
	return recs;
}

static fx *fake(int latency_ms, int64_t window_ms, int weight_limit,
		int64_t t0)
{
	fx_opts fo = {.latency_ms = latency_ms,
		      .weight_window_ms = window_ms,
		      .weight_limit = weight_limit};
	fx *x = fx_start(&fo);
	assert_non_null(x);
	fx_set_now(x, t0 + 400 * H);
	assert_int_equal(fx_add_synthetic(x, FX_FUTURES, "BTCUSDT", H, t0, 400,
					  7), 0);
	return x;
}

static mde_fetch_opts opts(fx *x, int64_t t0)
{
	return (mde_fetch_opts){.binance_url = fx_url(x),
				.binance_spot_url = fx_url(x),
				.timeout_ms = 5000, .max_attempts = 5,
				.backoff_base_ms = 20, .now_ms = t0 + 400 * H};
}

/* Requests answered after b arrived, among those that arrived before. */
static size_t overlaps(fx *x)
{
	size_t n = fx_nreq(x), k = 0;
	for (size_t i = 0; i + 1 < n; i++) {
		fx_req a, b;
		assert_int_equal(fx_get_req(x, i, &a), 0);
		assert_int_equal(fx_get_req(x, i + 1, &b), 0);
		k += b.mono_ms < a.done_mono_ms;
	}
	return k;
}

static void test_threads_share_the_budget(void **state)
{
	int64_t t0 = INT64_C(1735689600000);
	/* 20 weight per 2 s at the server; the client keeps under 90% */
	fx *x = fake(20, 2000, 20, t0);
	mde_fetch_opts o = opts(x, t0);
	o.weight_window_ms = 2000;
	o.weight_budget_per_min = 20;
	size_t recs = fetch_on_threads(x, &o, t0, 4);
	assert_int_equal(fx_nreq(x), NTHREADS * 4);
	assert_int_equal(recs, fx_nreq(x));
	assert_int_equal(fx_weight_violations(x), 0);
	assert_true(fx_max_used_weight(x) <= 20);
	assert_true(fx_max_inflight(x) >= 2);
	assert_true(overlaps(x) > 0);
	fx_stop(x);
}

static void test_retry_after_stops_every_thread(void **state)
{
	int64_t t0 = INT64_C(1735689600000);
	fx *x = fake(30, 0, 0, t0);
	/* the 6th request is refused with Retry-After: 1 */
	fx_fault(x, "/fapi/v1/klines", FX_429, 5, 1, 1);
	mde_fetch_opts o = opts(x, t0);
	size_t recs = fetch_on_threads(x, &o, t0, 3);
	size_t n = fx_nreq(x);
	assert_int_equal(n, NTHREADS * 3 + 1); /* and one retry */
	assert_int_equal(recs, n);
	assert_true(fx_max_inflight(x) >= 2);
	int64_t answered = -1;
	for (size_t i = 0; i < n; i++) {
		fx_req r;
		assert_int_equal(fx_get_req(x, i, &r), 0);
		if (r.status == 429)
			answered = r.done_mono_ms;
	}
	assert_true(answered > 0);
	size_t inside = 0, after = 0;
	for (size_t i = 0; i < n; i++) {
		fx_req r;
		assert_int_equal(fx_get_req(x, i, &r), 0);
		/* sent before the 429 came back: may still arrive just
		 * after it; nothing else until the second is over */
		if (r.mono_ms > answered + 20 && r.mono_ms < answered + 980)
			inside++;
		after += r.mono_ms >= answered + 980;
	}
	assert_int_equal(inside, 0);
	assert_true(after > 0);
	fx_stop(x);
}

/* ---- the binary ------------------------------------------------------ */

static const char *const syms = "AAAUSDT,BBBUSDT,CCCUSDT,DDDUSDT,EEEUSDT,"
				"FFFUSDT,GGGUSDT,HHHUSDT";

/* A fake answering 20 ms late with 3 days of hourly candles of the 8
 * symbols ending at the last closed hour. */
static fx *fake_market(int64_t *from)
{
	fx_opts fo = {.latency_ms = 20};
	fx *x = fx_start(&fo);
	assert_non_null(x);
	*from = mde_floor_div(mde_now_ms(), H) * H - 72 * H;
	char *list = strdup(syms), *save = NULL;
	uint64_t seed = 1;
	for (char *s = strtok_r(list, ",", &save); s;
	     s = strtok_r(NULL, ",", &save))
		assert_int_equal(fx_add_synthetic(x, FX_FUTURES, s, H, *from, 72,
						  seed++), 0);
	free(list);
	return x;
}

/* Runs args with --concurrency conc into a fresh database against a fresh
 * fake; checks that every request the server saw has its fetch-log row;
 * returns the connection (the caller compares and drops). */
static PGconn *run_into(const char *name, int conc, const char *cmd,
			const char *extra, char *db, size_t len,
			size_t *inflight, size_t *overlapping)
{
	int64_t from;
	fx *x = fake_market(&from);
	PGconn *c = mde_fresh_db(cfg, name, db, len);
	char args[1024], t0[40], t1[40];
	mde_time_format(from, t0, sizeof t0);
	mde_time_format(from + 72 * H, t1, sizeof t1);
	if (strcmp(cmd, "run") == 0)
		snprintf(args, sizeof args, "--binance-url %s --concurrency %d "
			 "%s run --symbols %s --timeframe 1h --since %s --until "
			 "%s", fx_url(x), conc, extra, syms, t0, t1);
	else
		snprintf(args, sizeof args, "--binance-url %s --concurrency %d "
			 "%s backfill --symbols %s --timeframe 1h --from %s --to "
			 "%s", fx_url(x), conc, extra, syms, t0, t1);
	mde_cli_must(cfg, db, args);
	assert_int_equal(mde_testdb_count(c, "SELECT count(*) FROM "
					     "market_data_v2"), 8 * 72);
	assert_int_equal(mde_testdb_count(c, "SELECT count(*) FROM "
					     "enrichment_fetch_log"),
			 (long)fx_nreq(x));
	*inflight = (size_t)fx_max_inflight(x);
	*overlapping = overlaps(x);
	fx_stop(x);
	return c;
}

static void same_as_sequential(const char *cmd)
{
	char a[2048], b[2048], why[512], na[64], nb[64];
	size_t fl1, ov1, fl8, ov8;
	snprintf(na, sizeof na, "mdetest_conc_%s_seq", cmd);
	snprintf(nb, sizeof nb, "mdetest_conc_%s_par", cmd);
	PGconn *ca = run_into(na, 1, cmd, "--writers 1", a, sizeof a, &fl1,
			      &ov1);
	PGconn *cb = run_into(nb, 8, cmd, "", b, sizeof b, &fl8, &ov8);
	assert_int_equal(fl1, 1);
	assert_int_equal(ov1, 0);
	if (fl8 < 2 || fl8 > 8) {
		fprintf(stderr, "%s: %zu requests in flight\n", cmd, fl8);
		fail();
	}
	assert_true(ov8 > 0);
	if (!mde_tables_equal(ca, cb, why, sizeof why)) {
		fprintf(stderr, "%s: %s\n", cmd, why);
		fail();
	}
	PQfinish(ca);
	PQfinish(cb);
	mde_testdb_drop(na);
	mde_testdb_drop(nb);
}

static void test_run_concurrent_equals_sequential(void **state)
{
	same_as_sequential("run");
}

static void test_backfill_concurrent_equals_sequential(void **state)
{
	same_as_sequential("backfill");
}

/* ---- the funding of all symbols at once ----------------------------- */

/* The 8 symbols with 96 hourly candles ending at the last closed hour,
 * and funding every 8 h from 40 days before them, k ms after the hour;
 * with needs_symbol the fake refuses fundingRate without a symbol. */
static fx *funding_market(int needs_symbol, int64_t *from)
{
	fx_opts fo = {.latency_ms = 5, .funding_needs_symbol = needs_symbol};
	fx *x = fx_start(&fo);
	assert_non_null(x);
	*from = mde_floor_div(mde_now_ms(), H) * H - 96 * H;
	char *list = strdup(syms), *save = NULL, v[32];
	int k = 0;
	for (char *s = strtok_r(list, ",", &save); s;
	     s = strtok_r(NULL, ",", &save), k++) {
		assert_int_equal(fx_add_synthetic(x, FX_FUTURES, s, H, *from, 96,
						  (uint64_t)k + 1), 0);
		int64_t t = mde_floor_div(*from - 40 * MDE_DAY_MS, 8 * H) * 8 * H;
		for (int i = 0; t < *from + 96 * H; t += 8 * H, i++) {
			snprintf(v, sizeof v, "0.0000%d%03d", k, (i * 37) % 1000);
			assert_int_equal(fx_add_aux(x, MDE_AUX_FUNDING, s, 0,
						    t + k, v), 0);
		}
	}
	free(list);
	return x;
}

/* A run of the 8 symbols' first 72 hours, then the hourly run after it
 * (the 24 hours since); the hourly run's funding requests of all symbols
 * (*all, and *all_ok of them answered) and of one symbol (*one). */
static PGconn *hourly_into(const char *name, int needs_symbol, bool hole,
			   char *db, size_t len, long *all, long *all_ok,
			   long *one)
{
	int64_t from;
	fx *x = funding_market(needs_symbol, &from);
	PGconn *c = mde_fresh_db(cfg, name, db, len);
	char args[1024], t0[40], t1[40];
	mde_time_format(from, t0, sizeof t0);
	mde_time_format(from + 72 * H, t1, sizeof t1);
	snprintf(args, sizeof args, "--binance-url %s run --symbols %s "
		 "--timeframe 1h --since %s --until %s", fx_url(x), syms, t0,
		 t1);
	mde_cli_must(cfg, db, args);
	if (hole) { /* a day of CCCUSDT's funding lost, 10 days back */
		char sql[300];
		snprintf(sql, sizeof sql, "DELETE FROM funding_rates WHERE "
			 "symbol = 'CCCUSDT' AND funding_time >= timestamptz "
			 "'epoch' + %lld * interval '1 millisecond' AND "
			 "funding_time < timestamptz 'epoch' + %lld * interval "
			 "'1 millisecond'", (long long)(from - 10 * MDE_DAY_MS),
			 (long long)(from - 9 * MDE_DAY_MS));
		assert_int_equal(mde_testdb_count(c, "SELECT count(*) FROM "
						     "funding_rates WHERE "
						     "symbol = 'CCCUSDT'") > 0,
				 1);
		PQclear(PQexec(c, sql));
	}
	snprintf(args, sizeof args, "--binance-url %s run --symbols %s "
		 "--timeframe 1h", fx_url(x), syms);
	mde_cli_must(cfg, db, args);
	assert_int_equal(mde_testdb_count(c, "SELECT count(*) FROM "
					     "market_data_v2"), 8 * 96);
	/* every request the server saw has its row, the refused one too */
	assert_int_equal(mde_testdb_count(c, "SELECT count(*) FROM "
					     "enrichment_fetch_log"),
			 (long)fx_nreq(x));
	static const char q[] =
		"SELECT count(*) FROM enrichment_fetch_log WHERE run_id = "
		"(SELECT max(run_id) FROM enrichment_fetch_log) AND endpoint = "
		"'/fapi/v1/fundingRate' AND ";
	char sql[400];
	snprintf(sql, sizeof sql, "%ssymbol IS NULL AND params NOT LIKE "
		 "'%%symbol=%%'", q);
	*all = (long)mde_testdb_count(c, sql);
	snprintf(sql, sizeof sql, "%ssymbol IS NULL AND http_status = 200 "
		 "AND error IS NULL", q);
	*all_ok = (long)mde_testdb_count(c, sql);
	snprintf(sql, sizeof sql, "%ssymbol IS NOT NULL", q);
	*one = (long)mde_testdb_count(c, sql);
	/* every candle of the hourly run has its funding rate */
	assert_int_equal(mde_testdb_count(c, "SELECT count(*) FROM "
					     "market_data_v2 WHERE funding_rate "
					     "IS NULL"), 0);
	fx_stop(x);
	return c;
}

/* The stored tables of a and b are the same: market_data_v2 and the
 * funding events. */
static void same_funding_tables(PGconn *a, PGconn *b, const char *what)
{
	char why[512], fa[64], fb[64];
	if (!mde_tables_equal(a, b, why, sizeof why)) {
		fprintf(stderr, "%s: %s\n", what, why);
		fail();
	}
	static const char fsum[] =
		"SELECT count(*) || ' ' || md5(string_agg(symbol || funding_time "
		"|| funding_rate, ',' ORDER BY symbol, funding_time)) FROM "
		"funding_rates";
	mde_testdb_value(a, fsum, fa, sizeof fa);
	mde_testdb_value(b, fsum, fb, sizeof fb);
	assert_string_equal(fa, fb);
}

/*
 * An hourly run over many symbols asks for the funding published since
 * the last run once, for all symbols (one page), instead of once a
 * symbol; and stores what asking per symbol stores: the reference is the
 * same runs against an exchange that refuses the request without a
 * symbol, where each symbol asks for its own. A symbol whose stored
 * funding has a hole in the range its first candles need asks for its
 * own range again, and the hole is filled.
 */
static void test_hourly_run_shares_one_funding_request(void **state)
{
	char a[2048], b[2048], h[2048];
	long all, ok, one;
	PGconn *ca = hourly_into("mdetest_fund_all", 0, false, a, sizeof a,
				 &all, &ok, &one);
	assert_int_equal(all, 1);
	assert_int_equal(ok, 1);
	assert_int_equal(one, 0);
	PGconn *cb = hourly_into("mdetest_fund_one", 1, false, b, sizeof b,
				 &all, &ok, &one);
	assert_int_equal(all, 1); /* refused: 400, not retried */
	assert_int_equal(ok, 0);
	assert_int_equal(one, 8);
	same_funding_tables(ca, cb, "funding shared");
	PGconn *ch = hourly_into("mdetest_fund_hole", 0, true, h, sizeof h,
				 &all, &ok, &one);
	assert_int_equal(all, 1);
	assert_int_equal(ok, 1);
	assert_int_equal(one, 1); /* CCCUSDT */
	same_funding_tables(ch, cb, "funding with a hole");
	PQfinish(ca);
	PQfinish(cb);
	PQfinish(ch);
	mde_testdb_drop("mdetest_fund_all");
	mde_testdb_drop("mdetest_fund_one");
	mde_testdb_drop("mdetest_fund_hole");
}

/* ---- one chunk in parts -------------------------------------------- */

#define M MDE_MINUTE_MS
#define CUT_BARS 8000 /* 8 full pages: two parts of four */

/* A fake answering 20 ms late with CUT_BARS 1m candles of BTCUSDT from
 * from (the same for every fake of a test: a minute may pass between
 * two). */
static fx *minute_market(int64_t from)
{
	fx_opts fo = {.latency_ms = 20};
	fx *x = fx_start(&fo);
	assert_non_null(x);
	assert_int_equal(fx_add_synthetic(x, FX_FUTURES, "BTCUSDT", M, from,
					  CUT_BARS, 3), 0);
	return x;
}

/* The klines requests the fake saw, and how many of them arrived before
 * the one before them was answered. */
static size_t klines_requests(fx *x, size_t *overlapping)
{
	size_t n = 0, k = 0;
	int64_t prev_done = INT64_MIN;
	for (size_t i = 0; i < fx_nreq(x); i++) {
		fx_req r;
		assert_int_equal(fx_get_req(x, i, &r), 0);
		if (strcmp(r.path, "/fapi/v1/klines") != 0)
			continue;
		k += n > 0 && r.mono_ms < prev_done;
		prev_done = r.done_mono_ms;
		n++;
	}
	*overlapping = k;
	return n;
}

static int cut_backfill(fx *x, int64_t from, int conc, const char *db)
{
	char args[1024], t0[40], t1[40];
	mde_time_format(from, t0, sizeof t0);
	mde_time_format(from + CUT_BARS * M, t1, sizeof t1);
	snprintf(args, sizeof args, "--binance-url %s --concurrency %d "
		 "--writers 1 backfill --symbols BTCUSDT --timeframe 1m --from "
		 "%s --to %s --chunk 30d", fx_url(x), conc, t0, t1);
	return mde_cli(cfg, db, args);
}

/*
 * One chunk of 8 pages at --concurrency 4: its candles are fetched in two
 * parts side by side, cut at a page bound (the same 8 klines requests as
 * one after another), into the same table. At --concurrency 1 as at 4 the
 * chunk runs in two pieces, the first written while the second is
 * fetched. With every klines request failing from the sixth on, what is
 * stored is the chunk's first rows without a hole (nothing of a part
 * after the one that failed); resume then completes the same table.
 */
static void test_backfill_cuts_a_chunk_at_page_bounds(void **state)
{
	char a[2048], b[2048], c[2048], why[512];
	/* the last CUT_BARS closed minutes */
	int64_t from = mde_floor_div(mde_now_ms(), M) * M - CUT_BARS * M;
	size_t ov;
	fx *x = minute_market(from);
	PGconn *ca = mde_fresh_db(cfg, "mdetest_conc_cut_seq", a, sizeof a);
	assert_int_equal(cut_backfill(x, from, 1, a), 0);
	size_t seq = klines_requests(x, &ov);
	assert_int_equal(seq, CUT_BARS / 1000);
	assert_int_equal(ov, 0);
	/* the chunk, which nothing fetched ahead, ran in two pieces (4
	   pages, then the other 4: a compute-log row each), and is done */
	assert_int_equal(mde_testdb_count(ca, "SELECT count(*) FROM "
					      "enrichment_compute_log"), 2);
	assert_int_equal(mde_testdb_count(ca, "SELECT count(*) FROM "
					      "backfill_state WHERE status = "
					      "'done'"), 1);
	fx_stop(x);

	x = minute_market(from);
	PGconn *cb = mde_fresh_db(cfg, "mdetest_conc_cut_par", b, sizeof b);
	assert_int_equal(cut_backfill(x, from, 4, b), 0);
	assert_int_equal(klines_requests(x, &ov), seq);
	assert_true(ov > 0);
	assert_int_equal(mde_testdb_count(cb, "SELECT count(*) FROM "
					      "enrichment_fetch_log"),
			 (long)fx_nreq(x));
	if (!mde_tables_equal(ca, cb, why, sizeof why)) {
		fprintf(stderr, "cut: %s\n", why);
		fail();
	}
	fx_stop(x);

	x = minute_market(from);
	PGconn *cc = mde_fresh_db(cfg, "mdetest_conc_cut_fail", c, sizeof c);
	fx_fault(x, "/fapi/v1/klines", FX_500, 5, 1000, 0);
	assert_int_not_equal(cut_backfill(x, from, 4, c), 0);
	long n = (long)mde_testdb_count(cc, "SELECT count(*) FROM "
					   "market_data_v2");
	char q[256];
	snprintf(q, sizeof q, "SELECT count(*) FROM market_data_v2 WHERE "
		 "open_time < timestamptz 'epoch' + %lld * interval '1 "
		 "millisecond'", (long long)(from + n * M));
	assert_true(n < CUT_BARS);
	assert_int_equal(mde_testdb_count(cc, q), n); /* no hole */
	fx_clear_faults(x);
	char args[1024];
	snprintf(args, sizeof args, "--binance-url %s --concurrency 4 resume",
		 fx_url(x));
	mde_cli_must(cfg, c, args);
	if (!mde_tables_equal(ca, cc, why, sizeof why)) {
		fprintf(stderr, "cut, failed, resumed: %s\n", why);
		fail();
	}
	fx_stop(x);
	PQfinish(ca);
	PQfinish(cb);
	PQfinish(cc);
	mde_testdb_drop("mdetest_conc_cut_seq");
	mde_testdb_drop("mdetest_conc_cut_par");
	mde_testdb_drop("mdetest_conc_cut_fail");
}

/*
 * Three writers enrich three series at once, each on its connection: the
 * table equals one writer's, rows of different series were committed
 * while another series was being written (their created_at spans overlap;
 * one writer's are apart), and every request has its fetch-log row.
 */
static long overlapping_series(PGconn *c)
{
	return mde_testdb_count(
		c, "WITH s AS (SELECT symbol, min(created_at) AS a, "
		   "max(created_at) AS b FROM market_data_v2 GROUP BY 1) "
		   "SELECT count(*) FROM s x JOIN s y ON x.symbol < y.symbol "
		   "AND x.a <= y.b AND y.a <= x.b");
}

static void test_backfill_writers_side_by_side(void **state)
{
	char a[2048], b[2048], why[512];
	size_t fl, ov;
	const char *na = "mdetest_conc_writers1", *nb = "mdetest_conc_writers3";
	PGconn *ca = run_into(na, 1, "backfill", "--writers 1", a, sizeof a,
			      &fl, &ov);
	PGconn *cb = run_into(nb, 6, "backfill", "--writers 3", b, sizeof b,
			      &fl, &ov);
	assert_int_equal(overlapping_series(ca), 0);
	assert_true(overlapping_series(cb) > 0);
	if (!mde_tables_equal(ca, cb, why, sizeof why)) {
		fprintf(stderr, "writers: %s\n", why);
		fail();
	}
	PQfinish(ca);
	PQfinish(cb);
	mde_testdb_drop(na);
	mde_testdb_drop(nb);
}

/* ---- which chunk a claim takes ---------------------------------------- */

static void claim(mde_store *s, const char *own, int stick, const char *sym,
		  int chunk_no)
{
	mde_chunk c;
	bool found = false;
	mde_err err = {0};
	assert_int_equal(mde_job_claim(s, 0, "t", 60, 0, own, stick, &c,
				       &found, &err), 0);
	assert_true(found);
	if (strcmp(c.symbol, sym) || c.chunk_no != chunk_no) {
		fprintf(stderr, "own %s stick %d: claimed %s chunk %d, not %s "
			"chunk %d\n", own ? own : "-", stick, c.symbol,
			c.chunk_no, sym, chunk_no);
		fail();
	}
	PGconn *pc = mde_store_conn(s);
	char sql[200];
	snprintf(sql, sizeof sql, "UPDATE backfill_state SET status = 'done' "
		 "WHERE chunk_no = %d", c.chunk_no);
	PQclear(PQexec(pc, sql));
}

/*
 * A fetch log of 600 records (a run over 150 symbols) goes in several
 * INSERTs of 256: every record is one row, in order, with its NULLs (no
 * HTTP status, no error) kept.
 */
static void test_fetch_log_of_many_requests(void **state)
{
	char db[2048];
	PGconn *c = mde_fresh_db(cfg, "mdetest_conc_log", db, sizeof db);
	mde_store *s = NULL;
	mde_err err = {0};
	assert_int_equal(mde_store_open(&s, db, 5, &err), 0);
	mde_fetch_logbuf log = {0};
	for (int i = 0; i < 600; i++) {
		char params[64], error[32];
		snprintf(params, sizeof params, "symbol=S%03dUSDT&limit=25", i);
		snprintf(error, sizeof error, "timeout %d", i);
		mde_fetch_rec r = {.source = "binance",
				   .endpoint = "/fapi/v1/klines",
				   .symbol = "BTCUSDT", .params = params,
				   .http_status = i % 3 ? 200 : 0,
				   .rows = (size_t)i, .bytes = 100,
				   .latency_ms = 7, .attempt = 1,
				   .error = i % 3 ? NULL : error,
				   .requested_at_ms = INT64_C(1735689600000) + i};
		mde_fetch_logbuf_add(&log, &r);
	}
	assert_int_equal(log.n, 600);
	assert_int_equal(mde_store_flush_fetch_log(s, 1, &log, &err), 0);
	assert_int_equal(log.n, 0);
	assert_int_equal(mde_testdb_count(c, "SELECT count(*) FROM "
					     "enrichment_fetch_log"), 600);
	assert_int_equal(mde_testdb_count(
				 c, "SELECT count(*) FROM enrichment_fetch_log "
				    "WHERE params = 'symbol=S' || lpad(rows::text, "
				    "3, '0') || 'USDT&limit=25' AND requested_at "
				    "= timestamptz 'epoch' + (1735689600000 + rows) "
				    "* interval '1 millisecond' AND (rows % 3 = 0) "
				    "= (http_status IS NULL AND error = 'timeout ' "
				    "|| rows)"), 600);
	assert_int_equal(mde_testdb_count(c, "SELECT count(*) FROM "
					     "enrichment_fetch_log WHERE "
					     "http_status IS NULL AND error = "
					     "'timeout ' || rows"), 200);
	mde_fetch_logbuf_free(&log);
	mde_store_close(s);
	PQfinish(c);
	mde_testdb_drop("mdetest_conc_log");
}

/* Three series of ten chunks: side by side (stick 6) a writer leaves its
 * series for one with six more chunks left, so that no series is left for
 * one writer at the end; alone (stick < 0) it takes them in chunk order. */
static void test_claim_keeps_to_the_series_then_balances(void **state)
{
	char db[2048];
	PGconn *c = mde_fresh_db(cfg, "mdetest_conc_claim", db, sizeof db);
	mde_store *s = NULL;
	mde_err err = {0};
	assert_int_equal(mde_store_open(&s, db, 5, &err), 0);
	int64_t job;
	size_t n;
	assert_int_equal(mde_job_create(s, "AUSDT,BUSDT,CUSDT", "1h", H,
					"crypto", "binance", 0, 30 * H, 3 * H,
					0, &job, &n, &err), 0);
	assert_int_equal(n, 30);
	/* A's chunks are 0..9, B's 10..19, C's 20..29 */
	claim(s, NULL, 6, "AUSDT", 0); /* all have 10 left: in order */
	for (int k = 1; k <= 6; k++)   /* A: 9..4 left, + 6 >= 10 */
		claim(s, "AUSDT", 6, "AUSDT", k);
	claim(s, "AUSDT", 6, "BUSDT", 10); /* A: 3 + 6 < 10 */
	claim(s, "BUSDT", 6, "BUSDT", 11);
	for (int k = 12; k <= 16; k++) /* B: 8..4 left, C 10 */
		claim(s, "BUSDT", 6, "BUSDT", k);
	claim(s, "BUSDT", 6, "CUSDT", 20); /* B: 3 + 6 < 10 */
	claim(s, "CUSDT", -1, "AUSDT", 7); /* alone: in chunk order */
	claim(s, "AUSDT", -1, "AUSDT", 8);
	mde_store_close(s);
	PQfinish(c);
	mde_testdb_drop("mdetest_conc_claim");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_threads_share_the_budget),
		cmocka_unit_test(test_retry_after_stops_every_thread),
		cmocka_unit_test(test_run_concurrent_equals_sequential),
		cmocka_unit_test(test_backfill_concurrent_equals_sequential),
		cmocka_unit_test(test_hourly_run_shares_one_funding_request),
		cmocka_unit_test(test_backfill_writers_side_by_side),
		cmocka_unit_test(test_backfill_cuts_a_chunk_at_page_bounds),
		cmocka_unit_test(test_claim_keeps_to_the_series_then_balances),
		cmocka_unit_test(test_fetch_log_of_many_requests),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
