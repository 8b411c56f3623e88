/*
 * series.c - mde_pipeline_series: one series range through the stages, in
 * four steps of its own (pipeline.h): fetch, assemble the frame's input
 * (validate, stored history, grid, aux series), compute, write batches.
 */
#include "stages.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine.h"
#include "log.h"
#include "prefetch.h"
#include "runs.h"
#include "timeutil.h"

static void work_free(mde_pl_work *w)
{
	mde_candles_free(&w->fetched);
	mde_candles_free(&w->rejected);
	mde_candles_free(&w->merged);
	mde_validation_free(&w->val);
	mde_series_free(&w->series);
	mde_frame_free(&w->frame);
	mde_auxset_free(&w->aux);
	for (int k = 0; k < 3; k++)
		mde_aux_free(&w->fetched_aux[k]);
	free(w->dups);
}

/* Duplicates of the fetch per UTC day, for the quality metrics. */
static int count_dups(mde_pl_work *w)
{
	for (size_t k = 0; k < w->val.ndups; k++) {
		int64_t day = mde_floor_div(
			w->fetched.open_time_ms[w->val.dups[k]], MDE_DAY_MS) *
			MDE_DAY_MS;
		size_t i = 0;
		while (i < w->ndups && w->dups[i].day_ms != day)
			i++;
		if (i == w->ndups) {
			void *q = realloc(w->dups, (w->ndups + 1) *
							   sizeof *w->dups);
			if (!q)
				return MDE_ENOMEM;
			w->dups = q;
			w->dups[w->ndups].day_ms = day;
			w->dups[w->ndups].count = 0;
			w->ndups++;
		}
		w->dups[i].count++;
	}
	return 0;
}

/* Appends the valid fetched candles after the stored ones, unless a stored
 * candle of the same time came from a better source: runs of consecutive
 * fetched rows in one copy each (a chunk of an archive month is one run),
 * their values and text as they are, not parsed again. */
static int merge(mde_pl_work *w, size_t nstored, mde_err *err)
{
	const mde_series *vs = &w->val.series;
	size_t k = 0; /* walks the stored rows, ascending */
	size_t r0 = 0, r1 = 0; /* the run [r0, r1) of fetched rows */
	for (size_t i = 0; i <= vs->n; i++) {
		if (i < vs->n) {
			if (!vs->valid[i])
				continue;
			uint32_t row = vs->row[i];
			int64_t t = w->fetched.open_time_ms[row];
			while (k < nstored && w->merged.open_time_ms[k] < t)
				k++;
			if (k < nstored && w->merged.open_time_ms[k] == t &&
			    mde_origin_rank(w->merged.origin[k]) >
				    mde_origin_rank(w->fetched.origin[row]))
				continue;
			if (r1 > r0 && row == r1) {
				r1++;
				continue;
			}
		}
		if (r1 > r0 &&
		    mde_candles_append_rows(&w->merged, &w->fetched, r0, r1))
			return mde_err_set(err, MDE_ENOMEM, false,
					   "out of memory");
		if (i < vs->n) {
			r0 = vs->row[i];
			r1 = r0 + 1;
		}
	}
	return 0;
}

static void progress_of(mde_pipeline *p, size_t rows);

/* The writers of a drain count in one progress line. */
static void progress(mde_pipeline *p, size_t rows)
{
	static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
	pthread_mutex_lock(&mu);
	progress_of(p->progress_to ? p->progress_to : p, rows);
	pthread_mutex_unlock(&mu);
}

static void progress_of(mde_pipeline *p, size_t rows)
{
	p->progress_done += rows;
	if (!p->progress)
		return;
	int64_t now = mde_mono_ms();
	if (now - p->progress_last_ms < 2000 &&
	    p->progress_done < p->progress_total)
		return;
	p->progress_last_ms = now;
	double secs = (double)(now - p->progress_started_ms) / 1000.0;
	double rate = secs > 0 ? (double)p->progress_done / secs : 0;
	double left = p->progress_total > p->progress_done
			      ? (double)(p->progress_total - p->progress_done)
			      : 0;
	long eta = rate > 0 ? (long)(left / rate) : -1;
	mde_log_progress("%zu/%zu candles  %.0f/s  ETA %ld:%02ld",
			 p->progress_done, p->progress_total, rate,
			 eta >= 0 ? eta / 60 : 0, eta >= 0 ? eta % 60 : 0);
	if (mde_log_progress_shown()) {
		if (p->progress_done >= p->progress_total)
			mde_log_progress_end();
	} else {
		mde_info("backfill.progress", "candles=%zu total=%zu rate=%.0f "
			 "eta_s=%ld elapsed_s=%.0f", p->progress_done,
			 p->progress_total, rate, eta, secs);
	}
}

/* Writes one batch, retrying transient errors with backoff. */
static int write_batch(mde_pipeline *p, const mde_series_job *j,
		       mde_store_batch *b, mde_err *err)
{
	int attempts = p->grouped ? 1 : p->cfg->db_max_retries + 1;
	bool relock = false; /* the connection, and the lock, were lost */
	for (int a = 1;; a++) {
		mde_store_result res;
		bool got;
		int rc = relock ? mde_store_reconnect(p->store, err) : 0;
		if (!rc && relock)
			rc = mde_store_series_lock(p->store, j->symbol,
						   j->timeframe, true, &got,
						   err);
		/* Only with the series lock ours again may the batch go. */
		relock = rc != 0;
		if (!rc)
			rc = mde_store_write(p->store, b, &res, err);
		if (!rc) {
			p->rows_written += res.inserted + res.updated;
			p->series_inserted += res.inserted;
			p->rows_unchanged += res.unchanged;
			p->rows_rejected += res.rejects;
			p->corrections += res.corrections;
			mde_debug("store.batch", "symbol=%s inserted=%zu "
				  "updated=%zu unchanged=%zu corrections=%zu",
				  j->symbol, res.inserted, res.updated,
				  res.unchanged, res.corrections);
			return 0;
		}
		if (!err->retryable || a >= attempts)
			return rc;
		int64_t delay = mde_pl_backoff_ms(a);
		mde_warn("store.retry", "symbol=%s attempt=%d delay_ms=%lld "
			 "sqlstate=\"%s\" error=\"%s\"", j->symbol, a,
			 (long long)delay, err->sqlstate, err->msg);
		mde_sleep_ms(delay, &mde_stop_requested);
		/* A serialization failure or deadlock leaves the connection,
		 * and the series lock it holds, as they were: try again. A
		 * lost connection took the lock with it. */
		relock = relock || mde_pl_connection_lost(err);
	}
}

/* The candles of j from the prefetch threads, if they fetched them. */
static bool take_candles(mde_pipeline *p, const mde_series_job *j,
			 int64_t to, mde_pl_work *w)
{
	mde_pf_req rq = {.kind = MDE_PF_CANDLES, .asset = j->asset,
			 .period_ms = j->period_ms, .from_ms = j->start_ms,
			 .to_ms = to};
	snprintf(rq.symbol, sizeof rq.symbol, "%s", j->symbol);
	snprintf(rq.source, sizeof rq.source, "%s", j->source);
	mde_pf_result r;
	if (!mde_pf_take(p, &rq, false, &r))
		return false;
	mde_candles_free(&w->fetched);
	w->fetched = r.candles;
	w->frc = r.rc;
	w->ferr = r.err;
	mde_aux_free(&r.aux);
	return true;
}

/* The stream's candles after (and between) those REST served, ascending;
 * a time REST served keeps REST's candle. */
static int join_given(mde_pl_work *w, const mde_candles *g)
{
	mde_candles m = {0};
	const mde_candles *f = &w->fetched;
	size_t i = 0, k = 0;
	int rc = 0;
	while (!rc && (i < f->n || k < g->n)) {
		bool from_f = k == g->n ||
			      (i < f->n &&
			       f->open_time_ms[i] <= g->open_time_ms[k]);
		if (from_f && k < g->n &&
		    f->open_time_ms[i] == g->open_time_ms[k])
			k++;
		rc = from_f ? mde_candles_copy_row(&m, f, i++)
			    : mde_candles_copy_row(&m, g, k++);
	}
	mde_candles_free(&w->fetched);
	w->fetched = m;
	return rc;
}

/* Step 1: the candles of the range. A failed fetch may still have
 * delivered earlier pages: those are enriched and stored (w->end_ms is
 * where they end), and the series then fails. */
static void fetch_step(mde_pipeline *p, const mde_series_job *j,
		       mde_pl_work *w)
{
	int64_t P = j->period_ms;
	int64_t rest_to = j->given ? j->rest_to_ms : j->end_ms;
	w->end_ms = j->end_ms;
	if (!j->stored_only && rest_to > j->start_ms &&
	    !take_candles(p, j, rest_to, w))
		w->frc = mde_fetch_candles(p->fetcher, j->source, j->asset,
					   j->symbol, P, j->start_ms, rest_to,
					   &w->fetched, &w->ferr);
	p->rows_fetched += w->fetched.n;
	/* Not past a hole REST could not fill. */
	if (!w->frc && j->given && join_given(w, j->given))
		w->frc = mde_err_set(&w->ferr, MDE_ENOMEM, false,
				     "out of memory");
	if (!w->frc)
		return;
	mde_warn("fetch.failed", "symbol=%s error=\"%s\" rows=%zu", j->symbol,
		 w->ferr.msg, w->fetched.n);
	w->end_ms = j->start_ms;
	for (size_t i = 0; i < w->fetched.n; i++)
		if (w->fetched.open_time_ms[i] + P > w->end_ms)
			w->end_ms = w->fetched.open_time_ms[i] + P;
}

/* Places every merged candle on the grid of the series. */
static int place(const mde_series_job *j, mde_pl_work *w, mde_err *err)
{
	uint32_t *rows = malloc((w->merged.n + 1) * sizeof *rows);
	if (!rows)
		return mde_err_set(err, MDE_ENOMEM, false, "out of memory");
	for (size_t i = 0; i < w->merged.n; i++)
		rows[i] = (uint32_t)i;
	int rc = mde_grid_place(&w->series, &w->merged, rows, w->merged.n,
				j->period_ms, j->asset, err);
	free(rows);
	return rc;
}

/* Whether a fallback source served any of the fetched candles. */
static bool served_by_fallback(const mde_series_job *j, const mde_pl_work *w)
{
	if (!mde_fetch_replaces_fallback(j->source))
		return false;
	for (size_t i = 0; i < w->fetched.n; i++)
		if (mde_origin_rank(w->fetched.origin[i]) == 1)
			return true;
	return false;
}

/*
 * Step 2: the frame's input. The fetch is validated (rejects kept), laid
 * after the stored history the features need (their warm-up before
 * start, and a warm-up after end: a prepend recomputes what depends on
 * it), placed on the grid, and joined with the aux series.
 */
static int assemble(mde_pipeline *p, const mde_series_job *j,
		    mde_pl_work *w, int64_t now, mde_err *err)
{
	int64_t P = j->period_ms;
	size_t warm = mde_features_warmup(P, j->asset);
	bool crypto = j->asset == MDE_CRYPTO;
	int rc;
	if ((rc = mde_validate(&w->val, &w->fetched, P, j->asset, now, err)))
		return rc;
	if (count_dups(w))
		return mde_err_set(err, MDE_ENOMEM, false, "out of memory");
	int64_t from = crypto ? j->start_ms - (int64_t)warm * P : j->start_ms;
	int64_t after = crypto ? (int64_t)warm * P
			       : (int64_t)warm * 2 * MDE_DAY_MS + 30 * MDE_DAY_MS;
	if ((rc = mde_store_load_candles(p->store, j->symbol, j->timeframe,
					 from, w->end_ms + after,
					 crypto ? 0 : warm, &w->merged, err)) ||
	    (rc = merge(w, w->merged.n, err)) || (rc = place(j, w, err)))
		return rc;
	if (!crypto)
		return 0;
	int64_t until = w->series.n ? w->series.t[w->series.n - 1] + P
				    : w->end_ms;
	if (until < j->end_ms)
		until = j->end_ms;
	if ((rc = mde_pl_load_aux(p, j, w, j->start_ms, until, err)))
		return rc;
	/* Rows written without an aux series the source does have would keep
	 * NULL features: write nothing, the next run or resume retries.
	 * Unless the primary source is down and a fallback served candles:
	 * those are written (flag 8) and redone by the next run that reaches
	 * the primary (run.c starts at the earliest fallback candle). */
	if (w->aux_failed && !served_by_fallback(j, w) && w->frc) {
		*err = w->ferr; /* the candles failed first: say so */
		return w->frc;
	}
	if (w->aux_failed && !served_by_fallback(j, w))
		return mde_err_set(err, MDE_ENET, true,
				   "an auxiliary series could not be fetched "
				   "(see the log); nothing was written");
	return 0;
}

/*
 * Once merged, the fetch is needed only for its rejects: they move to a
 * table of their own and the fetch and its grid are freed before the
 * frame is allocated (a 30-day 1m chunk: 12 MB less per writer).
 */
static int keep_rejects_only(mde_pl_work *w)
{
	for (size_t k = 0; k < w->val.nrejects; k++) {
		if (mde_candles_copy_row(&w->rejected, &w->fetched,
					 w->val.rejects[k].row))
			return MDE_ENOMEM;
		w->val.rejects[k].row = (uint32_t)k;
	}
	mde_candles_free(&w->fetched);
	mde_series_free(&w->val.series);
	return 0;
}

static int assemble_step(mde_pipeline *p, const mde_series_job *j,
			 mde_pl_work *w, int64_t now, mde_err *err)
{
	int rc = assemble(p, j, w, now, err);
	if (!rc && keep_rejects_only(w))
		rc = mde_err_set(err, MDE_ENOMEM, false, "out of memory");
	return rc;
}

/* Step 3: the features over the whole assembled stretch. */
static int compute_step(mde_pl_work *w, mde_err *err)
{
	int64_t t0 = mde_mono_ms();
	int rc = mde_features_compute(&w->frame, &w->series, &w->aux, err);
	w->compute_ms = mde_mono_ms() - t0;
	return rc;
}

/* The batch of a series: everything but its slots. */
static void batch_init(mde_pipeline *p, const mde_series_job *j,
		       mde_pl_work *w, int64_t now, mde_store_batch *b)
{
	int64_t aux_ms;
	bool replay = mde_fetch_source_origin(j->source) == MDE_SRC_REPLAY;
	*b = (mde_store_batch){
		.symbol = j->symbol,
		.timeframe = j->timeframe,
		.period_ms = j->period_ms,
		.asset = j->asset,
		.run_id = p->run_id,
		.now_ms = now,
		.rows = {.series = &w->series, .frame = &w->frame,
			 .candles = &w->merged},
		.audit = {
			.rej_candles = &w->rejected,
			.rejects = w->val.rejects,
			.nrejects = w->val.nrejects,
			.funding = &w->fetched_aux[0],
			.open_interest = &w->fetched_aux[1],
			.long_short = &w->fetched_aux[2],
			.aux_period = mde_pl_aux_period(j->period_ms, &aux_ms),
			.aux_source = replay ? "replay" : "binance",
			.nholes = w->nholes,
			.fetch_log = &p->logbuf,
			.rows_in = w->series.n,
			.dups = w->dups,
			.ndups = w->ndups,
			.quality_later = j->quality_later,
		},
		.cursor = {
			.job_id = j->job_id,
			.chunk_no = j->chunk_no,
			.lease_owner = p->owner,
			.lease_s = p->cfg->lease_s,
			.range_start_ms = j->start_ms,
			.range_end_ms = w->end_ms,
			.fetch_complete = !w->frc && !j->more,
		},
	};
	for (size_t h = 0; h < w->nholes; h++)
		b->audit.holes[h] = w->holes[h];
}

/*
 * Step 4: the rows from start on, batch_rows valid slots a transaction;
 * the first batch also carries the rejects, aux series and holes, the
 * last one the compute log row.
 */
static int write_step(mde_pipeline *p, const mde_series_job *j,
		      mde_pl_work *w, int64_t now, mde_err *err)
{
	const mde_series *s = &w->series;
	mde_store_batch b;
	batch_init(p, j, w, now, &b);
	size_t per = (size_t)(p->cfg->batch_rows > 0 ? p->cfg->batch_rows
						     : 20000);
	size_t i0 = 0;
	while (i0 < s->n && s->t[i0] < j->start_ms)
		i0++;
	do {
		size_t i1 = i0, nvalid = 0, nrange = 0;
		for (; i1 < s->n && nvalid < per; i1++) {
			nvalid += s->valid[i1];
			/* progress counts the range's candles, not the
			 * stored ones recomputed after it */
			nrange += s->valid[i1] && s->t[i1] < j->end_ms;
		}
		b.rows.slot_from = i0;
		b.rows.slot_to = i1;
		b.audit.compute_ms = i1 >= s->n ? w->compute_ms : -1;
		size_t written0 = p->rows_written;
		size_t unchanged0 = p->rows_unchanged;
		int rc = write_batch(p, j, &b, err);
		if (rc)
			return rc;
		b.audit.written_before += p->rows_written - written0;
		b.audit.unchanged_before += p->rows_unchanged - unchanged0;
		b.audit.nrejects = b.audit.nholes = 0;
		b.audit.funding = b.audit.open_interest = NULL;
		b.audit.long_short = NULL;
		progress(p, nrange);
		i0 = i1;
		if (mde_stop_requested && i0 < s->n)
			return mde_err_set(err, MDE_EINTR, false,
					   "interrupted after a committed "
					   "batch");
	} while (i0 < s->n);
	return 0;
}

/* The archive files the series used, into archive_files. */
static void record_archive(mde_pipeline *p)
{
	size_t rep = 0;
	mde_err e = {0};
	if (mde_store_archive_files(p->store, p->run_id, &p->arbuf, &rep, &e))
		mde_warn("archive.record", "error=\"%s\"", e.msg);
}

void mde_pl_reuse_free(mde_pipeline *p)
{
	struct mde_pl_reuse *r = p->reuse;
	if (!r)
		return;
	mde_candles_free(&r->merged);
	mde_validation_free(&r->val);
	mde_series_free(&r->series);
	mde_frame_free(&r->frame);
	free(r);
	p->reuse = NULL;
}

/* The tables the last series left, emptied, into w (when there are). */
static void reuse_take(mde_pipeline *p, mde_pl_work *w)
{
	if (!p->reuse && !(p->reuse = calloc(1, sizeof *p->reuse)))
		return;
	struct mde_pl_reuse *r = p->reuse;
	w->merged = r->merged;
	mde_candles_clear(&w->merged);
	w->val = r->val;
	w->series = r->series;
	w->frame = r->frame;
	memset(r, 0, sizeof *r);
}

static void reuse_give(mde_pipeline *p, mde_pl_work *w)
{
	struct mde_pl_reuse *r = p->reuse;
	if (!r)
		return;
	r->merged = w->merged;
	r->val = w->val;
	r->series = w->series;
	r->frame = w->frame;
	memset(&w->merged, 0, sizeof w->merged);
	memset(&w->val, 0, sizeof w->val);
	memset(&w->series, 0, sizeof w->series);
	memset(&w->frame, 0, sizeof w->frame);
}

int mde_pipeline_series(mde_pipeline *p, const mde_series_job *j,
			mde_err *err)
{
	mde_pl_work w;
	memset(&w, 0, sizeof w);
	reuse_take(p, &w);
	int64_t now = mde_now_ms();
	int64_t t0 = mde_mono_ms();
	fetch_step(p, j, &w);
	int64_t t1 = mde_mono_ms();
	int rc = assemble_step(p, j, &w, now, err);
	int64_t t2 = mde_mono_ms();
	if (!rc)
		rc = compute_step(&w, err);
	int64_t t3 = mde_mono_ms();
	if (!rc)
		rc = write_step(p, j, &w, now, err);
	mde_debug("series.stages", "symbol=%s fetch_ms=%lld assemble_ms=%lld "
		  "compute_ms=%lld write_ms=%lld rows=%zu", j->symbol,
		  (long long)(t1 - t0), (long long)(t2 - t1),
		  (long long)(t3 - t2), (long long)(mde_mono_ms() - t3),
		  w.series.n);
	if (!rc && w.frc) {
		*err = w.ferr;
		rc = w.frc;
	} else if (!rc && w.aux_failed) {
		rc = mde_err_set(err, MDE_ENET, true,
				 "the primary source failed: candles stored "
				 "from the fallback without their auxiliary "
				 "series; the next run replaces them");
	}
	record_archive(p);
	reuse_give(p, &w);
	work_free(&w);
	return rc;
}
