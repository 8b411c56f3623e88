/*
 * test_robust_core.c - core promises behind the retries and the limits:
 *   - mde_err_set sets every field: nothing of an earlier error survives;
 *   - the backoff jitter differs between processes (seeded per process,
 *     also in a child after fork) and stays within its bounds;
 *   - mde_sleep_ms wakes on the stop flag;
 *   - rows moved between candle tables (a run of rows, a dropped head, a
 *     compacted table, a file's rows split at a chunk's end) keep their
 *     values, text, times and origin.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "archive_get.h"
#include "candles.h"
#include "mde.h"
#include "proc.h"
#include "stages.h"
#include "config.h"
#include "log.h"
#include "timeutil.h"

/* Row i of a test table: its texts differ from row to row, some NULL. */
static void push_row(mde_candles *c, int i)
{
	char t[MDE_NFIELDS][32];
	mde_candle_in in = {.open_time_ms = (int64_t)i * 60000,
			    .trades = i, .origin = MDE_SRC_BINANCE};
	for (int f = 0; f < MDE_NFIELDS; f++) {
		if ((i + f) % 7 == 0 && f >= MDE_VOLUME)
			continue; /* a NULL field */
		snprintf(t[f], sizeof t[f], "%d.%0*d", 100 + i, f + 1, i % 10);
		in.txt[f] = t[f];
	}
	assert_int_equal(mde_candles_push(c, &in, NULL), 0);
}

/* Row j of a equals row i of b, field for field. */
static void same_row(const mde_candles *a, size_t j, const mde_candles *b,
		     size_t i)
{
	assert_true(a->open_time_ms[j] == b->open_time_ms[i]);
	assert_true(a->trades[j] == b->trades[i]);
	assert_int_equal(a->origin[j], b->origin[i]);
	for (int f = 0; f < MDE_NFIELDS; f++) {
		const char *x = mde_candles_text(a, j, f),
			   *y = mde_candles_text(b, i, f);
		assert_true((x == NULL) == (y == NULL));
		if (x)
			assert_string_equal(x, y);
		assert_memory_equal(&a->val[f][j], &b->val[f][i],
				    sizeof(double));
	}
}

/* src's rows split at row k's open time into part (a copy of src cut) and
 * after. */
static void split_at(const mde_candles *src, size_t k, mde_candles *part,
		     mde_candles *after)
{
	mde_candles_free(part);
	mde_candles_init(part);
	assert_int_equal(mde_candles_append(part, src), 0);
	assert_true(mde_ar_split_after(part, (int64_t)k * 60000, after));
	assert_int_equal(part->n, k);
	assert_int_equal(after->n, src->n - k);
	for (size_t i = 0; i < k; i++)
		same_row(part, i, src, i);
	for (size_t i = 0; i < src->n - k; i++)
		same_row(after, i, src, k + i);
}

static void test_candle_rows_keep_their_text(void **state)
{
	mde_candles src, dst, cut, after, part;
	mde_candles_init(&src);
	mde_candles_init(&dst);
	mde_candles_init(&cut);
	mde_candles_init(&after);
	mde_candles_init(&part);
	for (int i = 0; i < 100; i++)
		push_row(&src, i);
	push_row(&dst, 500); /* appended after a row of its own */
	assert_int_equal(mde_candles_append_rows(&dst, &src, 30, 70), 0);
	assert_int_equal(dst.n, 41);
	for (size_t i = 0; i < 40; i++)
		same_row(&dst, 1 + i, &src, 30 + i);
	/* a dropped head, then compacted: the text of rows 0..39 is gone */
	assert_int_equal(mde_candles_append(&cut, &src), 0);
	mde_candles_drop_head(&cut, 40);
	mde_candles_compact(&cut);
	assert_int_equal(cut.n, 60);
	assert_int_equal(cut.cap, 60);
	assert_true(cut.text_len < src.text_len * 2 / 3);
	for (size_t i = 0; i < 60; i++)
		same_row(&cut, i, &src, 40 + i);
	/* a file's rows split at a chunk's end: the small tail copied, or
	 * the small head (the table keeping the tail) */
	split_at(&src, 90, &part, &after);
	split_at(&src, 5, &part, &after);
	/* past the last row: nothing moves */
	assert_true(mde_ar_split_after(&part, 99 * 60000, &after));
	assert_int_equal(part.n, 5);
	mde_candles_free(&src);
	mde_candles_free(&dst);
	mde_candles_free(&cut);
	mde_candles_free(&after);
	mde_candles_free(&part);
}

static void test_err_set_resets_every_field(void **state)
{
	mde_err e;
	memset(&e, 0x5a, sizeof e);
	e.http_status = 429;
	e.retry_after_ms = 60000;
	snprintf(e.sqlstate, sizeof e.sqlstate, "40001");
	assert_int_equal(mde_err_set(&e, MDE_EIO, false, "disk %s", "full"),
			 MDE_EIO);
	assert_int_equal(e.code, MDE_EIO);
	assert_false(e.retryable);
	assert_int_equal(e.http_status, 0);
	assert_int_equal(e.retry_after_ms, 0);
	assert_string_equal(e.sqlstate, "");
	assert_string_equal(e.msg, "disk full");
	/* The message may quote the error it replaces. */
	assert_int_equal(mde_err_set(&e, MDE_EDB, true, "again: %s", e.msg),
			 MDE_EDB);
	assert_string_equal(e.msg, "again: disk full");
	assert_true(e.retryable);
}

/* The first five pipeline backoffs of a fresh child process. */
static void child_backoffs(int64_t out[5])
{
	int fd[2];
	assert_int_equal(pipe(fd), 0);
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		int64_t v[5];
		for (int k = 0; k < 5; k++)
			v[k] = mde_pl_backoff_ms(k + 1);
		ssize_t w = write(fd[1], v, sizeof v);
		_exit(w == (ssize_t)sizeof v ? 0 : 1);
	}
	close(fd[1]);
	assert_int_equal(read(fd[0], out, 5 * sizeof *out),
			 (ssize_t)(5 * sizeof *out));
	close(fd[0]);
	waitpid(pid, NULL, 0);
}

static void test_jitter_differs_between_processes(void **state)
{
	/* As a process that seeded rand() (or never did) would: */
	srand(1);
	int64_t a[5], b[5], c[5];
	child_backoffs(a);
	child_backoffs(b);
	child_backoffs(c);
	bool ab = memcmp(a, b, sizeof a) == 0, bc = memcmp(b, c, sizeof b) == 0;
	assert_false(ab && bc);
	assert_false(ab);
	for (int k = 0; k < 5; k++) {
		int64_t base = INT64_C(250) << k;
		assert_true(a[k] >= base && a[k] <= base + base / 2);
	}
}

static void test_backoff_bounds(void **state)
{
	for (int i = 0; i < 1000; i++) {
		int64_t d = mde_backoff_ms(500, 30000, 1 + i % 40);
		assert_true(d >= 500 && d <= 45000);
	}
	/* No overflow for huge attempts or bases. */
	int64_t d = mde_backoff_ms(INT64_MAX, INT64_MAX, 1000);
	assert_true(d >= INT64_MAX / 2);
	assert_true(mde_backoff_ms(1, 8, 200) <= 12);
}

static void test_sleep_wakes_on_stop(void **state)
{
	mde_install_signal_handlers();
	mde_stop_requested = 0;
	fflush(NULL);
	pid_t parent = getpid(), pid = fork();
	if (pid == 0) {
		usleep(200000);
		kill(parent, SIGTERM);
		_exit(0);
	}
	int64_t t0 = mde_mono_ms();
	mde_sleep_ms(60000, &mde_stop_requested);
	int64_t took = mde_mono_ms() - t0;
	waitpid(pid, NULL, 0);
	assert_true(mde_stop_requested);
	assert_true(took < 1500);
	/* Already set: no wait at all. */
	t0 = mde_mono_ms();
	mde_sleep_ms(60000, &mde_stop_requested);
	assert_true(mde_mono_ms() - t0 < 100);
	mde_stop_requested = 0;
}

static void test_time_limits(void **state)
{
	int64_t t = 0;
	static const char *bad[] = {
		"9223372036854775807", "-9223372036854775808",
		"9999999999999999999", "99999999999999999999999",
		"253402300800000", "-62167219200001", "+253402300800000",
		"9999-12-31T23:59:59-01:00", "0000-01-01T00:00+00:01",
	};
	for (size_t i = 0; i < MDE_ARRAY_LEN(bad); i++)
		if (mde_time_parse(bad[i], &t) != MDE_EINVAL)
			fail_msg("accepted %s as %lld", bad[i], (long long)t);
	assert_int_equal(mde_time_parse("253402300799999", &t), 0);
	assert_true(t == MDE_TIME_MAX_MS);
	assert_int_equal(mde_time_parse("9999-12-31T23:59:59.999Z", &t), 0);
	assert_true(t == MDE_TIME_MAX_MS);
	assert_int_equal(mde_time_parse("0000-01-01", &t), 0);
	assert_true(t == MDE_TIME_MIN_MS);
	assert_int_equal(mde_time_parse("-62167219200000", &t), 0);
	assert_true(t == MDE_TIME_MIN_MS);
	assert_int_equal(mde_time_parse("1785542400000", &t), 0);
	assert_true(t == INT64_C(1785542400000));
	char buf[40];
	assert_string_equal(mde_time_format(MDE_TIME_MAX_MS, buf, sizeof buf),
			    "9999-12-31T23:59:59.999Z");
}

static void test_duration_limits(void **state)
{
	int64_t d = 0;
	assert_int_equal(mde_duration_parse("36600d", &d), 0);
	assert_true(d == MDE_DURATION_MAX_MS);
	static const char *bad[] = {"36601d", "9223372036854775807ms",
				    "9223372036854775807", "1000000000000w",
				    "99999999999999999999h", "0d", "-1d"};
	for (size_t i = 0; i < MDE_ARRAY_LEN(bad); i++)
		if (mde_duration_parse(bad[i], &d) != MDE_EINVAL)
			fail_msg("accepted %s as %lld", bad[i], (long long)d);
}

/* One log line of fmt and a string argument, in format f. */
#define log_line(f, out, cap, fmt, v)                                   \
	do {                                                            \
		FILE *m_ = fmemopen(out, cap, "w");                     \
		assert_non_null(m_);                                    \
		mde_log_setup(m_, f);                                   \
		mde_log_write(MDE_LOG_WARN, "t.ev", fmt, v);            \
		fclose(m_);                                             \
		mde_log_setup(NULL, -1);                                \
	} while (0)

static void test_log_values_cannot_forge_fields(void **state)
{
	char line[2048];
	const char *forged = "FOO status=ok run=999";
	log_line(MDE_LOG_JSON, line, sizeof line, "symbols=%s status=failed",
		 forged);
	assert_non_null(strstr(line, "\"symbols\":\"FOO status=ok "
				     "run=999\",\"status\":\"failed\"}"));
	assert_null(strstr(line, "\"run\""));
	log_line(MDE_LOG_TEXT, line, sizeof line, "symbols=%s status=failed",
		 forged);
	assert_non_null(strstr(line, " t.ev symbols=\"FOO status=ok "
				     "run=999\" status=failed\n"));
	/* A quote inside a quoted value cannot end it early. */
	const char *q = "boom\" status=ok x=\"\\";
	log_line(MDE_LOG_JSON, line, sizeof line, "error=\"%s\" status=failed",
		 q);
	assert_non_null(strstr(line, "\"error\":\"boom\\\" status=ok "
				     "x=\\\"\\\\\",\"status\":\"failed\"}"));
	log_line(MDE_LOG_TEXT, line, sizeof line, "error=\"%s\" status=failed",
		 q);
	assert_non_null(strstr(line, "error=\"boom\\\" status=ok "
				     "x=\\\"\\\\\" status=failed"));
	/* Plain values and other conversions are as printf writes them. */
	FILE *m = fmemopen(line, sizeof line, "w");
	mde_log_setup(m, MDE_LOG_TEXT);
	mde_log_write(MDE_LOG_WARN, "t.ev", "a=%s n=%d z=%zu l=%lld f=%.2f "
		      "e=%s p=%5.1f%%", "BTCUSDT", -3, (size_t)7,
		      (long long)INT64_MIN, 2.5, "", 12.25);
	fclose(m);
	mde_log_setup(NULL, -1);
	assert_non_null(strstr(line, " a=BTCUSDT n=-3 z=7 "
				     "l=-9223372036854775808 f=2.50 e=\"\" "
				     "p= 12.2%\n"));
}

static void test_config_values_checked_like_flags(void **state)
{
	mde_config cfg;
	mde_err err = {0};
	assert_int_equal(mde_config_defaults(&cfg), 0);
	static const char *bad[] = {"BTCUSDT);DROP TABLE market_data_v2;--",
				    "FOO status=ok run=999", "btcusdt", "",
				    "BTCUSDT,,ETHUSDT", "BTC USDT",
				    "AVERYLONGSYMBOLNAMEOFMORETHAN32CHARS"};
	for (size_t i = 0; i < MDE_ARRAY_LEN(bad); i++) {
		if (mde_config_set(&cfg, "universe crypto", "symbols", bad[i],
				   &err) != MDE_EINVAL)
			fail_msg("accepted symbols = %s", bad[i]);
		assert_non_null(strstr(err.msg, "bad symbol list"));
	}
	assert_int_equal(mde_config_set(&cfg, "universe crypto", "source",
					 "binance; rm -rf", &err),
			 MDE_EINVAL);
	assert_int_equal(mde_config_set(&cfg, "universe crypto", "symbols",
					 "BTCUSDT,ETHUSDT,EURUSD=X,^GSPC",
					 &err), 0);
	assert_int_equal(mde_config_set(&cfg, "universe crypto", "source",
					 "replay:data/replay", &err), 0);
	assert_int_equal(mde_config_set(&cfg, "run", "chunk", "36601d", &err),
			 MDE_EINVAL);
	mde_config_free(&cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_err_set_resets_every_field),
		cmocka_unit_test(test_candle_rows_keep_their_text),
		cmocka_unit_test(test_jitter_differs_between_processes),
		cmocka_unit_test(test_backoff_bounds),
		cmocka_unit_test(test_sleep_wakes_on_stop),
		cmocka_unit_test(test_time_limits),
		cmocka_unit_test(test_duration_limits),
		cmocka_unit_test(test_log_values_cannot_forge_fields),
		cmocka_unit_test(test_config_values_checked_like_flags),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
