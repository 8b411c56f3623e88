/*
 * drain.c - the loop of backfill, resume and worker (pipeline.h): claim a
 * chunk of a durable job (jobs.h), enrich it under its series lock, and
 * go on until nothing is left to claim.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin.h"
#include "jobs.h"
#include "log.h"
#include "pipeline.h"
#include "prefetch.h"
#include "runs.h"
#include "timeutil.h"

/*
 * Nothing claimable now: a worker without --idle-exit polls; otherwise wait
 * only while another live worker holds a chunk (its end frees the chunks
 * behind it); chunks behind a failed one wait for a later resume.
 */
static bool waits(enum mde_drain_mode mode, bool idle_exit, const mde_job_counts *n)
{
	if (mode == MDE_DRAIN_WORKER && !idle_exit)
		return true;
	return n->running_live > 0;
}

/* The series job of a chunk: from its committed cursor on. */
static int chunk_job(const mde_chunk *c, mde_series_job *j, mde_err *err)
{
	int64_t P;
	int asset;
	if (mde_tf_parse(c->timeframe, &P) ||
	    mde_asset_parse(c->asset_class, &asset))
		return mde_err_set(err, MDE_EINVAL, false, "bad chunk %s %s",
				   c->timeframe, c->asset_class);
	*j = (mde_series_job){
		.symbol = c->symbol, .timeframe = c->timeframe,
		.period_ms = P, .asset = (enum mde_asset)asset,
		.source = c->source,
		.start_ms = c->cursor_ms == INT64_MIN ? c->range_start_ms
						      : c->cursor_ms + P,
		.end_ms = c->range_end_ms, .job_id = c->job_id,
		.chunk_no = c->chunk_no,
	};
	if (j->start_ms > j->end_ms)
		j->start_ms = j->end_ms;
	return 0;
}

/* Chunks whose fetches run ahead of the one being enriched. */
#define DRAIN_AHEAD 2
/* How many more chunks left another series needs before a writer side by
 * side leaves its own for it (mde_job_claim). */
#define DRAIN_STICK 6

/* The last chunk announced to the fetch threads. */
struct announced {
	int64_t job;
	int chunk;
};

static bool after(int64_t job, int chunk, const struct announced *a)
{
	return job > a->job || (job == a->job && chunk > a->chunk);
}

/*
 * A chunk whose fetch nothing started ahead (a writer's first) is run in
 * pieces of growing size when its candles come page by page from REST:
 * 4 pages, then three times as many each time, the rest last. The first
 * piece is written while the next is fetched, so the database does not
 * wait for the whole chunk's pages. A piece but the last does not finish
 * the chunk (mde_series_job.more); the cursor moves batch by batch
 * through the pieces as through a whole chunk. *n = 1 (whole) otherwise.
 */
#define PIECE_PAGES 4
#define MAX_PIECES 4

static void pieces_of(const mde_pipeline *p, const mde_series_job *j,
		      int64_t ends[MAX_PIECES], int *n)
{
	int64_t page, span;
	*n = 1;
	ends[0] = j->end_ms;
	if (!mde_fetch_rest_pages(p->fetcher, j->source, j->asset,
				  j->period_ms, &page))
		return;
	int64_t t = j->start_ms;
	for (span = PIECE_PAGES * page; *n < MAX_PIECES; span *= 3) {
		/* a piece only where at least as much follows it */
		if (j->end_ms - t < 2 * span)
			break;
		t += span;
		ends[*n - 1] = t;
		ends[(*n)++] = j->end_ms;
	}
}

/* Announces chunk c unless it was: with ends, in its pieces (*n of them,
 * pieces_of), else whole. */
static void announce_chunk(mde_pipeline *p, const mde_chunk *c,
			   struct announced *a, int64_t ends[MAX_PIECES],
			   int *n)
{
	mde_series_job j;
	mde_err err;
	int whole = 1;
	if (!n)
		n = &whole;
	*n = 1;
	if (!after(c->job_id, c->chunk_no, a) || chunk_job(c, &j, &err))
		return;
	if (ends)
		pieces_of(p, &j, ends, n);
	mde_series_job q = j;
	for (int k = 0; k < *n; k++) {
		q.end_ms = *n > 1 ? ends[k] : j.end_ms;
		if (mde_pf_add_series(p, &q))
			return; /* out of memory: fetched when needed */
		q.start_ms = q.end_ms;
	}
	a->job = c->job_id;
	a->chunk = c->chunk_no;
}

/*
 * Announces the claimed chunk (unless it was) and the pending chunks the
 * drain will probably claim after it, up to DRAIN_AHEAD: while one chunk
 * is validated, computed and written, the next ones are being fetched.
 * Memory: a few chunks at most. A chunk another worker claims instead is
 * fetched for nothing (and logged).
 */
static void announce(mde_pipeline *p, int64_t job_id, const mde_chunk *c,
		     struct announced *a, int64_t ends[MAX_PIECES],
		     int *npieces)
{
	*npieces = 1;
	if (!p->pf)
		return;
	announce_chunk(p, c, a, ends, npieces);
	mde_chunk next[DRAIN_AHEAD];
	size_t n = 0;
	mde_err err;
	/* Writers side by side: one chunk ahead each keeps as many in
	 * memory as one writer with two. */
	size_t ahead = p->side_by_side ? 1 : DRAIN_AHEAD;
	if (mde_job_peek(p->store, job_id, c->job_id, c->chunk_no, ahead,
			 next, &n, &err))
		return; /* they will be fetched when claimed */
	for (size_t i = 0; i < n && i < DRAIN_AHEAD; i++) {
		if (p->side_by_side &&
		    (strcmp(next[i].symbol, c->symbol) ||
		     next[i].job_id != c->job_id))
			break; /* another writer's to claim */
		announce_chunk(p, &next[i], a, NULL, NULL);
	}
}

/* Runs one claimed chunk under its series lock, in its n pieces (ending
 * at ends[]; n = 1: whole). */
static int run_chunk(mde_pipeline *p, const mde_chunk *c,
		     const int64_t *ends, int n, mde_err *err)
{
	mde_series_job j;
	int rc = chunk_job(c, &j, err);
	if (rc)
		return rc;
	int asset = j.asset;
	bool got = false;
	rc = mde_store_series_lock(p->store, c->symbol, c->timeframe, true,
				   &got, err);
	if (rc)
		return rc;
	mde_info("chunk.start", "job=%lld chunk=%d symbol=%s timeframe=%s "
		 "from=%lld to=%lld", (long long)c->job_id, c->chunk_no,
		 c->symbol, c->timeframe, (long long)j.start_ms,
		 (long long)j.end_ms);
	if (n <= 1 || ends[n - 1] != j.end_ms) {
		rc = mde_pipeline_series(p, &j, err);
	} else {
		mde_series_job q = j;
		for (int k = 0; k < n && !rc; k++) {
			q.end_ms = ends[k];
			q.more = k + 1 < n;
			rc = mde_pipeline_series(p, &q, err);
			q.start_ms = ends[k];
		}
	}
	mde_pipeline_series_done(p, c->symbol, c->timeframe, asset, c->source,
				 rc, err);
	mde_store_series_unlock(p->store, c->symbol, c->timeframe);
	return rc;
}

/*
 * Claims and runs chunks until nothing is left to claim. A chunk that fails
 * is marked failed and the loop goes on with the other series (its own
 * later chunks wait behind it); this loop does not retry what it failed
 * itself — `resume`, or a worker a minute later, does. The job modes wait
 * while other live workers hold chunks that will free later ones.
 */
/* Hands a chunk back (failed with why, or for a later claim). */
static void release(mde_pipeline *p, const mde_chunk *c, bool failed,
		    const char *why)
{
	mde_err e;
	if (mde_job_release(p->store, c, p->owner, failed, why, &e))
		mde_warn("chunk.release", "error=\"%s\"", e.msg);
}

/* What a chunk's end means for the loop. */
enum chunk_end { CHUNK_NEXT, CHUNK_AGAIN, CHUNK_STOP };

/*
 * Runs one claimed chunk and settles it: interrupted (released, stop),
 * the database lost under it (released once it is back, to be claimed
 * again from its committed cursor), failed (marked, the loop goes on).
 */
static enum chunk_end settle(mde_pipeline *p, const mde_chunk *c,
			     const int64_t *ends, int n, int *recoveries,
			     size_t *failed)
{
	mde_err err = {0};
	p->series_total++;
	int rc = run_chunk(p, c, ends, n, &err);
	if (rc == MDE_EINTR) {
		release(p, c, false, NULL);
		return CHUNK_STOP;
	}
	if (rc && err.code == MDE_EDB && err.retryable && *recoveries < 20 &&
	    mde_pipeline_recover(p, &err) == 0) {
		(*recoveries)++;
		p->series_total--;
		release(p, c, false, NULL);
		return CHUNK_AGAIN;
	}
	bool cancelled = false;
	if (rc == MDE_ELOST &&
	    mde_store_chunk_cancelled(mde_store_conn(p->store), c->job_id,
				      c->chunk_no, &cancelled, &err) == 0 &&
	    cancelled) {
		mde_info("chunk.cancelled", "job=%lld chunk=%d symbol=%s "
			 "reason=\"mdenrich cancel: stopped after the batch in "
			 "flight\"", (long long)c->job_id, c->chunk_no,
			 c->symbol);
		return CHUNK_NEXT;
	}
	if (rc) {
		(*failed)++;
		p->series_failed++;
		mde_pipeline_note_failed(p, c->symbol, c->timeframe);
		bool final = rc == MDE_ENOTFOUND && !err.retryable;
		mde_error("chunk.failed", "job=%lld chunk=%d symbol=%s "
			  "error=\"%s\"%s", (long long)c->job_id, c->chunk_no,
			  c->symbol, err.msg, final ? " retry=never" : "");
		mde_err e;
		if (final && mde_job_fail_for_good(p->store, c, p->owner,
						   err.msg, &e))
			mde_warn("chunk.release", "error=\"%s\"", e.msg);
		else if (!final && rc != MDE_ELOST)
			release(p, c, true, err.msg);
		if (final)
			mde_log_progress_end();
		if (final)
			fprintf(stderr, "mdenrich: %s: %s; it will not be "
				"retried: `mdenrich cancel --job %lld` drops "
				"the job\n", c->symbol, err.msg,
				(long long)c->job_id);
	}
	return CHUNK_NEXT;
}

/* After Ctrl-C: what was kept, and how to go on. */
static int interrupted(enum mde_drain_mode mode, int64_t job_id)
{
	mde_log_progress_end();
	if (mode == MDE_DRAIN_WORKER)
		fprintf(stderr, "mdenrich: interrupted; what was committed is "
			"kept, `mdenrich worker` (or `mdenrich resume`) goes "
			"on\n");
	else if (job_id)
		fprintf(stderr, "mdenrich: interrupted; `mdenrich resume --job "
			"%lld` continues\n", (long long)job_id);
	else
		fprintf(stderr, "mdenrich: interrupted; `mdenrich resume` "
			"continues\n");
	return MDE_EXIT_INTERRUPTED;
}

/* One writer of a drain: its pipeline, and how its loop ended. */
typedef struct drain_writer {
	mde_pipeline *p;
	enum mde_drain_mode mode;
	int64_t job_id;
	long max_chunks;
	bool idle_exit;
	/* A second writer of a job leaves when nothing is claimable rather
	 * than wait for another writer's series (whose next chunks that
	 * writer is fetching already). */
	bool leave_when_blocked;
	char own[40];        /* the series it claimed last */
	pthread_t th;
	bool fatal;          /* the database is gone for good (said) */
	int64_t stop_job;    /* interrupted: the job to resume, or 0 */
	bool stopped;
	size_t failed;       /* chunks this writer failed */
} drain_writer;

static void drain(drain_writer *d)
{
	mde_pipeline *p = d->p;
	struct announced ann = {INT64_MIN, 0};
	mde_err err = {0};
	mde_job_counts n = {0};
	long chunks = 0;
	int recoveries = 0;
	bool reclaimed = false;
	int64_t started = mde_now_ms();
	/* Side by side, a writer leaves its series for one with DRAIN_STICK
	 * more chunks left, so that the writers end together (with 5 series
	 * of a year and 2 writers the fifth is started early instead of
	 * being left to one writer alone at the end), switching about once a
	 * series. Alone, it claims in chunk order. */
	int stick = p->side_by_side ? DRAIN_STICK : -1;
	while (!mde_stop_requested) {
		mde_chunk c;
		bool found = false;
		int64_t failed_before = d->mode == MDE_DRAIN_WORKER
						? mde_now_ms() - 60000
						: started;
		if (mde_job_reap(p->store, p->host, &err) ||
		    mde_job_claim(p->store, d->job_id, p->owner,
				  p->cfg->lease_s, failed_before, d->own,
				  stick, &c, &found, &err) ||
		    (!found &&
		     mde_job_counts_get(p->store, d->job_id, &n, &err))) {
			if (mde_pipeline_recover(p, &err) == 0)
				continue;
			fprintf(stderr, "mdenrich: %s\n", err.msg);
			d->fatal = true;
			return;
		}
		if (!found && !d->leave_when_blocked &&
		    waits(d->mode, d->idle_exit, &n)) {
			mde_pipeline_heartbeat(p);
			mde_sleep_ms(d->mode == MDE_DRAIN_WORKER ? 2000 : 300,
				     &mde_stop_requested);
			reclaimed = false;
			continue;
		}
		/* The chunk another process held may have ended between the
		 * claim and the counts, freeing the one behind it: claim
		 * once more before giving up. */
		if (!found && n.pending && !reclaimed) {
			reclaimed = true;
			continue;
		}
		if (!found)
			break;
		reclaimed = false;
		snprintf(d->own, sizeof d->own, "%s", c.symbol);
		int64_t ends[MAX_PIECES];
		int npieces;
		announce(p, d->job_id, &c, &ann, ends, &npieces);
		enum chunk_end e = settle(p, &c, ends, npieces, &recoveries,
					  &d->failed);
		if (e == CHUNK_STOP) {
			d->stopped = true;
			d->stop_job = d->job_id ? d->job_id : c.job_id;
			return;
		}
		if (e == CHUNK_NEXT && d->max_chunks &&
		    ++chunks >= d->max_chunks)
			break;
	}
	if (mde_stop_requested) {
		d->stopped = true;
		d->stop_job = d->job_id;
	}
}

static void *writer_main(void *arg)
{
	drain(arg);
	return NULL;
}

/* Fetch threads ahead of a writer's stages, its share of the in-flight
 * bound (the host budgets and the bound itself are shared whatever the
 * share): one thread at --concurrency 1 still fetches the next chunk
 * while this one is written, one request in flight. */
static void start_fetching(mde_pipeline *p, int share)
{
	mde_err err = {0};
	if (share < 1)
		share = 1;
	if (mde_pf_open(p, share, (size_t)share * 4, &err))
		mde_warn("prefetch.failed", "error=\"%s\"", err.msg);
}

/* A writer's fetch threads stop; every fetch record it holds (those of
 * what was fetched ahead for nothing too) is written by its own store. */
static void stop_fetching(mde_pipeline *p)
{
	mde_err err = {0};
	mde_pf_close(p);
	if (mde_store_flush_fetch_log(p->store, p->run_id, &p->logbuf, &err))
		mde_warn("fetchlog.failed", "error=\"%s\"", err.msg);
}

#define MAX_WRITERS 16

/*
 * How many writers: [run] writers, no more than the series with chunks
 * left (the chunks of one series run one after another), one when a
 * worker counts its chunks.
 */
static int writers_for(const mde_pipeline *p, const mde_job_counts *n,
		       long max_chunks)
{
	int w = p->cfg->writers < 1 ? 1
		: p->cfg->writers > MAX_WRITERS ? MAX_WRITERS
						: p->cfg->writers;
	if (max_chunks || !n)
		return 1;
	if ((size_t)w > n->series_left)
		w = n->series_left ? (int)n->series_left : 1;
	return w;
}

/*
 * Runs the drain with its writers side by side: writer 0 on p, the others
 * on clones of their own (a database connection each, fetchers sharing
 * p's host budgets), each claiming chunks of its own; then adds up what
 * they did and says, once, how the drain ended.
 */
int mde_pipeline_drain(mde_pipeline *p, enum mde_drain_mode mode,
		       int64_t job_id, long max_chunks, bool idle_exit)
{
	mde_err err = {0};
	mde_job_counts n = {0};
	bool counted = !mde_job_counts_get(p->store, job_id, &n, &err);
	if (counted) {
		p->progress_total = n.candles_left;
		p->progress_started_ms = p->progress_last_ms = mde_mono_ms();
		p->progress = true;
	}
	int nw = writers_for(p, counted ? &n : NULL, max_chunks);
	mde_pipeline clones[MAX_WRITERS];
	drain_writer d[MAX_WRITERS];
	for (int k = 0; k < nw; k++) {
		if (k && mde_pipeline_clone_fetching(&clones[k], p, &err)) {
			mde_warn("drain.writer", "writers=%d error=\"%s\"", k,
				 err.msg);
			mde_pipeline_clone_close(&clones[k], p);
			nw = k;
			break;
		}
		d[k] = (drain_writer){.p = k ? &clones[k] : p, .mode = mode,
				      .job_id = job_id,
				      .max_chunks = max_chunks,
				      .idle_exit = idle_exit,
				      .leave_when_blocked =
					      k && mode == MDE_DRAIN_JOB};
		d[k].p->progress_to = k ? p : NULL;
	}
	for (int k = 0; k < nw; k++)
		d[k].p->side_by_side = nw > 1;
	int conc = p->cfg->concurrency;
	for (int k = 0; k < nw; k++)
		start_fetching(d[k].p, (conc + nw - 1 - k) / nw);
	if (nw > 1)
		mde_info("drain.writers", "writers=%d", nw);
	int started = 1;
	for (int k = 1; k < nw; k++, started++)
		if (pthread_create(&d[k].th, NULL, writer_main, &d[k])) {
			mde_warn("drain.writer", "writers=%d error=\"cannot "
				 "start a thread\"", k);
			break;
		}
	drain(&d[0]);
	bool fatal = false, stopped = false;
	int64_t stop_job = 0;
	size_t failed = 0;
	for (int k = 0; k < nw; k++) {
		if (k && k < started)
			pthread_join(d[k].th, NULL);
		stop_fetching(d[k].p);
		fatal |= d[k].fatal;
		if (d[k].stopped && (!stopped || !stop_job)) {
			stopped = true;
			stop_job = d[k].stop_job;
		}
		failed += d[k].failed;
		if (k)
			mde_pipeline_clone_close(d[k].p, p);
	}
	if (fatal)
		return MDE_EXIT_FATAL;
	if (stopped || mde_stop_requested)
		return interrupted(mode, stop_job ? stop_job : job_id);
	mde_log_progress_end();
	if (mode == MDE_DRAIN_JOB &&
	    !mde_job_counts_get(p->store, job_id, &n, &err) &&
	    (n.pending || n.failed)) {
		char job[32] = "";
		if (job_id)
			snprintf(job, sizeof job, " --job %lld",
				 (long long)job_id);
		fprintf(stderr, "mdenrich: %zu chunk(s) failed and %zu wait "
				"behind them; `mdenrich jobs` says why, "
				"`mdenrich resume%s` retries, `mdenrich cancel "
				"--job N` stops a job for good\n",
			n.failed, n.pending, job);
		return MDE_EXIT_PARTIAL;
	}
	return failed ? MDE_EXIT_PARTIAL : MDE_EXIT_OK;
}
