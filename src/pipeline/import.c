/*
 * import.c - `mdenrich import` (pipeline.h): Binance kline files a user
 * already has, read by the archive source's reader (zip from memory, the
 * kline CSV with all its quirks), sorted into one table, and enriched
 * window by window through the same steps as a backfill (series.c), the
 * rows given instead of fetched. Nothing is fetched: the aux features use
 * what the database holds. Each file read is a fetch-log row (source
 * "import").
 */
#define _XOPEN_SOURCE 700
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "log.h"
#include "pipeline.h"
#include "runs.h"
#include "timeutil.h"

struct flist {
	char **p;
	size_t n, cap;
};

static struct flist *walk_to; /* nftw has no user pointer */

static bool wanted(const char *path)
{
	size_t n = strlen(path);
	return n > 4 && (strcasecmp(path + n - 4, ".zip") == 0 ||
			 strcasecmp(path + n - 4, ".csv") == 0);
}

static int add_path(struct flist *l, const char *path)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		char **q = realloc(l->p, cap * sizeof *q);
		if (!q)
			return -1;
		l->p = q;
		l->cap = cap;
	}
	return (l->p[l->n++] = strdup(path)) ? 0 : -1;
}

static int on_entry(const char *path, const struct stat *st, int type,
		    struct FTW *ftw)
{
	if (type == FTW_F && wanted(path))
		return add_path(walk_to, path);
	return 0;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The files named, directories walked (Binance's names sort by time). */
static int collect(char *const *paths, size_t n, struct flist *l)
{
	for (size_t i = 0; i < n; i++) {
		struct stat st;
		if (stat(paths[i], &st) != 0) {
			fprintf(stderr, "mdenrich import: %s: no such file or "
				"directory\n", paths[i]);
			return MDE_EXIT_USAGE;
		}
		size_t n0 = l->n;
		walk_to = l;
		if (S_ISDIR(st.st_mode) ? nftw(paths[i], on_entry, 16, 0)
					: add_path(l, paths[i]))
			return MDE_EXIT_FATAL;
		qsort(l->p + n0, l->n - n0, sizeof *l->p, by_name);
	}
	return 0;
}

struct row {
	int64_t t;
	uint32_t i;
};

static int by_time(const void *a, const void *b)
{
	const struct row *x = a, *y = b;
	if (x->t != y->t)
		return x->t < y->t ? -1 : 1;
	return x->i < y->i ? -1 : x->i > y->i;
}

/* all sorted by time into out, the last read of a time kept. */
static int sort_rows(const mde_candles *all, mde_candles *out)
{
	struct row *r = malloc((all->n + 1) * sizeof *r);
	if (!r)
		return MDE_ENOMEM;
	for (size_t i = 0; i < all->n; i++)
		r[i] = (struct row){all->open_time_ms[i], (uint32_t)i};
	qsort(r, all->n, sizeof *r, by_time);
	int rc = 0;
	for (size_t k = 0; k < all->n && !rc; k++)
		if (k + 1 == all->n || r[k + 1].t != r[k].t)
			rc = mde_candles_copy_row(out, all, r[k].i);
	free(r);
	return rc;
}

/* Reads every file into all; a file of another timeframe stops it. */
static int read_all(mde_pipeline *p, const struct flist *l, int origin,
		    int64_t P, const char *symbol, mde_candles *all)
{
	for (size_t i = 0; i < l->n; i++) {
		int64_t per = 0, at = mde_now_ms(), t0 = mde_mono_ms();
		size_t n0 = all->n, bytes = 0;
		mde_err e = {0};
		int rc = mde_fetch_read_file(l->p[i], origin, all, &per, &bytes,
					     &e);
		mde_fetch_rec rec = {.source = "import", .endpoint = l->p[i],
				     .symbol = symbol, .params = "",
				     .rows = all->n - n0, .bytes = bytes,
				     .latency_ms = mde_mono_ms() - t0,
				     .attempt = 1, .error = rc ? e.msg : NULL,
				     .requested_at_ms = at};
		mde_fetch_logbuf_add(&p->logbuf, &rec);
		if (rc) {
			fprintf(stderr, "mdenrich import: %s: %s\n", l->p[i],
				e.msg);
			return rc == MDE_ENOMEM ? MDE_EXIT_FATAL
						: MDE_EXIT_USAGE;
		}
		if (per && per != P) {
			const char *tf = mde_tf_name(per);
			fprintf(stderr, "mdenrich import: %s holds %s candles, "
				"not --timeframe %s\n", l->p[i],
				tf ? tf : "other", mde_tf_name(P));
			return MDE_EXIT_USAGE;
		}
		mde_info("import.file", "file=%s rows=%zu", l->p[i],
			 all->n - n0);
	}
	return 0;
}

/* The sorted rows window by window, under the series lock. */
static int enrich(mde_pipeline *p, mde_series_job *j, const mde_candles *c)
{
	mde_err err = {0};
	bool got = false;
	if (mde_store_series_lock(p->store, j->symbol, j->timeframe, true,
				  &got, &err)) {
		fprintf(stderr, "mdenrich import: %s\n", err.msg);
		return MDE_EXIT_FATAL;
	}
	int64_t P = j->period_ms, step = p->cfg->chunk_ms / P * P;
	step = step < P ? P : step;
	int64_t first = c->open_time_ms[0] / P * P;
	int64_t end = c->open_time_ms[c->n - 1] + P;
	int rc = 0;
	size_t i = 0;
	p->series_total++;
	for (int64_t t = first; t < end && !rc; t += step) {
		j->start_ms = t;
		j->end_ms = end - t > step ? t + step : end;
		/* the window's rows are the given ones (no REST: rest_to_ms
		 * 0), the aux series the stored ones */
		mde_candles win;
		mde_candles_init(&win);
		for (; !rc && i < c->n && c->open_time_ms[i] < j->end_ms; i++)
			if (mde_candles_copy_row(&win, c, i))
				rc = mde_err_set(&err, MDE_ENOMEM, false,
						 "out of memory");
		j->given = &win;
		if (!rc)
			rc = mde_pipeline_series(p, j, &err);
		mde_candles_free(&win);
	}
	mde_pipeline_series_done(p, j->symbol, j->timeframe, j->asset,
				 j->source, rc, &err);
	mde_store_series_unlock(p->store, j->symbol, j->timeframe);
	if (rc == MDE_EINTR)
		return MDE_EXIT_INTERRUPTED;
	if (rc) {
		p->series_failed++;
		fprintf(stderr, "mdenrich import: %s\n", err.msg);
		return MDE_EXIT_PARTIAL;
	}
	return 0;
}

int mde_pipeline_import(mde_pipeline *p, const char *symbol,
			const char *timeframe, int64_t period_ms,
			const char *source, char *const *paths, size_t npaths)
{
	struct flist l = {0};
	mde_candles all, sorted;
	mde_candles_init(&all);
	mde_candles_init(&sorted);
	int origin = mde_fetch_source_origin(source);
	int code = collect(paths, npaths, &l);
	if (!code && l.n == 0) {
		fprintf(stderr, "mdenrich import: no .zip or .csv file "
			"found\n");
		code = MDE_EXIT_USAGE;
	}
	if (!code)
		code = read_all(p, &l, origin, period_ms, symbol, &all);
	if (!code && sort_rows(&all, &sorted))
		code = MDE_EXIT_FATAL;
	mde_candles_free(&all);
	mde_series_job j = {.symbol = symbol, .timeframe = timeframe,
			    .period_ms = period_ms, .asset = MDE_CRYPTO,
			    .source = source, .aux_stored = true};
	if (!code && sorted.n)
		code = enrich(p, &j, &sorted);
	mde_candles_free(&sorted);
	for (size_t i = 0; i < l.n; i++)
		free(l.p[i]);
	free(l.p);
	return code;
}
