/*
 * test_robust_cli.c - memory that follows the data (issue 9, point 8):
 *   - `compute --timeframe 1m` on two candles, 1970-01-01 and yesterday,
 *     runs in a few MB (under a 1 GiB address-space limit without the
 *     sanitizers) and writes both rows;
 *   - the segmented compute gives, bit for bit, what the whole grid gives:
 *     two blocks of candles further apart than the warm-up, computed on
 *     one grid by the library and by the command.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "compute.h"
#include "csvio.h"
#include "engine.h"
#include "testutil.h"
#include "test_features_util.h"
#include "timeutil.h"
#include "validate.h"

#if defined(__SANITIZE_ADDRESS__)
#define MDE_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define MDE_ASAN 1
#endif
#endif

static char dir[] = "/tmp/mdetest-rcliXXXXXX";

static int setup(void **state)
{
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	return mde_test_rmtree(dir);
}

/* Runs the binary's compute on in into out; its exit code, peak RSS. */
static int compute_child(const char *in, const char *out, const char *errp,
			 long *maxrss_kb)
{
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
#ifndef MDE_ASAN
		/* Without the fix this run asked for 8 GB. */
		struct rlimit rl = {1UL << 30, 1UL << 30};
		setrlimit(RLIMIT_AS, &rl);
#endif
		int fo = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		int fe = open(errp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		dup2(fo, 1);
		dup2(fe, 2);
		execl(mde_test_bin(), mde_test_bin(), "compute", "--timeframe",
		      "1m", "--input", in, (char *)NULL);
		_exit(127);
	}
	int st = 0;
	struct rusage ru;
	memset(&ru, 0, sizeof ru);
	assert_int_equal(wait4(pid, &st, 0, &ru), pid);
	*maxrss_kb = ru.ru_maxrss;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void test_two_candles_56_years_apart(void **state)
{
	char in[128], out[128], errp[128];
	snprintf(in, sizeof in, "%s/two.csv", dir);
	snprintf(out, sizeof out, "%s/two.out", dir);
	snprintf(errp, sizeof errp, "%s/two.err", dir);
	int64_t today = mde_floor_div(mde_now_ms() - MDE_DAY_MS, MDE_MINUTE_MS) *
			MDE_MINUTE_MS;
	FILE *f = fopen(in, "w");
	assert_non_null(f);
	fprintf(f, "open_time,open,high,low,close,volume\n"
		   "0,93548.80,93600.00,93500.10,93555.55,12.5\n"
		   "%lld,93548.80,93600.00,93500.10,93555.55,12.5\n",
		(long long)today);
	fclose(f);
	long rss = 0;
	int rc = compute_child(in, out, errp, &rss);
	char *err = tu_slurp(errp, NULL), *text = tu_slurp(out, NULL);
	print_message("exit %d, peak RSS %ld kB\n", rc, rss);
	if (rc != 0)
		fail_msg("exit %d: %s", rc, err);
	assert_true(rss < 200 * 1024);
	/* Both rows, each alone on its grid: no feature, flags 0, q 1. */
	int n = 0;
	for (const char *p = text; (p = strchr(p, '\n')); p++)
		n++;
	assert_int_equal(n, 3);
	char want[128];
	snprintf(want, sizeof want, "\n%lld,93548.80,93600.00,93500.10,"
		 "93555.55,12.5,", (long long)today);
	assert_non_null(strstr(text, want));
	assert_non_null(strstr(text, "\n0,93548.80,93600.00,93500.10,"
				     "93555.55,12.5,,,,,,,,,,,,,,,,,,,,,,,0,1\n"));
	/* The gaps are still counted: every slot between the two. */
	snprintf(want, sizeof want, "gaps=%lld",
		 (long long)(today / MDE_MINUTE_MS - 1));
	assert_non_null(strstr(err, want));
	free(err);
	free(text);
}

/* Random-walk candles at t0 + k * P for k in [k0, k1), text into f. */
static void block(FILE *f, uint64_t *rs, int64_t t0, int64_t P, size_t k0,
		  size_t k1, double *price)
{
	for (size_t k = k0; k < k1; k++) {
		if (tu_unif(rs) < 0.02)
			continue; /* a short gap */
		double o = *price, c = o * (1 + 0.01 * (tu_unif(rs) - 0.5));
		double h = fmax(o, c) * (1 + 0.002 * tu_unif(rs));
		double l = fmin(o, c) * (1 - 0.002 * tu_unif(rs));
		fprintf(f, "%lld,%.2f,%.2f,%.2f,%.2f,%.3f\n",
			(long long)(t0 + (int64_t)k * P), o, h, l, c,
			10 + 5 * tu_unif(rs));
		*price = c;
	}
}

/* Splits line text (up to '\n') into fields; returns their count. */
static int split(const char *p, char out[40][40])
{
	int k = 0;
	size_t n = 0;
	for (; *p && *p != '\n'; p++) {
		if (*p == ',') {
			out[k++][n] = '\0';
			n = 0;
		} else if (n < 39) {
			out[k][n++] = *p;
		}
	}
	out[k++][n] = '\0';
	return k;
}

static void check_same(const char *text, const mde_series *s,
		       const mde_frame *fr)
{
	const char *p = strchr(text, '\n') + 1; /* past the header */
	size_t rows = 0;
	for (size_t i = 0; i < s->n; i++) {
		if (!s->valid[i])
			continue;
		assert_true(*p);
		char fl[40][40];
		assert_int_equal(split(p, fl), 6 + MDE_NFEATURES + 2);
		assert_int_equal(strtoll(fl[0], NULL, 10), s->t[i]);
		for (int k = 0; k < MDE_NFEATURES; k++) {
			double want = fr->col[k][i];
			double got = fl[6 + k][0] ? strtod(fl[6 + k], NULL)
						  : NAN;
			if (isnan(want) && isnan(got))
				continue;
			if (memcmp(&want, &got, sizeof want) != 0)
				fail_msg("t=%lld %s: whole grid %.17g, "
					 "segmented %.17g", (long long)s->t[i],
					 mde_column_names[k], want, got);
		}
		p = strchr(p, '\n') + 1;
		rows++;
	}
	if (*p)
		fail_msg("the command wrote more rows than the %zu valid: "
			 "%.80s", rows, p);
	assert_true(rows > 0);
}

static void segments_equal_whole(const char *tf, int64_t P)
{
	size_t W = mde_features_warmup(P, MDE_CRYPTO);
	char in[128], out[128];
	snprintf(in, sizeof in, "%s/seg_%s.csv", dir, tf);
	snprintf(out, sizeof out, "%s/seg_%s.out", dir, tf);
	FILE *f = fopen(in, "w");
	assert_non_null(f);
	fputs("open_time,open,high,low,close,volume\n", f);
	uint64_t rs = 42;
	double price = 100;
	int64_t t0 = INT64_C(946684800000); /* 2000-01-01 */
	size_t a = W + 500, gap = W + 3, b = W / 2, gap2 = W + 1;
	/* Three blocks: apart by just more than the warm-up; the third
	 * starts exactly W + 1 empty slots after the second. */
	block(f, &rs, t0, P, 0, a, &price);
	block(f, &rs, t0, P, a + gap, a + gap + b, &price);
	block(f, &rs, t0, P, a + gap + b + gap2, a + gap + 2 * b + gap2 + 300,
	      &price);
	fclose(f);
	size_t len = 0;
	char *buf = tu_slurp(in, &len);
	mde_csv_candles cc = {0};
	mde_err err = {0};
	assert_int_equal(mde_csv_read_candles(&cc, buf, len, &err), 0);
	mde_validation v = {0};
	tu_validate(&v, &cc.c, P, MDE_CRYPTO);
	mde_frame fr = {0};
	assert_int_equal(mde_features_compute(&fr, &v.series, NULL, &err), 0);

	mde_compute_args args = {.timeframe = tf, .input = in, .output = out};
	fflush(stderr);
	int saved = dup(2), devnull = open("/dev/null", O_WRONLY);
	dup2(devnull, 2);
	int code = mde_compute_run(&args);
	dup2(saved, 2);
	close(saved);
	close(devnull);
	assert_int_equal(code, 0);
	char *text = tu_slurp(out, NULL);
	check_same(text, &v.series, &fr);
	free(text);
	mde_frame_free(&fr);
	mde_validation_free(&v);
	mde_csv_candles_free(&cc);
	free(buf);
}

static void test_segments_equal_whole_grid(void **state)
{
	segments_equal_whole("1h", MDE_HOUR_MS);
	segments_equal_whole("1m", MDE_MINUTE_MS);
	segments_equal_whole("1d", MDE_DAY_MS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_two_candles_56_years_apart),
		cmocka_unit_test(test_segments_equal_whole_grid),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
