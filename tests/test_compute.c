/*
 * test_compute.c - the compute command through mde_compute_run (the CLI
 * that wires `mdenrich compute` to it is tested with the binary elsewhere):
 * temp files in, the output file and stderr checked: rows echoed verbatim
 * and sorted, rejects with line numbers and reasons, exit 2 with the line
 * of a malformed file, 1 for a missing file, aux files, 17 digits.
 */
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "candles.h"
#include "compute.h"
#include "csvio.h"
#include "numtext.h"
#include "test_features_util.h"
#include "testutil.h"
#include "timeutil.h"

static char dir[64];

static int setup(void **state)
{
	strcpy(dir, "/tmp/mde_compute_XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	return mde_test_rmtree(dir);
}

static const char *path(const char *name)
{
	static char p[16][128]; /* a ring: a few paths live at once */
	static int k;
	k = (k + 1) % 16;
	snprintf(p[k], sizeof p[k], "%s/%s", dir, name);
	return p[k];
}

static void write_file(const char *name, const char *text)
{
	FILE *f = fopen(path(name), "wb");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* Runs the command with stderr captured into *err_text (malloc'd). */
static int run(mde_compute_args *a, char **err_text)
{
	static char errp[128];
	snprintf(errp, sizeof errp, "%s/stderr.txt", dir);
	fflush(stderr);
	int saved = dup(2);
	FILE *f = fopen(errp, "wb");
	assert_non_null(f);
	dup2(fileno(f), 2);
	int code = mde_compute_run(a);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	fclose(f);
	*err_text = tu_slurp(errp, NULL);
	assert_non_null(*err_text);
	return code;
}

/* Splits line `ln` (0-based) of text into fields; returns the count. */
static int fields(const char *text, int ln, char out[64][64])
{
	const char *p = text;
	for (int i = 0; i < ln && p; i++) {
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	assert_non_null(p);
	int k = 0;
	size_t n = 0;
	for (; *p && *p != '\n'; p++) {
		if (*p == ',') {
			out[k++][n] = '\0';
			n = 0;
		} else if (n < 63) {
			out[k][n++] = *p;
		}
	}
	out[k++][n] = '\0';
	return k;
}

static int lines(const char *text)
{
	int n = 0;
	for (; *text; text++)
		n += *text == '\n';
	return n;
}

static void test_basic_rejects_sorted(void **state)
{
	/* CRLF, an ISO time, a quoted field, rows out of order, a duplicate
	   (the later copy wins), a high/low violation, a future candle */
	write_file("in.csv",
		   "close,open_time,open,high,low,volume,trades\r\n"
		   "101,1704070800000,100,102,99,5,3\r\n"            /* 2 */
		   "100,2024-01-01T00:00:00Z,99,101,98,4,\r\n"       /* 3 */
		   "\"102.5\",1704074400000,101,103,100,6,4\r\n"     /* 4 */
		   "999,1704070800000,100,1000,99,5,3\r\n"           /* 5 */
		   "101,1704078000000,100,100.5,99,5,3\r\n"          /* 6 */
		   "101,4102444800000,100,102,99,5,3\r\n"            /* 7 */
		   "103,1704081600000,102,104,101,0,1\r\n");         /* 8 */
	mde_compute_args a = {.timeframe = "1h", .input = path("in.csv"),
			      .output = path("out.csv")};
	char *err;
	assert_int_equal(run(&a, &err), 0);
	char *out = tu_slurp(path("out.csv"), NULL);
	assert_non_null(out);
	/* rejects on stderr with line numbers and reasons */
	assert_non_null(strstr(err, "line 2: open_time 2024-01-01T01:00:00Z: "
				    "duplicate"));
	assert_non_null(strstr(err, "line 6: open_time 2024-01-01T03:00:00Z: "
				    "rejected: high_low"));
	assert_non_null(strstr(err, "line 7: open_time 2100-01-01T00:00:00Z: "
				    "rejected: not_closed"));
	/* header: input columns, 22 features, flags, quality */
	char f[64][64];
	assert_int_equal(fields(out, 0, f), 7 + 22 + 2);
	assert_string_equal(f[0], "close");
	assert_string_equal(f[7], "return_1h");
	assert_string_equal(f[28], "exchange_inflow");
	assert_string_equal(f[30], "quality_score");
	/* rows: 00:00 (line 3), 01:00 (line 5 wins), 02:00, 04:00 */
	assert_int_equal(lines(out), 5);
	assert_non_null(strstr(out, "\n100,2024-01-01T00:00:00Z,99,101,98,4,,"));
	fields(out, 2, f);
	assert_string_equal(f[0], "999");
	/* log_return 01:00 = ln(999 / 100), the shortest text of the double
	 * (%.17g would print 2.3015845926604621, the same double) */
	assert_string_equal(f[7 + MDE_COL_LOG_RETURN], "2.301584592660462");
	assert_true(strtod("2.3015845926604621", NULL) == log(999.0 / 100));
	assert_true(strtod(f[7 + MDE_COL_LOG_RETURN], NULL) ==
		    log(999.0 / 100));
	/* extreme move: flags 1, quality 0.5 */
	assert_string_equal(f[29], "1");
	assert_string_equal(f[30], "0.5");
	/* the quoted row echoes verbatim */
	assert_non_null(strstr(out, "\n\"102.5\",1704074400000,101,103,100,6,4,"));
	/* 04:00 follows a gap (03:00 rejected): NULL log_return, zero
	   volume flag 2, quality 0.75; sma etc. empty */
	fields(out, 4, f);
	assert_string_equal(f[7 + MDE_COL_LOG_RETURN], "");
	assert_string_equal(f[7 + MDE_COL_SMA_20], "");
	assert_string_equal(f[29], "2");
	assert_string_equal(f[30], "0.75");
	/* no taker column: delta NULL; no aux: NULL */
	assert_string_equal(f[7 + MDE_COL_DELTA], "");
	assert_string_equal(f[7 + MDE_COL_LIQUIDATION_INTENSITY], "");
	assert_non_null(strstr(err, "rows=7 valid=4 rejected=2 duplicates=1"));
	free(out);
	free(err);
}

static void expect_exit(const char *text, const char *tf, int code,
			const char *msg)
{
	write_file("bad.csv", text);
	mde_compute_args a = {.timeframe = tf, .input = path("bad.csv"),
			      .output = path("bad_out.csv")};
	char *err;
	assert_int_equal(run(&a, &err), code);
	if (!strstr(err, msg)) {
		fprintf(stderr, "stderr: %s\n", err);
		fail();
	}
	free(err);
}

static void test_malformed(void **state)
{
	expect_exit("open_time,open,high,low,close,volume,color\n", "1h", 2,
		    "line 1: unknown column \"color\"");
	expect_exit("\n\nopen_time,open,high,low,volume\n", "1h", 2,
		    "line 3: required column close missing");
	expect_exit("open_time,open,high,low,close,volume\n"
		    "1704067200000,1,1,1,1,1\n"
		    "1704070800000,1,1,1,1,1\n"
		    "1704074400000,1,1,1,1x,1\n", "1h", 2, "line 4: close");
	expect_exit("open_time,open,high,low,close,volume\n"
		    "1704067200000,1,1,1,1\n", "1h", 2, "line 2:");
	expect_exit("open_time,open,high,low,close,volume\n"
		    "2024-13-01,1,1,1,1,1\n", "1h", 2, "line 2: bad open_time");
	expect_exit("open_time,open,high,low,close,volume,trades\n"
		    "1704067200000,1,1,1,1,1,2.5\n", "1h", 2, "line 2: trades");
	expect_exit("", "1h", 2, "line 1: no header");
	expect_exit("open_time,open,high,low,close,volume\n", "2h", 2,
		    "--timeframe");
	/* a header alone is a valid, empty input */
	expect_exit("open_time,open,high,low,close,volume\n", "1h", 0,
		    "rows=0");
	mde_compute_args a = {.timeframe = "1h",
			      .input = path("does-not-exist.csv")};
	char *err;
	assert_int_equal(run(&a, &err), 1);
	free(err);
	a.input = path("bad.csv");
	a.asset_class = "bond";
	assert_int_equal(run(&a, &err), 2);
	free(err);
	a.asset_class = NULL;
	a.funding = path("missing-funding.csv");
	assert_int_equal(run(&a, &err), 1);
	free(err);
	write_file("f.csv", "funding_time,rate\n");
	a.funding = path("f.csv");
	assert_int_equal(run(&a, &err), 2);
	assert_non_null(strstr(err, "funding_time,funding_rate"));
	free(err);
}

static void test_aux_files(void **state)
{
	/* three 1h candles 00:00..02:00 with taker volume */
	write_file("c.csv",
		   "open_time,open,high,low,close,volume,taker_buy_base\n"
		   "1704067200000,10,11,9,10,8,2\n"
		   "1704070800000,10,11,9,10,8,8\n"
		   "1704074400000,10,11,9,10,4,1\n");
	/* funding: ISO with offset (= 2024-01-01T00:30Z), repeated time
	   keeps the last row, an event at 01:00 belongs to candle 01:00 */
	write_file("f.csv",
		   "funding_time,funding_rate,extra\n"
		   "2024-01-01T01:30:00+01:00,0.0005,x\n"
		   "2024-01-01T00:30:00Z,0.0001,x\n"
		   "1704070800000,-0.0002,x\n");
	write_file("oi.csv", "timestamp,sum_open_interest\n"
			     "1704067200000,1000\n1704070800000,1100\n");
	write_file("ls.csv", "timestamp,long_short_ratio\n2024-01-01,1.25\n");
	/* liquidations: same time twice, both count */
	write_file("l.csv", "time,qty\n1704070800000,1\n1704070800000,3\n"
			    "1704067200000,2\n");
	write_file("i.csv", "timestamp,value\n1704067200000,42\n");
	mde_compute_args a = {.timeframe = "1h", .input = path("c.csv"),
			      .output = path("o.csv"),
			      .funding = path("f.csv"),
			      .open_interest = path("oi.csv"),
			      .long_short = path("ls.csv"),
			      .liquidations = path("l.csv"),
			      .inflow = path("i.csv")};
	char *err;
	assert_int_equal(run(&a, &err), 0);
	free(err);
	char *out = tu_slurp(path("o.csv"), NULL);
	char f[64][64];
	int base = 7;
	fields(out, 1, f);
	/* 01:30+01:00 = 00:30Z, repeated by the next row: the last wins */
	assert_string_equal(f[base + MDE_COL_FUNDING_RATE], "0.0001");
	assert_string_equal(f[base + MDE_COL_FUNDING_RATE_PERCENTILE], "");
	assert_string_equal(f[base + MDE_COL_OPEN_INTEREST], "1000");
	assert_string_equal(f[base + MDE_COL_OPEN_INTEREST_CHANGE], "");
	assert_string_equal(f[base + MDE_COL_LONG_SHORT_RATIO], "1.25");
	assert_string_equal(f[base + MDE_COL_LIQUIDATION_INTENSITY], "0.25");
	assert_string_equal(f[base + MDE_COL_EXCHANGE_INFLOW], "42");
	assert_string_equal(f[base + MDE_COL_DELTA], "-4");
	assert_string_equal(f[base + MDE_COL_BUY_SELL_RATIO],
			    "0.3333333333333333");
	assert_true(strtod("0.3333333333333333", NULL) == 1.0 / 3);
	fields(out, 2, f);
	assert_true(strtod(f[base + MDE_COL_FUNDING_RATE], NULL) == -0.0002);
	assert_string_equal(f[base + MDE_COL_OPEN_INTEREST_CHANGE],
			    "0.10000000000000009");
	assert_string_equal(f[base + MDE_COL_LIQUIDATION_INTENSITY], "0.5");
	assert_string_equal(f[base + MDE_COL_BUY_SELL_RATIO], "");
	fields(out, 3, f);
	assert_string_equal(f[base + MDE_COL_LIQUIDATION_INTENSITY], "0");
	free(out);
}

/* compute on a real sample equals the engine, value for value */
static void test_sample_round_trip(void **state)
{
	mde_compute_args a = {.timeframe = "1h",
			      .input = "data/samples/btcusdt_1h_futures.csv",
			      .output = path("s.csv"),
			      .funding = "data/samples/btcusdt_funding.csv"};
	char *err;
	assert_int_equal(run(&a, &err), 0);
	free(err);
	size_t len;
	char *out = tu_slurp(path("s.csv"), &len);
	char *in = tu_slurp("data/samples/btcusdt_1h_futures.csv", NULL);
	mde_csv_candles cc;
	mde_err e = {0};
	assert_int_equal(mde_csv_read_candles(&cc, in, strlen(in), &e), 0);
	mde_validation v = {0};
	tu_validate(&v, &cc.c, MDE_HOUR_MS, MDE_CRYPTO);
	mde_auxset aux;
	memset(&aux, 0, sizeof aux);
	aux.configured[MDE_AUX_FUNDING] = true;
	char *fb = tu_slurp("data/samples/btcusdt_funding.csv", NULL);
	assert_int_equal(mde_csv_read_aux(&aux.s[MDE_AUX_FUNDING], fb,
					  strlen(fb), "funding_time",
					  "funding_rate", &e), 0);
	assert_int_equal(mde_aux_normalize(&aux.s[MDE_AUX_FUNDING]), 0);
	mde_frame fr = {0};
	assert_int_equal(mde_features_compute(&fr, &v.series, &aux, &e), 0);
	assert_int_equal(lines(out), 1 + (int)v.series.n);
	char f[64][64];
	for (size_t i = 0; i < v.series.n; i += 7) {
		assert_int_equal(fields(out, (int)i + 1, f), 10 + 24);
		for (int k = 0; k < MDE_NFEATURES; k++) {
			double x = f[10 + k][0] ? strtod(f[10 + k], NULL) : NAN;
			assert_true((isnan(x) && isnan(fr.col[k][i])) ||
				    x == fr.col[k][i]);
		}
	}
	mde_frame_free(&fr);
	mde_auxset_free(&aux);
	mde_validation_free(&v);
	mde_csv_candles_free(&cc);
	free(fb);
	free(in);
	free(out);
}

/*
 * Snapshot: 300 real spot candles around the 2023-03-24 13:00 halt,
 * enriched once and kept in tests/fixtures/features; any change of output
 * beyond 1e-12 (a changed definition must raise feature_version) fails.
 */
static void test_snapshot(void **state)
{
	mde_compute_args a = {
		.timeframe = "1h",
		.input = "tests/fixtures/features/spot_gap_in.csv",
		.output = path("snap.csv")};
	char *err;
	assert_int_equal(run(&a, &err), 0);
	assert_non_null(strstr(err, "gaps=1"));
	free(err);
	char *got = tu_slurp(path("snap.csv"), NULL);
	char *want = tu_slurp("tests/fixtures/features/spot_gap_snapshot.csv",
			      NULL);
	assert_non_null(got);
	assert_non_null(want);
	int n = lines(want);
	assert_int_equal(lines(got), n);
	static char fg[64][64], fw[64][64];
	for (int ln = 0; ln < n; ln++) {
		int k = fields(got, ln, fg);
		assert_int_equal(fields(want, ln, fw), k);
		for (int j = 0; j < k; j++) {
			if (strcmp(fg[j], fw[j]) == 0)
				continue;
			double x = strtod(fg[j], NULL), y = strtod(fw[j], NULL);
			if (ln == 0 || j < 10 || !fg[j][0] || !fw[j][0] ||
			    !tu_close(x, y, 1e-12, 1e-15)) {
				fprintf(stderr, "line %d field %d: %s vs %s\n",
					ln + 1, j + 1, fg[j], fw[j]);
				fail();
			}
		}
	}
	/* the first bar after the halt: windows restart */
	const char *row = strstr(got, "\n1679666400000,");
	assert_non_null(row);
	fields(row + 1, 0, fg);
	assert_string_equal(fg[10 + MDE_COL_LOG_RETURN], "");
	assert_string_equal(fg[10 + MDE_COL_SMA_20], "");
	assert_string_equal(fg[10 + MDE_COL_ATR_14], "");
	assert_true(fg[10 + MDE_COL_RETURN_1D][0] != '\0');
	free(got);
	free(want);
}

/* The same candles give the same output whichever way the input comes:
 * a file mapped (its size not a multiple of the page size), a file read
 * (padded with blank lines to a multiple of it) and standard input, the
 * default (CLI.md). */
static void test_input_mapped_read_or_stdin(void **state)
{
	long page = sysconf(_SC_PAGESIZE);
	assert_true(page > 0);
	FILE *f = fopen(path("walk.csv"), "wb");
	assert_non_null(f);
	fputs("open_time,open,high,low,close,volume\n", f);
	double p = 100;
	for (int i = 0; i < 300; i++, p *= 1.001)
		fprintf(f, "%lld,%.2f,%.2f,%.2f,%.2f,%d\n",
			1704067200000LL + i * 3600000LL, p, p * 1.002,
			p * 0.998, p * 1.001, 5 + i % 7);
	long size = ftell(f);
	fclose(f);
	assert_true(size % page != 0);
	char *in = tu_slurp(path("walk.csv"), NULL);
	assert_non_null(in);
	f = fopen(path("padded.csv"), "wb");
	assert_non_null(f);
	fputs(in, f);
	for (long k = size; k % page; k++)
		fputc('\n', f);
	fclose(f);
	free(in);

	char *err, *want, *got;
	mde_compute_args a = {.timeframe = "1h", .input = path("walk.csv"),
			      .output = path("mapped.out")};
	assert_int_equal(run(&a, &err), 0);
	free(err);
	want = tu_slurp(path("mapped.out"), NULL);
	assert_non_null(want);
	assert_int_equal(lines(want), 301);

	a.input = path("padded.csv");
	a.output = path("read.out");
	assert_int_equal(run(&a, &err), 0);
	free(err);
	got = tu_slurp(path("read.out"), NULL);
	assert_string_equal(got, want);
	free(got);

	int saved = dup(0);
	FILE *src = fopen(path("walk.csv"), "rb");
	assert_non_null(src);
	dup2(fileno(src), 0);
	a.input = NULL;
	a.output = path("stdin.out");
	int code = run(&a, &err);
	dup2(saved, 0);
	close(saved);
	fclose(src);
	clearerr(stdin);
	assert_int_equal(code, 0);
	free(err);
	got = tu_slurp(path("stdin.out"), NULL);
	assert_string_equal(got, want);
	free(got);
	free(want);
}

/* A random double of the kinds the features produce, and any bit pattern. */
static double any_double(uint64_t r, long i)
{
	double v;
	switch (i % 4) {
	case 0: /* any bit pattern */
		memcpy(&v, &r, sizeof v);
		return v;
	case 1: /* every magnitude */
		return ldexp((double)(r >> 11), -53) *
		       pow(10, (int)(r % 40) - 20);
	case 2: /* ratios, like returns */
		return (double)((int64_t)(r % 2000001) - 1000000) /
		       (double)(1 + (r >> 32) % 10000);
	default: /* decimals on a tick grid */
		return (double)((r >> 20) % 10000000) / 1e4;
	}
}

/* The significant digits of a number's text: no sign, point, exponent,
 * leading or trailing zeros ("-0.00120" and "1.2e-03" are both "12"). */
static void sig_digits(const char *s, char *out)
{
	size_t k = 0;
	for (; *s && *s != 'e'; s++)
		if (*s >= '0' && *s <= '9' && (k || *s != '0'))
			out[k++] = *s;
	while (k && out[k - 1] == '0')
		k--;
	out[k] = '\0';
}

/* The shortest text that reads back as v (finite, not 0), the closest to
 * v among those, laid out as numtext.h says: its digits and exponent are
 * the correctly rounded %.*e (glibc) with the fewest digits that
 * round-trips. */
static void shortest_ref(double v, char *out)
{
	char t[64], dg[32];
	for (int p = 1; p <= 17; p++) {
		snprintf(t, sizeof t, "%.*e", p - 1, v);
		if (strtod(t, NULL) == v)
			break;
	}
	sig_digits(t, dg);
	int n = (int)strlen(dg), x = atoi(strchr(t, 'e') + 1);
	char *o = out + (v < 0);
	out[0] = '-';
	if (x < -4 || x >= 17) {
		sprintf(o, "%c%s%se%c%02d", dg[0], n > 1 ? "." : "", dg + 1,
			x < 0 ? '-' : '+', x < 0 ? -x : x);
	} else if (x < 0) { /* 0.000ddd */
		size_t k = 0;
		o[k++] = '0';
		o[k++] = '.';
		for (int z = 0; z < -x - 1; z++)
			o[k++] = '0';
		strcpy(o + k, dg);
	} else if (n <= x + 1) { /* ddd000 */
		strcpy(o, dg);
		for (int k = n; k < x + 1; k++)
			o[k] = '0';
		o[x + 1] = '\0';
	} else
		sprintf(o, "%.*s.%s", x + 1, dg, dg + x + 1);
}

/* The shortest text parses back to the same double, bit for bit, is never
 * longer than "%.17g" and is the shortest round trip, laid out as
 * numtext.h says (every 8th value: checked against glibc's printf); the
 * exact parser agrees with strtod. */
static void test_number_text_round_trip(void **state)
{
	uint64_t st = 88172645463325252ull;
	static const double special[] = {
		0.0, -0.0, 1e-11, 9.9999999999999994e-12, 1e17,
		99999999999999984.0, 0.1, 0.5, 1.0, 1e16, 1e-5, 1e-4,
		9.9999999999999999e-5, 0.00010000000000000001, -2.247e-05,
		123456.789, 1.7976931348623157e308, 5e-324, 2.2250738585072014e-308};
	char a[MDE_NUM_TEXT_MAX], b[64];
	for (long i = 0; i < 2000000 + (long)MDE_ARRAY_LEN(special); i++) {
		double v = i < (long)MDE_ARRAY_LEN(special)
				   ? special[i]
				   : any_double(tu_rand(&st), i);
		if (!isfinite(v))
			continue;
		int n = mde_num_shortest(a, v);
		int m = snprintf(b, sizeof b, "%.17g", v);
		double back, ref = strtod(a, NULL);
		assert_int_equal(mde_parse_decimal(a, (size_t)n, &back), 0);
		if (memcmp(&back, &v, sizeof v) || memcmp(&ref, &v, sizeof v) ||
		    n > m || (int)strlen(a) != n) {
			fprintf(stderr, "%s (%s) does not round-trip\n", a, b);
			fail();
		}
		if (i % 8 == 0 && v != 0) {
			char want[64];
			shortest_ref(v, want);
			if (strcmp(a, want) != 0) {
				fprintf(stderr, "%s: the shortest round trip "
					"is %s\n", a, want);
				fail();
			}
		}
		/* the 17-digit text, and one cut to 1..16 digits: parsed as
		 * strtod parses them (correctly rounded) */
		b[1 + (i % 16)] = (i % 3) ? b[1 + (i % 16)] : '\0';
		size_t bl = strlen(b);
		if (bl && b[bl - 1] == 'e')
			continue;
		double x, y = strtod(b, NULL);
		if (mde_parse_decimal(b, bl, &x) == 0 &&
		    memcmp(&x, &y, sizeof x)) {
			fprintf(stderr, "%s parsed as %.17g, strtod %.17g\n", b,
				x, y);
			fail();
		}
	}
	assert_int_equal(mde_num_shortest(a, -0.0), 2);
	assert_string_equal(a, "-0");
	mde_num_shortest(a, 1e-5);
	assert_string_equal(a, "1e-05");
	mde_num_shortest(a, 0.0001);
	assert_string_equal(a, "0.0001");
	mde_num_shortest(a, 0.1 + 0.2);
	assert_string_equal(a, "0.30000000000000004");
	mde_num_shortest(a, 1234.5);
	assert_string_equal(a, "1234.5");
	mde_num_shortest(a, 3e8);
	assert_string_equal(a, "300000000");
	mde_num_shortest(a, -0.00012);
	assert_string_equal(a, "-0.00012");
	mde_num_shortest(a, 1e17);
	assert_string_equal(a, "1e+17");
	double v;
	static const char *const bad[] = {"", " 1", "1 ", "12abc", "0x1p3",
					  "1e", "--1", ".", "+-1", "++1"};
	for (size_t i = 0; i < MDE_ARRAY_LEN(bad); i++)
		assert_int_equal(mde_parse_decimal(bad[i], strlen(bad[i]), &v),
				 MDE_EPARSE);
	static const char *const good[] = {"+1.5", "-0", ".5", "5.", "1E3",
					   "nan", "inf", "-Infinity",
					   "0.000000000000000000000000001",
					   "1e999" /* inf: validation rejects it */};
	for (size_t i = 0; i < MDE_ARRAY_LEN(good); i++) {
		assert_int_equal(mde_parse_decimal(good[i], strlen(good[i]), &v),
				 0);
		double w = strtod(good[i], NULL);
		assert_true(isnan(w) ? isnan(v) : memcmp(&v, &w, sizeof v) == 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_basic_rejects_sorted),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_aux_files),
		cmocka_unit_test(test_sample_round_trip),
		cmocka_unit_test(test_snapshot),
		cmocka_unit_test(test_number_text_round_trip),
		cmocka_unit_test(test_input_mapped_read_or_stdin),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
