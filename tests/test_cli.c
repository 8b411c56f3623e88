/*
 * test_cli.c - bad command lines get a clear message, docs/CLI.md's exit code,
 * and change nothing; an unreachable database exits 1 quickly with the URL
 * shown without its password.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "testutil.h"

static char out[16384], err[8192];

static int mde(const char *args)
{
	return mde_test_sh(out, sizeof out, err, sizeof err,
			   "env -u MDENRICH_CONFIG %s %s", mde_test_bin(), args);
}

static void expect(const char *args, int code, const char *msg)
{
	int rc = mde(args);
	if (rc != code || (msg && !strstr(err, msg)))
		fail_msg("`mdenrich %s`: exit %d (want %d), stderr: %s", args,
			 rc, code, err);
}

static void test_usage_errors(void **state)
{
	expect("", 2, "Usage");
	expect("frobnicate", 2, "unknown command \"frobnicate\"");
	expect("migrate --frobnicate", 2, "unknown option --frobnicate");
	expect("--frobnicate migrate", 2, "unknown option --frobnicate");
	expect("run --symbols", 2, "needs a value");
	expect("run --symbols BTCUSDT --timeframe 2h", 2, "bad timeframe \"2h\"");
	expect("run --symbols BTCUSDT", 2, "--timeframe");
	expect("run --schedule weekly", 2, "--schedule must be hourly or nightly");
	expect("run --schedule hourly --symbols BTCUSDT", 2, "do not combine");
	expect("run --symbols btc,,x --timeframe 1h", 2, "bad symbol list");
	expect("run --symbols BTCUSDT --timeframe 1h --since 2024-02-30", 2,
	       "bad time \"2024-02-30\"");
	expect("run --symbols BTCUSDT --timeframe 1h --source kraken", 2,
	       "--source must be");
	expect("run --symbols BTCUSDT --timeframe 1h --overlap -1", 2,
	       "--overlap");
	expect("backfill --symbols BTCUSDT --timeframe 1h --from 2024-02-01",
	       2, "--to");
	expect("backfill --symbols BTCUSDT --timeframe 1h --from 2024-02-01 "
	       "--to 2024-01-01", 2, "--from must be before --to");
	expect("backfill --symbols AAPL --timeframe 1h --asset-class equity "
	       "--from 2024-01-01 --to 2024-02-01", 2, "1d only");
	expect("backfill --symbols BTCUSDT --timeframe 1h --from 2024-01-01 "
	       "--to 2024-02-01 --chunk 3y", 2, "--chunk");
	expect("resume --job abc", 2, "bad job id");
	expect("worker --max-jobs 0", 2, "--max-jobs");
	expect("--writers 0 worker", 2, "--writers must be a number of series");
	expect("resume --writers 17", 2, "--writers must be a number of series");
	expect("status --format xml", 2, "--format must be table, csv or json");
	expect("quality --format xml", 2,
	       "--format must be table, csv, html or json");
	expect("compute", 2, "--timeframe is required");
	expect("compute --timeframe 3m", 2, "bad timeframe");
	expect("migrate extra", 2, "unexpected argument \"extra\"");
	expect("--log-format yaml migrate", 2, "--log-format");
	expect("--config /nonexistent/mdenrich.conf migrate", 2,
	       "/nonexistent/mdenrich.conf");
}

/* The URLs and the in-flight and writer bounds are global options: before
 * or after the command, and `config` shows what they set. */
static void test_global_flags(void **state)
{
	const char *ways[] = {
		"--archive-url http://127.0.0.1:9/ar --writers 3 config",
		"config --archive-url http://127.0.0.1:9/ar --writers 3",
	};
	for (size_t i = 0; i < sizeof ways / sizeof *ways; i++) {
		if (mde(ways[i]) != 0)
			fail_msg("`mdenrich %s`: %s", ways[i], err);
		assert_non_null(strstr(out, "url = http://127.0.0.1:9/ar"));
		assert_non_null(strstr(out, "writers = 3"));
	}
}

static void test_help_and_version(void **state)
{
	expect("--help", 0, NULL);
	assert_non_null(strstr(out, "Usage: mdenrich"));
	static const char *cmds[] = {"migrate", "run", "backfill", "resume",
				     "worker", "status", "quality", "compute",
				     "config"};
	for (size_t i = 0; i < sizeof cmds / sizeof *cmds; i++) {
		char args[64];
		snprintf(args, sizeof args, "%s --help", cmds[i]);
		expect(args, 0, NULL);
		assert_non_null(strstr(out, cmds[i]));
	}
	expect("--version", 0, NULL);
	assert_non_null(strstr(out, "mdenrich "));
}

static void test_unreachable_database(void **state)
{
	time_t t0 = time(NULL);
	expect("--db postgresql://bob:Sekr3t@127.0.0.1:1/nodb migrate", 1,
	       "postgresql://bob:***@127.0.0.1:1/nodb");
	assert_null(strstr(err, "Sekr3t"));
	assert_null(strstr(out, "Sekr3t"));
	expect("--db 'host=/nonexistent-socket-dir port=5 user=bob "
	       "password=Sekr3t dbname=x' migrate", 1, "password=***");
	assert_null(strstr(err, "Sekr3t"));
	/* Within the connect timeout (5 s by default). */
	assert_true(time(NULL) - t0 <= 10);
}

static void test_bad_input_changes_nothing(void **state)
{
	char db[2048], args[4200];
	mde_testdb_create("mdetest_cli", db, sizeof db);
	snprintf(args, sizeof args, "--db \"%s\" migrate --frobnicate", db);
	expect(args, 2, "unknown option");
	snprintf(args, sizeof args,
		 "--db \"%s\" backfill --symbols BTCUSDT --timeframe 1h "
		 "--from 2024-01-01 --to 2023-01-01", db);
	expect(args, 2, NULL);
	PGconn *c = mde_testdb_connect(db);
	assert_int_equal(mde_testdb_count(c, "SELECT count(*) FROM pg_tables "
					     "WHERE schemaname = 'public'"),
			 0);
	PQfinish(c);
	mde_testdb_drop("mdetest_cli");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_usage_errors),
		cmocka_unit_test(test_global_flags),
		cmocka_unit_test(test_help_and_version),
		cmocka_unit_test(test_unreachable_database),
		cmocka_unit_test(test_bad_input_changes_nothing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
