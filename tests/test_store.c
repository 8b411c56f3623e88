/*
 * test_store.c - the store and the runs against the real PostgreSQL and,
 * for amendments, the fake exchange over real HTTP:
 *   - the same enrichment twice: the second writes no row, no correction,
 *     no revision;
 *   - a multi-symbol backfill killed with SIGKILL at random moments and
 *     resumed each time ends equal to an uninterrupted one;
 *   - SIGTERM commits the batch in flight and exits 130; resume finishes;
 *   - the database's backends killed during a backfill: it recovers;
 *   - enriching hour by hour equals one backfill;
 *   - three amended candles: revision 2 on exactly those rows, three
 *     corrections, recomputed features;
 *   - three workers on one job: every chunk done once, same table.
 * The reference is one uninterrupted backfill of the replay sample.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fake_exchange.h"
#include "storeutil.h"
#include "testutil.h"

#define SYMBOLS "BTCUSDT,ETHUSDT,BNBUSDT"
#define RANGE "--from 2026-05-20 --to 2026-08-01"
#define SRC "--source replay:data/replay"

static char ref[2048], conf[] = "/tmp/mdetest-storeXXXXXX";
static char logfile[600], cfg[700];
static PGconn *refc;

/* A fresh migrated database; conninfo into db. */
static void assert_same_as_ref(PGconn *c)
{
	char why[1024];
	if (!mde_tables_equal(refc, c, why, sizeof why))
		fail_msg("table differs from the reference: %s", why);
}

static int setup(void **state)
{
	if (!mkdtemp(conf))
		return -1;
	char path[700];
	snprintf(path, sizeof path, "%s/small.conf", conf);
	snprintf(cfg, sizeof cfg, "%s", path);
	FILE *f = fopen(path, "w");
	/* Small batches and chunks so that kills land in the middle. */
	fputs("[run]\nbatch_rows = 60\nchunk = 5d\n"
	      "[database]\nmax_retries = 10\n", f);
	fclose(f);
	snprintf(logfile, sizeof logfile, "%s/children.log", conf);
	refc = mde_fresh_db(cfg, "mdetest_store_ref", ref, sizeof ref);
	mde_cli_must(cfg, ref, "backfill --symbols " SYMBOLS " --timeframe 1h " RANGE
		  " " SRC);
	assert_true(mde_testdb_count(refc, "SELECT count(*) FROM "
					   "market_data_v2") > 4000);
	return 0;
}

static int teardown(void **state)
{
	PQfinish(refc);
	mde_testdb_drop("mdetest_store_ref");
	return mde_test_rmtree(conf);
}

static char *row_versions(PGconn *c, char *buf, size_t len)
{
	mde_testdb_value(c, "SELECT md5(string_agg(xmin::text || ctid::text, "
			    "',' ORDER BY symbol, open_time)) FROM "
			    "market_data_v2", buf, len);
	return buf;
}

static void test_rerun_writes_nothing(void **state)
{
	char db[2048], before[64], after[64];
	PGconn *c = mde_fresh_db(cfg, "mdetest_store_rerun", db, sizeof db);
	mde_cli_must(cfg, db, "run --symbols " SYMBOLS " --timeframe 1h "
		     "--since 2026-05-20 --until 2026-08-01 " SRC);
	assert_same_as_ref(c);
	/* The compute log accounts for every row the run wrote. */
	assert_int_equal(mde_testdb_count(c, "SELECT sum(rows_written) FROM "
					     "enrichment_compute_log WHERE "
					     "run_id = 1"),
			 mde_testdb_count(c, "SELECT count(*) FROM "
					     "market_data_v2"));
	row_versions(c, before, sizeof before);
	long long upd0 = mde_testdb_count(
		c, "SELECT n_tup_upd + n_tup_ins FROM pg_stat_user_tables "
		   "WHERE relname = 'market_data_v2'");
	/* The same enrichment again, as a run and as a backfill. */
	mde_cli_must(cfg, db, "run --symbols " SYMBOLS " --timeframe 1h "
		     "--since 2026-05-20 --until 2026-08-01 " SRC);
	mde_cli_must(cfg, db, "backfill --symbols " SYMBOLS
		     " --timeframe 1h " RANGE " " SRC);
	PQclear(PQexec(c, "SELECT pg_stat_clear_snapshot()"));
	assert_string_equal(row_versions(c, after, sizeof after), before);
	assert_int_equal(mde_testdb_count(c, "SELECT n_tup_upd + n_tup_ins "
					     "FROM pg_stat_user_tables WHERE "
					     "relname = 'market_data_v2'"),
			 upd0);
	assert_int_equal(mde_testdb_count(c, "SELECT count(*) FROM "
					     "data_corrections"), 0);
	assert_int_equal(mde_testdb_count(c, "SELECT max(revision) FROM "
					     "market_data_v2"), 1);
	/* enrichment_status keeps its totals without counting the table */
	assert_int_equal(mde_testdb_count(c, "SELECT sum(rows_total) FROM "
					     "enrichment_status"),
			 mde_testdb_count(c, "SELECT count(*) FROM "
					     "market_data_v2"));
	assert_int_equal(mde_testdb_count(c, "SELECT sum(rows_written) FROM "
					     "enrichment_runs WHERE run_id > 1"),
			 0);
	PQfinish(c);
	mde_testdb_drop("mdetest_store_rerun");
}

static void test_kill9_loop(void **state)
{
	char db[2048];
	PGconn *c = mde_fresh_db(cfg, "mdetest_store_kill", db, sizeof db);
	srand((unsigned)time(NULL));
	/* mde_spawn splits on spaces: pass the conninfo through the env. */
	setenv("MDENRICH_DB_URL", db, 1);
	char cmd[4096];
	snprintf(cmd, sizeof cmd, "--config %s/small.conf --log-format json "
		 "backfill --symbols " SYMBOLS " --timeframe 1h " RANGE " " SRC,
		 conf);
	int kills = 0, rc = -1;
	pid_t pid = mde_spawn(logfile, cmd);
	/* Killed once its job exists (a slow start, as under the
	 * sanitizers, must not leave nothing to resume). */
	for (int i = 0; i < 1000 && mde_testdb_count(c, "SELECT count(*) FROM "
						   "backfill_jobs") == 0; i++)
		usleep(10000);
	usleep(rand() % 100000);
	kill(pid, SIGKILL);
	mde_wait(pid);
	kills++;
	snprintf(cmd, sizeof cmd, "--config %s/small.conf --log-format json "
		 "resume", conf);
	for (int round = 0; round < 200; round++) {
		pid = mde_spawn(logfile, cmd);
		usleep(30000 + rand() % 120000);
		if (kill(pid, SIGKILL) == 0) {
			rc = mde_wait(pid);
			if (rc == 128 + SIGKILL) {
				kills++;
				continue;
			}
		} else {
			rc = mde_wait(pid);
		}
		if (rc == 0)
			break;
	}
	unsetenv("MDENRICH_DB_URL");
	/* A last resume in case the final kill came after the exit. */
	mde_cli_must(cfg, db, "resume");
	print_message("killed %d times\n", kills);
	assert_true(kills >= 3);
	assert_int_equal(mde_testdb_count(c, "SELECT count(*) FROM "
					     "backfill_state WHERE status <> "
					     "'done'"), 0);
	assert_same_as_ref(c);
	PQfinish(c);
	mde_testdb_drop("mdetest_store_kill");
}

static void test_sigterm_commits_and_exits_130(void **state)
{
	char db[2048], cmd[4096];
	PGconn *c = mde_fresh_db(cfg, "mdetest_store_term", db, sizeof db);
	setenv("MDENRICH_DB_URL", db, 1);
	snprintf(cmd, sizeof cmd, "--config %s/small.conf --log-format json "
		 "backfill --symbols " SYMBOLS " --timeframe 1h " RANGE " " SRC,
		 conf);
	pid_t pid = mde_spawn(logfile, cmd);
	/* Once a chunk is done, however slowly the process started. */
	for (int i = 0; i < 1000 && mde_testdb_count(c, "SELECT count(*) FROM "
						   "backfill_state WHERE status "
						   "= 'done'") == 0; i++)
		usleep(5000);
	kill(pid, SIGTERM);
	int rc = mde_wait(pid);
	unsetenv("MDENRICH_DB_URL");
	assert_int_equal(rc, 130);
	/* Nothing is left claimed; the cursors match the rows. */
	assert_int_equal(mde_testdb_count(c, "SELECT count(*) FROM "
					     "backfill_state WHERE status = "
					     "'running'"), 0);
	/* No row past the cursor of an unfinished chunk (the database was
	 * empty: every row in a chunk's range was written by it). */
	assert_int_equal(mde_testdb_count(
				 c, "SELECT count(*) FROM backfill_state s JOIN "
				    "market_data_v2 m ON m.symbol = s.symbol "
				    "AND m.open_time < s.range_end AND "
				    "m.open_time > coalesce(s.cursor, "
				    "s.range_start - interval '1 ms') WHERE "
				    "s.status <> 'done'"),
			 0);
	assert_true(mde_testdb_count(c, "SELECT count(*) FROM backfill_state "
					"WHERE status = 'done'") > 0);
	assert_true(mde_testdb_count(c, "SELECT count(*) FROM backfill_state "
					"WHERE status = 'pending'") > 0);
	assert_int_equal(mde_testdb_count(c, "SELECT count(*) FROM "
					     "enrichment_runs WHERE status = "
					     "'interrupted'"), 1);
	mde_cli_must(cfg, db, "resume");
	assert_same_as_ref(c);
	PQfinish(c);
	mde_testdb_drop("mdetest_store_term");
}

static void test_backends_killed_during_backfill(void **state)
{
	char db[2048], cmd[4096];
	PGconn *c = mde_fresh_db(cfg, "mdetest_store_restart", db, sizeof db);
	setenv("MDENRICH_DB_URL", db, 1);
	snprintf(cmd, sizeof cmd, "--config %s/small.conf --log-format json "
		 "backfill --symbols " SYMBOLS " --timeframe 1h " RANGE " " SRC,
		 conf);
	pid_t pid = mde_spawn(logfile, cmd);
	/* During the run: once its job exists, however slow the start. */
	for (int i = 0; i < 1000 && mde_testdb_count(c, "SELECT count(*) FROM "
						   "backfill_jobs") == 0; i++)
		usleep(10000);
	/* What a server restart looks like to a client: every connection
	 * dropped (57P01), several times during the run. */
	int killed = 0;
	for (int i = 0; i < 6; i++) {
		usleep(60000);
		killed += (int)mde_testdb_count(
			c, "SELECT count(pg_terminate_backend(pid)) FROM "
			   "pg_stat_activity WHERE datname = "
			   "current_database() AND application_name = "
			   "'mdenrich'");
	}
	int rc = mde_wait(pid);
	unsetenv("MDENRICH_DB_URL");
	print_message("terminated %d backends; backfill exit %d\n", killed, rc);
	assert_true(killed >= 1);
	if (rc != 0)
		mde_cli_must(cfg, db, "resume");
	assert_int_equal(mde_testdb_count(c, "SELECT count(*) FROM "
					     "backfill_state WHERE status <> "
					     "'done'"), 0);
	assert_same_as_ref(c);
	PQfinish(c);
	mde_testdb_drop("mdetest_store_restart");
}

static void test_hour_by_hour_equals_backfill(void **state)
{
	char db[2048], args[512];
	PGconn *c = mde_fresh_db(cfg, "mdetest_store_hourly", db, sizeof db);
	/* Everything up to 2026-07-27, then one closed hour at a time. */
	mde_cli_must(cfg, db, "run --symbols " SYMBOLS " --timeframe 1h "
		     "--since 2026-05-20 --until 2026-07-27 " SRC);
	int64_t t = INT64_C(1785110400000); /* 2026-07-27T00:00:00Z */
	int64_t end = INT64_C(1785542400000); /* 2026-08-01 */
	for (; t < end; t += 3600000) {
		snprintf(args, sizeof args,
			 "run --symbols " SYMBOLS " --timeframe 1h --until "
			 "%lld " SRC, (long long)(t + 3600000));
		mde_cli_must(cfg, db, args);
	}
	assert_same_as_ref(c);
	PQfinish(c);
	mde_testdb_drop("mdetest_store_hourly");
}

static void test_amended_candles(void **state)
{
	char db[2048], args[1024];
	PGconn *c = mde_fresh_db(cfg, "mdetest_store_amend", db, sizeof db);
	fx_opts o = {0};
	fx *x = fx_start(&o);
	assert_non_null(x);
	assert_int_equal(fx_load_dir(x, "data/replay"), 0);
	snprintf(args, sizeof args, "--binance-url %s --binance-spot-url %s "
		 "run --symbols BTCUSDT --timeframe 1h --since 2026-07-01 "
		 "--until 2026-08-01", fx_url(x), fx_url(x));
	mde_cli_must(cfg, db, args);
	char before[64];
	mde_testdb_value(c, "SELECT md5(string_agg(coalesce(sma_20::text, '') "
			    "|| coalesce(log_return::text, ''), ',' ORDER BY "
			    "open_time)) FROM market_data_v2", before,
			 sizeof before);
	/* Three candles of the last day change at the exchange. */
	static const int64_t t[3] = {INT64_C(1785477600000),
				     INT64_C(1785492000000),
				     INT64_C(1785513600000)};
	assert_int_equal(fx_amend(x, FX_FUTURES, "BTCUSDT", 3600000, t[0], NULL,
				  "99999.90", NULL, NULL, NULL), 0);
	assert_int_equal(fx_amend(x, FX_FUTURES, "BTCUSDT", 3600000, t[1], NULL,
				  NULL, NULL, NULL, "12345.678"), 0);
	assert_int_equal(fx_amend(x, FX_FUTURES, "BTCUSDT", 3600000, t[2],
				  "80000.00", "99999.00", "70000.00",
				  "90000.00", NULL), 0);
	mde_cli_must(cfg, db, args);
	assert_int_equal(mde_testdb_count(c, "SELECT count(*) FROM "
					     "data_corrections"), 3);
	assert_int_equal(mde_testdb_count(
				 c, "SELECT count(*) FROM market_data_v2 WHERE "
				    "revision = 2 AND open_time IN "
				    "('2026-07-31 06:00Z', '2026-07-31 10:00Z', "
				    "'2026-07-31 16:00Z') AND "
				    "validation_flags & 4 = 4"),
			 3);
	assert_int_equal(mde_testdb_count(c, "SELECT count(*) FROM "
					     "market_data_v2 WHERE revision > 1"),
			 3);
	assert_int_equal(mde_testdb_count(
				 c, "SELECT count(*) FROM data_corrections WHERE "
				    "old_high IS NOT NULL AND new_high = "
				    "99999.90 AND old_volume IS NULL"),
			 1);
	char after[64];
	mde_testdb_value(c, "SELECT md5(string_agg(coalesce(sma_20::text, '') "
			    "|| coalesce(log_return::text, ''), ',' ORDER BY "
			    "open_time)) FROM market_data_v2", after,
			 sizeof after);
	assert_string_not_equal(before, after);
	assert_int_equal(mde_testdb_count(
				 c, "SELECT count(*) FROM market_data_v2 WHERE "
				    "open_time = '2026-07-31 16:00Z' AND close = "
				    "90000.00 AND abs(log_return - ln(90000.00 / "
				    "(SELECT close FROM market_data_v2 WHERE "
				    "open_time = '2026-07-31 15:00Z'))) < 1e-12"),
			 1);
	/* Rerunning once more changes nothing. */
	mde_cli_must(cfg, db, args);
	assert_int_equal(mde_testdb_count(c, "SELECT count(*) FROM "
					     "data_corrections"), 3);
	fx_stop(x);
	PQfinish(c);
	mde_testdb_drop("mdetest_store_amend");
}

static void test_three_workers(void **state)
{
	char db[2048], cmd[4096];
	PGconn *c = mde_fresh_db(cfg, "mdetest_store_workers", db, sizeof db);
	setenv("MDENRICH_DB_URL", db, 1);
	snprintf(cmd, sizeof cmd, "--config %s/small.conf --log-format json "
		 "backfill --symbols " SYMBOLS " --timeframe 1h " RANGE " " SRC,
		 conf);
	pid_t pids[3];
	pids[0] = mde_spawn(logfile, cmd);
	for (int i = 0; i < 100 && mde_testdb_count(c, "SELECT count(*) FROM "
						   "backfill_state") == 0;
	     i++)
		usleep(10000);
	snprintf(cmd, sizeof cmd, "--config %s/small.conf --log-format json "
		 "worker --idle-exit", conf);
	pids[1] = mde_spawn(logfile, cmd);
	pids[2] = mde_spawn(logfile, cmd);
	for (int i = 0; i < 3; i++)
		assert_int_equal(mde_wait(pids[i]), 0);
	unsetenv("MDENRICH_DB_URL");
	assert_int_equal(mde_testdb_count(c, "SELECT count(*) FROM "
					     "backfill_state WHERE status <> "
					     "'done' OR attempts <> 1"), 0);
	assert_same_as_ref(c);
	PQfinish(c);
	mde_testdb_drop("mdetest_store_workers");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rerun_writes_nothing),
		cmocka_unit_test(test_kill9_loop),
		cmocka_unit_test(test_sigterm_commits_and_exits_130),
		cmocka_unit_test(test_backends_killed_during_backfill),
		cmocka_unit_test(test_hour_by_hour_equals_backfill),
		cmocka_unit_test(test_amended_candles),
		cmocka_unit_test(test_three_workers),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
