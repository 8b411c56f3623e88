/*
 * runs.h - the store's side of a run: its enrichment_runs row, the
 * per-series advisory locks, and the questions the run planner asks of
 * what is stored (where fallback candles start, where rows of an older
 * feature_version start, whether a backfill job exists).
 */
#ifndef MDE_RUNS_H
#define MDE_RUNS_H

#include "store.h"

/* The totals an enrichment_runs row records when the run ends. */
typedef struct mde_run_totals {
	size_t series_total, series_failed, rows_fetched, rows_written,
		rows_unchanged, rows_rejected, corrections;
} mde_run_totals;

/* Inserts the enrichment_runs row of a run of kind ("hourly", ...). */
int mde_store_run_begin(mde_store *s, const char *kind, const char *host,
			int pid, const char *args, int64_t *run_id,
			mde_err *err) MDE_MUSTCHECK;
/* Records the end of run_id: status, totals, error (NULL = none). */
int mde_store_run_end(mde_store *s, int64_t run_id, const char *status,
		      const mde_run_totals *t, const char *error,
		      mde_err *err) MDE_MUSTCHECK;

/*
 * Stale runs (runs_stale.c): a run left 'running' by a process that is
 * gone is marked 'interrupted' by the next process that looks. Gone means
 * on this host (same name) with a pid that no longer exists, or on any
 * host with no heartbeat for MDE_RUN_STALE_S. *n receives how many.
 */
#define MDE_RUN_STALE_S (6 * 3600)
int mde_store_runs_reap(mde_store *s, const char *host, int self_pid,
			size_t *n, mde_err *err) MDE_MUSTCHECK;
/* Refreshes run_id's heartbeat_at. */
int mde_store_run_heartbeat(mde_store *s, int64_t run_id,
			    mde_err *err) MDE_MUSTCHECK;

/*
 * The session advisory lock of one series (symbol, timeframe): wait for
 * it (MDE_EINTR when a stop request ends the wait), or only try (*got
 * false when another session holds it).
 */
int mde_store_series_lock(mde_store *s, const char *symbol,
			  const char *timeframe, bool wait, bool *got,
			  mde_err *err) MDE_MUSTCHECK;
/*
 * The same lock for the current transaction only (released at its end),
 * never waiting: *got false while a run, worker or another stream holds
 * it. The stream takes its series so, batch by batch.
 */
int mde_store_series_xlock(mde_store *s, const char *symbol,
			   const char *timeframe, bool *got,
			   mde_err *err) MDE_MUSTCHECK;
void mde_store_series_unlock(mde_store *s, const char *symbol,
			     const char *timeframe);

/* The earliest stored candle a fallback source served (validation_flags
 * bit 8; a partial index finds it); INT64_MIN when none. */
int mde_store_first_fallback(mde_store *s, const char *symbol,
			     const char *timeframe, int64_t *out_ms,
			     mde_err *err) MDE_MUSTCHECK;
/* The first stored candle of a series whose rows are not all at
 * MDE_FEATURE_VERSION; INT64_MIN when they are. */
int mde_store_first_stale(mde_store *s, const char *symbol,
			  const char *timeframe, int64_t *out_ms,
			  mde_err *err) MDE_MUSTCHECK;
/* Whether backfill job job_id exists. */
int mde_store_job_exists(mde_store *s, int64_t job_id, bool *exists,
			 mde_err *err) MDE_MUSTCHECK;

#endif
