/*
 * jobs.h - durable backfill jobs in backfill_jobs / backfill_state.
 *
 * A job is split into chunks per symbol. A chunk is claimed with FOR UPDATE
 * SKIP LOCKED and a lease (owner, expiry); it is claimable when pending,
 * failed (fewer than MDE_JOB_MAX_ATTEMPTS attempts), or running under an
 * expired lease, and only once every earlier chunk of its series is done
 * (a chunk's features need the history the earlier one writes). The lease
 * is renewed by each batch the store commits and checked by it, so no chunk
 * is done twice while its lease is alive. A lease whose owner is a dead
 * process on this host is expired at once.
 */
#ifndef MDE_JOBS_H
#define MDE_JOBS_H

#include "store.h"

#define MDE_JOB_MAX_ATTEMPTS 10

typedef struct mde_chunk {
	int64_t job_id;
	int chunk_no;
	char symbol[40];
	char timeframe[8];
	char asset_class[8];
	char source[512];
	int64_t range_start_ms, range_end_ms;
	int64_t cursor_ms;  /* INT64_MIN when nothing committed yet */
} mde_chunk;

/* Creates a job and its chunks in one transaction; *job_id is its id. */
int mde_job_create(mde_store *s, const char *symbols, const char *timeframe,
		   int64_t period_ms, const char *asset_class,
		   const char *source, int64_t from_ms, int64_t to_ms,
		   int64_t chunk_ms, int64_t run_id, int64_t *job_id,
		   size_t *nchunks, mde_err *err) MDE_MUSTCHECK;
/*
 * Up to max pending chunks (of job_id, or of any job when 0) after
 * (after_job, after_chunk) in chunk order, without claiming them: what a
 * drain will probably claim next, for its fetch threads to fetch ahead.
 */
int mde_job_peek(mde_store *s, int64_t job_id, int64_t after_job,
		 int after_chunk, size_t max, mde_chunk *out, size_t *n,
		 mde_err *err) MDE_MUSTCHECK;
/*
 * Claims the next claimable chunk (of job_id, or of any job when 0) for
 * owner with a lease of lease_s seconds: pending, running under an expired
 * lease, or failed before failed_before_ms with attempts left (a caller
 * passes its own start so that it does not retry at once what it just
 * failed). *found = false when none.
 *
 * A series' chunks go in order, one at a time. With stick < 0 (a writer
 * alone) the claim takes the first claimable chunk in chunk order (series
 * after series). With stick >= 0 (writers side by side), among the series
 * of the oldest job the one with the most chunks left goes first, except
 * that the caller's own series (own: the symbol it claimed last, or NULL)
 * counts stick chunks more: the writers keep to their series (their
 * fetches ahead stay right) and still end together, the series that would
 * otherwise be left to one writer alone at the end being started early.
 */
int mde_job_claim(mde_store *s, int64_t job_id, const char *owner,
		  int lease_s, int64_t failed_before_ms, const char *own,
		  int stick, mde_chunk *out, bool *found,
		  mde_err *err) MDE_MUSTCHECK;
/* Ends a claim: failed (with the error) or back to pending (interrupted). */
int mde_job_release(mde_store *s, const mde_chunk *c, const char *owner,
		    bool failed, const char *error, mde_err *err) MDE_MUSTCHECK;

/* Ends a claim as failed for good (an unknown symbol: retrying cannot
 * help): no later claim takes it; `mdenrich cancel` drops the job. */
int mde_job_fail_for_good(mde_store *s, const mde_chunk *c,
			  const char *owner, const char *error,
			  mde_err *err) MDE_MUSTCHECK;

/* The chunks of job_id (or of every job when 0), by state. */
typedef struct mde_job_counts {
	size_t pending;
	size_t running_live;    /* running under a lease still alive */
	size_t failed;
	size_t done;
	size_t candles_left;    /* slots not yet covered by a cursor */
	size_t series_left;     /* series with chunks not done */
} mde_job_counts;

int mde_job_counts_get(mde_store *s, int64_t job_id, mde_job_counts *out,
		       mde_err *err) MDE_MUSTCHECK;
/* Expires the leases held by processes of this host that no longer run. */
int mde_job_reap(mde_store *s, const char *host, mde_err *err) MDE_MUSTCHECK;

#endif
