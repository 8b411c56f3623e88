/*
 * validate.h - the hard checks of FEATURES.md "Validation" and the
 * placement of the accepted candles on their grid.
 *
 *   mde_candles (arrival order, duplicates, garbage)
 *        --mde_validate-->  mde_series (sorted, one slot per period for
 *                           crypto with gaps as NaN; one per bar for equity)
 *                           + rejects (row, every reason) + duplicates
 *                           + counts for the quality metrics
 *
 * Duplicates of one open_time: the last row in arrival order wins and is
 * then validated; when it fails, the slot is a gap (the earlier copy is not
 * used) and the earlier copies are counted as duplicates, never as valid.
 */
#ifndef MDE_VALIDATE_H
#define MDE_VALIDATE_H

#include "audit.h"
#include "candles.h"

/* Every reason row i of c fails (0 = valid). */
uint32_t mde_validate_row(const mde_candles *c, size_t i, int64_t period_ms,
			  enum mde_asset asset, int64_t now_ms);

typedef struct mde_vstats {
	size_t received;     /* rows in the input */
	size_t valid;        /* rows placed in the series */
	size_t rejected;     /* winning rows that failed a check */
	size_t duplicates;   /* rows superseded by a later row, same time */
	size_t out_of_order; /* rows whose open_time < the row before's */
	size_t expected;     /* slots of the grid (crypto) or valid +
				rejected (equity) */
	size_t gaps;         /* crypto: expected - valid; equity: 0 */
} mde_vstats;

typedef struct mde_validation {
	mde_series series;   /* owned; free with mde_validation_free */
	mde_reject *rejects; /* owned, nrejects entries, ascending row */
	size_t nrejects;
	uint32_t *dups;      /* owned: rows superseded, ascending */
	size_t ndups;
	mde_vstats stats;
	void *work; /* per-row working memory, kept for the next batch */
	size_t work_cap;
} mde_validation;

/*
 * Validates every row of c and places the valid ones on the grid of
 * period_ms (crypto: one slot per period from the first to the last valid
 * candle; equity: consecutive bars, open_time as given). out must be
 * zeroed or hold a previous result, whose buffers are reused (the series'
 * block is kept when large enough: no page faults on the next batch); c is
 * only read, series.row / rejects / dups index into it, and the series may
 * borrow its columns (candles.h): c must outlive it, unchanged. Returns 0,
 * MDE_ENOMEM, or MDE_EINVAL (bad period, or a crypto grid of more than
 * MDE_GRID_MAX slots). On error out holds nothing to free but is safe to
 * pass to mde_validation_free.
 */
int mde_validate(mde_validation *out, const mde_candles *c, int64_t period_ms,
		 enum mde_asset asset, int64_t now_ms,
			 mde_err *err) MDE_MUSTCHECK;
void mde_validation_free(mde_validation *v);

/* Largest crypto grid mde_grid_place builds (slots). */
#define MDE_GRID_MAX (UINT32_MAX / 2)

/*
 * Places rows[0..nrows) of c, taken as valid, on the grid: in list order,
 * a later row of the same open_time replaces an earlier one (the store
 * lists history read back from the database first, then the new candles).
 * out (empty or previously used; its contents are replaced) is reserved
 * here. Crypto rows must be aligned to period_ms. Returns 0, MDE_ENOMEM,
 * MDE_EINVAL (misaligned crypto row, grid too large).
 */
int mde_grid_place(mde_series *out, const mde_candles *c,
		   const uint32_t *rows, size_t nrows, int64_t period_ms,
		   enum mde_asset asset, mde_err *err) MDE_MUSTCHECK;

#endif
