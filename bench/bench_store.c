/*
 * bench_store.c - write throughput of the store against a real server.
 *
 *   build/bench/bench_store [--db URL] [--symbols N] [--hours M] [--batch B]
 *
 * Generates N series of M 1h candles (decimal text as an exchange sends
 * it), computes their features with the real engine, then, in a schema of
 * its own (mde_bench, dropped first), measures in one run:
 *   copy    a plain binary COPY of the same rows straight into an empty
 *           copy of market_data_v2 (LIKE ... INCLUDING ALL): the physical
 *           limit of this machine and server;
 *   fresh   mde_store_write into the empty market_data_v2 (stage COPY,
 *           corrections check, upsert, quality metrics, logs);
 *   rerun   the same batches again: nothing changes, nothing is written.
 * and prints rows per second and the ratios fresh/copy and rerun/copy.
 */
#include <libpq-fe.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "engine.h"
#include "migrate.h"
#include "store.h"
#include "timeutil.h"
#include "validate.h"

typedef struct {
	char symbol[16];
	mde_candles c;
	mde_validation v;
	mde_frame f;
} series_t;

static uint64_t rng = 88172645463325252ULL;
static double unit(void)
{
	rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
	return (double)(rng >> 11) / 9007199254740992.0;
}

static void make_series(series_t *s, int k, size_t hours)
{
	snprintf(s->symbol, sizeof s->symbol, "SYM%03dUSDT", k);
	mde_candles_init(&s->c);
	double price = 100.0 + 50.0 * k;
	int64_t t0 = INT64_C(1735689600000); /* 2025-01-01 */
	for (size_t i = 0; i < hours; i++) {
		double o = price, c = fmax(0.01, o * exp(0.01 * (unit() - 0.5)));
		double h = fmax(o, c) * (1 + 0.003 * unit());
		double l = fmin(o, c) * (1 - 0.003 * unit());
		double v = 1000 * unit() + 1, tb = v * unit();
		char txt[MDE_NFIELDS][32];
		snprintf(txt[0], 32, "%.2f", o);
		snprintf(txt[1], 32, "%.2f", h);
		snprintf(txt[2], 32, "%.2f", l);
		snprintf(txt[3], 32, "%.2f", c);
		snprintf(txt[4], 32, "%.3f", v);
		snprintf(txt[5], 32, "%.5f", v * o);
		snprintf(txt[6], 32, "%.3f", tb);
		snprintf(txt[7], 32, "%.5f", tb * o);
		mde_candle_in in = {.open_time_ms = t0 + (int64_t)i * 3600000,
				    .trades = 100 + (int64_t)(unit() * 1000),
				    .origin = MDE_SRC_BINANCE};
		for (int f = 0; f < MDE_NFIELDS; f++)
			in.txt[f] = txt[f];
		if (mde_candles_push(&s->c, &in, NULL))
			exit(1);
		price = strtod(txt[3], NULL);
	}
	mde_err err;
	if (mde_validate(&s->v, &s->c, 3600000, MDE_CRYPTO, mde_now_ms(), &err) ||
	    mde_features_compute(&s->f, &s->v.series, NULL, &err)) {
		fprintf(stderr, "series: %s\n", err.msg);
		exit(1);
	}
}

static void batch_of(mde_store_batch *b, series_t *s, size_t from, size_t to)
{
	memset(b, 0, sizeof *b);
	b->symbol = s->symbol;
	b->timeframe = "1h";
	b->period_ms = 3600000;
	b->asset = MDE_CRYPTO;
	b->run_id = 1;
	b->rows.series = &s->v.series;
	b->rows.frame = &s->f;
	b->rows.candles = &s->c;
	b->rows.slot_from = from;
	b->rows.slot_to = to;
	b->audit.compute_ms = from == 0 ? 1 : -1;
	b->audit.rows_in = to - from;
	/* Quality metrics of the batch's days (no cursor: job_id 0). */
	const int64_t *t = s->v.series.t;
	b->cursor.range_start_ms = t[from];
	b->cursor.range_end_ms = t[to - 1] + b->period_ms;
	b->now_ms = mde_now_ms();
}

static void die(const char *what, const mde_err *e)
{
	fprintf(stderr, "%s: %s\n", what, e->msg);
	exit(1);
}

int main(int argc, char **argv)
{
	const char *url = getenv("MDENRICH_DB_URL");
	size_t nsym = 20, hours = 8760, batch = 5000;
	for (int i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--db"))
			url = argv[i + 1];
		else if (!strcmp(argv[i], "--symbols"))
			nsym = strtoul(argv[i + 1], NULL, 10);
		else if (!strcmp(argv[i], "--hours"))
			hours = strtoul(argv[i + 1], NULL, 10);
		else if (!strcmp(argv[i], "--batch"))
			batch = strtoul(argv[i + 1], NULL, 10);
	}
	series_t *ss = calloc(nsym, sizeof *ss);
	for (size_t k = 0; k < nsym; k++)
		make_series(&ss[k], (int)k, hours);
	size_t rows = nsym * hours;

	mde_err err = {0};
	mde_store *st;
	if (mde_store_open(&st, url, 5, &err))
		die("connect", &err);
	PGconn *c = mde_store_conn(st);
	int applied;
	if (mde_db_exec(c, "SET client_min_messages = warning; DROP SCHEMA IF "
			   "EXISTS mde_bench CASCADE; CREATE SCHEMA mde_bench; "
			   "SET search_path = mde_bench", &err) ||
	    mde_migrate(c, &applied, &err) ||
	    mde_db_exec(c, "CREATE TABLE md_copy (LIKE market_data_v2 "
			   "INCLUDING ALL)", &err))
		die("schema", &err);

	const char *phase[3] = {"copy", "fresh", "rerun"};
	double rate[3];
	for (int p = 0; p < 3; p++) {
		if (mde_db_exec(c, "CHECKPOINT", &err))
			die("checkpoint", &err);
		int64_t t0 = mde_mono_ns();
		size_t written = 0, unchanged = 0;
		for (size_t k = 0; k < nsym; k++) {
			for (size_t i = 0; i < hours; i += batch) {
				mde_store_batch b;
				batch_of(&b, &ss[k], i,
					 i + batch < hours ? i + batch : hours);
				if (p == 0) {
					size_t n = 0;
					if (mde_db_exec(c, "BEGIN", &err) ||
					    mde_store_copy(st, "md_copy", &b, &n,
							   &err) ||
					    mde_db_exec(c, "COMMIT", &err))
						die("copy", &err);
					written += n;
				} else {
					mde_store_result res;
					if (mde_store_write(st, &b, &res, &err))
						die("write", &err);
					written += res.inserted + res.updated;
					unchanged += res.unchanged;
				}
			}
		}
		double secs = (double)(mde_mono_ns() - t0) / 1e9;
		rate[p] = (double)rows / secs;
		printf("%-6s %9zu rows  %7.3f s  %9.0f rows/s  written %zu "
		       "unchanged %zu\n",
		       phase[p], rows, secs, rate[p], written, unchanged);
	}
	printf("ratio fresh/copy = %.2f   rerun/copy = %.2f\n",
	       rate[1] / rate[0], rate[2] / rate[0]);
	mde_db_try(c, "DROP SCHEMA mde_bench CASCADE");
	mde_store_close(st);
	for (size_t k = 0; k < nsym; k++) {
		mde_candles_free(&ss[k].c);
		mde_validation_free(&ss[k].v);
		mde_frame_free(&ss[k].f);
	}
	free(ss);
	return 0;
}
