/*
 * test_stream.c - `mdenrich stream` against the fake kline WebSocket
 * endpoint (fake_ws.h) and the fake exchange's REST API holding the same
 * recorded candles (data/replay, BTCUSDT and ETHUSDT 1h), on the real
 * PostgreSQL:
 *   - a stream through every fault (dropped connection refused for three
 *     simulated hours, silence, a skipped, a repeated, an out-of-order
 *     and a malformed closing message, serverShutdown), started five
 *     candles after the stored history: no hole, no duplicate, no
 *     correction (only final candles stored), the missed candles repaired
 *     through REST, pings answered;
 *   - funding events published late (after the rows were streamed)
 *     update those rows without a new revision; once the aux series
 *     caught up, the table equals a `backfill` of the same period in
 *     another database;
 *   - a LISTEN client hears one notification per committed batch of the
 *     backfill and of the stream, each naming rows it can read;
 *   - SIGTERM: exit 130 after committing what was in flight;
 *   - a series a run holds is passed by, never waited for, and written
 *     once free; a `run` of it meanwhile changes nothing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <cjson/cJSON.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fake_exchange.h"
#include "fake_ws.h"
#include "storeutil.h"
#include "testutil.h"
#include "timeutil.h"

#define H INT64_C(3600000)
/* The sample's last ETHUSDT 1h candle opens at T_LAST (BTCUSDT's later:
 * the fake endpoint streams nothing from T_END on). */
#define T_LAST INT64_C(1785085200000)
#define T_END (T_LAST + H)
#define T0 (T_END - 32 * H)       /* the stream's clock starts here */
#define T_HIST (T0 - 5 * H)       /* stored history ends here */
#define T_FROM (T0 - 4 * 24 * H)  /* ... and starts here */

static char dir[] = "/tmp/mdetest-streamXXXXXX";
static char cfg[700];

static int setup(void **state)
{
	(void)state;
	if (!mkdtemp(dir))
		return -1;
	snprintf(cfg, sizeof cfg, "%s/s.conf", dir);
	FILE *f = fopen(cfg, "w");
	fputs("[run]\nbatch_rows = 500\n"
	      "[http]\nmax_attempts = 2\nbackoff_ms = 10\n"
	      "[stream]\nbatch_ms = 1000\nquiet_ms = 100\nsilence_ms = 2500\n"
	      "aux_every_ms = 500\naux_lag_ms = 2000000000\n", f);
	fclose(f);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	return mde_test_rmtree(dir);
}

static void count_in(const char *log, const char *event, size_t *n)
{
	char out[64];
	*n = 0;
	if (mde_test_sh(out, sizeof out, NULL, 0,
			"grep -c '\"event\":\"%s\"' %s", event, log) <= 1)
		*n = (size_t)strtoul(out, NULL, 10);
}

/* Every notification: its rows are readable; returns how many came. */
static size_t check_notifies(PGconn *l, PGconn *c, size_t *rows)
{
	size_t n = 0;
	*rows = 0;
	PQconsumeInput(l);
	PGnotify *nt;
	while ((nt = PQnotifies(l)) != NULL) {
		cJSON *j = cJSON_Parse(nt->extra);
		assert_non_null(j);
		const char *sym = cJSON_GetObjectItem(j, "symbol")->valuestring;
		const char *t0 = cJSON_GetObjectItem(j, "first_open_time")
					 ->valuestring;
		const char *t1 = cJSON_GetObjectItem(j, "last_open_time")
					 ->valuestring;
		long r = (long)cJSON_GetObjectItem(j, "rows")->valuedouble;
		assert_string_equal(
			cJSON_GetObjectItem(j, "timeframe")->valuestring, "1h");
		char q[400];
		snprintf(q, sizeof q, "SELECT count(*) FROM market_data_v2 "
			 "WHERE symbol = '%s' AND timeframe = '1h' AND "
			 "open_time BETWEEN '%s' AND '%s'", sym, t0, t1);
		assert_true(r > 0);
		assert_true(mde_testdb_count(c, q) >= r);
		*rows += (size_t)r;
		n++;
		cJSON_Delete(j);
		PQfreemem(nt);
	}
	return n;
}

static void plan_faults(fws *w)
{
	fws_fault(w, FWS_SKIP, T0 + 3 * H, 0);
	fws_fault(w, FWS_REPEAT, T0 + 5 * H, 0);
	fws_fault(w, FWS_REORDER, T0 + 7 * H, 0);
	fws_fault(w, FWS_MALFORMED, T0 + 9 * H, 0);
	fws_fault(w, FWS_SILENCE, T0 + 12 * H, 5000);
	fws_fault(w, FWS_SHUTDOWN, T0 + 19 * H, 0);
	fws_fault(w, FWS_DROP, T0 + 23 * H, 3000);
}

static void backfill(fx *x, const char *db, int64_t from, int64_t to)
{
	char args[600];
	snprintf(args, sizeof args, "--binance-url %s backfill --symbols "
		 "BTCUSDT,ETHUSDT --timeframe 1h --from %lld --to %lld",
		 fx_url(x), (long long)from, (long long)to);
	mde_cli_must(cfg, db, args);
}

/* Streams T0 .. T_END through every fault; returns the exit code. The
 * funding events after T_HIST are published at T0 + 10h only: *before
 * is a stream row's funding_rate before they arrived. */
static int stream(fx *x, fws *w, const char *db, const char *log,
		  PGconn *c, char *before, size_t len)
{
	char args[800];
	setenv("MDENRICH_DB_URL", db, 1);
	snprintf(args, sizeof args, "--config %s --log-format json "
		 "--binance-url %s stream --symbols BTCUSDT,ETHUSDT "
		 "--timeframe 1h --ws-url %s", cfg, fx_url(x), fws_url(w));
	pid_t pid = mde_spawn(log, args);
	unsetenv("MDENRICH_DB_URL");
	while (fws_now(w) < T0 + 10 * H)
		usleep(50000);
	char q[300];
	snprintf(q, sizeof q, "SELECT funding_rate FROM market_data_v2 WHERE "
		 "symbol = 'BTCUSDT' AND open_time = timestamptz 'epoch' + "
		 "%lld * interval '1 ms'", (long long)(T0 + 4 * H));
	mde_testdb_value(c, q, before, len);
	fx_set_aux_until(x, 0);
	/* Past the last candle, and time for the aux series to catch up. */
	while (fws_now(w) < T_END + 4 * H)
		usleep(100000);
	kill(pid, SIGTERM);
	return mde_wait(pid);
}

static void test_stream_faults(void **state)
{
	(void)state;
	fx_opts fo = {0};
	fx *x = fx_start(&fo);
	assert_non_null(x);
	assert_int_equal(fx_load_dir(x, "data/replay"), 0);
	char db[2048], ref[2048], log[800], why[512];
	PGconn *c = mde_fresh_db(cfg, "mdetest_stream", db, sizeof db);
	PGconn *r = mde_fresh_db(cfg, "mdetest_stream_ref", ref, sizeof ref);
	PGconn *l = mde_testdb_connect(db);
	PQclear(PQexec(l, "LISTEN mdenrich_candles"));

	/* History up to five candles before the stream's clock: the
	 * backfill's batches are heard too. */
	fx_set_aux_until(x, T_HIST);
	backfill(x, db, T_FROM, T_HIST);
	size_t rows, n = check_notifies(l, c, &rows);
	assert_true(n >= 2);
	assert_int_equal(rows, mde_testdb_count(c, "SELECT count(*) FROM "
						   "market_data_v2"));

	fws_opts wo = {.x = x, .market = FX_FUTURES, .period_ms = H,
		       .start_ms = T0, .end_ms = T_END, .speed = 3600, .ping_ms = 300};
	fws *w = fws_start(&wo);
	assert_non_null(w);
	plan_faults(w);
	snprintf(log, sizeof log, "%s/stream.log", dir);
	char before[64], after[64];
	int code = stream(x, w, db, log, c, before, sizeof before);
	fws_stats st;
	fws_get_stats(w, &st);
	fws_stop(w);
	if (code != 130)
		mde_test_sh(NULL, 0, NULL, 0, "cat %s >&2", log);
	char done[1024] = "";
	mde_test_sh(done, sizeof done, NULL, 0, "grep -h 'stream.done\\|"
		    "stream.repair' %s", log);
	print_message("%s", done);
	assert_int_equal(code, 130);

	/* No hole, no duplicate, nothing but final candles. */
	char q[400];
	snprintf(q, sizeof q, "SELECT count(*) FROM market_data_v2 WHERE "
		 "open_time >= timestamptz 'epoch' + %lld * interval '1 ms' "
		 "AND open_time <= timestamptz 'epoch' + %lld * interval "
		 "'1 ms'", (long long)T_FROM, (long long)T_LAST);
	long long want = 2 * ((T_LAST - T_FROM) / H + 1);
	assert_int_equal(mde_testdb_count(c, q), want);
	assert_int_equal(mde_testdb_count(c, "SELECT count(*) FROM "
					     "market_data_v2"), want);
	assert_int_equal(mde_testdb_count(c, "SELECT count(*) FROM "
					     "market_data_v2 WHERE revision "
					     "<> 1"), 0);
	assert_int_equal(mde_testdb_count(c, "SELECT count(*) FROM "
					     "data_corrections"), 0);

	/* Every fault was met, and survived. */
	size_t k;
	count_in(log, "stream.repair", &k);
	assert_true(k >= 2 * 4);
	count_in(log, "ws.silence", &k);
	assert_true(k >= 1);
	count_in(log, "ws.shutdown", &k);
	assert_true(k >= 1);
	count_in(log, "ws.malformed", &k);
	assert_true(k >= 2);
	count_in(log, "ws.connected", &k);
	assert_true(k >= 4);
	assert_true(st.pongs > 0);
	assert_true(st.refused > 0);

	/* The stream's notifications name rows a reader sees. */
	n = check_notifies(l, c, &rows);
	assert_true(n >= 2);
	assert_true(rows >= 2 * 37);

	/* The late funding events updated the rows (no new revision). */
	snprintf(q, sizeof q, "SELECT funding_rate FROM market_data_v2 WHERE "
		 "symbol = 'BTCUSDT' AND open_time = timestamptz 'epoch' + "
		 "%lld * interval '1 ms'", (long long)(T0 + 4 * H));
	mde_testdb_value(c, q, after, sizeof after);
	assert_true(before[0] && after[0]);
	assert_string_not_equal(before, after);
	assert_true(mde_testdb_count(c, "SELECT count(*) FROM market_data_v2 "
				     "WHERE updated_at > created_at") > 0);

	/* Once the aux series caught up: what a backfill writes. */
	backfill(x, ref, T_FROM, T_END);
	bool eq = mde_tables_equal(c, r, why, sizeof why);
	if (!eq)
		fail_msg("stream != backfill: %s", why);
	PQfinish(l);
	PQfinish(c);
	PQfinish(r);
	fx_stop(x);
}

/*
 * A run holds the series (its session lock) for a while: the stream's
 * batches pass it by without waiting, and write it once it is free; a
 * `run` of the same series meanwhile skips or rewrites nothing.
 */
static void test_stream_lock(void **state)
{
	(void)state;
	fx_opts fo = {0};
	fx *x = fx_start(&fo);
	assert_non_null(x);
	assert_int_equal(fx_load_dir(x, "data/replay"), 0);
	char db[2048], log[800], args[800];
	PGconn *c = mde_fresh_db(cfg, "mdetest_stream_lock", db, sizeof db);
	snprintf(args, sizeof args, "--binance-url %s backfill --symbols "
		 "BTCUSDT --timeframe 1h --from %lld --to %lld", fx_url(x),
		 (long long)T_FROM, (long long)T0);
	mde_cli_must(cfg, db, args);
	PGconn *holder = mde_testdb_connect(db);
	PQclear(PQexec(holder, "SELECT pg_advisory_lock(7169125, "
			       "hashtext('BTCUSDT/1h'))"));
	fws_opts wo = {.x = x, .market = FX_FUTURES, .period_ms = H,
		       .start_ms = T0, .end_ms = T0 + 8 * H, .speed = 3600};
	fws *w = fws_start(&wo);
	snprintf(log, sizeof log, "%s/lock.log", dir);
	setenv("MDENRICH_DB_URL", db, 1);
	snprintf(args, sizeof args, "--config %s --log-format json "
		 "--binance-url %s stream --symbols BTCUSDT --timeframe 1h "
		 "--ws-url %s", cfg, fx_url(x), fws_url(w));
	pid_t pid = mde_spawn(log, args);
	unsetenv("MDENRICH_DB_URL");
	while (fws_now(w) < T0 + 3 * H)
		usleep(50000);
	PQclear(PQexec(holder, "SELECT pg_advisory_unlock_all()"));
	snprintf(args, sizeof args, "--binance-url %s run --symbols BTCUSDT "
		 "--timeframe 1h --until %lld", fx_url(x),
		 (long long)(T0 + 6 * H));
	assert_int_equal(mde_cli(cfg, db, args), 0);
	while (fws_now(w) < T0 + 10 * H)
		usleep(50000);
	kill(pid, SIGTERM);
	assert_int_equal(mde_wait(pid), 130);
	fws_stop(w);
	size_t k;
	count_in(log, "series.busy", &k);
	assert_true(k >= 1);
	long long want = (T0 + 7 * H - T_FROM) / H + 1;
	assert_int_equal(mde_testdb_count(c, "SELECT count(*) FROM "
					     "market_data_v2"), want);
	assert_int_equal(mde_testdb_count(c, "SELECT count(*) FROM "
					     "market_data_v2 WHERE revision "
					     "<> 1"), 0);
	PQfinish(holder);
	PQfinish(c);
	fx_stop(x);
}

/*
 * SIGTERM while a batch is open (batch_ms and quiet_ms far away): what
 * arrived is committed, then exit 130.
 */
static void test_stream_sigterm(void **state)
{
	(void)state;
	fx_opts fo = {0};
	fx *x = fx_start(&fo);
	assert_non_null(x);
	assert_int_equal(fx_load_dir(x, "data/replay"), 0);
	char db[2048], log[800], args[1400], conf[800];
	snprintf(conf, sizeof conf, "%s/slow.conf", dir);
	FILE *f = fopen(conf, "w");
	fputs("[stream]\nbatch_ms = 600000\nquiet_ms = 600000\n", f);
	fclose(f);
	PGconn *c = mde_fresh_db(conf, "mdetest_stream_term", db, sizeof db);
	fws_opts wo = {.x = x, .market = FX_FUTURES, .period_ms = H,
		       .start_ms = T0, .end_ms = T0 + 5 * H, .speed = 3600};
	fws *w = fws_start(&wo);
	snprintf(log, sizeof log, "%s/term.log", dir);
	setenv("MDENRICH_DB_URL", db, 1);
	snprintf(args, sizeof args, "--config %s --log-format json "
		 "--binance-url %s stream --symbols BTCUSDT --timeframe 1h "
		 "--ws-url %s", conf, fx_url(x), fws_url(w));
	pid_t pid = mde_spawn(log, args);
	unsetenv("MDENRICH_DB_URL");
	while (fws_now(w) < T0 + 6 * H)
		usleep(50000);
	assert_int_equal(mde_testdb_count(c, "SELECT count(*) FROM "
					     "market_data_v2"), 0);
	kill(pid, SIGTERM);
	assert_int_equal(mde_wait(pid), 130);
	fws_stop(w);
	assert_int_equal(mde_testdb_count(c, "SELECT count(*) FROM "
					     "market_data_v2"), 5);
	assert_int_equal(mde_testdb_count(c, "SELECT count(*) FROM "
					     "enrichment_runs WHERE status = "
					     "'interrupted'"), 1);
	PQfinish(c);
	fx_stop(x);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stream_faults),
		cmocka_unit_test(test_stream_lock),
		cmocka_unit_test(test_stream_sigterm),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
