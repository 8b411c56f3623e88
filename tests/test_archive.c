/*
 * test_archive.c - the archive-first backfill (issue 10) against the fake
 * exchange's archive tree over real HTTP and the real PostgreSQL:
 *   - real BTCUSDT 1h futures candles and funding of 2025 (gg-cmk, from
 *     data.binance.vision) served by REST and as monthly zips: a backfill
 *     over months from the archive equals the REST-only one, row for row,
 *     column for column, text for text, with no kline request to REST;
 *   - every fault: 404, wrong CHECKSUM, a truncated zip (once: retried;
 *     always: REST), no header, µs times, CRLF, unsorted rows with a
 *     repeated time, 429 with Retry-After: the same table again, and only
 *     verified files in archive_files;
 *   - open interest from the daily metrics files beyond REST's 30 days;
 *   - a re-published file: revision 2 and a data_corrections row;
 *   - --archive only with the archive down: exit 3, no REST request;
 *   - kill -9 during an archive backfill, resume: the same table;
 *   - the kline CSV reader on the quirks, and the real metrics sample.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "archive_get.h"
#include "fake_exchange.h"
#include "klinecsv.h"
#include "storeutil.h"
#include "testutil.h"
#include "timeutil.h"

#define RANGE "--from 2025-02-01 --to 2025-05-15"
#define BF "backfill --symbols BTCUSDT --timeframe 1h " RANGE " "
#define H 3600000LL

static char dir[] = "/tmp/mdetest-archiveXXXXXX";
static char cfg[700], logfile[700];
static fx *x;
static char ref[2048];
static PGconn *refc;

/* Every column but the bookkeeping ones, as text, hashed. */
static void table_md5(PGconn *c, const char *where, char *out, size_t len)
{
	char sql[1024];
	snprintf(sql, sizeof sql,
		 "SELECT count(*) || ':' || md5(string_agg((to_jsonb(m) - "
		 "'run_id' - 'created_at' - 'updated_at')::text, '|' ORDER BY "
		 "open_time)) FROM market_data_v2 m %s", where ? where : "");
	mde_testdb_value(c, sql, out, len);
}

static void assert_same(PGconn *a, PGconn *b, const char *where)
{
	char x1[128], x2[128];
	table_md5(a, where, x1, sizeof x1);
	table_md5(b, where, x2, sizeof x2);
	assert_string_equal(x1, x2);
	char why[1024];
	if (!where && !mde_tables_equal(a, b, why, sizeof why))
		fail_msg("tables differ: %s", why);
}

static long long rest_klines(PGconn *c)
{
	return mde_testdb_count(c, "SELECT count(*) FROM enrichment_fetch_log "
				   "WHERE endpoint = '/fapi/v1/klines'");
}

static int load_fixtures(void)
{
	char *buf;
	size_t len;
	mde_candles c;
	mde_candles_init(&c);
	if (mde_read_file("tests/fixtures/archive/BTCUSDT-1h-2025H1.csv", 0,
			  &buf, &len, NULL) ||
	    mde_kline_csv_parse(buf, len, MDE_SRC_BINANCE, INT64_MIN,
				INT64_MAX, &c, NULL, NULL) ||
	    fx_add_klines(x, FX_FUTURES, "BTCUSDT", H, &c))
		return -1;
	free(buf);
	mde_candles_free(&c);
	/* funding: the text of the real file, as REST would send it */
	if (mde_read_file("tests/fixtures/archive/BTCUSDT-funding-2025H1.csv",
			  0, &buf, &len, NULL))
		return -1;
	for (char *save = NULL, *l = strtok_r(buf, "\n", &save); l;
	     l = strtok_r(NULL, "\n", &save)) {
		long long t;
		char rate[32];
		if (sscanf(l, "%lld,8,%31s", &t, rate) == 2)
			fx_add_aux(x, MDE_AUX_FUNDING, "BTCUSDT", 0, t, rate);
	}
	free(buf);
	return 0;
}

static int setup(void **state)
{
	if (!mkdtemp(dir))
		return -1;
	fx_opts o = {0};
	x = fx_start(&o);
	if (!x || load_fixtures() || fx_load_dir(x, "data/replay"))
		return -1;
	snprintf(cfg, sizeof cfg, "%s/a.conf", dir);
	snprintf(logfile, sizeof logfile, "%s/children.log", dir);
	FILE *f = fopen(cfg, "w");
	fprintf(f, "[sources]\nbinance_url = %s\nbinance_spot_url = %s\n"
		"[archive]\nurl = %s\n"
		"[run]\nbatch_rows = 200\nchunk = 20d\n"
		"[http]\nmax_attempts = 3\nbackoff_ms = 20\n"
		"[database]\nmax_retries = 10\n", fx_url(x), fx_url(x), fx_url(x));
	fclose(f);
	refc = mde_fresh_db(cfg, "mdetest_archive_ref", ref, sizeof ref);
	mde_cli_must(cfg, ref, BF "--archive off");
	assert_true(rest_klines(refc) > 0);
	assert_int_equal(mde_testdb_count(refc, "SELECT count(*) FROM "
					     "market_data_v2"), 2472);
	return 0;
}

static int teardown(void **state)
{
	PQfinish(refc);
	mde_testdb_drop("mdetest_archive_ref");
	fx_stop(x);
	return mde_test_rmtree(dir);
}

static void test_archive_equals_rest(void **state)
{
	char db[2048];
	PGconn *c = mde_fresh_db(cfg, "mdetest_archive_eq", db, sizeof db);
	mde_cli_must(cfg, db, "--log-level debug --writers 1 " BF
			      "--archive auto");
	/* 20-day chunks end inside months: the chunk after one takes the
	 * rows it parsed past its end, not the file again */
	assert_non_null(strstr(mde_cli_err, "\"event\":\"archive.rows_taken\""));
	assert_same(refc, c, NULL);
	assert_int_equal(rest_klines(c), 0);
	assert_int_equal(mde_testdb_count(c, "SELECT count(*) FROM "
					     "archive_files WHERE kind = "
					     "'klines' AND interval = '1h' AND "
					     "length(sha256) = 64 AND rows > 600 "
					     "AND size > 10000"), 4);
	assert_true(mde_testdb_count(c, "SELECT count(*) FROM archive_files "
					"WHERE kind = 'fundingRate'") >= 4);
	assert_true(mde_testdb_count(c, "SELECT count(*) FROM "
					"enrichment_fetch_log WHERE source = "
					"'binance-archive' AND http_status = 200 "
					"AND endpoint LIKE '%.CHECKSUM'") >= 8);
	assert_int_equal(mde_testdb_count(c, "SELECT count(DISTINCT source) "
					     "FROM market_data_v2"), 1);
	PQfinish(c);
	mde_testdb_drop("mdetest_archive_eq");
}

#define KL "/data/futures/um/monthly/klines/BTCUSDT/1h/BTCUSDT-1h-"

static void test_faults(void **state)
{
	char db[2048];
	PGconn *c = mde_fresh_db(cfg, "mdetest_archive_faults", db, sizeof db);
	fxa_set(x, KL "2025-02.zip", FXA_BADSUM);
	fxa_set(x, KL "2025-03.zip", FXA_404);
	fxa_set(x, KL "2025-04.zip", FXA_TRUNC);
	fxa_set(x, KL "2025-05.zip", FXA_NOHEADER | FXA_MICROS | FXA_CRLF |
					     FXA_SHUFFLE);
	/* once: retried; a 429 with Retry-After on a funding file */
	fx_fault(x, KL "2025-05.zip", FX_TRUNCATED, 0, 1, 0);
	fx_fault(x, "/data/futures/um/monthly/fundingRate/", FX_429, 0, 1, 1);
	mde_cli_must(cfg, db, BF);
	fxa_clear(x);
	fx_clear_faults(x);
	assert_same(refc, c, NULL);
	/* Feb (bad sum), Mar (404), Apr (truncated) came from REST */
	assert_true(rest_klines(c) >= 3);
	assert_int_equal(mde_testdb_count(c, "SELECT count(*) FROM "
					     "archive_files WHERE kind = "
					     "'klines'"), 1);
	assert_int_equal(mde_testdb_count(c, "SELECT count(*) FROM "
					     "archive_files WHERE url LIKE "
					     "'%2025-05.zip' AND rows = 745"), 1);
	/* a bad file is tried twice, never more, by each fetcher (the
	 * pipelined backfill's fetch threads have one each) */
	long long bad = mde_testdb_count(c, "SELECT count(*) FROM "
					    "enrichment_fetch_log WHERE endpoint "
					    "LIKE '%1h-2025-02.zip.CHECKSUM'");
	assert_true(bad >= 2 && bad % 2 == 0);
	bad = mde_testdb_count(c, "SELECT count(*) FROM enrichment_fetch_log "
				  "WHERE endpoint LIKE '%1h-2025-04.zip'");
	assert_true(bad >= 2 && bad % 2 == 0);
	assert_true(mde_testdb_count(c, "SELECT count(*) FROM "
					"enrichment_fetch_log WHERE http_status "
					"= 429 AND source = 'binance-archive'")
		    >= 1);
	PQfinish(c);
	mde_testdb_drop("mdetest_archive_faults");
}

static void test_republished(void **state)
{
	char db[2048];
	PGconn *c = mde_fresh_db(cfg, "mdetest_archive_repub", db, sizeof db);
	mde_cli_must(cfg, db, BF);
	char old[128], now[128];
	mde_testdb_value(c, "SELECT sha256 FROM archive_files WHERE url LIKE "
			    "'%1h-2025-03.zip'", old, sizeof old);
	int64_t t;
	assert_int_equal(mde_time_parse("2025-03-10T12:00:00Z", &t), 0);
	assert_int_equal(fx_amend(x, FX_FUTURES, "BTCUSDT", H, t, NULL,
				  "99999.90", NULL, NULL, NULL), 0);
	mde_cli_must(cfg, db, BF);
	mde_testdb_value(c, "SELECT sha256 FROM archive_files WHERE url LIKE "
			    "'%1h-2025-03.zip'", now, sizeof now);
	assert_string_not_equal(old, now);
	assert_int_equal(mde_testdb_count(c, "SELECT count(*) FROM "
					     "archive_files WHERE "
					     "previous_sha256 IS NOT NULL AND "
					     "republished_at IS NOT NULL"), 1);
	assert_int_equal(mde_testdb_count(c, "SELECT revision FROM "
					     "market_data_v2 WHERE open_time = "
					     "'2025-03-10 12:00Z' AND high = "
					     "99999.90"), 2);
	assert_int_equal(mde_testdb_count(c, "SELECT count(*) FROM "
					     "data_corrections"), 1);
	assert_int_equal(mde_testdb_count(c, "SELECT max(revision) FROM "
					     "market_data_v2 WHERE open_time <> "
					     "'2025-03-10 12:00Z'"), 1);
	PQfinish(c);
	mde_testdb_drop("mdetest_archive_repub");
}

static void test_only_outage(void **state)
{
	char db[2048];
	PGconn *c = mde_fresh_db(cfg, "mdetest_archive_only", db, sizeof db);
	fx_clear_reqs(x);
	fx_fault(x, "/data/", FX_503, 0, 100000, 0);
	int rc = mde_cli(cfg, db, BF "--archive only");
	fx_clear_faults(x);
	assert_int_equal(rc, 3);
	for (size_t i = 0; i < fx_nreq(x); i++) {
		fx_req q;
		assert_int_equal(fx_get_req(x, i, &q), 0);
		if (strncmp(q.path, "/data/", 6) != 0)
			fail_msg("REST was asked: %s", q.path);
	}
	assert_int_equal(mde_testdb_count(c, "SELECT count(*) FROM "
					     "market_data_v2"), 0);
	assert_int_equal(rest_klines(c), 0);
	PQfinish(c);
	mde_testdb_drop("mdetest_archive_only");
}

static void test_open_interest_beyond_30_days(void **state)
{
	char db[2048], ratio[32], oi[32];
	int64_t a, b;
	assert_int_equal(mde_time_parse("2025-01-20", &a), 0);
	assert_int_equal(mde_time_parse("2025-05-16", &b), 0);
	for (int64_t t = a; t < b; t += H) {
		snprintf(oi, sizeof oi, "%lld.123", 70000 + (long long)(t / H) % 997);
		snprintf(ratio, sizeof ratio, "1.%04lld", (long long)(t / H) % 9973);
		fx_add_aux(x, MDE_AUX_OPEN_INTEREST, "BTCUSDT", H, t, oi);
		fx_add_aux(x, MDE_AUX_LONG_SHORT, "BTCUSDT", H, t, ratio);
	}
	PGconn *c = mde_fresh_db(cfg, "mdetest_archive_oi", db, sizeof db);
	mde_cli_must(cfg, db, BF);
	assert_int_equal(mde_testdb_count(c, "SELECT count(*) FROM "
					     "market_data_v2 WHERE open_interest "
					     "IS NULL OR long_short_ratio IS NULL"),
			 0);
	assert_int_equal(mde_testdb_count(c, "SELECT count(*) FROM "
					     "market_data_v2 WHERE "
					     "open_interest_change IS NULL AND "
					     "open_time > '2025-02-01'"), 0);
	assert_true(mde_testdb_count(c, "SELECT count(*) FROM archive_files "
					"WHERE kind = 'metrics'") >= 100);
	/* REST-only cannot reach back: NULL on every row */
	assert_int_equal(mde_testdb_count(refc, "SELECT count(*) FROM "
					     "market_data_v2 WHERE open_interest "
					     "IS NOT NULL"), 0);
	PQfinish(c);
	mde_testdb_drop("mdetest_archive_oi");
}

static void test_kill9_resume(void **state)
{
	char db[2048], cmd[4096];
	PGconn *c = mde_fresh_db(cfg, "mdetest_archive_kill", db, sizeof db);
	setenv("MDENRICH_DB_URL", db, 1);
	/* metrics files as in the reference (which has none): 404 */
	fxa_set(x, "/data/futures/um/daily/metrics/", FXA_404);
	snprintf(cmd, sizeof cmd, "--config %s --log-format json " BF
		 "--chunk 7d", cfg);
	srand((unsigned)time(NULL));
	int kills = 0, rc = -1;
	pid_t pid = mde_spawn(logfile, cmd);
	usleep(150000 + rand() % 100000);
	if (kill(pid, SIGKILL) == 0 && mde_wait(pid) == 128 + SIGKILL)
		kills++;
	snprintf(cmd, sizeof cmd, "--config %s --log-format json resume", cfg);
	for (int round = 0; round < 100; round++) {
		pid = mde_spawn(logfile, cmd);
		/* a resume of what is left takes some 50 ms on a quiet
		 * machine: killed at any moment of it, its start included,
		 * later each round (a loaded machine is slower) */
		usleep(10000 + (useconds_t)round * 3000 + rand() % 70000);
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
	mde_cli_must(cfg, db, "resume");
	fxa_clear(x);
	print_message("killed %d times\n", kills);
	assert_true(kills >= 2);
	assert_int_equal(mde_testdb_count(c, "SELECT count(*) FROM "
					     "backfill_state WHERE status <> "
					     "'done'"), 0);
	assert_same(refc, c, NULL);
	PQfinish(c);
	mde_testdb_drop("mdetest_archive_kill");
}

static void test_usage(void **state)
{
	assert_int_equal(mde_cli(cfg, ref, BF "--archive sometimes"), 2);
	assert_non_null(strstr(mde_cli_err, "--archive must be auto, only or "
				"off"));
	setenv("MDENRICH_ARCHIVE", "never", 1);
	assert_int_equal(mde_cli(cfg, ref, BF), 2);
	unsetenv("MDENRICH_ARCHIVE");
	assert_non_null(strstr(mde_cli_err, "MDENRICH_ARCHIVE"));
	assert_int_equal(mde_cli(cfg, ref, "import --symbol BTCUSDT "
				 "--timeframe 1h"), 2);
	assert_int_equal(mde_cli(cfg, ref, "config"), 0);
	assert_non_null(strstr(mde_cli_out, "[archive]\nmode = auto\nurl = "
				"http://127.0.0.1"));
}

static void test_kline_csv_quirks(void **state)
{
	/* µs, CRLF, no header, unsorted, a repeated time (the last wins),
	 * an empty taker field (NULL) */
	const char csv[] =
		"1735693200000000,2,3,1,2.5,10,1735696799999999,25,7,,,0\r\n"
		"1735689600000000,1,2,0.5,1.5,9,1735693199999999,13,5,4,6,0\r\n"
		"1735693200000000,2,3,1,2.75,10,1735696799999999,25,7,,,0\r\n";
	mde_candles c;
	mde_candles_init(&c);
	mde_kline_csv_info info;
	mde_err e;
	assert_true(mde_kline_csv_sniff(csv, sizeof csv - 1));
	assert_int_equal(mde_kline_csv_parse(csv, sizeof csv - 1, 0, INT64_MIN,
					     INT64_MAX, &c, &info, &e), 0);
	assert_int_equal(c.n, 2);
	assert_true(info.micros && !info.header);
	assert_int_equal(info.period_ms, H);
	assert_int_equal(info.repeats, 1);
	assert_true(c.open_time_ms[0] == 1735689600000LL);
	assert_string_equal(mde_candles_text(&c, 1, MDE_CLOSE), "2.75");
	assert_null(mde_candles_text(&c, 1, MDE_TAKER_BUY_BASE));
	/* a bad line rejects the file, the table is untouched */
	const char bad[] = "open_time,open,high,low,close,volume,close_time,"
			   "quote_volume,count,taker_buy_volume,"
			   "taker_buy_quote_volume,ignore\n"
			   "1735689600000,1,2,0.5,1.5,9,1735693199999,13,5,4,6,0\n"
			   "1735693200000,2,3,1,x,10,1735696799999,25,7,1,1,0\n";
	assert_int_equal(mde_kline_csv_parse(bad, sizeof bad - 1, 0, INT64_MIN,
					     INT64_MAX, &c, NULL, &e),
			 MDE_EPARSE);
	assert_non_null(strstr(e.msg, "line 3"));
	assert_int_equal(c.n, 2);
	mde_candles_free(&c);
}

static void test_metrics_sample(void **state)
{
	char *buf;
	size_t len, rows;
	mde_aux oi = {0}, ls = {0};
	mde_err e;
	assert_int_equal(mde_read_file("tests/fixtures/archive/"
				       "HYPEUSDT-metrics.first24rows.csv", 0,
				       &buf, &len, &e), 0);
	assert_int_equal(mde_ar_parse_metrics(buf, len, MDE_AUX_OPEN_INTEREST,
					      5 * 60000, INT64_MIN, INT64_MAX,
					      &oi, &rows, &e), 0);
	assert_int_equal(rows, 24);
	assert_int_equal(oi.n, 24);
	assert_true(oi.v[0] == 14088.01);
	/* hourly snapshots only for a 1h series: 11:00 and 12:00 */
	assert_int_equal(mde_ar_parse_metrics(buf, len, MDE_AUX_LONG_SHORT, H,
					      INT64_MIN, INT64_MAX, &ls, &rows,
					      &e), 0);
	assert_int_equal(ls.n, 2);
	mde_aux_free(&oi);
	mde_aux_free(&ls);
	free(buf);
}

/* Zip downloads (not CHECKSUMs) of kline files the fake has seen. */
static size_t zip_gets(void)
{
	size_t n = 0;
	for (size_t i = 0; i < fx_nreq(x); i++) {
		fx_req q;
		if (fx_get_req(x, i, &q) == 0 && strstr(q.path, "/klines/") &&
		    strcmp(q.path + strlen(q.path) - 4, ".zip") == 0)
			n++;
	}
	return n;
}

/* Spot: files without a header, times in µs (2026), real ETHUSDT data. */
static void test_spot(void **state)
{
	char r[2048], db[2048];
	const char *bf = "backfill --symbols ETHUSDT --timeframe 1h --from "
			 "2026-06-01 --to 2026-07-01 --source binance-spot ";
	char args[300];
	PGconn *a = mde_fresh_db(cfg, "mdetest_archive_spot_rest", r, sizeof r);
	snprintf(args, sizeof args, "%s--archive off", bf);
	mde_cli_must(cfg, r, args);
	PGconn *c = mde_fresh_db(cfg, "mdetest_archive_spot", db, sizeof db);
	fx_clear_reqs(x);
	mde_cli_must(cfg, db, bf);
	assert_int_equal(mde_testdb_count(c, "SELECT count(*) FROM "
					     "market_data_v2 WHERE source = "
					     "'binance-spot'"), 720);
	assert_same(a, c, NULL);
	assert_int_equal(mde_testdb_count(c, "SELECT count(*) FROM "
					     "enrichment_fetch_log WHERE endpoint "
					     "= '/api/v3/klines'"), 0);
	assert_int_equal(mde_testdb_count(c, "SELECT count(*) FROM "
					     "archive_files WHERE url LIKE "
					     "'%/data/spot/monthly/klines/ETHUSDT/"
					     "1h/ETHUSDT-1h-2026-06.zip'"), 1);
	PQfinish(a);
	PQfinish(c);
	mde_testdb_drop("mdetest_archive_spot_rest");
	mde_testdb_drop("mdetest_archive_spot");
}

static void test_cache_folder(void **state)
{
	char db[2048], cache[800], out[256];
	snprintf(cache, sizeof cache, "%s/cache", dir);
	setenv("MDENRICH_ARCHIVE_CACHE", cache, 1);
	PGconn *c = mde_fresh_db(cfg, "mdetest_archive_cache", db, sizeof db);
	fx_clear_reqs(x);
	mde_cli_must(cfg, db, BF);
	/* one per month, per fetch thread at most */
	assert_true(zip_gets() >= 4 && zip_gets() <= 8);
	assert_int_equal(mde_test_sh(out, sizeof out, NULL, 0,
				     "find %s -name '*.zip' | wc -l; find %s "
				     "-name '*.tmp*' | wc -l", cache, cache),
			 0);
	assert_true(atoi(out) >= 8); /* klines and funding */
	assert_int_equal(atoi(strchr(out, '\n') + 1), 0);
	/* another run on this host: no zip downloaded again */
	PQfinish(c);
	mde_testdb_drop("mdetest_archive_cache");
	c = mde_fresh_db(cfg, "mdetest_archive_cache", db, sizeof db);
	fx_clear_reqs(x);
	mde_cli_must(cfg, db, BF);
	assert_int_equal(zip_gets(), 0);
	assert_same(refc, c, NULL);
	/* a damaged cached file is downloaded again, never used */
	assert_int_equal(mde_test_sh(NULL, 0, NULL, 0, "truncate -s 100 %s"
				     "/data/futures/um/monthly/klines/BTCUSDT/"
				     "1h/BTCUSDT-1h-2025-03.zip", cache), 0);
	PQfinish(c);
	mde_testdb_drop("mdetest_archive_cache");
	c = mde_fresh_db(cfg, "mdetest_archive_cache", db, sizeof db);
	fx_clear_reqs(x);
	mde_cli_must(cfg, db, BF);
	assert_true(zip_gets() >= 1 && zip_gets() <= 2);
	assert_same(refc, c, NULL);
	unsetenv("MDENRICH_ARCHIVE_CACHE");
	PQfinish(c);
	mde_testdb_drop("mdetest_archive_cache");
}

/* A zip (or its CSV) of the fake archive into dir/name. */
static void save(const char *path, const char *name, bool csv_only)
{
	char *body = NULL, *csv = NULL, out[800];
	size_t len = 0, clen = 0;
	const char *ct;
	mde_err e;
	assert_int_equal(fxa_serve(x, path, &body, &len, &ct), 200);
	snprintf(out, sizeof out, "%s/import/%s", dir, name);
	FILE *f = fopen(out, "wb");
	assert_non_null(f);
	if (csv_only) {
		assert_int_equal(mde_ar_unzip((unsigned char *)body, len, &csv,
					      &clen, &e), 0);
		fwrite(csv, 1, clen, f);
	} else {
		fwrite(body, 1, len, f);
	}
	fclose(f);
	free(body);
	free(csv);
}

static void test_import(void **state)
{
	char db[2048], args[1200], d[800];
	PGconn *c = mde_fresh_db(cfg, "mdetest_archive_import", db, sizeof db);
	snprintf(d, sizeof d, "%s/import/sub", dir);
	assert_int_equal(mde_test_sh(NULL, 0, NULL, 0, "mkdir -p %s", d), 0);
	save(KL "2025-02.zip", "BTCUSDT-1h-2025-02.zip", false);
	fxa_set(x, KL "2025-03.zip", FXA_NOHEADER | FXA_MICROS | FXA_CRLF);
	save(KL "2025-03.zip", "sub/BTCUSDT-1h-2025-03.csv", true);
	fxa_clear(x);
	snprintf(args, sizeof args, "import --symbol BTCUSDT --timeframe 1h "
		 "%s/import", dir);
	mde_cli_must(cfg, db, args);
	assert_int_equal(mde_testdb_count(c, "SELECT count(*) FROM "
					     "market_data_v2 WHERE source = "
					     "'binance'"), (28 + 31) * 24);
	/* the candles are the REST ones, text for text */
	const char *q = "SELECT md5(string_agg(concat_ws(',', open_time, open, "
			"high, low, close, volume, quote_volume, trades, "
			"taker_buy_base, taker_buy_quote), '|' ORDER BY "
			"open_time)) FROM market_data_v2 WHERE open_time < "
			"'2025-04-01'";
	char a1[64], a2[64];
	mde_testdb_value(c, q, a1, sizeof a1);
	mde_testdb_value(refc, q, a2, sizeof a2);
	assert_string_equal(a1, a2);
	assert_int_equal(mde_testdb_count(c, "SELECT count(*) FROM "
					     "enrichment_fetch_log WHERE source = "
					     "'import'"), 2);
	/* again: nothing changes */
	mde_cli_must(cfg, db, args);
	assert_int_equal(mde_testdb_count(c, "SELECT rows_written FROM "
					     "enrichment_runs ORDER BY run_id "
					     "DESC LIMIT 1"), 0);
	/* another timeframe: refused, nothing written */
	snprintf(args, sizeof args, "import --symbol ETHUSDT --timeframe 4h "
		 "%s/import", dir);
	assert_int_equal(mde_cli(cfg, db, args), 2);
	assert_non_null(strstr(mde_cli_err, "holds 1h candles"));
	assert_int_equal(mde_testdb_count(c, "SELECT count(*) FROM "
					     "market_data_v2 WHERE symbol = "
					     "'ETHUSDT'"), 0);
	PQfinish(c);
	mde_testdb_drop("mdetest_archive_import");
}

/* compute reads Binance's kline CSV and knows its timeframe. */
static void test_compute_reads_archive_csv(void **state)
{
	char out[4096], err[4096];
	const char *bin = mde_test_bin();
	int rc = mde_test_sh(out, sizeof out, err, sizeof err,
			     "head -200 tests/fixtures/archive/BTCUSDT-1h-2025H1.csv"
			     " | %s compute --timeframe 4h", bin);
	assert_int_equal(rc, 2);
	assert_non_null(strstr(err, "holds 1h candles"));
	rc = mde_test_sh(out, sizeof out, err, sizeof err,
			 "tail -n +2 tests/fixtures/archive/BTCUSDT-1h-2025H1.csv"
			 " | head -100 | %s compute --timeframe 1h | wc -l", bin);
	assert_int_equal(rc, 0);
	assert_int_equal(atoi(out), 101);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_usage),
		cmocka_unit_test(test_kline_csv_quirks),
		cmocka_unit_test(test_metrics_sample),
		cmocka_unit_test(test_archive_equals_rest),
		cmocka_unit_test(test_faults),
		cmocka_unit_test(test_only_outage),
		cmocka_unit_test(test_kill9_resume),
		cmocka_unit_test(test_spot),
		cmocka_unit_test(test_cache_folder),
		cmocka_unit_test(test_import),
		cmocka_unit_test(test_compute_reads_archive_csv),
		cmocka_unit_test(test_republished),
		cmocka_unit_test(test_open_interest_beyond_30_days),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
