/*
 * test_serve.c - `mdenrich serve` against the real server holding a
 * backfill (replay data): every endpoint's answer checked against the
 * database, the errors of API.md (bad symbol, bad time, unknown series,
 * missing or wrong token, no token configured, oversized body, hostile
 * paths and query strings), the features CSV equal to `compute`'s output
 * for the same candles and aux series, a triggered run recorded in
 * enrichment_runs and skipping a series whose lock another session
 * holds, `quality --format html` self-contained, and a clean SIGTERM.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <cjson/cJSON.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "serveutil.h"
#include "storeutil.h"
#include "testutil.h"

#define TOKEN "test-token-0123456789abcdef"

static char dir[] = "/tmp/mdetest-serveXXXXXX";
static char cfg[700], db[2048], serve_log[700];
static PGconn *pg;
static int port;
static pid_t server;

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static int setup(void **state)
{
	if (!mkdtemp(dir))
		return -1;
	char tok[700];
	snprintf(cfg, sizeof cfg, "%s/s.conf", dir);
	snprintf(tok, sizeof tok, "%s/token", dir);
	snprintf(serve_log, sizeof serve_log, "%s/serve.log", dir);
	write_file(cfg, "[run]\nbatch_rows = 500\n"
		   "[universe crypto]\nsymbols = BTCUSDT,ETHUSDT\n"
		   "timeframe = 1h\nsource = replay:data/replay\n"
		   "schedule = hourly\nsince = 2026-06-01\n");
	write_file(tok, TOKEN "\n");
	pg = mde_fresh_db(cfg, "mdetest_serve", db, sizeof db);
	mde_cli_must(cfg, db, "run --schedule hourly --until 2026-08-01");
	mde_cli_must(cfg, db, "backfill --symbols BNBUSDT --timeframe 1h "
		     "--from 2026-07-01 --to 2026-07-20 "
		     "--source replay:data/replay");
	port = mde_free_port();
	const char *extra[] = {"--token-file", tok, NULL};
	server = mde_serve_start(cfg, db, port, serve_log, extra);
	return server > 0 ? 0 : -1;
}

static int teardown(void **state)
{
	if (server > 0) {
		kill(server, SIGTERM);
		mde_wait(server);
	}
	PQfinish(pg);
	mde_testdb_drop("mdetest_serve");
	return mde_test_rmtree(dir);
}

/* GETs path, expects status, returns the parsed JSON (caller frees). */
static cJSON *get_json(const char *path, long want)
{
	mde_http_resp r;
	long st = mde_http(port, "GET", path, NULL, 0, NULL, &r);
	if (st != want)
		fail_msg("GET %s: status %ld, want %ld: %s", path, st, want,
			 r.body);
	cJSON *j = cJSON_Parse(r.body);
	if (!j)
		fail_msg("GET %s: not JSON: %.200s", path, r.body);
	mde_http_free(&r);
	return j;
}

static const char *jstr(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsString(v) ? v->valuestring : "";
}

static double jnum(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsNumber(v) ? v->valuedouble : -1;
}

static void db_value(char *out, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void db_value(char *out, size_t len, const char *fmt, ...)
{
	char sql[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(sql, sizeof sql, fmt, ap);
	va_end(ap);
	mde_testdb_value(pg, sql, out, len);
}

#define ISO(x) "to_char(" x " AT TIME ZONE 'UTC', " \
	"'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"

static void test_status(void **state)
{
	cJSON *a = get_json("/api/v1/enrichment/status", 200);
	assert_int_equal(cJSON_GetArraySize(a),
			 mde_testdb_count(pg, "SELECT count(*) FROM "
					  "enrichment_status"));
	cJSON *o;
	cJSON_ArrayForEach(o, a) {
		char v[128];
		const char *sym = jstr(o, "symbol"), *tf = jstr(o, "timeframe");
		db_value(v, sizeof v, "SELECT rows_total FROM enrichment_status "
			 "WHERE symbol = '%s' AND timeframe = '%s'", sym, tf);
		assert_int_equal((long)jnum(o, "rows_total"), atol(v));
		db_value(v, sizeof v, "SELECT " ISO("last_open_time") " FROM "
			 "enrichment_status WHERE symbol = '%s' AND timeframe "
			 "= '%s'", sym, tf);
		assert_string_equal(jstr(o, "last_open_time"), v);
		db_value(v, sizeof v, "SELECT " ISO("min(open_time)") " FROM "
			 "market_data_v2 WHERE symbol = '%s'", sym);
		assert_string_equal(jstr(o, "first_open_time"), v);
		assert_string_equal(jstr(o, "last_status"), "ok");
		assert_true(jnum(o, "behind_candles") > 0);
		assert_non_null(cJSON_GetObjectItem(o, "last_error"));
		assert_non_null(cJSON_GetObjectItem(o, "last_run_id"));
		assert_string_equal(jstr(o, "asset_class"), "crypto");
	}
	cJSON_Delete(a);
	a = get_json("/api/v1/enrichment/status/btcusdt", 200);
	assert_int_equal(cJSON_GetArraySize(a), 1);
	assert_string_equal(jstr(cJSON_GetArrayItem(a, 0), "symbol"),
			    "BTCUSDT");
	cJSON_Delete(a);
	cJSON_Delete(get_json("/api/v1/enrichment/status/XRPUSDT", 404));
	cJSON *h = get_json("/healthz", 200);
	assert_string_equal(jstr(h, "status"), "ok");
	cJSON_Delete(h);
}

static void test_metrics(void **state)
{
	cJSON *m = get_json("/api/v1/enrichment/metrics", 200);
	assert_int_equal((long)jnum(m, "series"), 3);
	assert_int_equal((long)jnum(m, "rows_total"),
			 mde_testdb_count(pg, "SELECT count(*) FROM "
					  "market_data_v2"));
	cJSON *jobs = cJSON_GetObjectItem(m, "jobs");
	assert_int_equal((long)jnum(jobs, "done"), 1);
	assert_int_equal((long)jnum(jobs, "failed"), 0);
	assert_int_equal((long)jnum(jobs, "cancelled"), 0);
	cJSON *last = cJSON_GetObjectItem(m, "last_run");
	assert_int_equal((long)jnum(last, "run_id"),
			 mde_testdb_count(pg, "SELECT max(run_id) FROM "
					  "enrichment_runs"));
	assert_int_equal((long)jnum(m, "rejected_24h"),
			 mde_testdb_count(pg, "SELECT count(*) FROM "
					  "rejected_candles"));
	assert_int_equal((long)jnum(m, "fetch_errors_24h"),
			 mde_testdb_count(pg, "SELECT count(*) FROM "
					  "enrichment_fetch_log WHERE error IS "
					  "NOT NULL OR http_status >= 400"));
	assert_int_equal((long)jnum(m, "fetch_requests_24h"),
			 mde_testdb_count(pg, "SELECT count(*) FROM "
					  "enrichment_fetch_log"));
	assert_int_equal((long)jnum(m, "corrections_24h"), 0);
	cJSON_Delete(m);
}

static void test_quality(void **state)
{
	cJSON *a = get_json("/api/v1/data/quality/BTCUSDT", 200);
	assert_int_equal(cJSON_GetArraySize(a),
			 mde_testdb_count(pg, "SELECT count(*) FROM "
					  "data_quality_metrics WHERE symbol = "
					  "'BTCUSDT'"));
	char v[64];
	db_value(v, sizeof v, "SELECT max(day)::text FROM data_quality_metrics "
		 "WHERE symbol = 'BTCUSDT'");
	cJSON *first = cJSON_GetArrayItem(a, 0);
	assert_string_equal(jstr(first, "day"), v);
	static const char *cols[] = {"expected", "received", "valid",
				     "rejected", "duplicates", "gaps",
				     "suspicious", "corrections",
				     "completeness", "quality_score",
				     "computed_at", "timeframe"};
	for (size_t k = 0; k < sizeof cols / sizeof *cols; k++)
		assert_non_null(cJSON_GetObjectItem(first, cols[k]));
	db_value(v, sizeof v, "SELECT completeness FROM data_quality_metrics "
		 "WHERE symbol = 'BTCUSDT' AND day = '%s'", jstr(first, "day"));
	assert_true(jnum(first, "completeness") == strtod(v, NULL));
	cJSON_Delete(a);
	a = get_json("/api/v1/data/quality/BTCUSDT?timeframe=1h&since="
		     "2026-07-10&until=2026-07-13T00:00:00Z", 200);
	assert_int_equal(cJSON_GetArraySize(a), 3);
	assert_string_equal(jstr(cJSON_GetArrayItem(a, 0), "day"),
			    "2026-07-12");
	cJSON_Delete(a);
	cJSON_Delete(get_json("/api/v1/data/quality/NOSUCH", 404));
}

/* Follows "next" from path; returns the rows read, checks each page. */
static long read_all_json(const char *path, long page, cJSON **first_row)
{
	char url[1024];
	snprintf(url, sizeof url, "%s", path);
	long total = 0;
	for (int pages = 0; pages < 1000; pages++) {
		cJSON *j = get_json(url, 200);
		cJSON *rows = cJSON_GetObjectItem(j, "rows");
		int n = cJSON_GetArraySize(rows);
		assert_true(n <= page);
		assert_int_equal((long)jnum(j, "count"), n);
		if (!total && first_row)
			*first_row = cJSON_Duplicate(cJSON_GetArrayItem(rows, 0),
						     1);
		total += n;
		const cJSON *next = cJSON_GetObjectItem(j, "next");
		if (!cJSON_IsString(next)) {
			cJSON_Delete(j);
			return total;
		}
		assert_int_equal(n, page);
		snprintf(url, sizeof url, "%s", next->valuestring);
		cJSON_Delete(j);
	}
	fail_msg("too many pages");
	return total;
}

static void test_features_json(void **state)
{
	cJSON *row = NULL;
	long n = read_all_json("/api/v1/market/features/BTCUSDT/1h?limit=500",
			       500, &row);
	assert_int_equal(n, mde_testdb_count(pg, "SELECT count(*) FROM "
					     "market_data_v2 WHERE symbol = "
					     "'BTCUSDT'"));
	char v[128];
	db_value(v, sizeof v, "SELECT close::text FROM market_data_v2 WHERE "
		 "symbol = 'BTCUSDT' ORDER BY open_time LIMIT 1");
	assert_string_equal(jstr(row, "close"), v);
	db_value(v, sizeof v, "SELECT " ISO("min(open_time)") " FROM "
		 "market_data_v2 WHERE symbol = 'BTCUSDT'");
	assert_string_equal(jstr(row, "open_time"), v);
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(row, "sma_20")));
	cJSON_Delete(row);
	/* A float8 parses back to the stored double. */
	cJSON *j = get_json("/api/v1/market/features/BTCUSDT/1h?from="
			    "2026-07-15T05:00:00Z&limit=1", 200);
	cJSON *r0 = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "rows"), 0);
	db_value(v, sizeof v, "SELECT sma_50 FROM market_data_v2 WHERE symbol "
		 "= 'BTCUSDT' AND open_time = '2026-07-15 05:00Z'");
	assert_true(jnum(r0, "sma_50") == strtod(v, NULL));
	db_value(v, sizeof v, "SELECT funding_rate FROM market_data_v2 WHERE "
		 "symbol = 'BTCUSDT' AND open_time = '2026-07-15 05:00Z'");
	assert_true(jnum(r0, "funding_rate") == strtod(v, NULL));
	assert_string_equal(jstr(r0, "source"), "replay");
	cJSON_Delete(j);
	/* Over the cap: 100000 rows at most, and a link to the rest. */
	mde_http_resp r;
	assert_int_equal(mde_http(port, "GET", "/api/v1/market/features/"
				  "BTCUSDT/1h?limit=1000000&format=csv&to="
				  "2026-08-01", NULL, 0, NULL, &r), 200);
	assert_null(strstr(r.headers, "rel=\"next\""));
	mde_http_free(&r);
	assert_int_equal(mde_http(port, "GET", "/api/v1/market/features/"
				  "BTCUSDT/1h?limit=10&format=csv", NULL, 0,
				  NULL, &r), 200);
	assert_non_null(strstr(r.headers, "Link: </api/v1/market/features/"
			       "BTCUSDT/1h?from=2026-06-01T10:00:00Z&limit=10"
			       "&format=csv>; rel=\"next\""));
	mde_http_free(&r);
	cJSON_Delete(get_json("/api/v1/market/features/BTCUSDT/4h", 404));
}

/* Exports a query as CSV with a header to path. */
static void export_csv(const char *path, const char *sql)
{
	char out[256], err[4096], sqlf[900];
	snprintf(sqlf, sizeof sqlf, "%s.sql", path);
	FILE *f = fopen(sqlf, "w");
	assert_non_null(f);
	fprintf(f, "COPY (%s) TO STDOUT WITH CSV HEADER\n", sql);
	fclose(f);
	int rc = mde_test_sh(out, sizeof out, err, sizeof err,
			     "psql \"%s\" -X -q -v ON_ERROR_STOP=1 -f %s > %s",
			     db, sqlf, path);
	if (rc)
		fail_msg("psql export: %s", err);
}

static void test_features_csv_equals_compute(void **state)
{
	char in[800], fu[800], oi[800], ls[800], out[800], api[800];
	snprintf(in, sizeof in, "%s/in.csv", dir);
	snprintf(fu, sizeof fu, "%s/funding.csv", dir);
	snprintf(oi, sizeof oi, "%s/oi.csv", dir);
	snprintf(ls, sizeof ls, "%s/ls.csv", dir);
	snprintf(out, sizeof out, "%s/compute.csv", dir);
	snprintf(api, sizeof api, "%s/api.csv", dir);
	export_csv(in, "SELECT " ISO("open_time") " AS open_time, open, high, "
		   "low, close, volume, quote_volume, trades, taker_buy_base, "
		   "taker_buy_quote FROM market_data_v2 WHERE symbol = "
		   "'BTCUSDT' AND timeframe = '1h' ORDER BY open_time");
	export_csv(fu, "SELECT (extract(epoch FROM funding_time) * 1000)"
		   "::bigint AS funding_time, funding_rate FROM funding_rates "
		   "WHERE symbol = 'BTCUSDT' ORDER BY 1");
	export_csv(oi, "SELECT (extract(epoch FROM ts) * 1000)::bigint AS "
		   "timestamp, sum_open_interest FROM open_interest_hist "
		   "WHERE symbol = 'BTCUSDT' AND period = '1h' ORDER BY 1");
	export_csv(ls, "SELECT (extract(epoch FROM ts) * 1000)::bigint AS "
		   "timestamp, long_short_ratio FROM long_short_ratio_hist "
		   "WHERE symbol = 'BTCUSDT' AND period = '1h' ORDER BY 1");
	char o[256], e[8192];
	int rc = mde_test_sh(o, sizeof o, e, sizeof e, "%s compute --timeframe "
			     "1h --input %s --funding %s --open-interest %s "
			     "--long-short %s --output %s", mde_test_bin(), in,
			     fu, oi, ls, out);
	if (rc)
		fail_msg("compute: %s", e);
	mde_http_resp r;
	assert_int_equal(mde_http(port, "GET", "/api/v1/market/features/"
				  "BTCUSDT/1h?format=csv&limit=100000", NULL, 0,
				  NULL, &r), 200);
	FILE *f = fopen(api, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(r.body, 1, r.len, f), r.len);
	fclose(f);
	mde_http_free(&r);
	rc = mde_test_sh(o, sizeof o, e, sizeof e, "cmp %s %s", out, api);
	if (rc)
		fail_msg("the API's CSV differs from compute's: %s%s", o, e);
	/* And it is not trivially empty: every stored row is there. */
	rc = mde_test_sh(o, sizeof o, NULL, 0, "wc -l < %s", api);
	assert_int_equal(atol(o), 1 + mde_testdb_count(
					      pg, "SELECT count(*) FROM "
						  "market_data_v2 WHERE "
						  "symbol = 'BTCUSDT'"));
}

static void test_jobs_and_runs(void **state)
{
	cJSON *a = get_json("/api/v1/jobs", 200);
	assert_int_equal(cJSON_GetArraySize(a), 1);
	cJSON *j = cJSON_GetArrayItem(a, 0);
	assert_string_equal(jstr(j, "state"), "done");
	assert_string_equal(jstr(cJSON_GetObjectItem(j, "range"), "from"),
			    "2026-07-01T00:00:00Z");
	assert_string_equal(jstr(cJSON_GetObjectItem(j, "range"), "to"),
			    "2026-07-20T00:00:00Z");
	assert_int_equal((long)jnum(j, "candles_expected"), 19 * 24);
	assert_int_equal((long)jnum(j, "candles_done"),
			 mde_testdb_count(pg, "SELECT count(*) FROM "
					  "market_data_v2 WHERE symbol = "
					  "'BNBUSDT'"));
	char path[64];
	snprintf(path, sizeof path, "/api/v1/jobs/%d", (int)jnum(j, "id"));
	cJSON_Delete(a);
	a = get_json(path, 200);
	assert_int_equal((long)jnum(cJSON_GetObjectItem(a, "chunks"), "done"),
			 mde_testdb_count(pg, "SELECT count(*) FROM "
					  "backfill_state WHERE status = "
					  "'done'"));
	cJSON_Delete(a);
	cJSON_Delete(get_json("/api/v1/jobs/999", 404));
	cJSON *r = get_json("/api/v1/runs/1", 200);
	char v[64];
	db_value(v, sizeof v, "SELECT kind FROM enrichment_runs WHERE run_id = 1");
	assert_string_equal(jstr(r, "kind"), v);
	assert_int_equal((long)jnum(r, "rows_written"),
			 mde_testdb_count(pg, "SELECT rows_written FROM "
					  "enrichment_runs WHERE run_id = 1"));
	assert_string_equal(jstr(r, "status"), "ok");
	cJSON_Delete(r);
	cJSON_Delete(get_json("/api/v1/runs/424242", 404));
}

static void test_prometheus(void **state)
{
	mde_http_resp r;
	assert_int_equal(mde_http(port, "GET", "/metrics", NULL, 0, NULL, &r),
			 200);
	assert_non_null(strstr(r.headers, "text/plain; version=0.0.4"));
	char line[200];
	snprintf(line, sizeof line, "\nmdenrich_series_rows{symbol=\"BTCUSDT\","
		 "timeframe=\"1h\"} %lld\n",
		 mde_testdb_count(pg, "SELECT count(*) FROM market_data_v2 "
				  "WHERE symbol = 'BTCUSDT'"));
	assert_non_null(strstr(r.body, line));
	assert_non_null(strstr(r.body, "\nmdenrich_jobs{state=\"done\"} 1\n"));
	assert_non_null(strstr(r.body, "\nmdenrich_series_behind_seconds{"
			       "symbol=\"ETHUSDT\",timeframe=\"1h\"} "));
	assert_non_null(strstr(r.body, "\nmdenrich_series_last_success_"
			       "timestamp_seconds{symbol=\"BNBUSDT\""));
	assert_non_null(strstr(r.body, "\nmdenrich_fetch_requests_total{"
			       "source=\"replay\",status=\"none\"} "));
	assert_non_null(strstr(r.body, "\nmdenrich_rejected_candles_total 0\n"));
	mde_http_free(&r);
}

typedef struct bad_case {
	const char *method, *path, *auth;
	long status;
	const char *says; /* part of the error text */
} bad_case;

static void test_errors(void **state)
{
	static const bad_case cases[] = {
		{"GET", "/api/v1/enrichment/status/%27%3B%20DROP%20TABLE%20"
		 "market_data_v2%3B--", NULL, 400, "bad symbol"},
		{"GET", "/api/v1/market/features/'%3B%20DROP%20TABLE%20"
		 "market_data_v2%3B--/1h", NULL, 400, "bad symbol"},
		{"GET", "/api/v1/market/features/BTCUSDT/1h?from=%27%3B%20DROP"
		 "%20TABLE%20market_data_v2%3B--", NULL, 400, "bad time in from"},
		{"GET", "/api/v1/market/features/BTCUSDT/1h?to=2024-13-45", NULL,
		 400, "bad time in to"},
		{"GET", "/api/v1/market/features/BTCUSDT/2h", NULL, 400,
		 "bad timeframe"},
		{"GET", "/api/v1/market/features/BTCUSDT/1h?limit=-5", NULL, 400,
		 "bad limit"},
		{"GET", "/api/v1/market/features/BTCUSDT/1h?format=xml", NULL,
		 400, "bad format"},
		{"GET", "/api/v1/market/features/BTCUSDT/1h?symbol=x", NULL, 400,
		 "unknown query parameter"},
		{"GET", "/api/v1/market/features/XRPUSDT/1h", NULL, 404,
		 "no series"},
		{"GET", "/api/v1/data/quality/BTCUSDT?since=yesterday", NULL,
		 400, "bad time in since"},
		{"GET", "/api/v1/data/quality/BTCUSDT?timeframe=7m", NULL, 400,
		 "bad timeframe"},
		{"GET", "/api/v1/market/features/../../etc/passwd", NULL, 404,
		 "no such"},
		{"GET", "/api/v1/market/features/..%2F..%2Fetc%2Fpasswd/1h",
		 NULL, 404, "no such"},
		{"GET", "/static/../../etc/passwd", NULL, 404, "no such"},
		{"GET", "/static/..%2F..%2Fetc%2Fpasswd", NULL, 404, "no such"},
		{"GET", "/api/v1/enrichment/status/AAAAAAAAAAAAAAAAAAAAAAAAAAAA"
		 "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", NULL, 404,
		 "no such"},
		{"GET", "/api/v1/runs/1%20OR%201=1", NULL, 400, "bad run id"},
		{"GET", "/api/v1/jobs/-1", NULL, 400, "bad job id"},
		{"DELETE", "/api/v1/enrichment/status", NULL, 405,
		 "not allowed"},
		{"GET", "/api/v1/enrichment/trigger", NULL, 405, "POST"},
		{"POST", "/api/v1/enrichment/status", TOKEN, 405, "only GET"},
		{"POST", "/api/v1/enrichment/trigger", NULL, 401,
		 "missing token"},
		{"POST", "/api/v1/enrichment/trigger", "Bearer wrong", 401,
		 "wrong token"},
		{"POST", "/api/v1/enrichment/trigger", "Bearer " TOKEN "x", 401,
		 "wrong token"},
		{"POST", "/api/v1/enrichment/trigger", "Basic " TOKEN, 401,
		 "missing token"},
	};
	long before = mde_testdb_count(pg, "SELECT count(*) FROM market_data_v2");
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		const bad_case *c = &cases[i];
		mde_http_resp r;
		long st = mde_http(port, c->method, c->path,
				   strcmp(c->method, "POST") ? NULL : "{}", 2,
				   c->auth, &r);
		if (st != c->status || !strstr(r.body, c->says) ||
		    strncmp(r.body, "{\"error\":", 9) != 0)
			fail_msg("%s %s: %ld %s (want %ld, \"%s\")", c->method,
				 c->path, st, r.body, c->status, c->says);
		assert_null(strstr(r.body, TOKEN));
		assert_null(strstr(r.headers, TOKEN));
		assert_null(strstr(r.headers, "Access-Control"));
		mde_http_free(&r);
	}
	/* A body over 64 KiB, with the right token. */
	size_t big = 70 * 1024;
	char *body = malloc(big);
	memset(body, ' ', big);
	mde_http_resp r;
	assert_int_equal(mde_http(port, "POST", "/api/v1/enrichment/trigger",
				  body, big, "Bearer " TOKEN, &r), 413);
	mde_http_free(&r);
	free(body);
	/* A bad body with the right token. */
	assert_int_equal(mde_http(port, "POST", "/api/v1/enrichment/trigger",
				  "{\"symbols\": [\"'; DROP\"], \"timeframe\": "
				  "\"1h\"}", 41, "Bearer " TOKEN, &r), 400);
	mde_http_free(&r);
	assert_int_equal(mde_http(port, "POST", "/api/v1/enrichment/trigger",
				  "{\"symbols\": [\"BTCUSDT\"], \"timeframe\": "
				  "\"1h\", \"source\": \"replay:/etc\"}", 69,
				  "Bearer " TOKEN, &r), 400);
	mde_http_free(&r);
	assert_int_equal(mde_testdb_count(pg, "SELECT count(*) FROM "
					  "market_data_v2"), before);
	/* The token is in no log line either. */
	char o[64];
	assert_int_equal(mde_test_sh(o, sizeof o, NULL, 0, "grep -c '%s' %s",
				     TOKEN, serve_log), 1);
}

/* Waits until run id has finished; returns its JSON. */
static cJSON *wait_run(long id)
{
	char path[64];
	snprintf(path, sizeof path, "/api/v1/runs/%ld", id);
	for (int i = 0; i < 300; i++) {
		cJSON *r = get_json(path, 200);
		if (strcmp(jstr(r, "status"), "running") != 0)
			return r;
		cJSON_Delete(r);
		usleep(100000);
	}
	fail_msg("run %ld did not finish", id);
	return NULL;
}

static long trigger(const char *body, long want)
{
	mde_http_resp r;
	long st = mde_http(port, "POST", "/api/v1/enrichment/trigger", body,
			   strlen(body), "Bearer " TOKEN, &r);
	if (st != want)
		fail_msg("trigger %s: %ld %s", body, st, r.body);
	cJSON *j = cJSON_Parse(r.body);
	long id = (long)jnum(j, "run_id");
	cJSON_Delete(j);
	mde_http_free(&r);
	return id;
}

static void test_trigger(void **state)
{
	long id = trigger("{\"symbols\": [\"BTCUSDT\", \"ETHUSDT\"], "
			  "\"timeframe\": \"1h\", \"until\": \"2026-08-01\"}",
			  202);
	cJSON *r = wait_run(id);
	assert_string_equal(jstr(r, "status"), "ok");
	assert_string_equal(jstr(r, "kind"), "manual");
	assert_int_equal((long)jnum(r, "series_total"), 2);
	assert_true(jnum(r, "rows_unchanged") > 0);
	cJSON_Delete(r);
	char v[64];
	db_value(v, sizeof v, "SELECT kind || ' ' || status FROM "
		 "enrichment_runs WHERE run_id = %ld", id);
	assert_string_equal(v, "manual ok");
	/* Another session holds ETHUSDT's lock: skipped, and recorded. */
	PGconn *other = mde_testdb_connect(db);
	PQclear(PQexec(other, "SELECT pg_advisory_lock(7169125, "
			      "hashtext('ETHUSDT/1h'))"));
	id = trigger("{\"schedule\": \"hourly\", \"until\": \"2026-08-01\"}",
		     202);
	r = wait_run(id);
	assert_string_equal(jstr(r, "kind"), "hourly");
	assert_non_null(strstr(jstr(r, "error"), "skipped"));
	assert_non_null(strstr(jstr(r, "error"), "ETHUSDT 1h"));
	assert_null(strstr(jstr(r, "error"), "BTCUSDT"));
	cJSON_Delete(r);
	assert_int_equal(mde_testdb_count(pg, "SELECT count(*) FROM "
					  "enrichment_compute_log WHERE "
					  "symbol = 'ETHUSDT' AND run_id = "
					  "(SELECT max(run_id) FROM "
					  "enrichment_runs)"), 0);
	PQfinish(other);
	trigger("{\"schedule\": \"weekly\"}", 400);
}

static void test_no_token_refuses_post(void **state)
{
	int p2 = mde_free_port();
	char log2[800];
	snprintf(log2, sizeof log2, "%s/serve2.log", dir);
	setenv("MDENRICH_API_TOKEN", "", 1);
	const char *extra[] = {"--cors-origin", "https://dash.example", NULL};
	pid_t s2 = mde_serve_start(cfg, db, p2, log2, extra);
	assert_true(s2 > 0);
	mde_http_resp r;
	assert_int_equal(mde_http(p2, "POST", "/api/v1/enrichment/trigger",
				  "{}", 2, "Bearer " TOKEN, &r), 403);
	assert_non_null(strstr(r.body, "no API token is configured"));
	mde_http_free(&r);
	/* A CORS origin only when configured (test_errors: none else). */
	assert_int_equal(mde_http(p2, "GET", "/healthz", NULL, 0, NULL, &r),
			 200);
	assert_non_null(strstr(r.headers, "Access-Control-Allow-Origin: "
			       "https://dash.example\r\n"));
	mde_http_free(&r);
	kill(s2, SIGTERM);
	assert_int_equal(mde_wait(s2), 0);
}

static void test_statement_timeout(void **state)
{
	/* Another session locks the table: the query waits, and the 5 s
	 * statement timeout answers 504 instead of holding the request. */
	PGconn *other = mde_testdb_connect(db);
	PQclear(PQexec(other, "BEGIN; LOCK TABLE enrichment_status IN "
			      "ACCESS EXCLUSIVE MODE"));
	mde_http_resp r;
	long st = mde_http(port, "GET", "/api/v1/enrichment/status", NULL, 0,
			   NULL, &r);
	if (st != 504 || !strstr(r.body, "statement timeout"))
		fail_msg("locked table: %ld %s", st, r.body);
	mde_http_free(&r);
	PQclear(PQexec(other, "ROLLBACK"));
	PQfinish(other);
	/* The connection is back in service. */
	cJSON_Delete(get_json("/api/v1/enrichment/status", 200));
}

static void *slow_get(void *arg)
{
	int *p = arg;
	mde_http_resp r;
	mde_http(*p, "GET", "/api/v1/enrichment/status", NULL, 0, NULL, &r);
	mde_http_free(&r);
	return NULL;
}

static void test_too_many_requests(void **state)
{
	/* One request in flight at most: while one waits on a locked
	 * table, the next is answered 429 at once. */
	int p2 = mde_free_port();
	char log2[800];
	snprintf(log2, sizeof log2, "%s/serve4.log", dir);
	const char *extra[] = {"--max-requests", "1", NULL};
	pid_t s4 = mde_serve_start(cfg, db, p2, log2, extra);
	assert_true(s4 > 0);
	PGconn *other = mde_testdb_connect(db);
	PQclear(PQexec(other, "BEGIN; LOCK TABLE enrichment_status IN "
			      "ACCESS EXCLUSIVE MODE"));
	pthread_t t;
	pthread_create(&t, NULL, slow_get, &p2);
	usleep(800000);
	mde_http_resp r;
	assert_int_equal(mde_http(p2, "GET", "/healthz", NULL, 0, NULL, &r),
			 429);
	assert_non_null(strstr(r.body, "too many concurrent requests"));
	mde_http_free(&r);
	PQclear(PQexec(other, "ROLLBACK"));
	pthread_join(t, NULL);
	PQfinish(other);
	assert_int_equal(mde_http(p2, "GET", "/healthz", NULL, 0, NULL, &r),
			 200);
	mde_http_free(&r);
	kill(s4, SIGTERM);
	assert_int_equal(mde_wait(s4), 0);
}

static void test_database_unreachable(void **state)
{
	int p2 = mde_free_port();
	char log2[800], bad[128];
	snprintf(log2, sizeof log2, "%s/serve3.log", dir);
	snprintf(bad, sizeof bad, "host=127.0.0.1 port=%d dbname=x "
		 "password=hunter2secret connect_timeout=2", mde_free_port());
	char listen[32];
	snprintf(listen, sizeof listen, "127.0.0.1:%d", p2);
	pid_t s3 = fork();
	if (s3 == 0) {
		freopen(log2, "a", stdout);
		freopen(log2, "a", stderr);
		execl(mde_test_bin(), mde_test_bin(), "--config", cfg, "--db",
		      bad, "serve", "--listen", listen, (char *)NULL);
		_exit(127);
	}
	mde_http_resp r;
	long st = 0;
	for (int i = 0; i < 100 && st == 0; i++) {
		usleep(100000);
		st = mde_http(p2, "GET", "/healthz", NULL, 0, NULL, &r);
		if (st == 0)
			mde_http_free(&r);
	}
	assert_int_equal(st, 503);
	assert_non_null(strstr(r.body, "\"status\":\"db unreachable\""));
	mde_http_free(&r);
	assert_int_equal(mde_http(p2, "GET", "/api/v1/enrichment/status", NULL,
				  0, NULL, &r), 503);
	assert_null(strstr(r.body, "hunter2"));
	assert_non_null(strstr(r.body, "database unreachable"));
	mde_http_free(&r);
	kill(s3, SIGTERM);
	assert_int_equal(mde_wait(s3), 0);
	char o[64];
	assert_int_equal(mde_test_sh(o, sizeof o, NULL, 0, "grep -c hunter2 %s",
				     log2), 1);
}

static void test_quality_html(void **state)
{
	char path[800], o[256];
	snprintf(path, sizeof path, "%s/quality.html", dir);
	char args[900];
	snprintf(args, sizeof args, "quality --format html > %s", path);
	mde_cli_must(cfg, db, args);
	long ndays = mde_testdb_count(pg, "SELECT least(60, max(day) - "
				      "min(day) + 1) FROM data_quality_metrics");
	long nseries = mde_testdb_count(pg, "SELECT count(DISTINCT (symbol, "
					"timeframe)) FROM data_quality_metrics");
	assert_int_equal(mde_test_sh(o, sizeof o, NULL, 0, "grep -o '<td "
				     "class=\"hm ' %s | wc -l", path), 0);
	assert_int_equal(atol(o), ndays * nseries);
	/* Self-contained: no script or style comes from elsewhere. */
	assert_int_equal(mde_test_sh(o, sizeof o, NULL, 0, "grep -cE '<script "
				     "src|<link rel=\"stylesheet\"|https?://' "
				     "%s", path), 1);
	assert_int_equal(mde_test_sh(o, sizeof o, NULL, 0, "grep -c "
				     "'hm.q10 { background' %s", path), 0);
}

/*
 * Loads url in headless Chromium with every host but the server's
 * unreachable (no DNS, a proxy that goes nowhere, loopback bypassed):
 * mode "--dump-dom" writes the DOM after the scripts ran into out, a
 * "--screenshot=FILE" mode the picture. Fails the test on any console
 * message (errors, failed loads, uncaught exceptions).
 */
static void chromium(const char *mode, const char *url, const char *out)
{
	static int n;
	char prof[800], errf[800], o[256], e[4096];
	snprintf(prof, sizeof prof, "%s/chromium-%d", dir, n);
	snprintf(errf, sizeof errf, "%s/chromium-%d.err", dir, n++);
	int rc = mde_test_sh(o, sizeof o, e, sizeof e,
		"timeout 120 chromium --headless --no-sandbox --disable-gpu "
		"--disable-quic --no-first-run --disable-background-networking "
		"--disable-component-update --disable-sync "
		"--user-data-dir=%s --host-resolver-rules='MAP * ~NOTFOUND, "
		"EXCLUDE 127.0.0.1' --proxy-server=127.0.0.1:9 "
		"--proxy-bypass-list='127.0.0.1' --enable-logging=stderr --v=0 "
		"--window-size=1280,1000 --virtual-time-budget=20000 %s "
		"'http://127.0.0.1:%d%s' > %s 2> %s", prof, mode, port, url,
		out, errf);
	if (rc)
		fail_msg("chromium %s: exit %d", url, rc);
	rc = mde_test_sh(e, sizeof e, NULL, 0, "grep ':CONSOLE' %s", errf);
	if (rc == 0)
		fail_msg("console message on %s: %s", url, e);
}

static long count_in(const char *path, const char *fixed)
{
	char o[64];
	mde_test_sh(o, sizeof o, NULL, 0, "grep -oF '%s' %s | wc -l", fixed,
		    path);
	return atol(o);
}

static void page(const char *name, const char *url, char *dom, size_t len)
{
	const char *build = getenv("MDE_BUILD_DIR");
	char shot[900], o[64];
	snprintf(dom, len, "%s/%s.html", dir, name);
	chromium("--dump-dom", url, dom);
	mde_test_sh(o, sizeof o, NULL, 0, "mkdir -p %s/serve-artifacts",
		    build ? build : "build");
	snprintf(shot, sizeof shot, "--screenshot=%s/serve-artifacts/%s.png",
		 build ? build : "build", name);
	chromium(shot, url, "/dev/null");
	assert_int_equal(mde_test_sh(o, sizeof o, NULL, 0, "test -s %s",
				     shot + 13), 0);
	/* Our script ran, and nothing failed to load. */
	assert_int_equal(count_in(dom, "data-js=\"ready\""), 1);
	assert_int_equal(count_in(dom, "data-js-error"), 0);
}

/* The tables of the pages are HTML from the server: no script needed. */
static void test_pages_without_javascript(void **state)
{
	mde_http_resp r;
	assert_int_equal(mde_http(port, "GET", "/", NULL, 0, NULL, &r), 200);
	assert_non_null(strstr(r.headers, "Content-Type: text/html"));
	assert_non_null(strstr(r.headers, "Content-Security-Policy: "
			       "default-src 'self'"));
	assert_non_null(strstr(r.body, "<table id=\"series\">"));
	assert_non_null(strstr(r.body, "<a href=\"/series/BTCUSDT/1h\">"));
	assert_non_null(strstr(r.body, "<table id=\"jobs\">"));
	assert_null(strstr(r.body, "http://"));
	mde_http_free(&r);
	assert_int_equal(mde_http(port, "GET", "/quality?days=7", NULL, 0, NULL,
				  &r), 200);
	assert_non_null(strstr(r.body, "data-series=\"3\" data-days=\"7\""));
	mde_http_free(&r);
	assert_int_equal(mde_http(port, "GET", "/quality?days=0", NULL, 0, NULL,
				  &r), 400);
	mde_http_free(&r);
	assert_int_equal(mde_http(port, "GET", "/series/BTCUSDT/1h", NULL, 0,
				  NULL, &r), 200);
	assert_non_null(strstr(r.body, "<table id=\"corrections\">"));
	assert_non_null(strstr(r.body, "<table id=\"rejects\">"));
	mde_http_free(&r);
	assert_int_equal(mde_http(port, "GET", "/series/BTCUSDT/4h", NULL, 0,
				  NULL, &r), 404);
	mde_http_free(&r);
	assert_int_equal(mde_http(port, "GET", "/static/dygraph.min.js", NULL,
				  0, NULL, &r), 200);
	assert_true(r.len > 100000);
	assert_non_null(strstr(r.headers, "Content-Type: text/javascript"));
	mde_http_free(&r);
}

static void test_pages_in_chromium(void **state)
{
	char dom[900];
	page("overview", "/", dom, sizeof dom);
	assert_int_equal(count_in(dom, "<tr><td><a href=\"/series/"),
			 mde_testdb_count(pg, "SELECT count(*) FROM "
					  "enrichment_status"));
	assert_int_equal(count_in(dom, "<progress max=\"100\" value=\"100.0\""),
			 1);
	page("quality", "/quality", dom, sizeof dom);
	long ndays = mde_testdb_count(pg, "SELECT least(60, max(day) - "
				      "min(day) + 1) FROM data_quality_metrics");
	long nseries = mde_testdb_count(pg, "SELECT count(DISTINCT (symbol, "
					"timeframe)) FROM data_quality_metrics");
	assert_true(ndays > 30 && nseries == 3);
	assert_int_equal(count_in(dom, "<td class=\"hm "), ndays * nseries);
	assert_int_equal(count_in(dom, "<tr class=\"hm-row\">"), nseries);
	page("series-BTCUSDT-1h", "/series/BTCUSDT/1h", dom, sizeof dom);
	char want[64];
	snprintf(want, sizeof want, "data-chart-points=\"%lld\"",
		 mde_testdb_count(pg, "SELECT count(*) FROM market_data_v2 "
				  "WHERE symbol = 'BTCUSDT'"));
	assert_int_equal(count_in(dom, want), 1);
	assert_int_equal(count_in(dom, "data-gaps=\"0\""), 1);
	/* dygraphs drew both charts (its canvases are in the DOM). */
	assert_true(count_in(dom, "<canvas") >= 4);
}

static void test_chart_draws_gaps(void **state)
{
	/* Two missing candles in ETHUSDT: one gap, drawn as a gap. */
	PQclear(PQexec(pg, "DELETE FROM market_data_v2 WHERE symbol = "
			   "'ETHUSDT' AND open_time IN ('2026-07-02 05:00Z', "
			   "'2026-07-02 06:00Z')"));
	char dom[900], want[64];
	page("series-ETHUSDT-1h-gap", "/series/ETHUSDT/1h", dom, sizeof dom);
	snprintf(want, sizeof want, "data-chart-points=\"%lld\"",
		 mde_testdb_count(pg, "SELECT count(*) FROM market_data_v2 "
				  "WHERE symbol = 'ETHUSDT'"));
	assert_int_equal(count_in(dom, want), 1);
	assert_int_equal(count_in(dom, "data-gaps=\"1\""), 1);
}

static void test_sigterm_exits_0(void **state)
{
	kill(server, SIGTERM);
	assert_int_equal(mde_wait(server), 0);
	server = -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_status),
		cmocka_unit_test(test_metrics),
		cmocka_unit_test(test_quality),
		cmocka_unit_test(test_features_json),
		cmocka_unit_test(test_features_csv_equals_compute),
		cmocka_unit_test(test_jobs_and_runs),
		cmocka_unit_test(test_prometheus),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_trigger),
		cmocka_unit_test(test_no_token_refuses_post),
		cmocka_unit_test(test_statement_timeout),
		cmocka_unit_test(test_database_unreachable),
		cmocka_unit_test(test_too_many_requests),
		cmocka_unit_test(test_quality_html),
		cmocka_unit_test(test_pages_without_javascript),
		cmocka_unit_test(test_pages_in_chromium),
		cmocka_unit_test(test_chart_draws_gaps),
		cmocka_unit_test(test_sigterm_exits_0),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
