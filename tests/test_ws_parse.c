/*
 * test_ws_parse.c - the kline message parser of clients/ws.h, offline:
 * a closed and a forming candle, each malformed field refused with its
 * name, events that are not klines (serverShutdown, a SUBSCRIBE answer).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "ws.h"

#define M 60000

static const char ok[] =
	"{\"stream\":\"btcusdt@kline_1m\",\"data\":{\"e\":\"kline\",\"E\":1,"
	"\"s\":\"BTCUSDT\",\"k\":{\"t\":1700000040000,\"T\":1700000099999,"
	"\"s\":\"BTCUSDT\",\"i\":\"1m\",\"f\":1,\"L\":2,\"o\":\"37000.10\","
	"\"c\":\"37010.00\",\"h\":\"37020.5\",\"l\":\"36990\",\"v\":\"12.5\","
	"\"n\":345,\"x\":%s,\"q\":\"462600.1\",\"V\":\"6.1\",\"Q\":\"225700\","
	"\"B\":\"0\"}}}";

static int parse(const char *msg, mde_ws_kline *k, bool *sd, mde_err *e)
{
	return mde_ws_parse(msg, strlen(msg), M, k, sd, e);
}

static void test_closed_and_forming(void **state)
{
	(void)state;
	char msg[1024];
	mde_ws_kline k;
	bool sd;
	mde_err e = {0};
	snprintf(msg, sizeof msg, ok, "true");
	assert_int_equal(parse(msg, &k, &sd, &e), 0);
	assert_string_equal(k.symbol, "BTCUSDT");
	assert_true(k.closed);
	assert_int_equal(k.open_ms, 1700000040000LL);
	assert_string_equal(k.txt[MDE_OPEN], "37000.10");
	assert_string_equal(k.txt[MDE_LOW], "36990");
	assert_string_equal(k.txt[MDE_TAKER_BUY_QUOTE], "225700");
	assert_int_equal(k.trades, 345);
	snprintf(msg, sizeof msg, ok, "false");
	assert_int_equal(parse(msg, &k, &sd, &e), 0);
	assert_false(k.closed);
}

/* Replaces the first occurrence of from by to in the closed message. */
static int broken(const char *from, const char *to, mde_err *e)
{
	char msg[1024], out[1200];
	snprintf(msg, sizeof msg, ok, "true");
	char *p = strstr(msg, from);
	assert_non_null(p);
	snprintf(out, sizeof out, "%.*s%s%s", (int)(p - msg), msg, to,
		 p + strlen(from));
	mde_ws_kline k;
	bool sd;
	return parse(out, &k, &sd, e);
}

static void test_malformed_fields(void **state)
{
	(void)state;
	static const struct {
		const char *from, *to, *says;
	} cases[] = {
		{"\"o\":\"37000.10\"", "\"o\":\"37x00.10\"", "\"o\""},
		{"\"c\":\"37010.00\"", "\"c\":37010.00", "\"c\""},
		{"\"Q\":\"225700\"", "\"Q\":\"\"", "\"Q\""},
		{"\"n\":345", "\"n\":\"many\"", "\"n\""},
		{"\"x\":true", "\"x\":\"true\"", "\"x\""},
		{"\"T\":1700000099999", "\"T\":1700000100000", "\"T\""},
		{"\"i\":\"1m\"", "\"i\":\"5m\"", "\"i\""},
		{"\"s\":\"BTCUSDT\",\"i\"", "\"s\":\"ETHUSDT\",\"i\"", "\"s\""},
		{"\"v\":\"12.5\",", "", "\"v\""},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		mde_err e = {0};
		assert_int_equal(broken(cases[i].from, cases[i].to, &e),
				 MDE_EPARSE);
		if (!strstr(e.msg, cases[i].says))
			fail_msg("case %zu: \"%s\" does not name %s", i, e.msg,
				 cases[i].says);
	}
	mde_err e = {0};
	mde_ws_kline k;
	bool sd;
	assert_int_equal(parse("{\"stream\":", &k, &sd, &e), MDE_EPARSE);
}

static void test_other_events(void **state)
{
	(void)state;
	mde_ws_kline k;
	bool sd;
	mde_err e = {0};
	assert_int_equal(parse("{\"e\":\"serverShutdown\",\"E\":1}", &k, &sd,
			       &e), MDE_ENOTFOUND);
	assert_true(sd);
	assert_int_equal(parse("{\"stream\":\"x\",\"data\":{\"e\":"
			       "\"serverShutdown\"}}", &k, &sd, &e),
			 MDE_ENOTFOUND);
	assert_true(sd);
	assert_int_equal(parse("{\"result\":null,\"id\":1}", &k, &sd, &e),
			 MDE_ENOTFOUND);
	assert_false(sd);
	assert_int_equal(parse("{\"stream\":\"btcusdt@depth\",\"data\":{}}",
			       &k, &sd, &e), MDE_EPARSE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_closed_and_forming),
		cmocka_unit_test(test_malformed_fields),
		cmocka_unit_test(test_other_events),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
