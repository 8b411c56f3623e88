/*
 * test_features_registry.c - the kernel registry (features/features.def)
 * as data: every feature column is written by exactly one kernel, every
 * kernel has its twin, start and warm-up; the starts and warm-ups derived
 * from the kernels' window constants are the numbers they always were; and
 * the debug check of the kernels' writes (features/check.c) catches a
 * kernel that leaves a row unset, writes a column it does not claim or
 * overwrites another kernel's column.
 */
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "test_features_util.h"
#include "timeutil.h"

static void test_each_column_one_kernel(void **state)
{
	int writers[MDE_NFEATURES] = {0};
	for (size_t k = 0; k < mde_nkernels; k++) {
		const mde_kernel *kr = &mde_kernels[k];
		assert_non_null(kr->fn);
		assert_non_null(kr->start);
		assert_non_null(kr->warmup);
		assert_non_null(kr->ref);
		assert_true(kr->nout >= 1 && kr->nout <= MDE_KERNEL_MAX_OUT);
		for (size_t j = 0; j < kr->nout; j++) {
			assert_true(kr->out[j] >= 0 &&
				    kr->out[j] < MDE_NFEATURES);
			writers[kr->out[j]]++;
		}
		for (size_t k2 = 0; k2 < k; k2++)
			assert_string_not_equal(kr->name, mde_kernels[k2].name);
	}
	for (int c = 0; c < MDE_NFEATURES; c++) {
		if (writers[c] != 1)
			fprintf(stderr, "column %s: %d kernels\n",
				mde_column_names[c], writers[c]);
		assert_int_equal(writers[c], 1);
	}
	/* MDE_OUT names a column's place in its row */
	assert_int_equal(mde_kernels[0].out[MDE_OUT(returns, LOG_RETURN)],
			 MDE_COL_LOG_RETURN);
	assert_int_equal(MDE_NOUT(returns), 3);
	assert_int_equal(MDE_NOUT(liquidation), 1);
}

static const mde_kernel *kernel(const char *name)
{
	for (size_t k = 0; k < mde_nkernels; k++)
		if (!strcmp(mde_kernels[k].name, name))
			return &mde_kernels[k];
	fail_msg("no kernel %s", name);
	return NULL;
}

/* The values of the hand-written numbers the constants replaced. */
static void test_starts_and_warmups_unchanged(void **state)
{
	static const struct {
		const char *name;
		size_t start, warmup;
	} fixed[] = {
		{"volatility", 20, 50}, {"wilder", 14, 1014}, {"sma", 19, 49},
		{"volume", 19, 19},	{"trend", 49, 49},    {"structure", 19, 19},
		{"flow", 0, 0},		{"funding", 0, 0},    {"oi", 1, 1},
		{"asof", 0, 0},		{"liquidation", 0, 0},
	};
	static const struct {
		int64_t P;
		int asset;
		size_t warmup;
	} ret[] = {
		{60000, 0, 1440},    {60000, 1, 61},	 {300000, 0, 288},
		{300000, 1, 13},     {900000, 0, 96},	 {900000, 1, 5},
		{3600000, 0, 24},    {3600000, 1, 2},	 {14400000, 0, 6},
		{14400000, 1, 1},    {86400000, 0, 1},	 {86400000, 1, 1},
		{604800000, 0, 1},   {604800000, 1, 1}, {420000, 0, 1},
		{420000, 1, 9},
	};
	for (size_t r = 0; r < MDE_ARRAY_LEN(ret); r++) {
		int64_t P = ret[r].P;
		int a = ret[r].asset;
		const mde_kernel *kr = kernel("returns");
		assert_int_equal(kr->start(P, a), 1);
		assert_int_equal(kr->warmup(P, a), ret[r].warmup);
		for (size_t f = 0; f < MDE_ARRAY_LEN(fixed); f++) {
			kr = kernel(fixed[f].name);
			assert_int_equal(kr->start(P, a), fixed[f].start);
			assert_int_equal(kr->warmup(P, a), fixed[f].warmup);
		}
		size_t w = ret[r].warmup > 1014 ? ret[r].warmup : 1014;
		assert_int_equal(mde_features_warmup(P, a), w);
	}
	assert_int_equal(mde_nkernels, MDE_ARRAY_LEN(fixed) + 1);
}

static void test_check_primitives(void **state)
{
	double x[5];
	mde_check_fill(x, 5);
	assert_true(isnan(x[0]));
	assert_int_equal(mde_check_find(x, 5, false), 5);
	assert_int_equal(mde_check_find(x, 5, true), 0);
	/* a quiet NaN (what kernels write for NULL) is a written row */
	x[2] = NAN;
	assert_int_equal(mde_check_find(x, 5, false), 2);
	/* arithmetic on the unset value quiets it: no kernel makes it */
	volatile double u = x[0];
	x[3] = u + 1.0;
	assert_int_equal(mde_check_find(x + 3, 1, false), 0);
	x[0] = x[1] = x[3] = x[4] = 0.0;
	x[2] = 1.0;
	assert_int_equal(mde_check_find(x, 5, true), 5);
	uint64_t h = mde_check_hash(x, 5);
	x[4] = -0.0;
	assert_true(mde_check_hash(x, 5) != h);
}

/* Fake kernels over the columns DELTA, BUY_SELL_RATIO and SMA_20. */
enum { FAKE_N = 8 };

static void fake_write(double *c, size_t skip)
{
	for (size_t i = 0; i < FAKE_N; i++)
		if (i != skip)
			c[i] = (double)i;
}

static void k_good(const mde_kin *in, double *const out[])
{
	fake_write(out[0], FAKE_N);
}

static void k_good2(const mde_kin *in, double *const out[])
{
	fake_write(out[0], FAKE_N);
	fake_write(out[1], FAKE_N);
}

static void k_lazy(const mde_kin *in, double *const out[])
{
	fake_write(out[0], 5); /* row 5 left unset */
}

static double *frame_col[MDE_NFEATURES];

/* Writes BUY_SELL_RATIO, which it does not claim. */
static void k_greedy(const mde_kin *in, double *const out[])
{
	fake_write(out[0], FAKE_N);
	frame_col[MDE_COL_BUY_SELL_RATIO][3] = 1.0;
}

/* Writes DELTA (the first kernel's) again. */
static void k_clobber(const mde_kin *in, double *const out[])
{
	fake_write(out[0], FAKE_N);
	frame_col[MDE_COL_DELTA][7] = -1.0;
}

static size_t zero(int64_t period_ms, int asset)
{
	return 0;
}

#define FAKE(nm, f, ...)                                                   \
	{nm, f, zero, zero, NULL, MDE_NARGS(__VA_ARGS__), {__VA_ARGS__}}

/* Runs reg on a fresh frame with mde_check_kernel after each kernel;
   returns the kernel index that failed (msg set) or nreg. */
static size_t check_reg(const mde_kernel *reg, size_t nreg, char *msg,
			size_t cap)
{
	static double mem[MDE_NFEATURES][FAKE_N];
	uint64_t hash[MDE_NFEATURES] = {0};
	mde_kin in = {.n = FAKE_N};
	for (int c = 0; c < MDE_NFEATURES; c++) {
		frame_col[c] = mem[c];
		mde_check_fill(mem[c], FAKE_N);
	}
	msg[0] = 0;
	for (size_t k = 0; k < nreg; k++) {
		double *o[MDE_KERNEL_MAX_OUT];
		for (size_t j = 0; j < reg[k].nout; j++)
			o[j] = frame_col[reg[k].out[j]];
		reg[k].fn(&in, o);
		if (mde_check_kernel(reg, nreg, k, frame_col, FAKE_N, hash, msg,
				     cap))
			return k;
	}
	return nreg;
}

static void expect_caught(const mde_kernel *reg, size_t nreg, size_t k,
			  const char *want1, const char *want2)
{
	char msg[256];
	assert_int_equal(check_reg(reg, nreg, msg, sizeof msg), k);
	fprintf(stderr, "caught: %s\n", msg);
	assert_non_null(strstr(msg, want1));
	assert_non_null(strstr(msg, want2));
}

static void test_check_kernel(void **state)
{
	char msg[256];
	const mde_kernel good[] = {
		FAKE("a", k_good, MDE_COL_DELTA),
		FAKE("b", k_good2, MDE_COL_BUY_SELL_RATIO, MDE_COL_SMA_20),
	};
	assert_int_equal(check_reg(good, 2, msg, sizeof msg), 2);
	const mde_kernel lazy[] = {
		FAKE("a", k_good, MDE_COL_DELTA),
		FAKE("lazy", k_lazy, MDE_COL_SMA_20),
	};
	expect_caught(lazy, 2, 1, "kernel lazy", "row 5 of its column sma_20");
	/* a column of a later kernel, and a column nobody claims */
	const mde_kernel greedy[] = {
		FAKE("greedy", k_greedy, MDE_COL_DELTA),
		FAKE("b", k_good, MDE_COL_BUY_SELL_RATIO),
	};
	expect_caught(greedy, 2, 0, "kernel greedy wrote column buy_sell_ratio",
		      "belongs to kernel b");
	expect_caught(greedy, 1, 0, "kernel greedy wrote column buy_sell_ratio",
		      "no kernel claims");
	const mde_kernel clobber[] = {
		FAKE("a", k_good, MDE_COL_DELTA),
		FAKE("clobber", k_clobber, MDE_COL_SMA_20),
	};
	expect_caught(clobber, 2, 1, "kernel clobber overwrote column delta",
		      "belongs to kernel a");
	const mde_kernel twice[] = {
		FAKE("a", k_good, MDE_COL_DELTA),
		FAKE("b", k_good, MDE_COL_DELTA),
	};
	expect_caught(twice, 2, 1, "kernel b claims column delta",
		      "already claimed by kernel a");
	/* the real registry passes on a real series */
	mde_candles c;
	mde_candles_init(&c);
	tu_random_candles(&c, 7, 300, INT64_C(1700006400000), MDE_HOUR_MS, true,
			  false);
	mde_validation v = {0};
	tu_validate(&v, &c, MDE_HOUR_MS, MDE_CRYPTO);
	mde_frame f = {0};
	mde_err err = {0};
	assert_int_equal(mde_features_compute_reg(&f, &v.series, NULL,
						  mde_kernels, mde_nkernels,
						  NULL, &err),
			 0);
	mde_frame_free(&f);
	mde_validation_free(&v);
	mde_candles_free(&c);
}

/* The engine itself aborts on a faulty registry, naming kernel and column
   (only where the check is compiled in). */
#ifdef MDE_CHECK_KERNELS
static void k_engine_lazy(const mde_kin *in, double *const out[])
{
	for (size_t i = 0; i + 1 < in->n; i++)
		out[0][i] = 0.0;
}

static void k_engine_greedy(const mde_kin *in, double *const out[])
{
	for (size_t i = 0; i < in->n; i++)
		out[0][i] = 0.0;
	((double *)in->col[MDE_COL_RSI_14])[0] = 0.0;
}

static void expect_abort(const mde_kernel *reg, size_t nreg,
			 const char *want)
{
	int fd[2];
	assert_int_equal(pipe(fd), 0);
	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(fd[1], 2);
		close(fd[0]);
		mde_candles c;
		mde_candles_init(&c);
		tu_random_candles(&c, 3, 40, INT64_C(1700006400000),
				  MDE_HOUR_MS, false, false);
		mde_validation v = {0};
		tu_validate(&v, &c, MDE_HOUR_MS, MDE_CRYPTO);
		mde_frame f = {0};
		mde_err err = {0};
		int rc = mde_features_compute_reg(&f, &v.series, NULL, reg,
						  nreg, NULL, &err);
		_exit(rc == 0 ? 0 : 1);
	}
	close(fd[1]);
	char buf[512] = {0};
	size_t len = 0;
	ssize_t r;
	while (len + 1 < sizeof buf &&
	       (r = read(fd[0], buf + len, sizeof buf - 1 - len)) > 0)
		len += (size_t)r;
	close(fd[0]);
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	fprintf(stderr, "child: %s", buf);
	assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT);
	assert_non_null(strstr(buf, want));
}

static void test_engine_aborts(void **state)
{
	const mde_kernel lazy[] = {
		FAKE("lazy", k_engine_lazy, MDE_COL_SMA_20),
	};
	expect_abort(lazy, 1, "kernel lazy did not write row 39 of its column "
			      "sma_20");
	const mde_kernel greedy[] = {
		FAKE("greedy", k_engine_greedy, MDE_COL_SMA_20),
		FAKE("lazy", k_engine_lazy, MDE_COL_RSI_14),
	};
	expect_abort(greedy, 2, "kernel greedy wrote column rsi_14 (row 0), "
				"which belongs to kernel lazy");
}
#else
static void test_engine_aborts(void **state)
{
	skip(); /* no MDE_CHECK_KERNELS: no check compiled in */
}
#endif

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_each_column_one_kernel),
		cmocka_unit_test(test_starts_and_warmups_unchanged),
		cmocka_unit_test(test_check_primitives),
		cmocka_unit_test(test_check_kernel),
		cmocka_unit_test(test_engine_aborts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
