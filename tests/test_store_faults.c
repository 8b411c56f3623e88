/*
 * test_store_faults.c - the database failing under a running enrichment:
 *   - a real PostgreSQL restart in the middle of a backfill (the server of
 *     scripts/pg.sh, restarted with $MDE_TEST_PG_RESTART): the run
 *     recovers by itself or resume finishes it, with the same table as an
 *     uninterrupted run;
 *   - one series whose batches keep failing with a retryable error: it
 *     fails after the configured retries with a clear message and exit 3,
 *     and every other series is committed.
 * Runs alone (RUN_SERIAL): a restart drops every test's connections.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "storeutil.h"
#include "testutil.h"

#define SYMBOLS "BTCUSDT,ETHUSDT,BNBUSDT"
#define JOB "--symbols " SYMBOLS " --timeframe 1h --from 2026-05-20 " \
	    "--to 2026-08-01 --source replay:data/replay"

static char dir[] = "/tmp/mdetest-faultsXXXXXX";
static char cfg[700];

static int setup(void **state)
{
	if (!mkdtemp(dir))
		return -1;
	char path[600];
	snprintf(path, sizeof path, "%s/f.conf", dir);
	snprintf(cfg, sizeof cfg, "%s", path);
	FILE *f = fopen(path, "w");
	fputs("[run]\nbatch_rows = 40\nchunk = 4d\n"
	      "[database]\nmax_retries = 3\nconnect_timeout = 2\n", f);
	fclose(f);
	return 0;
}

static int teardown(void **state)
{
	return mde_test_rmtree(dir);
}

static void test_server_restart_mid_backfill(void **state)
{
	const char *restart = getenv("MDE_TEST_PG_RESTART");
	if (!restart || !*restart) {
		print_message("MDE_TEST_PG_RESTART is not set (the test server "
			      "is not ours to restart)\n");
		skip();
	}
	char ref[2048], db[2048], cmd[4096], log[700];
	PGconn *rc_ = mde_fresh_db(cfg, "mdetest_faults_ref", ref, sizeof ref);
	char args[300];
	snprintf(args, sizeof args, "backfill %s", JOB);
	assert_int_equal(mde_cli(cfg, ref, args), 0);
	PQfinish(rc_);

	PGconn *c = mde_fresh_db(cfg, "mdetest_faults_restart", db, sizeof db);
	PQfinish(c);
	snprintf(log, sizeof log, "%s/child.log", dir);
	snprintf(cmd, sizeof cmd, "--config %s/f.conf --log-format json "
		 "backfill %s", dir, JOB);
	setenv("MDENRICH_DB_URL", db, 1);
	pid_t pid = mde_spawn(log, cmd);
	usleep(250000);
	int rrc = mde_test_sh(NULL, 0, NULL, 0, "%s", restart);
	assert_int_equal(rrc, 0);
	int rc = mde_wait(pid);
	unsetenv("MDENRICH_DB_URL");
	/* It reconnects and carries on by itself. */
	if (rc != 0)
		fail_msg("backfill across the restart: exit %d (log: %s)", rc,
			 log);

	PGconn *a = mde_testdb_connect(ref), *b = mde_testdb_connect(db);
	char why[1024];
	if (!mde_tables_equal(a, b, why, sizeof why))
		fail_msg("after the restart: %s", why);
	assert_int_equal(mde_testdb_count(b, "SELECT count(*) FROM "
					     "backfill_state WHERE status <> "
					     "'done'"), 0);
	PQfinish(a);
	PQfinish(b);
	mde_testdb_drop("mdetest_faults_ref");
	mde_testdb_drop("mdetest_faults_restart");
}

static void test_one_series_fails_others_commit(void **state)
{
	char db[2048];
	PGconn *c = mde_fresh_db(cfg, "mdetest_faults_series", db, sizeof db);
	/* Every write of ETHUSDT fails as a serialization failure would. */
	PGresult *r = PQexec(
		c, "CREATE FUNCTION fail_eth() RETURNS trigger LANGUAGE plpgsql "
		   "AS $$ BEGIN RAISE EXCEPTION 'injected for ETHUSDT' USING "
		   "ERRCODE = '40001'; END $$; CREATE TRIGGER fail_eth BEFORE "
		   "INSERT OR UPDATE ON market_data_v2 FOR EACH ROW WHEN "
		   "(NEW.symbol = 'ETHUSDT') EXECUTE FUNCTION fail_eth()");
	assert_int_equal(PQresultStatus(r), PGRES_COMMAND_OK);
	PQclear(r);
	int rc = mde_cli(cfg, db, "run --symbols " SYMBOLS " --timeframe 1h --since "
			 "2026-05-20 --until 2026-08-01 --source "
			 "replay:data/replay");
	assert_int_equal(rc, 3);
	assert_non_null(strstr(mde_cli_err, "ETHUSDT 1h failed"));
	assert_non_null(strstr(mde_cli_err, "injected for ETHUSDT"));
	/* Retried (three store.retry lines), then given up. */
	int retries = 0;
	for (const char *p = mde_cli_err; (p = strstr(p, "store.retry"));
	     p++)
		retries++;
	assert_int_equal(retries, 3);
	assert_int_equal(mde_testdb_count(c, "SELECT count(*) FROM "
					     "market_data_v2 WHERE symbol = "
					     "'ETHUSDT'"), 0);
	assert_int_equal(mde_testdb_count(c, "SELECT count(*) FROM "
					     "market_data_v2 WHERE symbol = "
					     "'BTCUSDT'"), 1464);
	assert_int_equal(mde_testdb_count(c, "SELECT count(*) FROM "
					     "market_data_v2 WHERE symbol = "
					     "'BNBUSDT'"), 1440);
	assert_int_equal(mde_testdb_count(c, "SELECT count(*) FROM "
					     "enrichment_status WHERE symbol = "
					     "'ETHUSDT' AND last_status = "
					     "'failed' AND last_error LIKE "
					     "'%injected%'"), 1);
	assert_int_equal(mde_testdb_count(c, "SELECT count(*) FROM "
					     "enrichment_runs WHERE status = "
					     "'partial' AND series_failed = 1"),
			 1);
	PQfinish(c);
	mde_testdb_drop("mdetest_faults_series");
}

static void test_backfill_one_series_fails_others_finish(void **state)
{
	char db[2048];
	PGconn *c = mde_fresh_db(cfg, "mdetest_faults_backfill", db, sizeof db);
	PGresult *r = PQexec(
		c, "CREATE FUNCTION fail_eth() RETURNS trigger LANGUAGE plpgsql "
		   "AS $$ BEGIN RAISE EXCEPTION 'injected for ETHUSDT' USING "
		   "ERRCODE = '40001'; END $$; CREATE TRIGGER fail_eth BEFORE "
		   "INSERT OR UPDATE ON market_data_v2 FOR EACH ROW WHEN "
		   "(NEW.symbol = 'ETHUSDT') EXECUTE FUNCTION fail_eth()");
	assert_int_equal(PQresultStatus(r), PGRES_COMMAND_OK);
	PQclear(r);
	/* ETHUSDT's first chunk fails after its retries; the job goes on
	 * with the other series and says what is left. */
	assert_int_equal(mde_cli(cfg, db, "backfill " JOB), 3);
	assert_non_null(strstr(mde_cli_err, "`mdenrich resume --job 1` retries"));
	assert_int_equal(mde_testdb_count(c, "SELECT count(*) FROM "
					     "backfill_state WHERE symbol <> "
					     "'ETHUSDT' AND status <> 'done'"),
			 0);
	assert_int_equal(mde_testdb_count(c, "SELECT count(*) FROM "
					     "backfill_state WHERE symbol = "
					     "'ETHUSDT' AND status = 'failed' "
					     "AND last_error LIKE '%injected%'"),
			 1);
	assert_int_equal(mde_testdb_count(c, "SELECT count(*) FROM "
					     "market_data_v2 WHERE symbol = "
					     "'BNBUSDT'"), 1440);
	assert_int_equal(mde_testdb_count(c, "SELECT count(*) FROM "
					     "market_data_v2 WHERE symbol = "
					     "'ETHUSDT'"), 0);
	/* The fault gone, resume finishes the job. */
	PQclear(PQexec(c, "DROP TRIGGER fail_eth ON market_data_v2"));
	mde_cli_must(cfg, db, "resume");
	assert_int_equal(mde_testdb_count(c, "SELECT count(*) FROM "
					     "backfill_state WHERE status <> "
					     "'done'"), 0);
	assert_int_equal(mde_testdb_count(c, "SELECT count(*) FROM "
					     "market_data_v2 WHERE symbol = "
					     "'ETHUSDT'"), 1440);
	PQfinish(c);
	mde_testdb_drop("mdetest_faults_backfill");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_server_restart_mid_backfill),
		cmocka_unit_test(test_one_series_fails_others_commit),
		cmocka_unit_test(test_backfill_one_series_fails_others_finish),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
