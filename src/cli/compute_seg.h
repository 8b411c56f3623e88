/*
 * compute_seg.h - the compute command's segments: memory follows the data,
 * not the time span between two candles.
 *
 * A crypto series lives on a grid of one slot per period from its first to
 * its last candle. Where two consecutive candles are further apart than
 * the features' warm-up (mde_features_warmup slots), no feature of the
 * later candle reads the earlier one: the rows on either side are
 * independent segments, each placed on a grid of its own and computed
 * alone, with the same values as on the whole grid. A file with a candle
 * in 1970 and one today is two segments of one slot each.
 */
#ifndef MDE_COMPUTE_SEG_H
#define MDE_COMPUTE_SEG_H

#include "candles.h"

typedef struct mde_cseg {
	int64_t lo_ms, hi_ms; /* the open_times of the segment, inclusive */
	size_t rows;          /* rows of the input in it */
} mde_cseg;

/*
 * The segments of c's rows (equity: always one): open_times more than
 * max_gap_slots periods apart start a new one. *out is malloc'd.
 */
int mde_cseg_split(const mde_candles *c, int64_t period_ms, int asset,
		   size_t max_gap_slots, mde_cseg **out,
		   size_t *n) MDE_MUSTCHECK;

/*
 * The rows of c inside seg, in input order, into sub (cleared first);
 * map[i] (reserved here, seg->rows entries) is row i's row in c.
 */
int mde_cseg_extract(const mde_candles *c, const mde_cseg *seg,
		     mde_candles *sub, uint32_t **map) MDE_MUSTCHECK;

#endif
