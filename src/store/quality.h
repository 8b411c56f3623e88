/*
 * quality.h - the per-day quality metrics (data_quality_metrics) and the
 * per-series summary (enrichment_status), both recomputed from what the
 * database holds, so that a rerun, a resumed backfill and a worker on
 * another host all end with the same rows.
 *
 * Both functions run ONE statement each and never BEGIN or COMMIT: the
 * store calls them inside its batch transaction, after the batch's rows,
 * rejects and corrections are written, so the metrics commit (or roll
 * back) with the data they describe. Values go only through parameters.
 *
 * Definitions (FEATURES.md "Quality metrics"; the choices the spec leaves
 * open are written down in docs/OPERATIONS.md):
 *   valid       market_data_v2 rows of the day
 *   rejected    distinct open_times of the day in rejected_candles (any
 *               source) that have no market_data_v2 row
 *   received    valid + rejected
 *   expected    crypto: grid slots of the day at or after the series'
 *               first stored open_time whose candle has closed
 *               (open_time + period <= now); equity: valid + rejected
 *   duplicates  from the caller (see mde_quality_recompute)
 *   gaps        max(expected - valid, 0)
 *   suspicious  rows of the day with validation_flags & 1 (extreme move)
 *   corrections distinct open_times of the day in data_corrections
 *   completeness    valid / expected, NULL when expected = 0
 *   quality_score   clamp((valid - 0.5 * suspicious) / expected, 0, 1),
 *                   NULL when expected = 0
 */
#ifndef MDE_QUALITY_H
#define MDE_QUALITY_H

#include <libpq-fe.h>

#include "mde.h"
#include "store.h" /* mde_day_dups, the pipeline's per-day duplicates */

/*
 * What the caller knows of the stored rows of [lo_ms, hi_ms]: exactly the
 * rows it inserted in this transaction into a range that held none, as
 * counts per UTC day (day_ms 00:00 UTC, ascending). The recompute then
 * reads from market_data_v2 only the parts of the days outside the range,
 * so a fresh backfill does not read back every row it wrote.
 */
typedef struct mde_quality_day {
	int64_t day_ms;
	int32_t valid, suspicious;
} mde_quality_day;

typedef struct mde_quality_known {
	int64_t lo_ms, hi_ms;
	const mde_quality_day *days;
	size_t ndays;
} mde_quality_known;

/*
 * Recomputes the data_quality_metrics rows of one series (symbol,
 * timeframe of period_ms, asset MDE_CRYPTO or MDE_EQUITY) for every UTC
 * day that intersects [from_ms, to_ms), with one INSERT ... ON CONFLICT
 * DO UPDATE ... WHERE (...) IS DISTINCT FROM (...): a day whose values are
 * unchanged is not written at all (no new tuple, computed_at kept).
 *
 * A day gets a row when it has expected slots, stored, rejected or
 * corrected candles, an entry in dups, or already a row. dups[0..ndups)
 * (may be NULL when ndups is 0; day_ms may be any time of the day) sets
 * the duplicates of its days; entries of the same day add up; entries
 * outside the range are ignored; a day in
 * the range without an entry keeps its stored duplicates (0 when new).
 * now_ms decides which crypto slots have closed. *changed (may be NULL)
 * receives the number of rows inserted or updated. known (may be NULL)
 * stands for the stored rows of its range (see mde_quality_known).
 * prepared (may be NULL: an unnamed statement) is whether the statement
 * is prepared on c (mde_db_prepared), kept by the caller with the
 * connection: a series' batches parse and plan it once. Prepared, it must
 * run inside the caller's transaction (its plan mode is SET LOCAL).
 *
 * Returns 0, MDE_EINVAL (bad period or asset), MDE_ENOMEM or MDE_EDB (err
 * carries the SQLSTATE and whether it is retryable; the caller's
 * transaction is then aborted and must be rolled back).
 */
int mde_quality_recompute(size_t *changed, PGconn *c, bool *prepared,
			  const char *symbol, const char *timeframe,
			  int64_t period_ms, int asset_class, int64_t from_ms,
			  int64_t to_ms, const mde_day_dups *dups, size_t ndups,
			  const mde_quality_known *known, int64_t now_ms,
			  mde_err *err) MDE_MUSTCHECK;

/*
 * Upserts the enrichment_status row of (symbol, timeframe): first and last
 * open_time read from market_data_v2 (PK index endpoints); rows_total
 * counted for a new status row or when rows_added < 0, else the stored
 * total plus rows_added (a count grows with the series); feature_version
 * set to MDE_FEATURE_VERSION when all_current (every stored row of the
 * series was written by this version), else kept; aux_holes
 * counted from aux_holes for the symbol, last_run_at = now(), and the
 * given asset class, source (NULL keeps the stored one), run_id (<= 0
 * keeps the stored one), status ("ok", "failed", "partial", ...) and
 * error (NULL clears it). One statement, no transaction of its own.
 * Returns 0, MDE_EINVAL or MDE_EDB.
 */
int mde_status_refresh(PGconn *c, const char *symbol, const char *timeframe,
		       int asset_class, const char *source, int64_t run_id,
		       int64_t rows_added, bool all_current,
		       const char *status, const char *error,
		       mde_err *err) MDE_MUSTCHECK;

#endif
