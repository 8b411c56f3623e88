/* test_log.c - log formats and the promise that secrets are never printed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

static void redacts(const char *in, const char *want)
{
	char out[512];
	mde_redact(in, out, sizeof out);
	assert_string_equal(out, want);
}

static void test_redact_urls(void **state)
{
	redacts("postgresql://bob:s3cret@db.example:5432/md",
		"postgresql://bob:***@db.example:5432/md");
	redacts("postgres://bob:p%40ss@h/md?sslmode=require",
		"postgres://bob:***@h/md?sslmode=require");
	redacts("postgresql://bob@h/md", "postgresql://bob@h/md");
	redacts("postgresql:///md?host=/tmp/x&password=hunter2&port=5",
		"postgresql:///md?host=/tmp/x&password=***&port=5");
	redacts("host=h user=bob password=hunter2 dbname=md",
		"host=h user=bob password=*** dbname=md");
	redacts("host=h password='a b\\'c' dbname=md",
		"host=h password=*** dbname=md");
	redacts("https://api.polygon.io/v2/aggs?apiKey=KEY123&limit=5",
		"https://api.polygon.io/v2/aggs?apiKey=***&limit=5");
	redacts("/x?api_key=KEY123", "/x?api_key=***");
	redacts("", "");
	/* A password with '@' in it: the last '@' ends the userinfo. */
	redacts("postgresql://bob:a@b@h/md", "postgresql://bob:***@h/md");
}

static char *capture(int format, void (*fn)(void))
{
	static char buf[8192];
	memset(buf, 0, sizeof buf);
	FILE *f = fmemopen(buf, sizeof buf - 1, "w");
	mde_log_setup(f, format);
	fn();
	fclose(f);
	mde_log_setup(NULL, -1);
	return buf;
}

static void emit_secret(void)
{
	mde_info("db.connect", "url=\"%s\" note=%s",
		 "postgresql://bob:topsecret@h/db", "topsecret-in-text");
	mde_error("polygon.fail", "error=\"key POLYKEY42 refused\"");
}

static void test_secrets_masked(void **state)
{
	mde_log_add_secret("topsecret");
	mde_log_add_secret("POLYKEY42");
	for (int format = MDE_LOG_TEXT; format <= MDE_LOG_JSON; format++) {
		char *out = capture(format, emit_secret);
		assert_null(strstr(out, "topsecret"));
		assert_null(strstr(out, "POLYKEY42"));
		assert_non_null(strstr(out, "***"));
	}
	mde_log_clear_secrets();
}

static void emit_plain(void)
{
	mde_info("fetch.done", "source=binance symbol=BTCUSDT rows=%d "
		 "error=\"server said \"no\" twice\"", 42);
	mde_debug("hidden", "x=%d", 1);
}

static void test_json_lines(void **state)
{
	mde_log_level = MDE_LOG_INFO;
	char *out = capture(MDE_LOG_JSON, emit_plain);
	assert_non_null(strstr(out, "\"event\":\"fetch.done\""));
	assert_non_null(strstr(out, "\"source\":\"binance\""));
	assert_non_null(strstr(out, "\"rows\":42"));
	/* Inner quotes stay inside one value, escaped. */
	assert_non_null(strstr(out, "\"error\":\"server said \\\"no\\\" twice\""));
	assert_null(strstr(out, "hidden"));
	assert_int_equal(strchr(out, '\n') - out + 1, (long)strlen(out));

	out = capture(MDE_LOG_TEXT, emit_plain);
	assert_non_null(strstr(out, "info  fetch.done source=binance"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_redact_urls),
		cmocka_unit_test(test_secrets_masked),
		cmocka_unit_test(test_json_lines),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
