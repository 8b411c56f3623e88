/* aux.c - the auxiliary series of one series (stages.h). */
#include "stages.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "log.h"
#include "prefetch.h"
#include "timeutil.h"

const char *mde_pl_aux_period(int64_t period_ms, int64_t *aux_ms)
{
	if (period_ms < 5 * MDE_MINUTE_MS) {
		*aux_ms = 5 * MDE_MINUTE_MS;
		return "5m";
	}
	*aux_ms = period_ms;
	return mde_tf_name(period_ms);
}

const char *const mde_pl_aux_names[3] = {"funding", "open_interest",
					 "long_short"};

const int mde_pl_aux_kinds[3] = {MDE_AUX_FUNDING, MDE_AUX_OPEN_INTEREST,
				 MDE_AUX_LONG_SHORT};

size_t mde_pl_aux_from(const mde_series_job *j, int k, int64_t t0_ms,
		       int64_t *since, int64_t *from)
{
	size_t before;
	int kind = mde_pl_aux_kinds[k];
	mde_features_aux_need(kind, t0_ms, j->period_ms, since, &before);
	/* Fetch far enough back that the first candles are not NULL for
	 * lack of history the exchange has (FEATURES.md). */
	*from = kind == MDE_AUX_FUNDING ? *since - 31 * MDE_DAY_MS : *since;
	return before;
}

const char *mde_pl_aux_source(const char *source)
{
	return mde_fetch_source_origin(source) == MDE_SRC_REPLAY ? source
								 : "binance";
}

int64_t mde_pl_funding_until(int64_t from, int64_t to)
{
	int64_t ahead = from + 366 * MDE_DAY_MS, now = mde_now_ms();
	int64_t until = to > ahead ? to : ahead < now ? ahead : now;
	return until < to ? to : until;
}

bool mde_pl_funding_memo_covers(const mde_pipeline *p, const char *symbol,
				int64_t from, int64_t to)
{
	for (size_t i = 0; i < p->nfunding; i++)
		if (strcmp(p->funding[i].symbol, symbol) == 0)
			return p->funding[i].from_ms <= from &&
			       p->funding[i].to_ms >= to;
	return false;
}

/*
 * A fetch of kind over [from, to), taken from the prefetch threads when
 * they ran it; with need < to, a prefetched fetch from the same start
 * reaching need serves (*until = where it ends).
 */
static int fetch_aux(mde_pipeline *p, const char *src, int kind,
		     const char *symbol, int64_t period_ms, int64_t from,
		     int64_t to, int64_t need, mde_aux *out, int64_t *until,
		     int64_t *hole_end, mde_err *err)
{
	mde_pf_req rq = {.kind = kind, .asset = MDE_CRYPTO,
			 .period_ms = period_ms, .from_ms = from,
			 .to_ms = need};
	snprintf(rq.symbol, sizeof rq.symbol, "%s", symbol);
	snprintf(rq.source, sizeof rq.source, "%s", src);
	mde_pf_result r;
	if (!mde_pf_take(p, &rq, need < to, &r)) {
		*until = to;
		return mde_fetch_aux(p->fetcher, src, kind, symbol, period_ms,
				     from, to, out, hole_end, err);
	}
	mde_aux_free(out);
	*out = r.aux;
	*hole_end = r.hole_end_ms;
	*until = r.to_ms;
	if (r.rc)
		*err = r.err;
	mde_candles_free(&r.candles);
	return r.rc;
}

/*
 * Funding events of [from, to) for a symbol: from this run's memo when an
 * earlier fetch covered the range, else fetched up to a year ahead (one
 * page holds 1000 events, 333 days at 8 h) and remembered.
 */
static int fetch_funding(mde_pipeline *p, const char *src, const char *symbol,
			 int64_t from, int64_t to, mde_aux *out,
			 int64_t *hole_end, mde_err *err)
{
	struct mde_funding_memo *m = NULL;
	for (size_t i = 0; i < p->nfunding; i++)
		if (strcmp(p->funding[i].symbol, symbol) == 0)
			m = &p->funding[i];
	if (!m || m->from_ms > from || m->to_ms < to) {
		int64_t until = mde_pl_funding_until(from, to);
		mde_aux got = {0};
		int rc = fetch_aux(p, src, MDE_AUX_FUNDING, symbol, 0, from,
				   until, to, &got, &until, hole_end, err);
		if (rc) {
			mde_aux_free(&got);
			return rc;
		}
		if (!m) {
			void *q = realloc(p->funding,
					  (p->nfunding + 1) * sizeof *p->funding);
			if (!q) {
				mde_aux_free(&got);
				return mde_err_set(err, MDE_ENOMEM, false,
						   "out of memory");
			}
			p->funding = q;
			m = &p->funding[p->nfunding++];
			memset(m, 0, sizeof *m);
			snprintf(m->symbol, sizeof m->symbol, "%s", symbol);
		}
		mde_aux_free(&m->data);
		m->data = got;
		m->from_ms = from;
		m->to_ms = until;
	}
	for (size_t i = 0; i < m->data.n; i++)
		if (m->data.t[i] >= from && m->data.t[i] < to &&
		    mde_aux_push(out, m->data.t[i], m->data.v[i]))
			return mde_err_set(err, MDE_ENOMEM, false,
					   "out of memory");
	return 0;
}

void mde_pl_forget_funding(mde_pipeline *p, const char *symbol)
{
	for (size_t i = 0; i < p->nfunding; i++)
		if (strcmp(p->funding[i].symbol, symbol) == 0) {
			p->funding[i].from_ms = INT64_MAX;
			p->funding[i].to_ms = INT64_MIN;
		}
}

/*
 * Joins what the store kept (a) and what was fetched (got): a gets both,
 * sorted; got keeps only what the store does not already hold with that
 * value.
 */
static int join_stored(mde_aux *a, mde_aux *got)
{
	size_t n = 0, s = 0, nstored = a->n;
	for (size_t i = 0; i < got->n; i++) {
		if (mde_aux_push(a, got->t[i], got->v[i]))
			return MDE_ENOMEM;
		while (s < nstored && a->t[s] < got->t[i])
			s++;
		if (s < nstored && a->t[s] == got->t[i] && a->v[s] == got->v[i])
			continue;
		got->t[n] = got->t[i];
		got->v[n++] = got->v[i];
	}
	got->n = n;
	return mde_aux_normalize(a) ? MDE_ENOMEM : 0;
}

/* The part [from, hole_end) the source no longer serves is a hole only
 * where earlier runs kept nothing of it. */
static void note_hole(mde_pl_work *w, const mde_aux *a, const char *symbol,
		      const char *name, int64_t from, int64_t hole_end)
{
	size_t kept = 0;
	for (size_t i = 0; i < a->n; i++)
		kept += a->t[i] >= from && a->t[i] < hole_end;
	if (hole_end <= from || kept)
		return;
	w->holes[w->nholes++] = (mde_aux_hole){name, from, hole_end};
	mde_warn("aux.hole", "symbol=%s kind=%s from=%lld until=%lld "
		 "reason=\"older than the source serves, and not kept by an "
		 "earlier run\"", symbol, name, (long long)from,
		 (long long)hole_end);
}

/* Fetches aux series k (funding, open interest, long/short). An aux
 * source that fails is logged and counted; its features stay NULL where
 * nothing is stored. */
static void fetch_kind(mde_pipeline *p, const mde_series_job *j,
		       mde_pl_work *w, int k, int64_t from, int64_t *hole_end)
{
	int64_t aux_ms;
	mde_pl_aux_period(j->period_ms, &aux_ms);
	/* Aux series come from the futures API even for a spot series. */
	const char *src = mde_pl_aux_source(j->source);
	mde_err e = {0};
	bool fetch = j->aux_refresh || (!j->stored_only && !j->aux_stored);
	int rc = !fetch ? 0
		 : k == 0 ? fetch_funding(p, src, j->symbol, from, j->end_ms,
					  &w->fetched_aux[k], hole_end, &e)
			  : fetch_aux(p, src, mde_pl_aux_kinds[k], j->symbol, aux_ms, from,
				      j->end_ms, j->end_ms, &w->fetched_aux[k],
				      &(int64_t){0}, hole_end, &e);
	if (rc == MDE_ENOTFOUND) {
		/* The source has no such series for this symbol (a spot-only
		 * pair): its features are NULL. */
		mde_info("aux.none", "symbol=%s kind=%s detail=\"%s\"",
			 j->symbol, mde_pl_aux_names[k], e.msg);
	} else if (rc) {
		w->aux_failed = true;
		mde_warn("aux.failed", "symbol=%s kind=%s error=\"%s\"",
			 j->symbol, mde_pl_aux_names[k], e.msg);
	}
	if (rc)
		w->fetched_aux[k].n = 0;
}

int mde_pl_load_aux(mde_pipeline *p, const mde_series_job *j, mde_pl_work *w,
		    int64_t t0_ms, int64_t until_ms, mde_err *err)
{
	int64_t aux_ms;
	const char *period = mde_pl_aux_period(j->period_ms, &aux_ms);
	for (int k = 0; k < 3; k++) {
		int kind = mde_pl_aux_kinds[k];
		int64_t since, from;
		size_t before = mde_pl_aux_from(j, k, t0_ms, &since, &from);
		int64_t hole_end = from;
		fetch_kind(p, j, w, k, from, &hole_end);
		mde_aux *a = &w->aux.s[kind];
		/* Stored observations up to the last slot computed: the
		 * recomputed rows after the range need theirs too. */
		int rc = mde_store_load_aux(p->store, kind, j->symbol, period,
					    since, before, until_ms, a, err);
		if (rc)
			return rc;
		note_hole(w, a, j->symbol, mde_pl_aux_names[k], from, hole_end);
		if (join_stored(a, &w->fetched_aux[k]))
			return mde_err_set(err, MDE_ENOMEM, false,
					   "out of memory");
		w->aux.configured[kind] = true;
	}
	return 0;
}
