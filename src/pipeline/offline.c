/*
 * offline.c - the stages of `mdenrich compute` (pipeline.h): candles the
 * user already has are validated and computed as the pipeline would, with
 * no fetch and no store.
 *
 * Memory follows the data, not the time span between two candles: a crypto
 * series lives on a grid of one slot per period from its first to its last
 * candle, but where two consecutive candles are further apart than the
 * features' warm-up (mde_features_warmup slots) no feature of the later one
 * reads the earlier one. The rows on either side are then independent
 * segments, each placed on a grid of its own and computed alone, with the
 * same values as on the whole grid (tests/test_robust_cli.c). A file with a
 * candle in 1970 and one today is two segments of one slot each.
 */
#include "pipeline.h"

#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "timeutil.h"

typedef struct seg_t {
	int64_t lo_ms, hi_ms; /* the open_times of the segment, inclusive */
	size_t rows;          /* rows of the input in it */
} seg_t;

struct mde_offline_priv {
	const mde_candles *c;
	int64_t period_ms;
	enum mde_asset asset;
	const mde_auxset *aux;
	seg_t *seg;
	mde_candles sub;   /* segment k's rows when there are several */
	uint32_t *map;     /* sub's rows in c */
	mde_validation v;
	mde_frame fr;
	int64_t now_ms;
};

int mde_pipeline_offline(mde_validation *v, mde_frame *fr,
			 const mde_candles *c, int64_t period_ms,
			 enum mde_asset asset, const mde_auxset *aux,
			 mde_err *err)
{
	int rc = mde_validate(v, c, period_ms, asset, mde_now_ms(), err);
	if (!rc)
		rc = mde_features_compute(fr, &v->series, aux, err);
	return rc;
}

/* ---- segments ---- */

static int cmp_i64(const void *pa, const void *pb)
{
	int64_t a = *(const int64_t *)pa, b = *(const int64_t *)pb;
	return (a > b) - (a < b);
}

static int seg_split(const mde_candles *c, int64_t period_ms,
		     enum mde_asset asset,
		   size_t max_gap_slots, seg_t **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	size_t rows = c->n, k = 1;
	while (k < rows && c->open_time_ms[k - 1] <= c->open_time_ms[k])
		k++;
	/* the times in order: the table's own when they are (a file in
	 * order, the common case), else a sorted copy */
	int64_t *copy = NULL;
	const int64_t *t = c->open_time_ms;
	seg_t *s = malloc(sizeof *s);
	if (!s || (k < rows && !(copy = malloc(rows * sizeof *copy))))
		goto nomem;
	if (copy) {
		memcpy(copy, c->open_time_ms, rows * sizeof *copy);
		qsort(copy, rows, sizeof *copy, cmp_i64);
		t = copy;
	}
	size_t ns = 0, cap = 1;
	/* Differences as unsigned: any two int64 times are apart by less
	 * than 2^64. */
	uint64_t gap = asset == MDE_CRYPTO && period_ms > 0
			       ? ((uint64_t)max_gap_slots + 1) *
					 (uint64_t)period_ms
			       : UINT64_MAX;
	for (size_t i = 0; i < rows; i++) {
		if (i > 0 && (uint64_t)t[i] - (uint64_t)t[i - 1] <= gap) {
			s[ns - 1].hi_ms = t[i];
			s[ns - 1].rows++;
			continue;
		}
		if (ns == cap) {
			seg_t *g = realloc(s, 2 * cap * sizeof *s);
			if (!g)
				goto nomem;
			s = g;
			cap *= 2;
		}
		s[ns++] = (seg_t){t[i], t[i], 1};
	}
	if (ns == 0)
		s[ns++] = (seg_t){0, -1, 0};
	free(copy);
	*out = s;
	*n = ns;
	return 0;
nomem:
	free(copy);
	free(s);
	return MDE_ENOMEM;
}

static int seg_extract(const mde_candles *c, const seg_t *seg,
		     mde_candles *sub, uint32_t **map)
{
	mde_candles_clear(sub);
	free(*map);
	*map = malloc((seg->rows ? seg->rows : 1) * sizeof **map);
	if (!*map || mde_candles_reserve(sub, seg->rows))
		return MDE_ENOMEM;
	size_t k = 0;
	for (size_t i = 0; i < c->n; i++) {
		int64_t t = c->open_time_ms[i];
		if (t < seg->lo_ms || t > seg->hi_ms)
			continue;
		if (mde_candles_copy_row(sub, c, i))
			return MDE_ENOMEM;
		(*map)[k++] = (uint32_t)i;
	}
	return 0;
}

/* Validates segment k into p->v; with one segment, c itself. */
static int seg_validate(mde_offline *o, size_t k, mde_err *err)
{
	struct mde_offline_priv *p = o->priv;
	const mde_candles *in = p->c;
	if (o->nseg > 1) {
		if (seg_extract(in, &p->seg[k], &p->sub, &p->map))
			return mde_err_set(err, MDE_ENOMEM, false,
					   "out of memory");
		in = &p->sub;
	}
	return mde_validate(&p->v, in, p->period_ms, p->asset, p->now_ms, err);
}

static int cmp_reject(const void *pa, const void *pb)
{
	const mde_reject *a = pa, *b = pb;
	return (a->row > b->row) - (a->row < b->row);
}

static int cmp_u32(const void *pa, const void *pb)
{
	uint32_t a = *(const uint32_t *)pa, b = *(const uint32_t *)pb;
	return (a > b) - (a < b);
}

/* Adds the segment just validated to the totals. */
static void seg_account(mde_offline *o, int64_t *last_t)
{
	struct mde_offline_priv *p = o->priv;
	const mde_validation *v = &p->v;
	const mde_series *s = &v->series;
	for (size_t i = 0; i < v->nrejects; i++)
		o->rejects[o->nrejects++] = (mde_reject){
			p->map[v->rejects[i].row], v->rejects[i].reasons};
	for (size_t i = 0; i < v->ndups; i++)
		o->dups[o->ndups++] = p->map[v->dups[i]];
	o->stats.received += v->stats.received;
	o->stats.valid += v->stats.valid;
	o->stats.rejected += v->stats.rejected;
	o->stats.duplicates += v->stats.duplicates;
	o->stats.expected += v->stats.expected;
	o->stats.gaps += v->stats.gaps;
	if (p->asset != MDE_CRYPTO || !v->stats.valid)
		return;
	/* the empty slots between two segments are gaps too */
	if (*last_t != INT64_MIN) {
		size_t between = (size_t)((s->t[0] - *last_t) / p->period_ms - 1);
		o->stats.gaps += between;
		o->stats.expected += between;
	}
	*last_t = s->t[s->n - 1];
}

/* Every segment validated: rejects, duplicates and totals. */
static int check_all(mde_offline *o, mde_err *err)
{
	struct mde_offline_priv *p = o->priv;
	size_t n = p->c->n ? p->c->n : 1;
	o->rejects = malloc(n * sizeof *o->rejects);
	o->dups = malloc(n * sizeof *o->dups);
	if (!o->rejects || !o->dups)
		return mde_err_set(err, MDE_ENOMEM, false, "out of memory");
	int64_t last_t = INT64_MIN;
	for (size_t k = 0; k < o->nseg; k++) {
		int rc = seg_validate(o, k, err);
		if (rc)
			return rc;
		seg_account(o, &last_t);
	}
	const int64_t *t = p->c->open_time_ms;
	for (size_t i = 1; i < p->c->n; i++)
		o->stats.out_of_order += t[i] < t[i - 1];
	qsort(o->rejects, o->nrejects, sizeof *o->rejects, cmp_reject);
	qsort(o->dups, o->ndups, sizeof *o->dups, cmp_u32);
	return 0;
}

int mde_offline_open(mde_offline *o, const mde_candles *c, int64_t period_ms,
		     enum mde_asset asset, const mde_auxset *aux,
		     mde_err *err)
{
	memset(o, 0, sizeof *o);
	struct mde_offline_priv *p = calloc(1, sizeof *p);
	if (!p)
		return mde_err_set(err, MDE_ENOMEM, false, "out of memory");
	o->priv = p;
	*p = (struct mde_offline_priv){.c = c, .period_ms = period_ms,
				       .asset = asset, .aux = aux,
				       .now_ms = mde_now_ms()};
	if (period_ms <= 0)
		return mde_err_set(err, MDE_EINVAL, false, "bad period");
	if (seg_split(c, period_ms, asset, mde_features_warmup(period_ms,
								asset),
		      &p->seg, &o->nseg))
		return mde_err_set(err, MDE_ENOMEM, false, "out of memory");
	if (o->nseg > 1)
		return check_all(o, err);
	/* One segment: its validation is kept for mde_offline_segment. */
	int rc = seg_validate(o, 0, err);
	if (rc)
		return rc;
	o->stats = p->v.stats;
	o->rejects = p->v.rejects;
	o->nrejects = p->v.nrejects;
	o->dups = p->v.dups;
	o->ndups = p->v.ndups;
	return 0;
}

int mde_offline_segment(mde_offline *o, size_t k, mde_err *err)
{
	struct mde_offline_priv *p = o->priv;
	int rc = o->nseg > 1 ? seg_validate(o, k, err) : 0;
	if (!rc)
		rc = mde_features_compute(&p->fr, &p->v.series, p->aux, err);
	o->series = rc ? NULL : &p->v.series;
	o->frame = rc ? NULL : &p->fr;
	o->map = o->nseg > 1 ? p->map : NULL;
	return rc;
}

void mde_offline_free(mde_offline *o)
{
	struct mde_offline_priv *p = o->priv;
	if (p && o->nseg > 1) {
		free(o->rejects);
		free(o->dups);
	}
	if (p) {
		free(p->seg);
		mde_candles_free(&p->sub);
		free(p->map);
		mde_validation_free(&p->v);
		mde_frame_free(&p->fr);
		free(p);
	}
	memset(o, 0, sizeof *o);
}
