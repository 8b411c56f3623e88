/*
 * test_robust_store.c - the runs under faults, against the real server,
 * the binary and the fake exchange:
 *   - a serialization failure (SQLSTATE 40001) inside a staged write is
 *     retried on a connection that forgot the rolled-back stage table, and
 *     every later series of the run succeeds;
 *   - SIGTERM during a long Retry-After wait, a slow answer, or while a
 *     backfill waits for a series lock another session holds, ends the
 *     run at once, exit 130, the run recorded 'interrupted';
 *   - enrichment_runs rows left 'running' by dead processes are marked
 *     'interrupted' by the next process, live ones are left alone.
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
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fake_exchange.h"
#include "storeutil.h"
#include "testutil.h"
#include "timeutil.h"

#define SYMBOLS "BTCUSDT,ETHUSDT,BNBUSDT"
#define RUN "run --symbols " SYMBOLS " --timeframe 1h --since 2026-07-01 " \
	    "--until 2026-08-01 --source replay:data/replay"

static char dir[] = "/tmp/mdetest-robustXXXXXX";
static char cfg[700];

static int setup(void **state)
{
	if (!mkdtemp(dir))
		return -1;
	snprintf(cfg, sizeof cfg, "%s/r.conf", dir);
	FILE *f = fopen(cfg, "w");
	fputs("[run]\nbatch_rows = 100\nchunk = 7d\n"
	      "[http]\nmax_attempts = 5\nbackoff_ms = 10\n"
	      "[database]\nmax_retries = 3\nconnect_timeout = 2\n", f);
	fclose(f);
	return 0;
}

static int teardown(void **state)
{
	return mde_test_rmtree(dir);
}

static void exec_ok(PGconn *c, const char *sql)
{
	PGresult *r = PQexec(c, sql);
	if (PQresultStatus(r) != PGRES_COMMAND_OK)
		fail_msg("%s: %s", sql, PQerrorMessage(c));
	PQclear(r);
}

static void test_serialization_failure_in_staged_write(void **state)
{
	char db[2048];
	PGconn *c = mde_fresh_db(cfg, "mdetest_robust_stage", db, sizeof db);
	mde_cli_must(cfg, db, RUN);
	/* Stored values the source does not have: the next run amends them
	 * through the stage (the fast path is only for empty ranges), from
	 * its first batch on, the one that creates the stage. */
	exec_ok(c, "UPDATE market_data_v2 SET volume = volume + 1");
	/* One serialization failure, on the first amended row: in the
	 * transaction that created the stage table. A sequence is not rolled
	 * back with the failed transaction. */
	exec_ok(c, "CREATE SEQUENCE inj; CREATE FUNCTION fail_once() RETURNS "
		   "trigger LANGUAGE plpgsql AS $$ BEGIN IF nextval('inj') = 1 "
		   "THEN RAISE EXCEPTION 'injected once' USING ERRCODE = "
		   "'40001'; END IF; RETURN NEW; END $$; CREATE TRIGGER "
		   "fail_once BEFORE UPDATE ON market_data_v2 FOR EACH ROW "
		   "EXECUTE FUNCTION fail_once()");
	int rc = mde_cli(cfg, db, RUN);
	if (rc != 0)
		fail_msg("exit %d after one retried 40001: %s", rc, mde_cli_err);
	assert_non_null(strstr(mde_cli_err, "store.retry"));
	assert_non_null(strstr(mde_cli_err, "injected once"));
	assert_null(strstr(mde_cli_err, "does not exist"));
	/* Every series got its amended rows back. */
	assert_int_equal(mde_testdb_count(c, "SELECT count(DISTINCT symbol) "
					     "FROM data_corrections"), 3);
	assert_int_equal(mde_testdb_count(c, "SELECT count(*) FROM "
					     "enrichment_status WHERE "
					     "last_status = 'ok'"), 3);
	assert_int_equal(mde_testdb_count(c, "SELECT count(*) FROM "
					     "enrichment_runs WHERE status = "
					     "'ok'"), 2);
	PQfinish(c);
	mde_testdb_drop("mdetest_robust_stage");
}

/* Waits up to ms for pid; its exit code, or -1 if it is still running. */
static int wait_for(pid_t pid, int64_t ms)
{
	int64_t end = mde_mono_ms() + ms;
	int st;
	while (mde_mono_ms() < end) {
		pid_t w = waitpid(pid, &st, WNOHANG);
		if (w == pid)
			return WIFSIGNALED(st) ? 128 + WTERMSIG(st)
					       : WEXITSTATUS(st);
		usleep(10000);
	}
	return -1;
}

/* SIGTERM while the run waits on the first klines request's fault. */
static void sigterm_during(const char *name, int fault, int arg)
{
	char db[2048], args[1024], log[700], dbname[64];
	snprintf(dbname, sizeof dbname, "mdetest_robust_%s", name);
	PGconn *c = mde_fresh_db(cfg, dbname, db, sizeof db);
	fx_opts o = {0};
	fx *x = fx_start(&o);
	assert_int_equal(fx_load_dir(x, "data/replay"), 0);
	fx_fault(x, "/fapi/v1/klines", fault, 0, 1000, arg);
	snprintf(log, sizeof log, "%s/%s.log", dir, name);
	snprintf(args, sizeof args, "--config %s --log-format json "
		 "--binance-url %s --binance-spot-url %s run --symbols "
		 "BTCUSDT,ETHUSDT --timeframe 1h --since 2026-07-20 --until "
		 "2026-08-01 --source binance", cfg, fx_url(x), fx_url(x));
	setenv("MDENRICH_DB_URL", db, 1);
	pid_t pid = mde_spawn(log, args);
	unsetenv("MDENRICH_DB_URL");
	/* The first request is in: the run now waits (Retry-After, or the
	 * answer that does not come). */
	for (int i = 0; i < 500 && fx_nreq(x) == 0; i++)
		usleep(10000);
	assert_true(fx_nreq(x) > 0);
	usleep(300000);
	int64_t t0 = mde_mono_ms();
	kill(pid, SIGTERM);
	int rc = wait_for(pid, 5000);
	int64_t took = mde_mono_ms() - t0;
	if (rc < 0) {
		kill(pid, SIGKILL);
		mde_wait(pid);
		fail_msg("%s: still waiting 5 s after SIGTERM (log: %s)", name,
			 log);
	}
	print_message("%s: exit %d %lld ms after SIGTERM\n", name, rc,
		      (long long)took);
	assert_int_equal(rc, 130);
	assert_true(took < 2000);
	/* Nothing was retried after the stop: no request went twice (the
	 * fetch threads send the first request of each series and aux
	 * series side by side, before the first 429 stops the host). */
	size_t n = fx_nreq(x);
	assert_true(n >= 1 && n <= 8);
	for (size_t i = 0; i < n; i++)
		for (size_t k = i + 1; k < n; k++) {
			fx_req a, b;
			assert_int_equal(fx_get_req(x, i, &a), 0);
			assert_int_equal(fx_get_req(x, k, &b), 0);
			assert_false(strcmp(a.path, b.path) == 0 &&
				     strcmp(a.query, b.query) == 0);
		}
	assert_int_equal(mde_testdb_count(c, "SELECT count(*) FROM "
					     "enrichment_runs WHERE status = "
					     "'interrupted' AND finished_at IS "
					     "NOT NULL"), 1);
	fx_stop(x);
	PQfinish(c);
	mde_testdb_drop(dbname);
}

/* Every klines request: 429, come back in 60 s. */
static void test_sigterm_during_retry_after(void **state)
{
	sigterm_during("sig429", FX_429, 60);
}

/* The answer takes 6 s (the HTTP timeout is 30 s). */
static void test_sigterm_during_slow_answer(void **state)
{
	sigterm_during("sigslow", FX_SLOW, 6000);
}

/* A backfill waiting for a series lock another session holds. */
static void test_sigterm_while_waiting_for_series_lock(void **state)
{
	char db[2048], args[1024], log[700];
	PGconn *c = mde_fresh_db(cfg, "mdetest_robust_lock", db, sizeof db);
	PGresult *r = PQexec(c, "SELECT pg_advisory_lock(7169125, "
				"hashtext('BTCUSDT/1h'))");
	assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
	PQclear(r);
	snprintf(log, sizeof log, "%s/lock.log", dir);
	snprintf(args, sizeof args, "--config %s --log-format json backfill "
		 "--symbols BTCUSDT --timeframe 1h --from 2026-07-20 --to "
		 "2026-08-01 --source replay:data/replay", cfg);
	setenv("MDENRICH_DB_URL", db, 1);
	pid_t pid = mde_spawn(log, args);
	unsetenv("MDENRICH_DB_URL");
	/* Until its chunk is claimed: then it waits for the lock. */
	for (int i = 0; i < 500 && mde_testdb_count(c, "SELECT count(*) FROM "
						  "backfill_state WHERE status "
						  "= 'running'") == 0; i++)
		usleep(10000);
	usleep(500000);
	int64_t t0 = mde_mono_ms();
	kill(pid, SIGTERM);
	int rc = wait_for(pid, 5000);
	int64_t took = mde_mono_ms() - t0;
	if (rc < 0) {
		kill(pid, SIGKILL);
		mde_wait(pid);
		fail_msg("still waiting for the lock 5 s after SIGTERM");
	}
	print_message("exit %d %lld ms after SIGTERM\n", rc, (long long)took);
	assert_int_equal(rc, 130);
	assert_true(took < 2000);
	/* The chunk is given back for resume, nothing was written. */
	assert_int_equal(mde_testdb_count(c, "SELECT count(*) FROM "
					     "backfill_state WHERE status = "
					     "'running'"), 0);
	assert_int_equal(mde_testdb_count(c, "SELECT count(*) FROM "
					     "market_data_v2"), 0);
	PQfinish(c);
	mde_testdb_drop("mdetest_robust_lock");
}

static void insert_run(PGconn *c, const char *host, int pid,
		       const char *started)
{
	char sql[512];
	snprintf(sql, sizeof sql, "INSERT INTO enrichment_runs (kind, host, "
		 "pid, started_at) VALUES ('manual', '%s', %d, now() - "
		 "interval '%s')", host, pid, started);
	exec_ok(c, sql);
}

static void test_stale_runs_interrupted(void **state)
{
	char db[2048], host[128] = "";
	PGconn *c = mde_fresh_db(cfg, "mdetest_robust_stale", db, sizeof db);
	if (gethostname(host, sizeof host - 1) != 0 || !host[0])
		snprintf(host, sizeof host, "localhost");
	/* A pid that existed and is gone. */
	pid_t dead = fork();
	if (dead == 0)
		_exit(0);
	waitpid(dead, NULL, 0);
	insert_run(c, host, (int)dead, "1 minute");        /* 1: dead here */
	insert_run(c, host, (int)getpid(), "1 minute");    /* 2: alive here */
	insert_run(c, "elsewhere", 4242, "7 hours");       /* 3: silent */
	insert_run(c, "elsewhere", 4243, "10 minutes");    /* 4: recent */
	mde_cli_must(cfg, db, "run --symbols BTCUSDT --timeframe 1h --since "
		     "2026-07-30 --until 2026-08-01 --source "
		     "replay:data/replay");
	assert_int_equal(mde_testdb_count(c, "SELECT count(*) FROM "
					     "enrichment_runs WHERE run_id IN "
					     "(1, 3) AND status = 'interrupted' "
					     "AND finished_at IS NOT NULL AND "
					     "error LIKE '%ended without "
					     "finishing%'"), 2);
	assert_int_equal(mde_testdb_count(c, "SELECT count(*) FROM "
					     "enrichment_runs WHERE run_id IN "
					     "(2, 4) AND status = 'running'"),
			 2);
	/* The run itself ended 'ok' and left a heartbeat. */
	assert_int_equal(mde_testdb_count(c, "SELECT count(*) FROM "
					     "enrichment_runs WHERE run_id = 5 "
					     "AND status = 'ok' AND "
					     "heartbeat_at IS NOT NULL"), 1);
	assert_non_null(strstr(mde_cli_err, "run.stale"));
	PQfinish(c);
	mde_testdb_drop("mdetest_robust_stale");
}

/* The extremes of time and duration, end to end (UBSan: no overflow). */
static void test_time_extremes(void **state)
{
	char db[2048], big[700];
	PGconn *c = mde_fresh_db(cfg, "mdetest_robust_time", db, sizeof db);
	snprintf(big, sizeof big, "%s/big.conf", dir);
	FILE *f = fopen(big, "w");
	fputs("[run]\nchunk = 36600d\n", f);
	fclose(f);
	/* Every time there is, in 100-year chunks. */
	mde_cli_must(big, db, "backfill --symbols BTCUSDT --timeframe 4h --from "
		     "0000-01-01 --to 9999-12-31T23:59:59.999Z --source "
		     "replay:data/replay");
	assert_int_equal(mde_testdb_count(c, "SELECT count(*) FROM "
					     "backfill_state WHERE status = "
					     "'done'"), 100);
	assert_true(mde_testdb_count(c, "SELECT count(*) FROM market_data_v2")
		    > 300);
	/* Out of range: refused before anything is done. */
	assert_int_equal(mde_cli(cfg, db, "backfill --symbols BTCUSDT "
				 "--timeframe 1h --from 9223372036854775807 "
				 "--to 2026-08-01"), 2);
	assert_non_null(strstr(mde_cli_err, "bad time"));
	assert_int_equal(mde_cli(cfg, db, "run --symbols BTCUSDT --timeframe "
				 "1h --since -9223372036854775808"), 2);
	assert_int_equal(mde_cli(cfg, db, "backfill --symbols BTCUSDT "
				 "--timeframe 1h --from 2026-07-01 --to "
				 "2026-08-01 --chunk 9223372036854775807ms"), 2);
	/* Chunks of 1 minute over ten thousand years: too many. */
	f = fopen(big, "w");
	fputs("[run]\nchunk = 1m\n", f);
	fclose(f);
	assert_int_equal(mde_cli(big, db, "backfill --symbols BTCUSDT "
				 "--timeframe 1m --from 0000-01-01 --to "
				 "9999-12-31"), 2);
	assert_non_null(strstr(mde_cli_err, "too large"));
	assert_int_equal(mde_testdb_count(c, "SELECT count(*) FROM "
					     "backfill_jobs"), 1);
	PQfinish(c);
	mde_testdb_drop("mdetest_robust_time");
}

/* A job of 200 symbols (1,800 characters of list): every symbol has its
 * chunks. The list was an array literal of 1,200 bytes, and a backfill of
 * 200 futures symbols failed with "malformed array literal". */
static void test_job_of_many_symbols(void **state)
{
	char db[2048], args[4096];
	PGconn *c = mde_fresh_db(cfg, "mdetest_robust_many", db, sizeof db);
	int o = snprintf(args, sizeof args, "backfill --timeframe 1h --from "
			 "2026-07-01 --to 2026-07-02 --source "
			 "replay:data/replay --symbols ");
	for (int i = 0; i < 200; i++)
		o += snprintf(args + o, sizeof args - (size_t)o, "%sS%03dUSDT",
			      i ? "," : "", i);
	/* Replay has none of them: each series fails, the job is whole. */
	int rc = mde_cli(cfg, db, args);
	if (rc != 3)
		fail_msg("exit %d, not 3:\n%s", rc, mde_cli_err);
	assert_int_equal(mde_testdb_count(c, "SELECT cardinality(symbols) "
					     "FROM backfill_jobs"), 200);
	assert_int_equal(mde_testdb_count(c, "SELECT count(DISTINCT symbol) "
					     "FROM backfill_state"), 200);
	PQfinish(c);
	mde_testdb_drop("mdetest_robust_many");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_serialization_failure_in_staged_write),
		cmocka_unit_test(test_sigterm_during_retry_after),
		cmocka_unit_test(test_sigterm_during_slow_answer),
		cmocka_unit_test(test_sigterm_while_waiting_for_series_lock),
		cmocka_unit_test(test_stale_runs_interrupted),
		cmocka_unit_test(test_time_extremes),
		cmocka_unit_test(test_job_of_many_symbols),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
