/*
 * test_everyday.c - the tool as a new user meets it (issue 13), through
 * the binary, against the real server and the fake exchange:
 *   1. times: compact dates, --timerange, --days; ambiguous bare numbers
 *      and unit-less durations refused with the right form;
 *   2/6. help: examples, valid values, the global options once, the
 *      columns of compute; fake_exchange --help;
 *   3. logs: one aux.none line per series and run, one aux.holes line per
 *      series, ISO times next to ms, JSON numbers, a closing sentence;
 *   4. Ctrl-C says how to resume, status says what to do next;
 *   5. pg.sh env; a second run says nothing changed;
 *   7. symbols normalised; an unknown symbol is unknown, exit 3, never
 *      retried; jobs, cancel;
 *   8. config errors each on its line, did you mean, no config file at
 *      all, durations as written;
 *   9. status --format csv;
 *  10. prune;
 *  11. the docs the units name are installed; runuser, a check step.
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
#include <unistd.h>

#include "fake_exchange.h"
#include "storeutil.h"
#include "testutil.h"

static char dir[] = "/tmp/mdetest-everydayXXXXXX";
static char conf[700];
static char out[65536], err[65536];

static int setup(void **state)
{
	if (!mkdtemp(dir))
		return -1;
	snprintf(conf, sizeof conf, "%s/e.conf", dir);
	FILE *f = fopen(conf, "w");
	fputs("[run]\nbatch_rows = 500\nchunk = 1d\n"
	      "[http]\nmax_attempts = 3\nbackoff_ms = 10\n", f);
	fclose(f);
	return 0;
}

static int teardown(void **state)
{
	return mde_test_rmtree(dir);
}

/* `mdenrich ARGS` without a config file (run from the source tree). */
static int bare(const char *args)
{
	return mde_test_sh(out, sizeof out, err, sizeof err,
			   "env -u MDENRICH_CONFIG %s %s", mde_test_bin(),
			   args);
}

static void expect_err(const char *args, int code, const char *msg)
{
	int rc = bare(args);
	if (rc != code || (msg && !strstr(err, msg)))
		fail_msg("`mdenrich %s`: exit %d (want %d), want \"%s\" in: %s",
			 args, rc, code, msg ? msg : "", err);
}

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;
	for (const char *p = hay; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

static void test_times(void **state)
{
	/* A bare number that is neither a date nor milliseconds. */
	expect_err("backfill --symbols BTCUSDT --timeframe 1h --from 1700000 "
		   "--to 2026-06-03", 2, "\"1700000\" is ambiguous");
	assert_non_null(strstr(err, "20260601 = 2026-06-01"));
	assert_non_null(strstr(err, "at least 11 digits"));
	expect_err("run --symbols BTCUSDT --timeframe 1h --since 1780272000",
		   2, "10 digits look like seconds");
	/* A duration needs its unit, and the message shows it. */
	expect_err("backfill --symbols BTCUSDT --timeframe 1h --from 20260601 "
		   "--to 20260603 --chunk 30", 2, "write 30d");
	expect_err("prune --older-than 90", 2, "write 90d");
	expect_err("backfill --symbols BTCUSDT --timeframe 1h --timerange "
		   "2026x", 2, "--timerange: bad range");
	expect_err("backfill --symbols BTCUSDT --timeframe 1h --days 3 "
		   "--from 2026-01-01", 2, "--days is a start");

	char db[2048];
	PGconn *c = mde_fresh_db(conf, "mdetest_every_times", db, sizeof db);
	/* freqtrade's form: the dates, not milliseconds. */
	mde_cli_must(conf, db, "backfill --symbols BTCUSDT --timeframe 1h "
		     "--timerange 20260601-20260603 --source replay:data/replay");
	mde_cli_must(conf, db, "backfill --symbols BTCUSDT --timeframe 1h "
		     "--from 20260601 --to 20260603T0000 "
		     "--source replay:data/replay");
	assert_int_equal(mde_testdb_count(c, "SELECT count(*) FROM "
					     "backfill_jobs WHERE range_start = "
					     "'2026-06-01Z' AND range_end = "
					     "'2026-06-03Z'"), 2);
	assert_int_equal(mde_testdb_count(c, "SELECT count(*) FROM "
					     "market_data_v2"), 48);
	/* --timeframe takes a list: one job each. */
	mde_cli_must(conf, db, "backfill --symbols BTCUSDT --timeframe 1h,4h "
		     "--timerange 20260601-20260603 --source replay:data/replay");
	assert_string_equal(mde_cli_out, "3\n4\n");
	assert_int_equal(mde_testdb_count(c, "SELECT count(*) FROM "
					     "market_data_v2 WHERE timeframe = "
					     "'4h'"), 12);
	/* --days N: from N days ago to now, on the hour. */
	mde_cli_must(conf, db, "backfill --symbols BTCUSDT --timeframe 1h "
		     "--days 2 --source replay:data/replay");
	assert_int_equal(mde_testdb_count(c, "SELECT count(*) FROM "
					     "backfill_jobs WHERE range_end - "
					     "range_start = interval '48 hours' "
					     "AND range_end > now() - interval "
					     "'1 hour'"), 1);
	PQfinish(c);
	mde_testdb_drop("mdetest_every_times");
}

static void test_help(void **state)
{
	static const char *cmds[] = {"migrate", "run", "backfill", "resume",
				     "worker", "jobs", "cancel", "status",
				     "quality", "prune", "compute", "config"};
	for (size_t i = 0; i < sizeof cmds / sizeof *cmds; i++) {
		char args[64];
		snprintf(args, sizeof args, "%s --help", cmds[i]);
		if (bare(args) != 0 || !strstr(out, "Example") ||
		    strstr(out, "--binance-spot-url") ||
		    !strstr(out, "mdenrich --help"))
			fail_msg("`mdenrich %s`: want examples and no global "
				 "options:\n%s", args, out);
	}
	assert_int_equal(bare("run --help"), 0);
	assert_non_null(strstr(out, "1m 5m 15m 30m 1h 4h 1d"));
	assert_non_null(strstr(out, "--until is exclusive"));
	assert_non_null(strstr(out, "20240101T1300"));
	assert_int_equal(bare("backfill --help"), 0);
	assert_non_null(strstr(out, "--to exclusive"));
	assert_non_null(strstr(out, "30m 12h 30d 2w"));
	assert_int_equal(bare("compute --help"), 0);
	assert_non_null(strstr(out, "open_time,open,high,low,close,volume"));
	assert_non_null(strstr(out, "quote_volume,trades,taker_buy_base,"
				    "taker_buy_quote"));
	assert_non_null(strstr(out, "funding_time,funding_rate"));
	/* The global options once, in the program's help. */
	assert_int_equal(bare("--help"), 0);
	assert_int_equal(count(out, "--binance-spot-url"), 1);
	assert_int_equal(bare("help prune"), 0);
	assert_non_null(strstr(out, "--older-than"));

	const char *bd = getenv("MDE_BUILD_DIR");
	assert_int_equal(mde_test_sh(out, sizeof out, err, sizeof err,
				     "%s/fake_exchange --help",
				     bd ? bd : "build"), 0);
	assert_non_null(strstr(out, "Usage: fake_exchange"));
}

/* Requests to the fake whose path starts with path and whose query names
 * symbol. */
static size_t requests(fx *x, const char *path, const char *symbol)
{
	size_t n = 0;
	char want[64];
	snprintf(want, sizeof want, "symbol=%s&", symbol);
	for (size_t i = 0; i < fx_nreq(x); i++) {
		fx_req r;
		if (fx_get_req(x, i, &r) == 0 &&
		    strncmp(r.path, path, strlen(path)) == 0 &&
		    strstr(r.query, want))
			n++;
	}
	return n;
}

static void test_symbols_jobs_cancel(void **state)
{
	char db[2048], args[1024];
	PGconn *c = mde_fresh_db(conf, "mdetest_every_sym", db, sizeof db);
	/* Lower case, ccxt's form, spaces after the comma. */
	mde_cli_must(conf, db, "run --symbols 'btcusdt, BNB/USDT:USDT' --timeframe "
		     "1h --since 2026-07-25 --until 2026-07-26 "
		     "--source replay:data/replay");
	assert_int_equal(mde_testdb_count(c, "SELECT count(DISTINCT symbol) "
					     "FROM market_data_v2 WHERE symbol "
					     "IN ('BTCUSDT', 'BNBUSDT')"), 2);
	assert_int_equal(count(mde_cli_err, "\"event\":\"symbols.normalized\""),
			 1);

	fx *x = fx_start(&(fx_opts){0});
	assert_non_null(x);
	assert_int_equal(fx_load_dir(x, "data/replay"), 0);
	const char *u = fx_url(x);
	/* XRPUSDT is not listed: Binance answers 400 -1121. */
	snprintf(args, sizeof args, "--binance-url %s --binance-spot-url %s "
		 "backfill --symbols XRPUSDT,BTCUSDT --timeframe 1h --timerange "
		 "20260601-20260603", u, u);
	assert_int_equal(mde_cli(conf, db, args), 3);
	assert_non_null(strstr(mde_cli_err, "unknown symbol"));
	assert_non_null(strstr(mde_cli_err, "it will not be retried"));
	assert_non_null(strstr(mde_cli_err, "mdenrich cancel --job 1"));
	assert_non_null(strstr(mde_cli_err, "1 series failed: XRPUSDT 1h"));
	/* One request per chunk at most (the backfill may fetch the next
	 * chunk ahead): no retries. */
	size_t asked = requests(x, "/fapi/v1/klines", "XRPUSDT");
	assert_true(asked >= 1 && asked <= 2);
	assert_int_equal(mde_testdb_count(c, "SELECT count(*) FROM "
					     "market_data_v2 WHERE symbol = "
					     "'BTCUSDT' AND open_time < "
					     "'2026-06-03Z'"), 48);
	/* resume does not ask again for a symbol that cannot exist. */
	snprintf(args, sizeof args, "--binance-url %s --binance-spot-url %s "
		 "resume --job 1", u, u);
	assert_int_equal(mde_cli(conf, db, args), 3);
	assert_int_equal(requests(x, "/fapi/v1/klines", "XRPUSDT"), asked);
	assert_int_equal(mde_cli(conf, db, "jobs --format csv"), 0);
	assert_non_null(strstr(mde_cli_out, "job_id,status,symbols,"));
	assert_non_null(strstr(mde_cli_out, "\n1,failed,\"XRPUSDT,BTCUSDT\","
					    "1h,"));
	assert_int_equal(mde_cli(conf, db, "status"), 0);
	assert_non_null(strstr(mde_cli_out, "job 1 failed: `mdenrich resume "
					    "--job 1` retries it, `mdenrich "
					    "cancel --job 1` stops it"));
	/* cancel: for good; resume skips it. */
	assert_int_equal(mde_cli(conf, db, "cancel --job 1"), 0);
	assert_non_null(strstr(mde_cli_out, "job 1 cancelled"));
	assert_int_equal(mde_cli(conf, db, "cancel --job 99"), 2);
	assert_non_null(strstr(mde_cli_err, "no backfill job 99"));
	assert_int_equal(mde_cli(conf, db, args), 0);
	assert_int_equal(requests(x, "/fapi/v1/klines", "XRPUSDT"), asked);
	assert_int_equal(mde_cli(conf, db, "jobs"), 0);
	assert_non_null(strstr(mde_cli_out, "cancelled"));
	assert_int_equal(mde_testdb_count(c, "SELECT count(*) FROM "
					     "backfill_state WHERE status = "
					     "'cancelled' AND symbol = 'XRPUSDT'"),
			 2);
	/* run: the same series fails at once, exit 3. */
	fx_clear_reqs(x);
	snprintf(args, sizeof args, "--binance-url %s --binance-spot-url %s "
		 "run --symbols XRPUSDT --timeframe 1h --since 2026-06-01 "
		 "--until 2026-06-02", u, u);
	assert_int_equal(mde_cli(conf, db, args), 3);
	assert_non_null(strstr(mde_cli_err, "unknown symbol"));
	assert_int_equal(requests(x, "/fapi/v1/klines", "XRPUSDT"), 1);

	/* status as CSV: one row per series. */
	assert_int_equal(mde_cli(conf, db, "status --format csv"), 0);
	assert_memory_equal(mde_cli_out, "symbol,timeframe,asset_class,source,",
			    36);
	assert_non_null(strstr(mde_cli_out, "\nXRPUSDT,1h,crypto,binance,"));
	fx_stop(x);
	PQfinish(c);
	mde_testdb_drop("mdetest_every_sym");
}

static void test_logs(void **state)
{
	char db[2048], args[1024];
	PGconn *c = mde_fresh_db(conf, "mdetest_every_logs", db, sizeof db);
	const char *run = "run --symbols BTCUSDT,ETHUSDT --timeframe 1h "
			  "--since 2026-07-01 --source replay:data/replay";
	/* Text logs: ISO next to ms; aux.none once for spot ETHUSDT
	 * although the run goes window by window (chunk = 1d). */
	assert_int_equal(mde_test_sh(out, sizeof out, err, sizeof err,
				     "%s --config %s --db \"%s\" --log-format "
				     "text %s", mde_test_bin(), conf, db, run),
			 0);
	assert_int_equal(count(err, "aux.none"), 1);
	assert_non_null(strstr(err, "aux.none symbol=ETHUSDT timeframe=1h "
				    "kinds=funding,open_interest,long_short"));
	assert_non_null(strstr(err, "from=1782864000000(2026-07-01T00:00:00Z)"));
	assert_non_null(strstr(err, "mdenrich run: "));
	assert_non_null(strstr(err, " candles written"));
	/* JSON logs: numbers are numbers. A second run: nothing changed. */
	mde_cli_must(conf, db, run);
	assert_non_null(strstr(mde_cli_err, "\"written\":0,"));
	assert_non_null(strstr(mde_cli_err, "\"run\":2,"));
	assert_null(strstr(mde_cli_err, "\"written\":\"0\""));
	assert_non_null(strstr(mde_cli_err, "mdenrich run: nothing changed"));

	/* Aux holes: one summary line per series, not one per window. */
	fx *x = fx_start(&(fx_opts){0});
	assert_int_equal(fx_load_dir(x, "data/replay"), 0);
	snprintf(args, sizeof args, "--binance-url %s backfill --symbols "
		 "BTCUSDT --timeframe 1h --timerange 20260601-20260604",
		 fx_url(x));
	mde_cli_must(conf, db, args);
	assert_int_equal(count(mde_cli_err, "\"event\":\"aux.hole"), 1);
	assert_non_null(strstr(mde_cli_err, "\"event\":\"aux.holes\""));
	assert_non_null(strstr(mde_cli_err, "\"windows\":3"));
	assert_non_null(strstr(mde_cli_err, "\"chunks\":3,"));
	fx_stop(x);
	PQfinish(c);
	mde_testdb_drop("mdetest_every_logs");
}

static void test_interrupt(void **state)
{
	char db[2048], cmd[2048], log[800];
	PGconn *c = mde_fresh_db(conf, "mdetest_every_intr", db, sizeof db);
	fx *x = fx_start(&(fx_opts){0});
	assert_int_equal(fx_load_dir(x, "data/replay"), 0);
	fx_fault(x, "/fapi/v1/klines", FX_SLOW, 0, 1000, 300);
	snprintf(log, sizeof log, "%s/intr.log", dir);
	setenv("MDENRICH_DB_URL", db, 1);
	snprintf(cmd, sizeof cmd, "--config %s --log-format json --binance-url "
		 "%s backfill --symbols BTCUSDT --timeframe 1h --timerange "
		 "20260601-20260701", conf, fx_url(x));
	pid_t pid = mde_spawn(log, cmd);
	usleep(1500000);
	kill(pid, SIGINT);
	assert_int_equal(mde_wait(pid), 130);
	unsetenv("MDENRICH_DB_URL");
	assert_int_equal(mde_test_sh(out, sizeof out, err, sizeof err,
				     "cat %s", log), 0);
	assert_non_null(strstr(out, "interrupted; `mdenrich resume --job 1` "
				    "continues"));
	assert_int_equal(mde_cli(conf, db, "status"), 0);
	assert_non_null(strstr(mde_cli_out, "job 1 is interrupted: `mdenrich "
					    "resume --job 1` continues it"));
	fx_stop(x);
	PQfinish(c);
	mde_testdb_drop("mdetest_every_intr");
}

/* On a terminal (script(1) gives one): the progress line is cleared
 * before each log line and says what it waits for. */
static void test_progress_line(void **state)
{
	char db[2048];
	PGconn *c = mde_fresh_db(conf, "mdetest_every_tty", db, sizeof db);
	fx *x = fx_start(&(fx_opts){0});
	assert_int_equal(fx_load_dir(x, "data/replay"), 0);
	/* Slow klines, and a Retry-After once the progress line is up
	 * (a request meets the first fault left that matches it). */
	fx_fault(x, "/fapi/v1/klines", FX_SLOW, 0, 12, 400);
	fx_fault(x, "/fapi/v1/klines", FX_429, 0, 1, 1);
	fx_fault(x, "/fapi/v1/klines", FX_SLOW, 0, 1000, 400);
	int rc = mde_test_sh(out, sizeof out, err, sizeof err,
			     "MDENRICH_DB_URL='%s' script -qefc '%s --config %s "
			     "--log-format text --concurrency 1 --binance-url "
			     "%s backfill "
			     "--symbols BTCUSDT --timeframe 1h --timerange "
			     "20260601-20260616' /dev/null", db, mde_test_bin(),
			     conf, fx_url(x));
	if (rc != 0 || !strstr(out, "\r\033[K20") ||
	    !strstr(out, " candles  ") ||
	    !strstr(out, "waiting 1s for the server's Retry-After"))
		fail_msg("exit %d; want the progress line cleared before log "
			 "lines and its wait shown:\n%s", rc, out);
	fx_stop(x);
	PQfinish(c);
	mde_testdb_drop("mdetest_every_tty");
}

static void test_config_errors(void **state)
{
	char path[800], args[1024];
	snprintf(path, sizeof path, "%s/bad.conf", dir);
	FILE *f = fopen(path, "w");
	fputs("[run]\noverlapp = 3\nlease_seconds = 60\n[http]\n"
	      "timeout_ms = soon\n", f);
	fclose(f);
	snprintf(args, sizeof args, "--config %s config", path);
	expect_err(args, 2, "bad.conf:2: unknown key [run] overlapp (did you "
		   "mean overlap?)");
	assert_non_null(strstr(err, "bad.conf:5: timeout_ms must be"));
	/* No config file at all: point at the example. */
	assert_int_equal(mde_test_sh(out, sizeof out, err, sizeof err,
				     "cd %s && env -u MDENRICH_CONFIG %s run "
				     "--schedule hourly", dir, mde_test_bin()),
			 2);
	assert_non_null(strstr(err, "no config file was found"));
	assert_non_null(strstr(err, "config/mdenrich.conf.example"));
	/* Durations as written. */
	f = fopen(path, "w");
	fputs("[run]\nchunk = 2w\n", f);
	fclose(f);
	snprintf(args, sizeof args, "--config %s config", path);
	assert_int_equal(bare(args), 0);
	assert_non_null(strstr(out, "\nchunk = 2w\n"));
	f = fopen(path, "w");
	fputs("[run]\nchunk = 2592000000\n", f);
	fclose(f);
	expect_err(args, 2, "bad chunk \"2592000000\" (a number with a unit");
}

static void test_prune(void **state)
{
	char db[2048];
	PGconn *c = mde_fresh_db(conf, "mdetest_every_prune", db, sizeof db);
	mde_cli_must(conf, db, "run --symbols BTCUSDT --timeframe 1h --since "
		     "2026-07-20 --source replay:data/replay");
	mde_cli_must(conf, db, "backfill --symbols BTCUSDT --timeframe 1h "
		     "--timerange 20260701-20260703 --source replay:data/replay");
	long long rows = mde_testdb_count(c, "SELECT count(*) FROM "
					     "market_data_v2");
	long long logs = mde_testdb_count(c, "SELECT count(*) FROM "
					     "enrichment_fetch_log");
	assert_true(logs >= 2);
	/* Age the first run and the job by 100 days. */
	PQclear(PQexec(c, "UPDATE enrichment_fetch_log SET requested_at = "
			  "requested_at - interval '100 days' WHERE run_id = 1;"
			  "UPDATE enrichment_compute_log SET at = at - interval "
			  "'100 days' WHERE run_id = 1;"
			  "UPDATE enrichment_runs SET started_at = started_at - "
			  "interval '100 days', finished_at = finished_at - "
			  "interval '100 days' WHERE run_id = 1;"
			  "UPDATE backfill_state SET updated_at = updated_at - "
			  "interval '100 days';"
			  "UPDATE backfill_jobs SET created_at = created_at - "
			  "interval '100 days'"));
	long long old = mde_testdb_count(c, "SELECT count(*) FROM "
					    "enrichment_fetch_log WHERE run_id "
					    "= 1");
	assert_true(old >= 1);
	mde_cli_must(conf, db, "prune --older-than 30d --dry-run");
	assert_non_null(strstr(mde_cli_out, "dry run"));
	assert_int_equal(mde_testdb_count(c, "SELECT count(*) FROM "
					     "enrichment_fetch_log"), logs);
	mde_cli_must(conf, db, "prune --older-than 30d");
	assert_non_null(strstr(mde_cli_out, "deleted"));
	assert_int_equal(mde_testdb_count(c, "SELECT count(*) FROM "
					     "enrichment_fetch_log"), logs - old);
	assert_int_equal(mde_testdb_count(c, "SELECT count(*) FROM "
					     "enrichment_runs WHERE run_id = 1"),
			 0);
	assert_int_equal(mde_testdb_count(c, "SELECT count(*) FROM "
					     "enrichment_compute_log WHERE "
					     "run_id = 1"), 0);
	assert_int_equal(mde_testdb_count(c, "SELECT count(*) FROM "
					     "backfill_jobs"), 0);
	assert_int_equal(mde_testdb_count(c, "SELECT count(*) FROM "
					     "market_data_v2"), rows);
	assert_true(mde_testdb_count(c, "SELECT count(*) FROM enrichment_runs") >
		    0);
	mde_cli_must(conf, db, "prune --older-than 30d");
	assert_non_null(strstr(mde_cli_out, "nothing changed"));
	PQfinish(c);
	mde_testdb_drop("mdetest_every_prune");
}

/* The quickstart fits on one screen, ends with what to try next, and
 * says so when a second run changes nothing. */
static void test_quickstart(void **state)
{
	char db[2048];
	PGconn *c = mde_fresh_db(conf, "mdetest_every_qs", db, sizeof db);
	for (int round = 0; round < 2; round++) {
		int rc = mde_test_sh(out, sizeof out, err, sizeof err,
				     "MDENRICH_DB_URL='%s' MDENRICH_BIN=%s "
				     "scripts/quickstart.sh 2>&1", db,
				     mde_test_bin());
		size_t lines = count(out, "\n");
		if (rc != 0 || lines > 24 || !strstr(out, "Next, try:") ||
		    !strstr(out, "mdenrich --help"))
			fail_msg("quickstart: exit %d, %zu lines:\n%s", rc,
				 lines, out);
	}
	assert_int_equal(count(out, "mdenrich run: nothing changed"), 2);
	assert_int_equal(mde_testdb_count(c, "SELECT count(DISTINCT symbol) "
					     "FROM market_data_v2"), 4);
	PQfinish(c);
	mde_testdb_drop("mdetest_every_qs");
}

static void test_first_steps_and_deploy(void **state)
{
	/* scripts/pg.sh env: what a new shell needs. */
	if (system("scripts/pg.sh status") == 0) {
		assert_int_equal(mde_test_sh(out, sizeof out, err, sizeof err,
					     "eval \"$(scripts/pg.sh env)\" && "
					     "test \"$MDENRICH_DB_URL\" = "
					     "\"$(scripts/pg.sh url)\" && echo "
					     "same"), 0);
		assert_non_null(strstr(out, "same"));
		assert_int_equal(mde_test_sh(out, sizeof out, err, sizeof err,
					     "scripts/pg.sh env"), 0);
		assert_memory_equal(out, "export MDENRICH_DB_URL='", 24);
	} else {
		assert_int_not_equal(mde_test_sh(out, sizeof out, err,
						 sizeof err,
						 "scripts/pg.sh env"), 0);
		assert_non_null(strstr(err, "scripts/pg.sh start"));
	}
	/* The docs the units name exist once installed. */
	const char *bd = getenv("MDE_BUILD_DIR");
	assert_int_equal(mde_test_sh(out, sizeof out, err, sizeof err,
				     "cmake --install %s --prefix %s/usr/local",
				     bd ? bd : "build", dir), 0);
	assert_int_equal(mde_test_sh(out, sizeof out, err, sizeof err,
				     "n=0; for d in $(sed -n "
				     "'s|^Documentation=file:||p' "
				     "config/*.service); do test -f %s$d || "
				     "{ echo missing $d; exit 1; }; n=$((n+1)); "
				     "done; echo $n", dir), 0);
	assert_true(atoi(out) >= 5); /* every unit names its doc */
	assert_int_equal(mde_test_sh(out, sizeof out, err, sizeof err,
				     "test -x %s/usr/local/bin/mdenrich && "
				     "test -f %s/usr/local/share/mdenrich/"
				     "config/mdenrich.logrotate", dir, dir), 0);
	/* Minimal Debian: runuser, not sudo; a check step; logrotate. */
	assert_int_not_equal(system("grep -q 'sudo -u' docs/OPERATIONS.md"), 0);
	assert_int_equal(system("grep -q 'runuser -u mdenrich --' "
				"docs/OPERATIONS.md && grep -q 'systemctl "
				"list-timers' docs/OPERATIONS.md && grep -q "
				"'systemctl start mdenrich-hourly.service' "
				"docs/OPERATIONS.md && grep -q "
				"'^/var/log/mdenrich/\\*.log' "
				"config/mdenrich.logrotate"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_times),
		cmocka_unit_test(test_help),
		cmocka_unit_test(test_symbols_jobs_cancel),
		cmocka_unit_test(test_logs),
		cmocka_unit_test(test_interrupt),
		cmocka_unit_test(test_progress_line),
		cmocka_unit_test(test_config_errors),
		cmocka_unit_test(test_prune),
		cmocka_unit_test(test_quickstart),
		cmocka_unit_test(test_first_steps_and_deploy),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
