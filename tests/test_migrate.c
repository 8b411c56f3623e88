/*
 * test_migrate.c - migrations against the real server: every docs/SCHEMA.md
 * table created, a second run and concurrent runs change nothing, and a
 * failing migration leaves the schema as it was.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "migrate.h"
#include "testutil.h"

static char db[2048], out[16384], err[16384];

static const char *tables[] = {
	"market_data_v2",   "backfill_state",         "data_corrections",
	"rejected_candles", "enrichment_runs",        "enrichment_fetch_log",
	"enrichment_compute_log", "data_quality_metrics", "enrichment_status",
	"schema_migrations",
};

static long long schema_fingerprint(PGconn *c)
{
	return mde_testdb_count(
		c, "SELECT count(*) + sum(attnum) FROM pg_attribute a JOIN "
		   "pg_class r ON r.oid = a.attrelid JOIN pg_namespace n ON "
		   "n.oid = r.relnamespace WHERE n.nspname = 'public'");
}

static void test_migrate_twice(void **state)
{
	mde_testdb_create("mdetest_migrate", db, sizeof db);
	assert_int_equal(mde_test_sh(out, sizeof out, err, sizeof err,
				     "%s --db \"%s\" migrate", mde_test_bin(),
				     db),
			 0);
	PGconn *c = mde_testdb_connect(db);
	for (size_t i = 0; i < sizeof tables / sizeof *tables; i++) {
		char sql[256];
		snprintf(sql, sizeof sql,
			 "SELECT count(*) FROM pg_tables WHERE tablename = '%s'",
			 tables[i]);
		if (mde_testdb_count(c, sql) != 1)
			fail_msg("table %s missing", tables[i]);
	}
	long long applied = mde_testdb_count(c, "SELECT count(*) FROM "
						"schema_migrations");
	assert_int_equal(applied, (long long)mde_nmigrations);
	long long fp = schema_fingerprint(c);

	assert_int_equal(mde_test_sh(out, sizeof out, err, sizeof err,
				     "%s --db \"%s\" migrate", mde_test_bin(),
				     db),
			 0);
	assert_int_equal(mde_testdb_count(c, "SELECT count(*) FROM "
					     "schema_migrations"),
			 applied);
	assert_int_equal(schema_fingerprint(c), fp);
	PQfinish(c);
}

static void test_migrate_concurrently(void **state)
{
	mde_testdb_create("mdetest_migrate", db, sizeof db);
	/* Four at once on an empty database: all exit 0. */
	int rc = mde_test_sh(out, sizeof out, err, sizeof err,
			     "for i in 1 2 3 4; do ( %s --db \"%s\" migrate; "
			     "echo \"rc=$?\" ) & done; wait",
			     mde_test_bin(), db);
	assert_int_equal(rc, 0);
	if (strstr(out, "rc=0") == NULL || strstr(out, "rc=1") ||
	    strstr(out, "rc=2"))
		fail_msg("concurrent migrate: %s / %s", out, err);
	int zeros = 0;
	for (const char *p = out; (p = strstr(p, "rc=0")); p++)
		zeros++;
	assert_int_equal(zeros, 4);
	PGconn *c = mde_testdb_connect(db);
	assert_int_equal(mde_testdb_count(c, "SELECT count(*) FROM "
					     "schema_migrations"),
			 (long long)mde_nmigrations);
	PQfinish(c);
}

static void test_failed_migration_rolls_back(void **state)
{
	mde_testdb_create("mdetest_migrate", db, sizeof db);
	PGconn *c = mde_testdb_connect(db);
	const mde_migration list[] = {
		{1, "good", "CREATE TABLE t_good (x int)"},
		{2, "bad", "CREATE TABLE t_partial (x int);\n"
			   "INSERT INTO t_partial VALUES (1);\n"
			   "SELECT 1 / 0;"},
		{3, "after", "CREATE TABLE t_after (x int)"},
	};
	int applied = -1;
	mde_err e = {0};
	assert_int_equal(mde_migrate_list(c, list, 3, &applied, &e), MDE_EDB);
	assert_int_equal(applied, 1);
	assert_non_null(strstr(e.msg, "division by zero"));
	assert_non_null(strstr(e.msg, "0002_bad"));
	assert_string_equal(e.sqlstate, "22012");
	assert_int_equal(mde_testdb_count(c, "SELECT count(*) FROM pg_tables "
					     "WHERE tablename IN ('t_partial', "
					     "'t_after')"),
			 0);
	assert_int_equal(mde_testdb_count(c, "SELECT count(*) FROM "
					     "schema_migrations"),
			 1);
	/* The lock was released: a fixed list applies the rest. */
	const mde_migration fixed[] = {
		list[0],
		{2, "bad", "CREATE TABLE t_partial (x int)"},
		list[2],
	};
	assert_int_equal(mde_migrate_list(c, fixed, 3, &applied, &e), 0);
	assert_int_equal(applied, 2);
	PQfinish(c);
	mde_testdb_drop("mdetest_migrate");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_migrate_twice),
		cmocka_unit_test(test_migrate_concurrently),
		cmocka_unit_test(test_failed_migration_rolls_back),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
