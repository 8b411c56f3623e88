/* test_time.c - timeframes and the TIME syntax of docs/CLI.md. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "timeutil.h"

static int64_t parse(const char *s)
{
	int64_t ms = 0;
	assert_int_equal(mde_time_parse(s, &ms), 0);
	return ms;
}

static void test_formats(void **state)
{
	/* 2024-01-01T00:00:00Z = 1704067200 s (date -u -d 2024-01-01 +%s) */
	assert_int_equal(parse("2024-01-01"), INT64_C(1704067200000));
	assert_int_equal(parse("2024-01-01T13:00:00Z"),
			 INT64_C(1704067200000) + 13 * 3600000);
	assert_int_equal(parse("2024-01-01 13:00:00"),
			 INT64_C(1704067200000) + 13 * 3600000);
	assert_int_equal(parse("2024-01-01T13:00Z"),
			 INT64_C(1704067200000) + 13 * 3600000);
	assert_int_equal(parse("2024-01-01T15:00:00+02:00"),
			 INT64_C(1704067200000) + 13 * 3600000);
	assert_int_equal(parse("2024-01-01T08:00:00-0500"),
			 INT64_C(1704067200000) + 13 * 3600000);
	/* ElvisTV's pandas stamps keep Binance's millisecond jitter. */
	assert_int_equal(parse("2021-05-01 00:00:00.002000+00:00"),
			 INT64_C(1619827200002));
	assert_int_equal(parse("1735689600015"), INT64_C(1735689600015));
	assert_int_equal(parse("0"), 0);
	assert_int_equal(parse("1969-12-31T23:59:59Z"), -1000);
	assert_int_equal(parse("2024-02-29"), INT64_C(1709164800000));
}

static void test_rejects(void **state)
{
	static const char *bad[] = {"", "2024-13-01", "2024-02-30",
				    "2023-02-29", "2024-01-01T25:00:00Z",
				    "2024-1-1", "yesterday", "12abc",
				    "2024-01-01T13:00:00+2", "2024-01-01X"};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		int64_t ms;
		assert_int_not_equal(mde_time_parse(bad[i], &ms), 0);
	}
}

static void test_format_roundtrip(void **state)
{
	char buf[40];
	assert_string_equal(mde_time_format(INT64_C(1704067200000), buf,
					    sizeof buf),
			    "2024-01-01T00:00:00Z");
	assert_string_equal(mde_time_format(INT64_C(1735689600015), buf,
					    sizeof buf),
			    "2025-01-01T00:00:00.015Z");
	assert_string_equal(mde_time_format(-1000, buf, sizeof buf),
			    "1969-12-31T23:59:59Z");
	for (int64_t t = -INT64_C(86400000) * 800; t < INT64_C(4102444800000);
	     t += INT64_C(86400000) * 37 + 12345) {
		int64_t back;
		assert_int_equal(mde_time_parse(mde_time_format(t, buf,
								sizeof buf),
						&back),
				 0);
		assert_int_equal(back, t);
	}
}

static void test_timeframes(void **state)
{
	static const char *names[] = {"1m", "5m", "15m", "30m", "1h", "4h",
				      "1d"};
	static const int64_t ms[] = {60000, 300000, 900000, 1800000,
				     3600000, 14400000, 86400000};
	for (int i = 0; i < 7; i++) {
		int64_t p;
		assert_int_equal(mde_tf_parse(names[i], &p), 0);
		assert_int_equal(p, ms[i]);
		assert_string_equal(mde_tf_name(ms[i]), names[i]);
	}
	int64_t p;
	assert_int_not_equal(mde_tf_parse("7h", &p), 0);
	assert_int_not_equal(mde_tf_parse("1H", &p), 0);
	assert_int_not_equal(mde_tf_parse("", &p), 0);
	assert_null(mde_tf_name(7200000));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_formats),
		cmocka_unit_test(test_rejects),
		cmocka_unit_test(test_format_roundtrip),
		cmocka_unit_test(test_timeframes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
