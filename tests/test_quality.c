/*
 * test_quality.c - the per-day quality metrics and enrichment_status
 * against the real server, and the `status` and `quality` commands.
 *
 * The rows are written directly with SQL in a known pattern, so every
 * metric below is computed by hand:
 *
 * BTCUSDT 1h (crypto), now = 2024-01-04T05:30Z, first stored 01-01 06:00
 *   2023-12-31  before the first stored candle: no row
 *   2024-01-01  slots 06..23 (18); stored all but 10, 11, 15 (15 valid);
 *               rejected: 03:00 (before the first stored candle), 15:00
 *               (by two sources: one slot), 20:00 (but stored: not
 *               rejected) -> rejected 2; flags 12:00 = 1, 13:00 = 3,
 *               14:00 = 2 -> suspicious 2; corrections at 07:00 (twice)
 *               and 08:00 -> 2; duplicates 2 + 1 from the pipeline
 *   2024-01-02  all 24 stored; an old metrics row with duplicates 5
 *               and wrong counts: counts fixed, duplicates kept
 *   2024-01-03  nothing stored: expected 24, gaps 24
 *   2024-01-04  the current day: slots 00..04 closed (5); 00..03 stored
 *   2024-01-05  the future: no row
 * AAPL 1d (equity), bars at 05:00Z
 *   01-02 ok; 01-03 ok; 01-04 suspicious; 01-05 rejected only;
 *   01-08 ok with a correction; weekend and 01-01: no row.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "candles.h"
#include "quality.h"
#include "report.h"
#include "testutil.h"
#include "timeutil.h"

static char db[2048], out[65536], errb[16384];

static void sql(PGconn *c, const char *q)
{
	PGresult *r = PQexec(c, q);
	if (PQresultStatus(r) != PGRES_COMMAND_OK &&
	    PQresultStatus(r) != PGRES_TUPLES_OK)
		fail_msg("%s: %s", q, PQerrorMessage(c));
	PQclear(r);
}

static int64_t ms(const char *iso)
{
	int64_t v = 0;
	assert_int_equal(mde_time_parse(iso, &v), 0);
	return v;
}

/* Runs mdenrich on the test database. */
static int mde(const char *args)
{
	return mde_test_sh(out, sizeof out, errb, sizeof errb,
			   "env -u MDENRICH_CONFIG %s --db \"%s\" %s",
			   mde_test_bin(), db, args);
}

static PGconn *fresh_db(void)
{
	mde_testdb_create("mdetest_quality", db, sizeof db);
	if (mde("migrate") != 0)
		fail_msg("migrate: %s", errb);
	PGconn *c = mde_testdb_connect(db);
	sql(c, "SET TIME ZONE 'UTC'");
	return c;
}

#define CANDLE_COLS                                                   \
	"INSERT INTO market_data_v2 (symbol, timeframe, open_time,"  \
	" asset_class, source, open, high, low, close, volume,"      \
	" validation_flags, feature_version) "

static void load_pattern(PGconn *c)
{
	sql(c, CANDLE_COLS
	    "SELECT 'BTCUSDT', '1h', t, 'crypto', 'binance', 1, 1, 1, 1, 1,"
	    " 0, 1 FROM generate_series(timestamptz '2024-01-01 06:00+00',"
	    " '2024-01-02 23:00+00', interval '1 hour') t "
	    "WHERE t NOT IN ('2024-01-01 10:00+00', '2024-01-01 11:00+00',"
	    " '2024-01-01 15:00+00')");
	sql(c, CANDLE_COLS
	    "SELECT 'BTCUSDT', '1h', t, 'crypto', 'binance', 1, 1, 1, 1, 1,"
	    " 0, 1 FROM generate_series(timestamptz '2024-01-04 00:00+00',"
	    " '2024-01-04 03:00+00', interval '1 hour') t");
	sql(c, "UPDATE market_data_v2 SET validation_flags = CASE open_time"
	       " WHEN '2024-01-01 12:00+00' THEN 1"
	       " WHEN '2024-01-01 13:00+00' THEN 3"
	       " WHEN '2024-01-01 14:00+00' THEN 2 END "
	       "WHERE symbol = 'BTCUSDT' AND open_time IN"
	       " ('2024-01-01 12:00+00', '2024-01-01 13:00+00',"
	       "  '2024-01-01 14:00+00')");
	sql(c, "INSERT INTO rejected_candles (symbol, timeframe, open_time,"
	       " source, raw, reasons) VALUES"
	       " ('BTCUSDT', '1h', '2024-01-01 03:00+00', 'binance', '{}',"
	       "  '{high_low}'),"
	       " ('BTCUSDT', '1h', '2024-01-01 15:00+00', 'binance', '{}',"
	       "  '{high_low}'),"
	       " ('BTCUSDT', '1h', '2024-01-01 15:00+00', 'binance-spot',"
	       "  '{}', '{missing_field}'),"
	       " ('BTCUSDT', '1h', '2024-01-01 20:00+00', 'binance-spot',"
	       "  '{}', '{high_low}'),"
	       " ('ETHUSDT', '1h', '2024-01-01 16:00+00', 'binance', '{}',"
	       "  '{high_low}')");
	sql(c, "INSERT INTO data_corrections (symbol, timeframe, open_time,"
	       " old_revision, new_revision, source) VALUES"
	       " ('BTCUSDT', '1h', '2024-01-01 07:00+00', 1, 2, 'binance'),"
	       " ('BTCUSDT', '1h', '2024-01-01 07:00+00', 2, 3, 'binance'),"
	       " ('BTCUSDT', '1h', '2024-01-01 08:00+00', 1, 2, 'binance'),"
	       " ('BTCUSDT', '4h', '2024-01-01 08:00+00', 1, 2, 'binance')");
	sql(c, "INSERT INTO data_quality_metrics (symbol, timeframe, day,"
	       " expected, received, valid, rejected, duplicates, gaps,"
	       " suspicious, corrections, completeness, quality_score) VALUES"
	       " ('BTCUSDT', '1h', '2024-01-02', 1, 1, 1, 0, 5, 0, 0, 0, 1, 1)");

	sql(c, CANDLE_COLS
	    "SELECT 'AAPL', '1d', d + interval '5 hours', 'equity', 'polygon',"
	    " 1, 1, 1, 1, 1, CASE WHEN d = '2024-01-04' THEN 1 ELSE 0 END, 1"
	    " FROM unnest('{2024-01-02,2024-01-03,2024-01-04,2024-01-08}'"
	    " ::timestamptz[]) d");
	sql(c, "INSERT INTO rejected_candles (symbol, timeframe, open_time,"
	       " source, raw, reasons) VALUES ('AAPL', '1d',"
	       " '2024-01-05 05:00+00', 'polygon', '{}', '{high_low}')");
	sql(c, "INSERT INTO data_corrections (symbol, timeframe, open_time,"
	       " old_revision, new_revision, source) VALUES ('AAPL', '1d',"
	       " '2024-01-08 05:00+00', 1, 2, 'polygon')");
}

typedef struct qrow {
	const char *day;
	int expected, received, valid, rejected, duplicates, gaps,
		suspicious, corrections;
	double completeness, quality; /* NAN = NULL */
} qrow;

static void check_rows(PGconn *c, const char *symbol, const qrow *want,
		       size_t n)
{
	const char *params[1] = {symbol};
	PGresult *r = PQexecParams(
		c,
		"SELECT day::text, expected, received, valid, rejected,"
		" duplicates, gaps, suspicious, corrections, completeness,"
		" quality_score FROM data_quality_metrics WHERE symbol = $1"
		" ORDER BY day",
		1, NULL, params, NULL, NULL, 0);
	assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
	if ((size_t)PQntuples(r) != n) {
		for (int i = 0; i < PQntuples(r); i++)
			fprintf(stderr, "  got %s\n", PQgetvalue(r, i, 0));
		fail_msg("%s: %d rows, want %zu", symbol, PQntuples(r), n);
	}
	for (size_t i = 0; i < n; i++) {
		const qrow *w = &want[i];
		const int ints[] = {w->expected, w->received, w->valid,
				    w->rejected, w->duplicates, w->gaps,
				    w->suspicious, w->corrections};
		static const char *names[] = {
			"expected", "received", "valid", "rejected",
			"duplicates", "gaps", "suspicious", "corrections"};
		if (strcmp(PQgetvalue(r, (int)i, 0), w->day))
			fail_msg("%s row %zu: day %s, want %s", symbol, i,
				 PQgetvalue(r, (int)i, 0), w->day);
		for (int k = 0; k < 8; k++)
			if (atoi(PQgetvalue(r, (int)i, k + 1)) != ints[k])
				fail_msg("%s %s: %s = %s, want %d", symbol,
					 w->day, names[k],
					 PQgetvalue(r, (int)i, k + 1), ints[k]);
		const double dbl[] = {w->completeness, w->quality};
		for (int k = 0; k < 2; k++) {
			bool null = PQgetisnull(r, (int)i, 9 + k);
			if (isnan(dbl[k]) != null ||
			    (!null &&
			     fabs(strtod(PQgetvalue(r, (int)i, 9 + k), NULL) -
				  dbl[k]) > 1e-12))
				fail_msg("%s %s: %s = %s, want %g", symbol,
					 w->day,
					 k ? "quality_score" : "completeness",
					 PQgetvalue(r, (int)i, 9 + k), dbl[k]);
		}
	}
	PQclear(r);
}

static const qrow btc_want[] = {
	{"2024-01-01", 18, 17, 15, 2, 3, 3, 2, 2, 15.0 / 18, 14.0 / 18},
	{"2024-01-02", 24, 24, 24, 0, 5, 0, 0, 0, 1, 1},
	{"2024-01-03", 24, 0, 0, 0, 0, 24, 0, 0, 0, 0},
	{"2024-01-04", 5, 4, 4, 0, 0, 1, 0, 0, 0.8, 0.8},
};
static const qrow aapl_want[] = {
	{"2024-01-02", 1, 1, 1, 0, 0, 0, 0, 0, 1, 1},
	{"2024-01-03", 1, 1, 1, 0, 0, 0, 0, 0, 1, 1},
	{"2024-01-04", 1, 1, 1, 0, 0, 0, 1, 0, 1, 0.5},
	{"2024-01-05", 1, 1, 0, 1, 0, 1, 0, 0, 0, 0},
	{"2024-01-08", 1, 1, 1, 0, 0, 0, 0, 1, 1, 1},
};

static int64_t now_ms;

static void recompute_all(PGconn *c, size_t *btc, size_t *aapl,
			  const mde_day_dups *dups, size_t ndups)
{
	mde_err e = {0};
	if (mde_quality_recompute(btc, c, NULL, "BTCUSDT", "1h", MDE_HOUR_MS,
				  MDE_CRYPTO, ms("2023-12-31T12:00:00Z"),
				  ms("2024-01-05T01:00:00Z"), dups, ndups,
				  NULL, now_ms, &e))
		fail_msg("recompute BTCUSDT: %s", e.msg);
	if (mde_quality_recompute(aapl, c, NULL, "AAPL", "1d", MDE_DAY_MS,
				  MDE_EQUITY, ms("2024-01-01"),
				  ms("2024-01-10"), NULL, 0, NULL, now_ms, &e))
		fail_msg("recompute AAPL: %s", e.msg);
}

static void test_recompute_by_hand(void **state)
{
	PGconn *c = fresh_db();
	load_pattern(c);
	/* The statement must not depend on the session's time zone. */
	sql(c, "SET TIME ZONE 'America/New_York'");
	now_ms = ms("2024-01-04T05:30:00Z");
	const mde_day_dups dups[] = {
		{ms("2024-01-01T02:00:00Z"), 2}, /* any time of the day */
		{ms("2024-01-01"), 1},           /* same day: added up */
		{ms("2024-01-09"), 7},           /* outside the range */
	};

	/* Inside a transaction that rolls back: nothing stays. */
	size_t nb = 0, na = 0;
	sql(c, "BEGIN");
	recompute_all(c, &nb, &na, dups, 3);
	assert_int_equal(nb, 4);
	assert_int_equal(na, 5);
	sql(c, "ROLLBACK");
	assert_int_equal(mde_testdb_count(c, "SELECT count(*) FROM "
					     "data_quality_metrics"),
			 1);

	recompute_all(c, &nb, &na, dups, 3);
	assert_int_equal(nb, 4);
	assert_int_equal(na, 5);
	check_rows(c, "BTCUSDT", btc_want, MDE_ARRAY_LEN(btc_want));
	check_rows(c, "AAPL", aapl_want, MDE_ARRAY_LEN(aapl_want));
	PQfinish(c);
}

/* Rows the caller says it inserted stand for that range: the same metrics
 * as reading them, and the range's stored rows are not read at all. */
static void test_recompute_known(void **state)
{
	PGconn *c = fresh_db();
	load_pattern(c);
	now_ms = ms("2024-01-04T05:30:00Z");
	const mde_day_dups dups[] = {{ms("2024-01-01"), 3}};
	mde_err e = {0};
	/* 12 of 2024-01-02's 24 stored rows known, the others read. */
	const mde_quality_day half[] = {{ms("2024-01-02"), 12, 0}};
	const mde_quality_known k = {ms("2024-01-02T06:00:00Z"),
				     ms("2024-01-02T17:00:00Z"), half, 1};
	if (mde_quality_recompute(NULL, c, NULL, "BTCUSDT", "1h", MDE_HOUR_MS,
				  MDE_CRYPTO, ms("2023-12-31T12:00:00Z"),
				  ms("2024-01-05T01:00:00Z"), dups, 1, &k,
				  now_ms, &e))
		fail_msg("recompute: %s", e.msg);
	check_rows(c, "BTCUSDT", btc_want, MDE_ARRAY_LEN(btc_want));

	/* A known day that disagrees with the table wins: the range was not
	 * read back. */
	const mde_quality_day lie[] = {{ms("2024-01-02"), 11, 1}};
	const mde_quality_known kl = {k.lo_ms, k.hi_ms, lie, 1};
	if (mde_quality_recompute(NULL, c, NULL, "BTCUSDT", "1h", MDE_HOUR_MS,
				  MDE_CRYPTO, ms("2024-01-02"),
				  ms("2024-01-03"), NULL, 0, &kl, now_ms, &e))
		fail_msg("recompute: %s", e.msg);
	qrow want = btc_want[1];
	want.received = want.valid = 23;
	want.gaps = 1;
	want.suspicious = 1;
	want.completeness = 23.0 / 24;
	want.quality = 22.5 / 24;
	check_rows(c, "BTCUSDT", (qrow[]){btc_want[0], want, btc_want[2],
					  btc_want[3]},
		   4);
	PQfinish(c);
}

/* How often the server planned the prepared statement generically and
 * for its values. */
static void plans(PGconn *c, long *generic, long *custom)
{
	PGresult *r = PQexec(c, "SELECT generic_plans, custom_plans FROM "
				"pg_prepared_statements WHERE name = "
				"'mde_quality'");
	assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
	assert_int_equal(PQntuples(r), 1);
	*generic = atol(PQgetvalue(r, 0, 0));
	*custom = atol(PQgetvalue(r, 0, 1));
	PQclear(r);
}

/* Through the statement prepared on the connection, in the caller's
 * transactions as the store runs it: the same rows, on a generic plan
 * (never planned for each batch's values); the flag belongs to the
 * connection (a new one must prepare it again, which is why the store
 * resets it when it reconnects). */
static void test_recompute_prepared(void **state)
{
	PGconn *c = fresh_db();
	load_pattern(c);
	now_ms = ms("2024-01-04T05:30:00Z");
	const mde_day_dups dups[] = {{ms("2024-01-01"), 3}};
	mde_err e = {0};
	bool prepared = false;
	for (int i = 0; i < 7; i++) { /* past the server's five custom plans */
		sql(c, "BEGIN");
		if (mde_quality_recompute(
			    NULL, c, &prepared, "BTCUSDT", "1h", MDE_HOUR_MS,
			    MDE_CRYPTO, ms("2023-12-31T12:00:00Z"),
			    ms("2024-01-05T01:00:00Z"), dups, 1, NULL, now_ms,
			    &e))
			fail_msg("recompute %d: %s", i, e.msg);
		sql(c, "COMMIT");
	}
	assert_true(prepared);
	long generic, custom;
	plans(c, &generic, &custom);
	assert_int_equal(custom, 0);
	assert_int_equal(generic, 7);
	/* the plan mode was the transactions' own */
	PGresult *r = PQexec(c, "SHOW plan_cache_mode");
	assert_string_equal(PQgetvalue(r, 0, 0), "auto");
	PQclear(r);
	check_rows(c, "BTCUSDT", btc_want, MDE_ARRAY_LEN(btc_want));
	PGconn *c2 = mde_testdb_connect(db);
	sql(c2, "BEGIN");
	assert_int_equal(mde_quality_recompute(
				 NULL, c2, &prepared, "BTCUSDT", "1h",
				 MDE_HOUR_MS, MDE_CRYPTO, ms("2024-01-01"),
				 ms("2024-01-02"), NULL, 0, NULL, now_ms, &e),
			 MDE_EDB);
	assert_string_equal(e.sqlstate, "26000");
	sql(c2, "ROLLBACK");
	prepared = false;
	sql(c2, "BEGIN");
	if (mde_quality_recompute(NULL, c2, &prepared, "BTCUSDT", "1h",
					   MDE_HOUR_MS, MDE_CRYPTO,
					   ms("2023-12-31T12:00:00Z"),
					   ms("2024-01-05T01:00:00Z"), dups, 1,
					   NULL, now_ms, &e))
		fail_msg("recompute on a new connection: %s", e.msg);
	sql(c2, "COMMIT");
	check_rows(c2, "BTCUSDT", btc_want, MDE_ARRAY_LEN(btc_want));
	PQfinish(c2);
	PQfinish(c);
}

static void test_second_recompute_writes_nothing(void **state)
{
	PGconn *c = fresh_db();
	load_pattern(c);
	now_ms = ms("2024-01-04T05:30:00Z");
	const mde_day_dups dups[] = {{ms("2024-01-01"), 3}};
	size_t nb = 0, na = 0;
	recompute_all(c, &nb, &na, dups, 1);
	char before[4096], after[4096];
	const char *snap = "SELECT string_agg(symbol || day || ':' || xmin ||"
			   " ':' || computed_at, ',' ORDER BY symbol, day)"
			   " FROM data_quality_metrics";
	mde_testdb_value(c, snap, before, sizeof before);

	/* Same data, no duplicates given: nothing is written at all. */
	/* The counters of pg_stat_xact_* also hold the session's earlier,
	 * not yet flushed transactions (PostgreSQL 15), and are flushed only
	 * between transactions: compare them within one. */
	const char *writes = "SELECT n_tup_upd + n_tup_ins + n_tup_del FROM "
			     "pg_stat_xact_user_tables WHERE relname = "
			     "'data_quality_metrics'";
	sql(c, "BEGIN");
	long long w0 = mde_testdb_count(c, writes);
	recompute_all(c, &nb, &na, NULL, 0);
	assert_int_equal(nb, 0);
	assert_int_equal(na, 0);
	assert_int_equal(mde_testdb_count(c, writes), w0);
	sql(c, "COMMIT");
	mde_testdb_value(c, snap, after, sizeof after);
	assert_string_equal(before, after);
	check_rows(c, "BTCUSDT", btc_want, MDE_ARRAY_LEN(btc_want));

	/* One new candle on 01-03 and duplicates of 01-02 reset to 0:
	 * exactly those two days change. */
	sql(c, CANDLE_COLS "VALUES ('BTCUSDT', '1h', '2024-01-03 05:00+00',"
	       " 'crypto', 'binance', 1, 1, 1, 1, 1, 0, 1)");
	const mde_day_dups reset[] = {{ms("2024-01-02"), 0}};
	recompute_all(c, &nb, &na, reset, 1);
	assert_int_equal(nb, 2);
	assert_int_equal(na, 0);
	qrow want[4];
	memcpy(want, btc_want, sizeof want);
	want[1].duplicates = 0;
	want[2] = (qrow){"2024-01-03", 24, 1, 1, 0, 0, 23, 0, 0,
			 1.0 / 24, 1.0 / 24};
	check_rows(c, "BTCUSDT", want, 4);
	PQfinish(c);
}

static void test_recompute_arguments(void **state)
{
	mde_err e = {0};
	size_t n = 99;
	/* An empty range touches nothing and needs no connection. */
	assert_int_equal(mde_quality_recompute(&n, NULL, NULL, "X", "1h",
					       MDE_HOUR_MS, MDE_CRYPTO, 5, 5,
					       NULL, 0, NULL, 0, &e),
			 0);
	assert_int_equal(n, 0);
	assert_int_equal(mde_quality_recompute(NULL, NULL, NULL, "X", "1h",
					       7 * MDE_HOUR_MS, MDE_CRYPTO,
					       0, 1, NULL, 0, NULL, 0, &e),
			 MDE_EINVAL);
	assert_int_equal(mde_quality_recompute(NULL, NULL, NULL, "X", "1h",
					       MDE_HOUR_MS, 7, 0, 1, NULL, 0,
					       NULL, 0, &e),
			 MDE_EINVAL);
}

static void test_status_refresh(void **state)
{
	PGconn *c = fresh_db();
	load_pattern(c);
	sql(c, "INSERT INTO aux_holes (symbol, kind, period, hole_start,"
	       " hole_end) VALUES ('BTCUSDT', 'open_interest', '1h',"
	       " '2023-01-01', '2023-02-01'), ('BTCUSDT', 'long_short',"
	       " '1h', '2023-01-01', '2023-02-01'), ('ETHUSDT',"
	       " 'long_short', '1h', '2023-01-01', '2023-02-01')");
	mde_err e = {0};
	if (mde_status_refresh(c, "BTCUSDT", "1h", MDE_CRYPTO, "binance", 42,
			       -1, true, "failed", "HTTP 503", &e))
		fail_msg("%s", e.msg);
	const char *q = "SELECT concat_ws('|', asset_class, source,"
			" first_open_time AT TIME ZONE 'UTC',"
			" last_open_time AT TIME ZONE 'UTC', rows_total,"
			" last_run_id, last_status, last_error, aux_holes,"
			" last_run_at > now() - interval '1 minute')"
			" FROM enrichment_status WHERE symbol = 'BTCUSDT'";
	char v[512];
	mde_testdb_value(c, q, v, sizeof v);
	/* 15 + 24 + 4 stored candles. */
	assert_string_equal(v, "crypto|binance|2024-01-01 06:00:00|"
			       "2024-01-04 03:00:00|43|42|failed|HTTP 503|2|t");
	/* No run id and no source: the stored ones stay; NULL error. */
	if (mde_status_refresh(c, "BTCUSDT", "1h", MDE_CRYPTO, NULL, 0, -1,
			       false, "ok", NULL, &e))
		fail_msg("%s", e.msg);
	mde_testdb_value(c, q, v, sizeof v);
	assert_string_equal(v, "crypto|binance|2024-01-01 06:00:00|"
			       "2024-01-04 03:00:00|43|42|ok|2|t");
	/* Rows the caller added are added to the total, without a count:
	 * a row stored behind its back is not seen until it asks (-1). */
	sql(c, "INSERT INTO market_data_v2 (symbol, timeframe, open_time,"
	       " asset_class, source, open, high, low, close, volume,"
	       " feature_version) VALUES ('BTCUSDT', '1h', '2024-01-05',"
	       " 'crypto', 'binance', 1, 1, 1, 1, 1, 1)");
	if (mde_status_refresh(c, "BTCUSDT", "1h", MDE_CRYPTO, NULL, 0, 5,
			       false, "ok", NULL, &e))
		fail_msg("%s", e.msg);
	assert_int_equal(mde_testdb_count(c, "SELECT rows_total FROM "
					     "enrichment_status WHERE symbol ="
					     " 'BTCUSDT'"), 48);
	if (mde_status_refresh(c, "BTCUSDT", "1h", MDE_CRYPTO, NULL, 0, -1,
			       false, "ok", NULL, &e))
		fail_msg("%s", e.msg);
	assert_int_equal(mde_testdb_count(c, "SELECT rows_total FROM "
					     "enrichment_status WHERE symbol ="
					     " 'BTCUSDT'"), 44);
	/* Written by this version, and not forgotten by a failed run. */
	assert_int_equal(mde_testdb_count(c, "SELECT feature_version FROM "
					     "enrichment_status WHERE symbol ="
					     " 'BTCUSDT'"), MDE_FEATURE_VERSION);
	/* A series with nothing stored. */
	if (mde_status_refresh(c, "SOLUSDT", "1h", MDE_CRYPTO, "binance", 43,
			       0, true, "failed", "boom", &e))
		fail_msg("%s", e.msg);
	assert_int_equal(mde_testdb_count(c, "SELECT rows_total FROM "
					     "enrichment_status WHERE symbol ="
					     " 'SOLUSDT' AND first_open_time "
					     "IS NULL"),
			 0);
	assert_int_equal(mde_status_refresh(c, "X", "1h", 5, NULL, 0, 0, true,
					    "ok", NULL, &e),
			 MDE_EINVAL);
	PQfinish(c);
}

/* ---- the commands ------------------------------------------------- */

static void load_status(PGconn *c)
{
	sql(c, "INSERT INTO enrichment_status (symbol, timeframe,"
	       " asset_class, source, first_open_time, last_open_time,"
	       " rows_total, last_run_id, last_run_at, last_status,"
	       " last_error, aux_holes) VALUES"
	       " ('BTCUSDT', '1h', 'crypto', 'binance', '2020-01-01',"
	       "  date_trunc('hour', now()) - interval '1 hour', 100, 7,"
	       "  now(), 'ok', NULL, 0),"
	       " ('ETHUSDT', '1h', 'crypto', 'binance', '2019-01-01',"
	       "  '2020-01-01', 50, 7, now(), 'ok', NULL, 1),"
	       " ('SOLUSDT', '1h', 'crypto', 'binance', NULL, NULL, 0, 7,"
	       "  now(), 'failed', 'HTTP 500 from fapi, \"quoted\"', 0),"
	       " ('AAPL', '1d', 'equity', 'polygon', '2020-01-02',"
	       "  '2024-01-05 05:00+00', 30, 6, now(), 'ok', NULL, 0)");
	/* Job 1 done; 2 failed; 3 running (live lease); 4 interrupted:
	 * chunk 1 at 4 days of 10 with a dead lease, chunk 2 pending. */
	sql(c, "INSERT INTO backfill_jobs (symbols, timeframe, asset_class,"
	       " source, range_start, range_end, chunk_ms) VALUES"
	       " ('{BTCUSDT}', '1h', 'crypto', 'binance', '2023-01-01',"
	       "  '2023-01-11', 864000000),"
	       " ('{BTCUSDT,ETHUSDT}', '1h', 'crypto', 'binance',"
	       "  '2023-01-01', '2023-01-11', 864000000),"
	       " ('{ETHUSDT}', '1h', 'crypto', 'binance', '2023-01-01',"
	       "  '2023-01-21', 864000000),"
	       " ('{SOLUSDT}', '1h', 'crypto', 'binance', '2023-01-01',"
	       "  '2023-01-21', 864000000)");
	sql(c, "INSERT INTO backfill_state (job_id, chunk_no, symbol,"
	       " timeframe, asset_class, source, range_start, range_end,"
	       " cursor, status, last_error, lease_owner, lease_expires_at)"
	       " VALUES"
	       " (1, 0, 'BTCUSDT', '1h', 'crypto', 'binance', '2023-01-01',"
	       "  '2023-01-11', '2023-01-10 23:00', 'done', NULL, NULL, NULL),"
	       " (2, 0, 'BTCUSDT', '1h', 'crypto', 'binance', '2023-01-01',"
	       "  '2023-01-11', '2023-01-10 23:00', 'done', NULL, NULL, NULL),"
	       " (2, 1, 'ETHUSDT', '1h', 'crypto', 'binance', '2023-01-01',"
	       "  '2023-01-11', NULL, 'failed', 'HTTP 400: bad symbol', NULL,"
	       "  NULL),"
	       " (3, 0, 'ETHUSDT', '1h', 'crypto', 'binance', '2023-01-01',"
	       "  '2023-01-11', '2023-01-01 23:00', 'running', NULL,"
	       "  'hostA:123', now() + interval '1 hour'),"
	       " (3, 1, 'ETHUSDT', '1h', 'crypto', 'binance', '2023-01-11',"
	       "  '2023-01-21', NULL, 'pending', NULL, NULL, NULL),"
	       " (4, 0, 'SOLUSDT', '1h', 'crypto', 'binance', '2023-01-01',"
	       "  '2023-01-11', '2023-01-04 23:00', 'running',"
	       "  'connection lost', 'hostB:9', now() - interval '1 minute'),"
	       " (4, 1, 'SOLUSDT', '1h', 'crypto', 'binance', '2023-01-11',"
	       "  '2023-01-21', NULL, 'pending', NULL, NULL, NULL)");
}

/* The line of out that starts with prefix (after spaces), as an index of
 * lines, or -1. */
static int line_of(const char *text, const char *prefix)
{
	int n = 0;
	for (const char *p = text; *p; n++) {
		while (*p == ' ')
			p++;
		if (strncmp(p, prefix, strlen(prefix)) == 0)
			return n;
		p = strchr(p, '\n');
		if (!p)
			break;
		p++;
	}
	return -1;
}

static void test_status_command(void **state)
{
	PGconn *c = fresh_db();
	load_status(c);

	assert_int_equal(mde("status"), 0);
	int sol = line_of(out, "SOLUSDT"), eth = line_of(out, "ETHUSDT"),
	    aapl = line_of(out, "AAPL"), btc = line_of(out, "BTCUSDT");
	if (!(sol >= 0 && sol < eth && eth < aapl && aapl < btc))
		fail_msg("series not worst first:\n%s", out);
	assert_non_null(strstr(out, "SYMBOL"));
	assert_non_null(strstr(out, "no data"));
	assert_non_null(strstr(out, "HTTP 500 from fapi"));
	int j2 = line_of(out, "2  failed"), j4 = line_of(out, "4  interrupted"),
	    j3 = line_of(out, "3  running"), j1 = line_of(out, "1  done");
	if (!(j2 > btc && j2 < j4 && j4 < j3 && j3 < j1))
		fail_msg("jobs not worst first:\n%s", out);
	assert_non_null(strstr(out, "20.0% (96/480)"));
	assert_non_null(strstr(out, "1/0/0/1 of 2"));
	assert_non_null(strstr(out, "hostA:123"));

	assert_int_equal(mde("status --format json"), 0);
	cJSON *doc = cJSON_Parse(out);
	if (!doc)
		fail_msg("status json does not parse:\n%s", out);
	cJSON *series = cJSON_GetObjectItem(doc, "series");
	assert_int_equal(cJSON_GetArraySize(series), 4);
	cJSON *s0 = cJSON_GetArrayItem(series, 0), *s1 =
		cJSON_GetArrayItem(series, 1);
	assert_string_equal(cJSON_GetObjectItem(s0, "symbol")->valuestring,
			    "SOLUSDT");
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(s0, "behind_candles")));
	assert_string_equal(
		cJSON_GetObjectItem(s0, "last_error")->valuestring,
		"HTTP 500 from fapi, \"quoted\"");
	assert_string_equal(cJSON_GetObjectItem(s1, "symbol")->valuestring,
			    "ETHUSDT");
	assert_true(cJSON_GetObjectItem(s1, "behind_candles")->valuedouble >
		    30000);
	assert_int_equal(cJSON_GetObjectItem(s1, "rows_total")->valueint, 50);
	assert_int_equal(cJSON_GetObjectItem(s1, "aux_holes")->valueint, 1);
	cJSON *btcj = cJSON_GetArrayItem(series, 3);
	assert_true(cJSON_GetObjectItem(btcj, "behind_candles")->valuedouble
		    <= 1);
	cJSON *jobs = cJSON_GetObjectItem(doc, "backfill_jobs");
	assert_int_equal(cJSON_GetArraySize(jobs), 4);
	static const int order[] = {2, 4, 3, 1};
	static const char *st[] = {"failed", "interrupted", "running", "done"};
	for (int i = 0; i < 4; i++) {
		cJSON *j = cJSON_GetArrayItem(jobs, i);
		assert_int_equal(cJSON_GetObjectItem(j, "job_id")->valueint,
				 order[i]);
		assert_string_equal(
			cJSON_GetObjectItem(j, "status")->valuestring, st[i]);
	}
	cJSON *j2j = cJSON_GetArrayItem(jobs, 0), *j4j =
		cJSON_GetArrayItem(jobs, 1);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(j2j,
								"symbols")),
			 2);
	assert_string_equal(
		cJSON_GetObjectItem(j2j, "last_error")->valuestring,
		"HTTP 400: bad symbol");
	cJSON *ch = cJSON_GetObjectItem(j2j, "chunks");
	assert_int_equal(cJSON_GetObjectItem(ch, "done")->valueint, 1);
	assert_int_equal(cJSON_GetObjectItem(ch, "failed")->valueint, 1);
	assert_true(fabs(cJSON_GetObjectItem(j4j, "progress")->valuedouble -
			 0.2) < 1e-12);
	assert_int_equal(cJSON_GetObjectItem(j4j, "candles_done")->valueint,
			 96);
	assert_int_equal(cJSON_GetObjectItem(j4j, "expired_leases")->valueint,
			 1);
	assert_int_equal(cJSON_GetObjectItem(j4j, "active_leases")->valueint,
			 0);
	cJSON_Delete(doc);
	PQfinish(c);
}

static void test_quality_command(void **state)
{
	PGconn *c = fresh_db();
	load_pattern(c);
	now_ms = ms("2024-01-04T05:30:00Z");
	const mde_day_dups dups[] = {{ms("2024-01-01"), 3}};
	size_t nb, na;
	recompute_all(c, &nb, &na, dups, 1);

	/* Worst first: quality 0 (01-05 AAPL before 01-03 BTC: same
	 * quality and completeness, later day first), then 0.5, 0.778,
	 * 0.8, then the perfect days, most recent first (then by symbol). */
	static const char *order[] = {
		"AAPL,1d,2024-01-05",    "BTCUSDT,1h,2024-01-03",
		"AAPL,1d,2024-01-04",    "BTCUSDT,1h,2024-01-01",
		"BTCUSDT,1h,2024-01-04", "AAPL,1d,2024-01-08",
		"AAPL,1d,2024-01-03",    "AAPL,1d,2024-01-02",
		"BTCUSDT,1h,2024-01-02"};
	/* The default window is the last 7 days: these are older. */
	assert_int_equal(mde("quality --format csv"), 0);
	assert_null(strstr(out, "2024-01"));
	assert_int_equal(mde("quality --since 2024-01-01 --format csv"), 0);
	const char *hdr = "symbol,timeframe,day,expected,received,valid,"
			  "rejected,duplicates,gaps,suspicious,corrections,"
			  "completeness,quality_score,computed_at\n";
	assert_memory_equal(out, hdr, strlen(hdr));
	const char *p = out + strlen(hdr);
	for (size_t i = 0; i < MDE_ARRAY_LEN(order); i++) {
		if (strncmp(p, order[i], strlen(order[i])))
			fail_msg("csv row %zu: want %s in\n%s", i, order[i],
				 out);
		p = strchr(p, '\n') + 1;
	}
	assert_string_equal(p, "");
	assert_non_null(strstr(out, "BTCUSDT,1h,2024-01-01,18,17,15,2,3,3,2,"
				    "2,0.8333333333333334,0.7777777777777778,"));

	/* Filters: symbol, timeframe, since (day of the given time). */
	assert_int_equal(mde("quality --symbol BTCUSDT --timeframe 1h "
				 "--since 2024-01-02T13:00:00Z --format csv"),
			 0);
	assert_non_null(strstr(out, "BTCUSDT,1h,2024-01-03"));
	assert_non_null(strstr(out, "BTCUSDT,1h,2024-01-02"));
	assert_null(strstr(out, "2024-01-01"));
	assert_null(strstr(out, "AAPL"));
	assert_int_equal(mde("quality --timeframe 4h --format csv"), 0);
	assert_string_equal(out, hdr);

	assert_int_equal(mde("quality --since 20240101"), 0);
	assert_int_equal(line_of(out, "Data quality of every series, days "
				 "since 2024-01-01, worst first:"), 0);
	assert_int_equal(line_of(out, "SYMBOL"), 1);
	assert_true(line_of(out, "AAPL     1d  2024-01-05") == 3);
	assert_non_null(strstr(out, "0.7778"));
	/* An unknown symbol: said so, with the series there are. */
	assert_int_equal(mde("quality --symbol NOPE"), 2);
	assert_non_null(strstr(errb, "no series NOPE"));
	assert_non_null(strstr(errb, "AAPL 1d, BTCUSDT 1h"));

	assert_int_equal(mde("quality --format json --symbol AAPL --since "
			     "2024-01-01"), 0);
	cJSON *doc = cJSON_Parse(out);
	if (!doc)
		fail_msg("quality json does not parse:\n%s", out);
	cJSON *rows = cJSON_GetObjectItem(doc, "rows");
	assert_int_equal(cJSON_GetArraySize(rows), 5);
	cJSON *r0 = cJSON_GetArrayItem(rows, 0), *r1 =
		cJSON_GetArrayItem(rows, 1);
	assert_string_equal(cJSON_GetObjectItem(r0, "day")->valuestring,
			    "2024-01-05");
	assert_int_equal(cJSON_GetObjectItem(r0, "rejected")->valueint, 1);
	assert_int_equal(cJSON_GetObjectItem(r0, "gaps")->valueint, 1);
	assert_true(cJSON_GetObjectItem(r1, "quality_score")->valuedouble ==
		    0.5);
	assert_string_equal(cJSON_GetObjectItem(
				    cJSON_GetObjectItem(doc, "filters"),
				    "symbol")->valuestring,
			    "AAPL");
	cJSON_Delete(doc);
	PQfinish(c);
}

static void test_command_errors(void **state)
{
	/* No schema: a clear message and exit 1. */
	mde_testdb_create("mdetest_quality", db, sizeof db);
	assert_int_equal(mde("status"), 1);
	assert_non_null(strstr(errb, "mdenrich migrate"));
	assert_int_equal(mde("quality"), 1);
	assert_non_null(strstr(errb, "mdenrich migrate"));
	/* Unreachable: exit 1, the URL without its password. */
	assert_int_equal(mde_test_sh(out, sizeof out, errb, sizeof errb,
				     "env -u MDENRICH_CONFIG %s --db "
				     "postgresql://bob:Sekr3t@127.0.0.1:1/x "
				     "quality",
				     mde_test_bin()),
			 1);
	assert_non_null(strstr(errb, "postgresql://bob:***@127.0.0.1:1/x"));
	assert_null(strstr(errb, "Sekr3t"));
	mde_testdb_drop("mdetest_quality");
}

static void test_report_helpers(void **state)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	const char *fields[] = {"plain", "a,b", "say \"hi\"", "two\nlines",
				" pad", "", NULL};
	for (size_t i = 0; i < MDE_ARRAY_LEN(fields); i++) {
		if (i)
			fputc(',', f);
		mde_csv_field(f, fields[i]);
	}
	fclose(f);
	assert_string_equal(buf, "plain,\"a,b\",\"say \"\"hi\"\"\","
				 "\"two\nlines\",\" pad\",,");
	free(buf);

	char clip[16];
	assert_string_equal(mde_clip("short", 10, clip, sizeof clip), "short");
	assert_string_equal(mde_clip("a long message", 8, clip, sizeof clip),
			    "a lon...");
	assert_string_equal(mde_clip("tab\there", 20, clip, sizeof clip),
			    "tab here");
	/* "é" is two bytes and one column; never split. */
	assert_string_equal(mde_clip("\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", 3,
				     clip, sizeof clip),
			    "...");
	assert_string_equal(mde_clip("\xc3\xa9\xc3\xa9\xc3\xa9", 3, clip,
				     sizeof clip),
			    "\xc3\xa9\xc3\xa9\xc3\xa9");
	assert_string_equal(mde_clip(NULL, 3, clip, sizeof clip), "");

	static const char *const heads[] = {"A", "NUM"};
	mde_table t;
	mde_table_init(&t, heads, "lr", 2);
	const char *r1[] = {"x\xc3\xa9", "1"}, *r2[] = {"yy\nz", "100"};
	assert_int_equal(mde_table_add(&t, r1), 0);
	assert_int_equal(mde_table_add(&t, r2), 0);
	buf = NULL;
	f = open_memstream(&buf, &len);
	mde_table_print(&t, f);
	fclose(f);
	assert_string_equal(buf, "A     NUM\n"
				 "----  ---\n"
				 "x\xc3\xa9      1\n"
				 "yy z  100\n");
	free(buf);
	mde_table_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_report_helpers),
		cmocka_unit_test(test_recompute_arguments),
		cmocka_unit_test(test_recompute_by_hand),
		cmocka_unit_test(test_recompute_known),
		cmocka_unit_test(test_recompute_prepared),
		cmocka_unit_test(test_second_recompute_writes_nothing),
		cmocka_unit_test(test_status_refresh),
		cmocka_unit_test(test_status_command),
		cmocka_unit_test(test_quality_command),
		cmocka_unit_test(test_command_errors),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	if (rc == 0)
		mde_testdb_drop("mdetest_quality");
	return rc;
}
