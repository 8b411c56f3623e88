/*
 * test_runs.c - more promises of the runs, against the real server:
 *   - `run --schedule hourly|nightly` enriches exactly the config file's
 *     universes of that schedule;
 *   - a backfill of older history prepended to a stored series recomputes
 *     the features that depend on it: the table equals one whole run;
 *   - a candle the exchange now sends broken is kept in rejected_candles
 *     with its raw values and reasons, and the stored row is untouched;
 *   - a chunk under a live lease of another host is not touched until the
 *     lease expires, then taken over and finished.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fake_exchange.h"
#include "storeutil.h"
#include "testutil.h"

static char dir[] = "/tmp/mdetest-runsXXXXXX";
static char cfg[700];

static int setup(void **state)
{
	if (!mkdtemp(dir))
		return -1;
	char path[600];
	snprintf(path, sizeof path, "%s/r.conf", dir);
	snprintf(cfg, sizeof cfg, "%s", path);
	FILE *f = fopen(path, "w");
	fputs("[run]\nbatch_rows = 100\nchunk = 7d\nlease_seconds = 5\n"
	      "[http]\nmax_attempts = 2\nbackoff_ms = 10\n"
	      "breaker_threshold = 2\nbreaker_cooldown_ms = 600000\n"
	      /* these tests are about REST: not the archive's fake tree */
	      "[archive]\nmode = off\n"
	      "[universe crypto]\nsymbols = BTCUSDT,ETHUSDT\ntimeframe = 1h\n"
	      "source = replay:data/replay\nschedule = hourly\n"
	      "since = 2026-07-01\n"
	      "[universe stocks]\nsymbols = AAPL\ntimeframe = 1d\n"
	      "asset_class = equity\nsource = replay:data/replay\n"
	      "schedule = nightly\nsince = 2020-08-01\n", f);
	fclose(f);
	return 0;
}

static int teardown(void **state)
{
	return mde_test_rmtree(dir);
}

static void test_schedules(void **state)
{
	char db[2048];
	PGconn *c = mde_fresh_db(cfg, "mdetest_runs_sched", db, sizeof db);
	mde_cli_must(cfg, db, "run --schedule hourly");
	assert_int_equal(mde_testdb_count(c, "SELECT count(DISTINCT symbol) "
					     "FROM market_data_v2"), 2);
	assert_int_equal(mde_testdb_count(c, "SELECT count(*) FROM "
					     "market_data_v2 WHERE symbol = "
					     "'AAPL'"), 0);
	assert_int_equal(mde_testdb_count(c, "SELECT count(*) FROM "
					     "market_data_v2 WHERE open_time < "
					     "'2026-07-01'"), 0);
	assert_int_equal(mde_testdb_count(c, "SELECT count(*) FROM "
					     "enrichment_runs WHERE kind = "
					     "'hourly'"), 1);
	mde_cli_must(cfg, db, "run --schedule nightly");
	assert_int_equal(mde_testdb_count(c, "SELECT count(*) FROM "
					     "market_data_v2 WHERE symbol = "
					     "'AAPL' AND asset_class = 'equity' "
					     "AND open_time::time = '00:00'"),
			 49);
	/* Both again: the overlap re-reads recent candles, writes nothing. */
	mde_cli_must(cfg, db, "run --schedule hourly");
	mde_cli_must(cfg, db, "run --schedule nightly");
	assert_int_equal(mde_testdb_count(c, "SELECT sum(rows_written) FROM "
					     "enrichment_runs WHERE run_id > 2"),
			 0);
	PQfinish(c);
	mde_testdb_drop("mdetest_runs_sched");
}

static void test_prepend_recomputes(void **state)
{
	char ref[2048], db[2048];
	PGconn *r = mde_fresh_db(cfg, "mdetest_runs_ref", ref, sizeof ref);
	mde_cli_must(cfg, ref, "run --symbols BTCUSDT --timeframe 1h "
		     "--since 2026-06-01 --until 2026-08-01 "
		     "--source replay:data/replay");
	PGconn *c = mde_fresh_db(cfg, "mdetest_runs_prepend", db, sizeof db);
	/* The recent part first, then its older history prepended. */
	mde_cli_must(cfg, db, "run --symbols BTCUSDT --timeframe 1h "
		     "--since 2026-07-10 --until 2026-08-01 "
		     "--source replay:data/replay");
	assert_int_equal(mde_testdb_count(c, "SELECT count(*) FROM "
					     "market_data_v2 WHERE open_time = "
					     "'2026-07-10 05:00Z' AND sma_50 IS "
					     "NULL"), 1);
	mde_cli_must(cfg, db, "backfill --symbols BTCUSDT --timeframe 1h --from "
		 "2026-06-01 --to 2026-07-10 --source replay:data/replay");
	char why[1024];
	if (!mde_tables_equal(r, c, why, sizeof why))
		fail_msg("prepend: %s", why);
	PQfinish(r);
	PQfinish(c);
	mde_testdb_drop("mdetest_runs_ref");
	mde_testdb_drop("mdetest_runs_prepend");
}

static void test_older_feature_version_recomputed(void **state)
{
	char ref[2048], db[2048];
	PGconn *r = mde_fresh_db(cfg, "mdetest_runs_fvref", ref, sizeof ref);
	mde_cli_must(cfg, ref, "run --symbols BTCUSDT --timeframe 1h "
		     "--since 2026-06-01 --until 2026-08-01 "
		     "--source replay:data/replay");
	PGconn *c = mde_fresh_db(cfg, "mdetest_runs_fv", db, sizeof db);
	mde_cli_must(cfg, db, "run --symbols BTCUSDT --timeframe 1h "
		     "--since 2026-06-01 --until 2026-08-01 "
		     "--source replay:data/replay");
	/* As if an older definition had written the history. */
	PQclear(PQexec(c, "UPDATE market_data_v2 SET feature_version = 0, "
			  "sma_20 = sma_20 * 2, atr_14 = NULL WHERE open_time "
			  "< '2026-07-15'; UPDATE enrichment_status SET "
			  "feature_version = 0"));
	PQclear(PQexec(c, "DELETE FROM enrichment_fetch_log"));
	/* A plain incremental run recomputes it from what is stored. */
	mde_cli_must(cfg, db, "run --symbols BTCUSDT --timeframe 1h --until "
		     "2026-08-01 --source replay:data/replay");
	char why[1024];
	if (!mde_tables_equal(r, c, why, sizeof why))
		fail_msg("after the recompute: %s", why);
	assert_int_equal(mde_testdb_count(c, "SELECT count(*) FROM "
					     "market_data_v2 WHERE "
					     "feature_version <> 1"), 0);
	assert_int_equal(mde_testdb_count(c, "SELECT feature_version FROM "
					     "enrichment_status"), 1);
	/* Nothing was fetched for it: one read of the candle file, for the
	 * overlap window only. */
	assert_int_equal(mde_testdb_count(c, "SELECT count(*) FROM "
					     "enrichment_fetch_log WHERE "
					     "endpoint LIKE '%klines%'"), 1);
	PQfinish(r);
	PQfinish(c);
	mde_testdb_drop("mdetest_runs_fvref");
	mde_testdb_drop("mdetest_runs_fv");
}

static void test_broken_candle_is_rejected(void **state)
{
	char db[2048], args[1024];
	PGconn *c = mde_fresh_db(cfg, "mdetest_runs_reject", db, sizeof db);
	fx_opts o = {0};
	fx *x = fx_start(&o);
	assert_int_equal(fx_load_dir(x, "data/replay"), 0);
	snprintf(args, sizeof args, "--binance-url %s --binance-spot-url %s "
		 "run --symbols BTCUSDT --timeframe 1h --since 2026-07-20 "
		 "--until 2026-08-01", fx_url(x), fx_url(x));
	mde_cli_must(cfg, db, args);
	/* The exchange now sends 2026-07-31 12:00 with low above high. */
	assert_int_equal(fx_amend(x, FX_FUTURES, "BTCUSDT", 3600000,
				  INT64_C(1785499200000), NULL, "1.00", NULL,
				  NULL, "-5"), 0);
	mde_cli_must(cfg, db, args);
	assert_int_equal(mde_testdb_count(
				 c, "SELECT count(*) FROM rejected_candles WHERE "
				    "symbol = 'BTCUSDT' AND open_time = "
				    "'2026-07-31 12:00Z' AND source = 'binance' "
				    "AND raw->>'high' = '1.00' AND raw->>'volume' "
				    "= '-5' AND 'high_low' = ANY(reasons) AND "
				    "'negative_volume' = ANY(reasons)"),
			 1);
	assert_int_equal(mde_testdb_count(c, "SELECT count(*) FROM "
					     "market_data_v2 WHERE open_time = "
					     "'2026-07-31 12:00Z' AND revision = "
					     "1 AND high > 1"), 1);
	assert_int_equal(mde_testdb_count(c, "SELECT count(*) FROM "
					     "data_corrections"), 0);
	assert_true(mde_testdb_count(c, "SELECT count(*) FROM "
					"enrichment_fetch_log WHERE endpoint = "
					"'/fapi/v1/klines' AND http_status = "
					"200 AND params LIKE '%symbol=BTCUSDT%'")
		    >= 2);
	assert_int_equal(mde_testdb_count(c, "SELECT sum(rejected) FROM "
					     "data_quality_metrics WHERE day = "
					     "'2026-07-31'"), 0);
	fx_stop(x);
	PQfinish(c);
	mde_testdb_drop("mdetest_runs_reject");
}

static void test_aux_holes(void **state)
{
	char db[2048], args[1024];
	PGconn *c = mde_fresh_db(cfg, "mdetest_runs_holes", db, sizeof db);
	fx_opts o = {0};
	fx *x = fx_start(&o);
	assert_int_equal(fx_load_dir(x, "data/replay"), 0);
	/* July 2026 is more than 30 days old for /futures/data: open
	 * interest and long/short of it can no longer be fetched. */
	snprintf(args, sizeof args, "--binance-url %s --binance-spot-url %s "
		 "run --symbols BTCUSDT --timeframe 1h --since 2026-07-25 "
		 "--until 2026-08-01", fx_url(x), fx_url(x));
	mde_cli_must(cfg, db, args);
	assert_int_equal(mde_testdb_count(c, "SELECT count(DISTINCT kind) FROM "
					     "aux_holes WHERE symbol = 'BTCUSDT' "
					     "AND kind IN ('open_interest', "
					     "'long_short') AND hole_end > "
					     "'2026-07-31'"), 2);
	assert_true(mde_testdb_count(c, "SELECT aux_holes FROM "
					"enrichment_status WHERE symbol = "
					"'BTCUSDT'") >= 2);
	assert_non_null(strstr(mde_cli_err, "aux.hole"));
	/* Had an earlier hourly run kept that open interest, the range is
	 * no hole, and the features use what was kept. */
	PQclear(PQexec(c, "DELETE FROM aux_holes; INSERT INTO "
			  "open_interest_hist (symbol, period, ts, "
			  "sum_open_interest, source) SELECT 'BTCUSDT', '1h', "
			  "g, 80000, 'binance' FROM generate_series("
			  "'2026-07-20'::timestamptz, '2026-08-01', "
			  "interval '1 hour') g"));
	snprintf(args, sizeof args, "--binance-url %s --binance-spot-url %s "
		 "run --symbols BTCUSDT --timeframe 1h --since 2026-07-25 "
		 "--until 2026-08-01 --overlap 200", fx_url(x), fx_url(x));
	mde_cli_must(cfg, db, args);
	assert_int_equal(mde_testdb_count(c, "SELECT count(*) FROM aux_holes "
					     "WHERE kind = 'open_interest'"), 0);
	assert_int_equal(mde_testdb_count(c, "SELECT count(*) FROM "
					     "market_data_v2 WHERE open_time = "
					     "'2026-07-31 12:00Z' AND "
					     "open_interest = 80000 AND "
					     "open_interest_change = 0"), 1);
	fx_stop(x);
	PQfinish(c);
	mde_testdb_drop("mdetest_runs_holes");
}

static void test_fallback_then_primary(void **state)
{
	char db[2048], args[1024];
	PGconn *c = mde_fresh_db(cfg, "mdetest_runs_fallback", db, sizeof db);
	fx_opts o = {0};
	fx *x = fx_start(&o);
	/* The last three days, different walks on futures and spot. */
	int64_t hour = 3600000;
	int64_t t0 = (time(NULL) * INT64_C(1000) / hour - 72) * hour;
	assert_int_equal(fx_add_synthetic(x, FX_FUTURES, "SYNUSDT", hour, t0,
					  70, 1), 0);
	assert_int_equal(fx_add_synthetic(x, FX_SPOT, "SYNUSDT", hour, t0, 70,
					  2), 0);
	/* Futures down, no opt-in: futures never take spot candles. */
	snprintf(args, sizeof args, "--binance-url %s --binance-spot-url %s "
		 "run --symbols SYNUSDT --timeframe 1h --since %lld", fx_url(x),
		 fx_url(x), (long long)t0);
	fx_fault(x, "/fapi/", FX_500, 0, 1000, 0);
	assert_int_equal(mde_cli(cfg, db, args), 3);
	assert_int_equal(mde_testdb_count(c, "SELECT count(*) FROM "
					     "market_data_v2"), 0);
	assert_int_equal(mde_testdb_count(c, "SELECT count(*) FROM "
					     "enrichment_fetch_log WHERE "
					     "source = 'binance-spot'"), 0);
	assert_int_equal(mde_testdb_count(c, "SELECT count(*) FROM "
					     "enrichment_status WHERE "
					     "last_status = 'failed' AND "
					     "last_error LIKE '%HTTP 500%'"), 1);
	fx_clear_faults(x);
	/* The universe opts in: fallback = binance-spot. */
	char ucfg[800];
	snprintf(ucfg, sizeof ucfg, "%s/fallback.conf", dir);
	FILE *f = fopen(ucfg, "w");
	fprintf(f, "[run]\nbatch_rows = 100\nchunk = 7d\n[universe syn]\n"
		"symbols = SYNUSDT\ntimeframe = 1h\nschedule = hourly\n"
		"since = %lld\nfallback = binance-spot\n", (long long)t0);
	fclose(f);
	snprintf(args, sizeof args, "--binance-url %s --binance-spot-url %s "
		 "run --schedule hourly", fx_url(x), fx_url(x));
	/* Both markets down: nothing is stored, but every request is in the
	 * fetch log, with its status and error. */
	fx_fault(x, "/fapi/", FX_500, 0, 1000, 0);
	fx_fault(x, "/api/v3/", FX_500, 0, 1000, 0);
	assert_int_equal(mde_cli(ucfg, db, args), 3);
	assert_int_equal(mde_testdb_count(c, "SELECT count(*) FROM "
					     "market_data_v2"), 0);
	assert_true(mde_testdb_count(c, "SELECT count(*) FROM "
					"enrichment_fetch_log WHERE "
					"http_status = 500 AND error IS NOT "
					"NULL AND endpoint IN "
					"('/fapi/v1/klines', '/api/v3/klines')")
		    >= 2);
	fx_clear_faults(x);
	fx_fault(x, "/fapi/", FX_500, 0, 1000, 0);
	/* Futures down: spot serves the candles, flagged; funding (futures
	 * only) is missing, so the series reports failure. */
	assert_int_equal(mde_cli(ucfg, db, args), 3);
	assert_non_null(strstr(mde_cli_err, "the next run replaces them"));
	long long n = mde_testdb_count(c, "SELECT count(*) FROM market_data_v2");
	assert_true(n >= 69);
	assert_int_equal(mde_testdb_count(c, "SELECT count(*) FROM "
					     "market_data_v2 WHERE source = "
					     "'binance-spot' AND "
					     "validation_flags & 8 = 8"), n);
	/* Futures back: a plain run (default overlap 24) re-reads from the
	 * first fallback candle and replaces every one of them, opted in
	 * or not. */
	fx_clear_faults(x);
	snprintf(args, sizeof args, "--binance-url %s --binance-spot-url %s "
		 "run --symbols SYNUSDT --timeframe 1h", fx_url(x), fx_url(x));
	mde_cli_must(cfg, db, args);
	assert_int_equal(mde_testdb_count(c, "SELECT count(*) FROM "
					     "market_data_v2 WHERE source = "
					     "'binance' AND revision = 2 AND "
					     "validation_flags & 12 = 4"), n);
	assert_int_equal(mde_testdb_count(c, "SELECT count(*) FROM "
					     "data_corrections WHERE old_source "
					     "= 'binance-spot' AND source = "
					     "'binance'"), n);
	fx_stop(x);
	PQfinish(c);
	mde_testdb_drop("mdetest_runs_fallback");
}

static void test_equities_from_polygon_key_never_shown(void **state)
{
	char db[2048], args[1024];
	PGconn *c = mde_fresh_db(cfg, "mdetest_runs_equity", db, sizeof db);
	fx_opts o = {.polygon_key = "SeCrEtKeY42"};
	fx *x = fx_start(&o);
	assert_int_equal(fx_load_dir(x, "data/replay"), 0);
	snprintf(args, sizeof args, "--polygon-url %s --yahoo-url %s run "
		 "--asset-class equity --symbols AAPL --timeframe 1d --since "
		 "2020-08-01 --log-level debug", fx_url(x), fx_url(x));
	/* Through the environment, as docs/CLI.md says. */
	setenv("POLYGON_API_KEY", "SeCrEtKeY42", 1);
	int rc = mde_cli(cfg, db, args);
	unsetenv("POLYGON_API_KEY");
	if (rc != 0)
		fail_msg("exit %d: %s", rc, mde_cli_err);
	assert_int_equal(mde_testdb_count(c, "SELECT count(*) FROM "
					     "market_data_v2 WHERE symbol = "
					     "'AAPL' AND source = 'polygon' AND "
					     "open_time::time = '00:00' AND "
					     "asset_class = 'equity'"), 49);
	/* The first bar is Monday 2020-08-31; the weekend is no gap. */
	assert_int_equal(mde_testdb_count(c, "SELECT count(*) FROM "
					     "market_data_v2 WHERE open_time = "
					     "'2020-09-08' AND return_1d IS NOT "
					     "NULL AND log_return IS NOT NULL"),
			 1);
	assert_int_equal(mde_testdb_count(c, "SELECT count(*) FROM "
					     "enrichment_fetch_log WHERE source = "
					     "'polygon'") > 0, 1);
	assert_null(strstr(mde_cli_out, "SeCrEtKeY42"));
	assert_null(strstr(mde_cli_err, "SeCrEtKeY42"));
	assert_int_equal(mde_testdb_count(
				 c, "SELECT count(*) FROM enrichment_fetch_log "
				    "WHERE params LIKE '%SeCrEtKeY42%' OR endpoint "
				    "LIKE '%SeCrEtKeY42%' OR error LIKE "
				    "'%SeCrEtKeY42%'"),
			 0);
	assert_int_equal(mde_testdb_count(c, "SELECT count(*) FROM "
					     "enrichment_runs WHERE args LIKE "
					     "'%SeCrEtKeY42%'"), 0);
	fx_stop(x);
	PQfinish(c);
	mde_testdb_drop("mdetest_runs_equity");
}

static void test_live_lease_is_respected(void **state)
{
	char db[2048];
	PGconn *c = mde_fresh_db(cfg, "mdetest_runs_lease", db, sizeof db);
	/* A job whose first chunk another host holds for 4 more seconds. */
	mde_cli_must(cfg, db, "backfill --symbols BTCUSDT --timeframe 1h "
		     "--from 2026-06-01 --to 2026-06-15 "
		     "--source replay:data/replay");
	PQclear(PQexec(c, "UPDATE backfill_state SET status = 'running', "
			  "cursor = NULL, attempts = 1, lease_owner = "
			  "'elsewhere:4242', lease_expires_at = now() + "
			  "interval '4 seconds' WHERE chunk_no = 0; "
			  "UPDATE backfill_state SET status = 'pending', "
			  "cursor = NULL, attempts = 0 WHERE chunk_no > 0; "
			  "DELETE FROM market_data_v2"));
	time_t t0 = time(NULL);
	mde_cli_must(cfg, db, "resume");
	time_t waited = time(NULL) - t0;
	print_message("resume waited %ld s for the lease\n", (long)waited);
	assert_true(waited >= 3);
	assert_int_equal(mde_testdb_count(c, "SELECT count(*) FROM "
					     "backfill_state WHERE status = "
					     "'done' AND lease_owner IS NULL"),
			 2);
	assert_int_equal(mde_testdb_count(c, "SELECT attempts FROM "
					     "backfill_state WHERE chunk_no = 0"),
			 2);
	assert_int_equal(mde_testdb_count(c, "SELECT count(*) FROM "
					     "market_data_v2"), 14 * 24);
	PQfinish(c);
	mde_testdb_drop("mdetest_runs_lease");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_schedules),
		cmocka_unit_test(test_prepend_recomputes),
		cmocka_unit_test(test_older_feature_version_recomputed),
		cmocka_unit_test(test_broken_candle_is_rejected),
		cmocka_unit_test(test_aux_holes),
		cmocka_unit_test(test_fallback_then_primary),
		cmocka_unit_test(test_equities_from_polygon_key_never_shown),
		cmocka_unit_test(test_live_lease_is_respected),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
