/*
 * test_pgcopy.c - the binary COPY encoder against the real server, with
 * PostgreSQL's own numeric parser as the oracle: every decimal text COPYed
 * as binary numeric must read back exactly as `text::numeric` does (the
 * same digits and the same scale), and timestamps, floats and NULLs must
 * round-trip.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pgcopy.h"
#include "testutil.h"

static const char *decimals[] = {
	"93548.80", "0.00010000", "-0.03750000", "16541.77000000", "5744.609",
	"539615914.46460", "0", "0.0", "-0", "000123.4500", ".5", "5.",
	"1.029145e+06", "1.5E+3", "1e-10", "2.5e-7", "99999999", "10000",
	"0.00000001", "12345678901234567890.123456789", "-1.0001",
	"7200.17431640625", "1e+21", "100000000.00000001", "9999.9999",
	"0.0001", "1000.0001",
};

static void test_numeric_matches_postgres(void **state)
{
	char db[2048];
	mde_testdb_create("mdetest_pgcopy", db, sizeof db);
	PGconn *c = mde_testdb_connect(db);
	PQclear(PQexec(c, "CREATE TABLE t (i int4, v numeric, ts timestamptz, "
			  "f float8, s int2, x text)"));
	mde_copybuf b = {0};
	mde_copy_begin(&b);
	size_t n = sizeof decimals / sizeof *decimals;
	for (size_t i = 0; i < n; i++) {
		mde_copy_put16(&b, 6);
		mde_copy_int4(&b, (int32_t)i);
		assert_int_equal(mde_copy_numeric(&b, decimals[i]), 0);
		mde_copy_time(&b, INT64_C(1735689600015) + (int64_t)i);
		mde_copy_float8(&b, i == 3 ? NAN : 1.0 / (double)(i + 1));
		mde_copy_int2(&b, i % 2 ? -1.0 : 1.0);
		mde_copy_text(&b, decimals[i]);
	}
	mde_copy_end(&b);
	assert_false(b.oom);
	PGresult *r = PQexec(c, "COPY t FROM STDIN BINARY");
	assert_int_equal(PQresultStatus(r), PGRES_COPY_IN);
	PQclear(r);
	assert_int_equal(PQputCopyData(c, (const char *)b.p, (int)b.n), 1);
	assert_int_equal(PQputCopyEnd(c, NULL), 1);
	r = PQgetResult(c);
	if (PQresultStatus(r) != PGRES_COMMAND_OK)
		fail_msg("COPY: %s", PQerrorMessage(c));
	PQclear(r);
	while ((r = PQgetResult(c)))
		PQclear(r);
	free(b.p);

	r = PQexec(c, "SELECT i, v::text, x::numeric::text, (extract(epoch "
		      "FROM ts) * 1000)::int8, f, s FROM t ORDER BY i");
	assert_int_equal(PQntuples(r), (int)n);
	for (int i = 0; i < (int)n; i++) {
		if (strcmp(PQgetvalue(r, i, 1), PQgetvalue(r, i, 2)) != 0)
			fail_msg("\"%s\": binary gives %s, postgres parses %s",
				 decimals[i], PQgetvalue(r, i, 1),
				 PQgetvalue(r, i, 2));
		assert_int_equal(strtoll(PQgetvalue(r, i, 3), NULL, 10),
				 INT64_C(1735689600015) + i);
		if (i == 3)
			assert_true(PQgetisnull(r, i, 4));
		else
			assert_true(strtod(PQgetvalue(r, i, 4), NULL) ==
				    1.0 / (double)(i + 1));
		assert_int_equal(atoi(PQgetvalue(r, i, 5)), i % 2 ? -1 : 1);
	}
	PQclear(r);
	PQfinish(c);
	mde_testdb_drop("mdetest_pgcopy");
}

static void test_numeric_rejects_garbage(void **state)
{
	static const char *bad[] = {"", "abc", "1.2.3", "12x", "--1", "1e",
				    "nan", "inf", "1e5000", "0x10"};
	unsigned char buf[256];
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		if (mde_numeric_encode(bad[i], buf, sizeof buf) >= 0)
			fail_msg("\"%s\" was encoded", bad[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_numeric_matches_postgres),
		cmocka_unit_test(test_numeric_rejects_garbage),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
