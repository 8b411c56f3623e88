/*
 * admin.h - the store's side of `mdenrich cancel` and `mdenrich prune`:
 * stopping a backfill job for good, and deleting the log rows (fetch log,
 * compute log, runs) and finished jobs older than a cutoff. Never touches
 * market_data_v2, data_corrections or rejected_candles.
 */
#ifndef MDE_ADMIN_H
#define MDE_ADMIN_H

#include <libpq-fe.h>

#include "mde.h"

/* What mde_store_job_cancel changed. */
typedef struct mde_cancel_counts {
	bool exists;
	size_t cancelled;  /* pending or failed chunks now cancelled */
	size_t running;    /* running chunks cancelled: they stop after
			      their batch in flight (their lease is gone) */
	size_t done;       /* chunks already done, kept */
} mde_cancel_counts;

/* Cancels every chunk of job_id that is not done, in one transaction. */
int mde_store_job_cancel(PGconn *c, int64_t job_id, mde_cancel_counts *out,
			 mde_err *err) MDE_MUSTCHECK;

/* Whether chunk (job_id, chunk_no) is cancelled. */
int mde_store_chunk_cancelled(PGconn *c, int64_t job_id, int chunk_no,
			      bool *cancelled, mde_err *err) MDE_MUSTCHECK;

enum { MDE_PRUNE_FETCH, MDE_PRUNE_COMPUTE, MDE_PRUNE_RUNS, MDE_PRUNE_JOBS,
       MDE_PRUNE_NKINDS };
/* The table each count of mde_store_prune is about. */
extern const char *const mde_prune_names[MDE_PRUNE_NKINDS];

/*
 * Deletes (or, with dry_run, only counts) the rows older than
 * older_than_ms before now: fetch-log rows by requested_at, compute-log
 * rows by at, finished runs by finished_at, and jobs whose chunks are all
 * done or cancelled and unchanged since the cutoff (their chunks too).
 * One transaction: all or nothing.
 */
int mde_store_prune(PGconn *c, int64_t older_than_ms, bool dry_run,
		    long long counts[MDE_PRUNE_NKINDS],
		    mde_err *err) MDE_MUSTCHECK;

#endif
