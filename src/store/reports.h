/*
 * reports.h - the read-only queries behind `status` and `quality` (and
 * anything else that shows what the tables hold). The result columns are
 * in the order of the enums below; the caller renders and PQclear()s.
 */
#ifndef MDE_REPORTS_H
#define MDE_REPORTS_H

#include <libpq-fe.h>

#include "mde.h"

/* Columns of mde_store_status_series: one row per enrichment_status row;
 * times in epoch ms. */
enum {
	MDE_SS_SYMBOL, MDE_SS_TIMEFRAME, MDE_SS_ASSET, MDE_SS_SOURCE,
	MDE_SS_FIRST, MDE_SS_LAST, MDE_SS_ROWS, MDE_SS_RUN_ID, MDE_SS_RUN_AT,
	MDE_SS_STATUS, MDE_SS_ERROR, MDE_SS_AUX_HOLES
};

/* Columns of mde_store_status_jobs: one row per backfill job with the
 * counts of its chunks. */
enum {
	MDE_SJ_ID, MDE_SJ_SYMBOLS, MDE_SJ_TIMEFRAME, MDE_SJ_ASSET,
	MDE_SJ_SOURCE, MDE_SJ_START, MDE_SJ_END, MDE_SJ_CREATED, MDE_SJ_CHUNKS,
	MDE_SJ_DONE, MDE_SJ_RUNNING, MDE_SJ_PENDING, MDE_SJ_FAILED,
	MDE_SJ_TOTAL_MS, MDE_SJ_COVERED_MS, MDE_SJ_PERIOD_MS, MDE_SJ_ERROR,
	MDE_SJ_LEASES, MDE_SJ_OWNERS, MDE_SJ_EXPIRED, MDE_SJ_CHANGED_AT,
	MDE_SJ_CANCELLED
};

/* Columns of mde_store_quality_rows. */
enum {
	MDE_Q_SYMBOL, MDE_Q_TIMEFRAME, MDE_Q_DAY, MDE_Q_EXPECTED,
	MDE_Q_RECEIVED, MDE_Q_VALID, MDE_Q_REJECTED, MDE_Q_DUPLICATES,
	MDE_Q_GAPS, MDE_Q_SUSPICIOUS, MDE_Q_CORRECTIONS, MDE_Q_COMPLETENESS,
	MDE_Q_QUALITY, MDE_Q_COMPUTED_AT, MDE_Q_NCOLS
};

int mde_store_status_series(PGconn *c, PGresult **out,
			    mde_err *err) MDE_MUSTCHECK;
int mde_store_status_jobs(PGconn *c, PGresult **out,
			  mde_err *err) MDE_MUSTCHECK;
/*
 * data_quality_metrics rows, worst first (lowest quality_score, then
 * lowest completeness, then the most recent day). params: symbol or NULL,
 * timeframe or NULL, since in epoch ms as text or NULL.
 */
int mde_store_quality_rows(PGconn *c, const char *const params[3],
			   PGresult **out, mde_err *err) MDE_MUSTCHECK;

/* The (symbol, timeframe) pairs data_quality_metrics holds, of symbol
 * (NULL: all), sorted. */
int mde_store_quality_series(PGconn *c, const char *symbol, PGresult **out,
			     mde_err *err) MDE_MUSTCHECK;

#endif
