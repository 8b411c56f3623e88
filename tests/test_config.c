/*
 * test_config.c - docs/CLI.md's precedence (defaults < file < environment <
 * flags), observed end to end through `mdenrich config`, and secrets that
 * never appear in its output.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "testutil.h"

static char dir[] = "/tmp/mdetest-configXXXXXX";
static char out[16384], err[4096];

/* Runs mdenrich in dir with a clean environment plus `env`. */
static int run(const char *env, const char *args)
{
	return mde_test_sh(out, sizeof out, err, sizeof err,
			   "cd %s && env -i PATH=\"$PATH\" %s %s %s", dir, env,
			   mde_test_bin(), args);
}

static void write_file(const char *name, const char *text)
{
	char path[512];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static int setup(void **state)
{
	if (!mkdtemp(dir))
		return -1;
	char cfgdir[600];
	snprintf(cfgdir, sizeof cfgdir, "%s/config", dir);
	char cmd[700];
	snprintf(cmd, sizeof cmd, "mkdir -p %s", cfgdir);
	return system(cmd);
}

static int teardown(void **state)
{
	return mde_test_rmtree(dir);
}

static void test_precedence(void **state)
{
	write_file("a.conf", "[sources]\nbinance_url = http://file\n"
			     "[run]\noverlap = 5\n");
	assert_int_equal(run("", "config"), 0);
	assert_non_null(strstr(out, "binance_url = https://fapi.binance.com\n"));
	assert_non_null(strstr(out, "overlap = 24\n"));

	assert_int_equal(run("", "--config a.conf config"), 0);
	assert_non_null(strstr(out, "binance_url = http://file\n"));
	assert_non_null(strstr(out, "overlap = 5\n"));

	assert_int_equal(run("MDENRICH_BINANCE_FAPI_URL=http://env",
			     "--config a.conf config"), 0);
	assert_non_null(strstr(out, "binance_url = http://env\n"));
	assert_non_null(strstr(out, "overlap = 5\n"));

	/* The flag wins, before or after the subcommand. */
	assert_int_equal(run("MDENRICH_BINANCE_FAPI_URL=http://env",
			     "--config a.conf config --binance-url http://flag"),
			 0);
	assert_non_null(strstr(out, "binance_url = http://flag\n"));
	assert_int_equal(run("MDENRICH_BINANCE_FAPI_URL=http://env",
			     "--binance-url http://flag --config a.conf config"),
			 0);
	assert_non_null(strstr(out, "binance_url = http://flag\n"));
}

static void test_file_lookup(void **state)
{
	write_file("b.conf", "[run]\noverlap = 7\n");
	write_file("config/mdenrich.conf", "[run]\noverlap = 9\n");
	/* config/mdenrich.conf when present ... */
	assert_int_equal(run("", "config"), 0);
	assert_non_null(strstr(out, "overlap = 9\n"));
	/* ... $MDENRICH_CONFIG before it, --config before both. */
	assert_int_equal(run("MDENRICH_CONFIG=b.conf", "config"), 0);
	assert_non_null(strstr(out, "overlap = 7\n"));
	write_file("c.conf", "[run]\noverlap = 11\n");
	assert_int_equal(run("MDENRICH_CONFIG=b.conf", "--config c.conf config"),
			 0);
	assert_non_null(strstr(out, "overlap = 11\n"));
	char path[600];
	snprintf(path, sizeof path, "%s/config/mdenrich.conf", dir);
	unlink(path);
}

static void test_db_url_order(void **state)
{
	assert_int_equal(run("DATABASE_URL=postgresql://a@h1/x", "config"), 0);
	assert_non_null(strstr(out, "url = postgresql://a@h1/x\n"));
	assert_int_equal(run("DATABASE_URL=postgresql://a@h1/x "
			     "MDENRICH_DB_URL=postgresql://b@h2/y", "config"),
			 0);
	assert_non_null(strstr(out, "url = postgresql://b@h2/y\n"));
	assert_int_equal(run("MDENRICH_DB_URL=postgresql://b@h2/y",
			     "--db postgresql://c@h3/z config"), 0);
	assert_non_null(strstr(out, "url = postgresql://c@h3/z\n"));
}

static void test_errors(void **state)
{
	assert_int_equal(run("", "--config missing.conf config"), 2);
	assert_non_null(strstr(err, "missing.conf"));
	assert_int_equal(run("MDENRICH_CONFIG=missing.conf", "config"), 2);

	write_file("bad.conf", "[run]\noverlap = 5\nfrobnicate = 1\n");
	assert_int_equal(run("", "--config bad.conf config"), 2);
	assert_non_null(strstr(err, "bad.conf:3"));
	assert_non_null(strstr(err, "frobnicate"));

	write_file("bad2.conf", "[run]\noverlap = -3\n");
	assert_int_equal(run("", "--config bad2.conf config"), 2);
	assert_non_null(strstr(err, "bad2.conf:2"));

	write_file("bad3.conf", "[universe crypto]\ntimeframe = 2h\n");
	assert_int_equal(run("", "--config bad3.conf config"), 2);
	assert_int_equal(run("MDENRICH_LOG_FORMAT=xml", "config"), 2);
	assert_non_null(strstr(err, "MDENRICH_LOG_FORMAT"));
}

static void test_universes(void **state)
{
	write_file("u.conf", "[universe crypto]\nsymbols = BTCUSDT,ETHUSDT\n"
			     "schedule = hourly\n"
			     "[universe equities]\nsymbols = AAPL\n"
			     "timeframe = 1d\nasset_class = equity\n"
			     "source = polygon\nschedule = nightly\n");
	assert_int_equal(run("", "--config u.conf config"), 0);
	assert_non_null(strstr(out, "[universe crypto]\nsymbols = BTCUSDT,"
				    "ETHUSDT\ntimeframe = 1h\nsource = "
				    "binance\nasset_class = crypto\n"
				    "schedule = hourly\n"));
	assert_non_null(strstr(out, "[universe equities]\nsymbols = AAPL\n"
				    "timeframe = 1d\nsource = polygon\n"
				    "asset_class = equity\nschedule = nightly"));
}

static void test_secrets_not_printed(void **state)
{
	write_file("s.conf", "[database]\nurl = postgresql://bob:FILEPASS@h/db\n");
	assert_int_equal(run("POLYGON_API_KEY=ENVKEY123",
			     "--config s.conf config"), 0);
	assert_null(strstr(out, "FILEPASS"));
	assert_null(strstr(out, "ENVKEY123"));
	assert_non_null(strstr(out, "postgresql://bob:***@h/db"));
	assert_non_null(strstr(out, "polygon_api_key = ***"));
}

static void test_duration(void **state)
{
	int64_t ms;
	assert_int_equal(mde_duration_parse("30d", &ms), 0);
	assert_int_equal(ms, INT64_C(30) * 86400000);
	assert_int_equal(mde_duration_parse("12h", &ms), 0);
	assert_int_equal(ms, INT64_C(12) * 3600000);
	assert_int_equal(mde_duration_parse("1500ms", &ms), 0);
	assert_int_equal(ms, 1500);
	/* A number without a unit is refused (CLI.md). */
	assert_int_not_equal(mde_duration_parse("1500", &ms), 0);
	assert_int_not_equal(mde_duration_parse("0d", &ms), 0);
	assert_int_not_equal(mde_duration_parse("3y", &ms), 0);
	assert_int_not_equal(mde_duration_parse("d", &ms), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_precedence),
		cmocka_unit_test(test_file_lookup),
		cmocka_unit_test(test_db_url_order),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_universes),
		cmocka_unit_test(test_secrets_not_printed),
		cmocka_unit_test(test_duration),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
