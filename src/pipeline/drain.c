/*
 * drain.c - the loop of backfill, resume and worker (pipeline.h): claim a
 * chunk of a durable job (jobs.h), enrich it under its series lock, and
 * go on until nothing is left to claim.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* The last chunk announced to the fetch threads. */
struct announced {
	int64_t job;
	int chunk;
};

static bool after(int64_t job, int chunk, const struct announced *a)
{
	return job > a->job || (job == a->job && chunk > a->chunk);
}

static void announce_chunk(mde_pipeline *p, const mde_chunk *c,
			   struct announced *a)
{
	mde_series_job j;
	mde_err err;
	if (!after(c->job_id, c->chunk_no, a) || chunk_job(c, &j, &err) ||
	    mde_pf_add_series(p, &j))
		return;
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
		     struct announced *a)
{
	if (!p->pf)
		return;
	announce_chunk(p, c, a);
	mde_chunk next[DRAIN_AHEAD];
	size_t n = 0;
	mde_err err;
	if (mde_job_peek(p->store, job_id, c->job_id, c->chunk_no, DRAIN_AHEAD,
			 next, &n, &err))
		return; /* they will be fetched when claimed */
	for (size_t i = 0; i < n; i++)
		announce_chunk(p, &next[i], a);
}

/* Runs one claimed chunk under its series lock. */
static int run_chunk(mde_pipeline *p, const mde_chunk *c, mde_err *err)
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
	rc = mde_pipeline_series(p, &j, err);
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
			     int *recoveries, size_t *failed)
{
	mde_err err = {0};
	p->series_total++;
	int rc = run_chunk(p, c, &err);
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
	if (rc) {
		(*failed)++;
		p->series_failed++;
		mde_error("chunk.failed", "job=%lld chunk=%d symbol=%s "
			  "error=\"%s\"", (long long)c->job_id, c->chunk_no,
			  c->symbol, err.msg);
		if (rc != MDE_ELOST)
			release(p, c, true, err.msg);
	}
	return CHUNK_NEXT;
}

static int drain(mde_pipeline *p, enum mde_drain_mode mode, int64_t job_id,
		 long max_chunks, bool idle_exit)
{
	struct announced ann = {INT64_MIN, 0};
	mde_err err = {0};
	mde_job_counts n = {0};
	size_t failed = 0;
	long chunks = 0;
	int recoveries = 0;
	int64_t started = mde_now_ms();
	if (!mde_job_counts_get(p->store, job_id, &n, &err)) {
		p->progress_total = n.candles_left;
		p->progress_started_ms = p->progress_last_ms = mde_mono_ms();
		p->progress = true;
	}
	while (!mde_stop_requested) {
		mde_chunk c;
		bool found = false;
		int64_t failed_before = mode == MDE_DRAIN_WORKER
						? mde_now_ms() - 60000
						: started;
		if (mde_job_reap(p->store, p->host, &err) ||
		    mde_job_claim(p->store, job_id, p->owner, p->cfg->lease_s,
				  failed_before, &c, &found, &err) ||
		    (!found && mde_job_counts_get(p->store, job_id, &n, &err))) {
			if (mde_pipeline_recover(p, &err) == 0)
				continue;
			fprintf(stderr, "mdenrich: %s\n", err.msg);
			return MDE_EXIT_FATAL;
		}
		if (!found && waits(mode, idle_exit, &n)) {
			mde_pipeline_heartbeat(p);
			mde_sleep_ms(mode == MDE_DRAIN_WORKER ? 2000 : 300,
				     &mde_stop_requested);
			continue;
		}
		if (!found)
			break;
		announce(p, job_id, &c, &ann);
		enum chunk_end e = settle(p, &c, &recoveries, &failed);
		if (e == CHUNK_STOP)
			return MDE_EXIT_INTERRUPTED;
		if (e == CHUNK_NEXT && max_chunks && ++chunks >= max_chunks)
			break;
	}
	if (mde_stop_requested)
		return MDE_EXIT_INTERRUPTED;
	if (mode == MDE_DRAIN_JOB && (n.pending || n.failed)) {
		fprintf(stderr, "mdenrich: %zu chunk(s) failed and %zu wait "
				"behind them; `mdenrich status` says why, "
				"`mdenrich resume` retries\n",
			n.failed, n.pending);
		return MDE_EXIT_PARTIAL;
	}
	return failed ? MDE_EXIT_PARTIAL : MDE_EXIT_OK;
}

int mde_pipeline_drain(mde_pipeline *p, enum mde_drain_mode mode,
		       int64_t job_id, long max_chunks, bool idle_exit)
{
	int n = p->cfg->concurrency;
	mde_err err = {0};
	if (n > 1 && mde_pf_open(p, n, (size_t)n * 4, &err))
		mde_warn("prefetch.failed", "error=\"%s\"", err.msg);
	int code = drain(p, mode, job_id, max_chunks, idle_exit);
	if (p->pf) {
		/* what was fetched ahead for nothing is logged too */
		mde_pf_close(p);
		if (mde_store_flush_fetch_log(p->store, p->run_id, &p->logbuf,
					      &err))
			mde_warn("fetchlog.failed", "error=\"%s\"", err.msg);
	}
	return code;
}
