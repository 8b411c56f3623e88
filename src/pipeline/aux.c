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

static struct mde_funding_memo *memo_find(const mde_pipeline *p,
					  const char *symbol)
{
	for (size_t i = 0; i < p->nfunding; i++)
		if (strcmp(p->funding[i].symbol, symbol) == 0)
			return &p->funding[i];
	return NULL;
}

/* Remembers *data (taken: it is zeroed) as symbol's events of
 * [from, to); MDE_ENOMEM (data freed) when there is no room. */
static int memo_set(mde_pipeline *p, const char *symbol, mde_aux *data,
		    int64_t from, int64_t to)
{
	struct mde_funding_memo *m = memo_find(p, symbol);
	if (!m) {
		void *q = realloc(p->funding,
				  (p->nfunding + 1) * sizeof *p->funding);
		if (!q) {
			mde_aux_free(data);
			return MDE_ENOMEM;
		}
		p->funding = q;
		m = &p->funding[p->nfunding++];
		memset(m, 0, sizeof *m);
		snprintf(m->symbol, sizeof m->symbol, "%s", symbol);
	}
	mde_aux_free(&m->data);
	m->data = *data;
	memset(data, 0, sizeof *data);
	m->from_ms = from;
	m->to_ms = to;
	return 0;
}

bool mde_pl_funding_memo_covers(const mde_pipeline *p, const char *symbol,
				int64_t from, int64_t to)
{
	const struct mde_funding_memo *m = memo_find(p, symbol);
	return m && m->from_ms <= from && m->to_ms >= to;
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

static int strp_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool share_find(const struct mde_funding_share *sh,
		       const char *symbol)
{
	return sh->n && bsearch(&symbol, sh->symbols, sh->n,
				sizeof *sh->symbols, strp_cmp);
}

bool mde_pl_share_has(const mde_pipeline *p, const char *symbol)
{
	return (p->share.pending || p->share.building) &&
	       share_find(&p->share, symbol);
}

void mde_pl_share_free(mde_pipeline *p)
{
	struct mde_funding_share *sh = &p->share;
	for (size_t k = 0; k < sh->n; k++)
		free(sh->symbols[k]);
	free(sh->symbols);
	free(sh->from);
	free(sh->last);
	free(sh->run_from);
	memset(sh, 0, sizeof *sh);
}

/*
 * An hourly run's series each need the funding of the 31 days before
 * their first candle. Where the store holds those events without a gap
 * (no two stored events further apart than a funding interval can be,
 * from one at or before the range's start to the latest), only the
 * events after the latest stored one are new. For a set of symbols those
 * are the last few hours of every symbol: one request of all symbols'
 * funding (a page of 1000 events) instead of one a symbol, out of the 500
 * funding requests Binance allows in 5 minutes.
 */
#define SHARE_SCAN_DAYS 40 /* the stored events looked at: the 31 days
			      before a 4h run's 24-candle overlap (a 1d
			      run's reach further: they ask per symbol) */
#define SHARE_MAX_GAP (8 * MDE_HOUR_MS + MDE_MINUTE_MS) /* the longest
			      funding interval, and its ms jitter */
void mde_pl_share_begin(mde_pipeline *p, const char *symbols, size_t n)
{
	struct mde_funding_share *sh = &p->share;
	mde_pl_share_free(p);
	mde_err err = {0};
	const char *archive = p->cfg->archive;
	if (!p->pf || n < 2 || (archive && strcmp(archive, "only") == 0))
		return; /* --archive only: REST is not asked at all */
	if (!(sh->symbols = calloc(n, sizeof *sh->symbols)) ||
	    !(sh->from = calloc(n, sizeof *sh->from)) ||
	    !(sh->last = calloc(n, sizeof *sh->last)) ||
	    !(sh->run_from = calloc(n, sizeof *sh->run_from))) {
		mde_pl_share_free(p);
		return;
	}
	if (mde_store_funding_kept(p->store, symbols, n,
				   mde_now_ms() - SHARE_SCAN_DAYS * MDE_DAY_MS,
				   SHARE_MAX_GAP, sh->last, sh->run_from,
				   &err)) {
		mde_warn("funding.shared", "error=\"%s\" action=\"each symbol "
			 "asks for its own funding\"", err.msg);
		mde_pl_share_free(p);
		return;
	}
	sh->nset = n;
	sh->from_ms = INT64_MAX;
	sh->to_ms = INT64_MIN;
	sh->building = true;
}

bool mde_pl_share_add(mde_pipeline *p, size_t k, const char *symbol,
		      int64_t from, int64_t until)
{
	struct mde_funding_share *sh = &p->share;
	if (!sh->building || k >= sh->nset || share_find(sh, symbol))
		return false;
	/* kept without a gap from at or before from: only what is newer */
	int64_t last = sh->last[k];
	bool kept = last != INT64_MIN && last >= from &&
		    sh->run_from[k] <= from;
	int64_t f = kept ? last + 1 : from;
	char *dup;
	if (until - f > MDE_PL_SHARE_DAYS * MDE_DAY_MS || !(dup = strdup(symbol)))
		return false;
	size_t i = sh->n++; /* kept sorted: bsearch while it grows */
	while (i && strcmp(sh->symbols[i - 1], dup) > 0) {
		sh->symbols[i] = sh->symbols[i - 1];
		sh->from[i] = sh->from[i - 1];
		i--;
	}
	sh->symbols[i] = dup;
	sh->from[i] = from;
	sh->from_ms = f < sh->from_ms ? f : sh->from_ms;
	sh->to_ms = until > sh->to_ms ? until : sh->to_ms;
	return true;
}

static void share_req(const struct mde_funding_share *sh, mde_pf_req *rq)
{
	*rq = (mde_pf_req){.kind = MDE_PF_FUNDING_ALL, .asset = MDE_CRYPTO,
			   .symbols = (const char *const *)sh->symbols,
			   .nsymbols = sh->n, .from_ms = sh->from_ms,
			   .to_ms = sh->to_ms};
	snprintf(rq->source, sizeof rq->source, "binance");
}

void mde_pl_share_end(mde_pipeline *p)
{
	struct mde_funding_share *sh = &p->share;
	if (!sh->building)
		return;
	sh->building = false;
	mde_pf_req rq;
	share_req(sh, &rq);
	sh->pending = sh->n && mde_pf_add(p, &rq) == 0;
	if (sh->pending)
		mde_debug("funding.shared", "symbols=%zu from=%lld to=%lld",
			  sh->n, (long long)sh->from_ms, (long long)sh->to_ms);
	/* else: the symbols it held fetch their funding when needed */
}

/* The shared fetch into the memo of each of its symbols, covering the
 * symbol's own range; when it failed, each asks on its own. */
static void share_take(mde_pipeline *p)
{
	struct mde_funding_share *sh = &p->share;
	mde_pf_req rq;
	share_req(sh, &rq);
	sh->pending = false;
	mde_pf_result r = {0};
	if (!mde_pf_take(p, &rq, false, &r)) /* withdrawn: fetch it here */
		mde_pf_fetch(p->fetcher, &rq, &r);
	size_t k = 0;
	for (; !r.rc && k < sh->n; k++)
		if (memo_set(p, sh->symbols[k], &r.per[k], sh->from[k],
			     sh->to_ms))
			r.rc = mde_err_set(&r.err, MDE_ENOMEM, false,
					   "out of memory");
	if (r.rc) {
		mde_warn("funding.shared", "symbols=%zu error=\"%s\" "
			 "action=\"each symbol asks for its own funding\"",
			 sh->n, r.err.msg);
		for (size_t i = 0; i < k; i++) /* none of it serves */
			mde_pl_forget_funding(p, sh->symbols[i]);
	}
	mde_pf_result_free(&r);
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
	if (mde_pl_share_has(p, symbol))
		share_take(p);
	if (!mde_pl_funding_memo_covers(p, symbol, from, to)) {
		int64_t until = mde_pl_funding_until(from, to);
		mde_aux got = {0};
		int rc = fetch_aux(p, src, MDE_AUX_FUNDING, symbol, 0, from,
				   until, to, &got, &until, hole_end, err);
		if (rc) {
			mde_aux_free(&got);
			return rc;
		}
		if (memo_set(p, symbol, &got, from, until))
			return mde_err_set(err, MDE_ENOMEM, false,
					   "out of memory");
	}
	const struct mde_funding_memo *m = memo_find(p, symbol);
	for (size_t i = 0; i < m->data.n; i++)
		if (m->data.t[i] >= from && m->data.t[i] < to &&
		    mde_aux_push(out, m->data.t[i], m->data.v[i]))
			return mde_err_set(err, MDE_ENOMEM, false,
					   "out of memory");
	return 0;
}

void mde_pl_forget_funding(mde_pipeline *p, const char *symbol)
{
	struct mde_funding_memo *m = memo_find(p, symbol);
	if (m) {
		m->from_ms = INT64_MAX;
		m->to_ms = INT64_MIN;
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

/* The note of a series this run (NULL when out of memory). */
static struct mde_series_note *note_get(mde_pipeline *p,
					const mde_series_job *j)
{
	for (size_t i = 0; i < p->nnotes; i++)
		if (!strcmp(p->notes[i].symbol, j->symbol) &&
		    !strcmp(p->notes[i].timeframe, j->timeframe))
			return &p->notes[i];
	void *q = realloc(p->notes, (p->nnotes + 1) * sizeof *p->notes);
	if (!q)
		return NULL;
	p->notes = q;
	struct mde_series_note *n = &p->notes[p->nnotes++];
	memset(n, 0, sizeof *n);
	snprintf(n->symbol, sizeof n->symbol, "%s", j->symbol);
	snprintf(n->timeframe, sizeof n->timeframe, "%s", j->timeframe);
	return n;
}

/* "funding,open_interest" of the kinds in mask. */
static char *kind_list(unsigned mask, char *buf, size_t len)
{
	size_t w = 0;
	buf[0] = '\0';
	for (int k = 0; k < 3; k++)
		if (mask & (1u << k))
			w += (size_t)snprintf(buf + w, len - w, "%s%s",
					      w ? "," : "", mde_pl_aux_names[k]);
	return buf;
}

void mde_pl_notes_flush(mde_pipeline *p)
{
	for (size_t i = 0; i < p->nnotes; i++) {
		const struct mde_series_note *n = &p->notes[i];
		char kinds[64];
		if (!n->hole_mask)
			continue;
		mde_warn("aux.holes", "symbol=%s timeframe=%s kinds=%s "
			 "from=%lld until=%lld windows=%zu reason=\"older than "
			 "the source serves, and not kept by an earlier run\"",
			 n->symbol, n->timeframe,
			 kind_list(n->hole_mask, kinds, sizeof kinds),
			 (long long)n->hole_from, (long long)n->hole_until,
			 n->hole_windows);
	}
	free(p->notes);
	p->notes = NULL;
	p->nnotes = 0;
}

/* The part [from, hole_end) the source no longer serves is a hole only
 * where earlier runs kept nothing of it; the run sums them up per series
 * (mde_pl_notes_flush). */
static void note_hole(mde_pipeline *p, const mde_series_job *j,
		      mde_pl_work *w, const mde_aux *a, int k, int64_t from,
		      int64_t hole_end, bool *counted)
{
	size_t kept = 0;
	for (size_t i = 0; i < a->n; i++)
		kept += a->t[i] >= from && a->t[i] < hole_end;
	if (hole_end <= from || kept)
		return;
	w->holes[w->nholes++] = (mde_aux_hole){mde_pl_aux_names[k], from,
					       hole_end};
	struct mde_series_note *n = note_get(p, j);
	if (!n)
		return;
	if (!n->hole_mask || from < n->hole_from)
		n->hole_from = from;
	if (!n->hole_mask || hole_end > n->hole_until)
		n->hole_until = hole_end;
	n->hole_mask |= 1u << k;
	n->hole_windows += !*counted;
	*counted = true;
}

/* Fetches aux series k (funding, open interest, long/short). An aux
 * source that fails is logged and counted; its features stay NULL where
 * nothing is stored. */
static int fetch_kind(mde_pipeline *p, const mde_series_job *j,
		      mde_pl_work *w, int k, int64_t from, int64_t *hole_end,
		      mde_err *e)
{
	int64_t aux_ms;
	mde_pl_aux_period(j->period_ms, &aux_ms);
	/* Aux series come from the futures API even for a spot series. */
	const char *src = mde_pl_aux_source(j->source);
	bool fetch = j->aux_refresh || (!j->stored_only && !j->aux_stored);
	int rc = !fetch ? 0
		 : k == 0 ? fetch_funding(p, src, j->symbol, from, j->end_ms,
					  &w->fetched_aux[k], hole_end, e)
			  : fetch_aux(p, src, mde_pl_aux_kinds[k], j->symbol, aux_ms, from,
				      j->end_ms, j->end_ms, &w->fetched_aux[k],
				      &(int64_t){0}, hole_end, e);
	if (rc && rc != MDE_ENOTFOUND) {
		w->aux_failed = true;
		mde_warn("aux.failed", "symbol=%s kind=%s error=\"%s\"",
			 j->symbol, mde_pl_aux_names[k], e->msg);
	}
	if (rc)
		w->fetched_aux[k].n = 0;
	return rc;
}

/* The source has no such series for this symbol (a spot-only pair): its
 * features are NULL. Said once per series and run. */
static void note_none(mde_pipeline *p, const mde_series_job *j,
		      unsigned mask, const char *detail)
{
	struct mde_series_note *n = note_get(p, j);
	if (!mask || (n && (n->none_mask | mask) == n->none_mask))
		return;
	if (n)
		n->none_mask |= mask;
	char kinds[64];
	mde_info("aux.none", "symbol=%s timeframe=%s kinds=%s detail=\"%s\" "
		 "effect=\"their features are NULL\"", j->symbol, j->timeframe,
		 kind_list(mask, kinds, sizeof kinds), detail);
}

int mde_pl_load_aux(mde_pipeline *p, const mde_series_job *j, mde_pl_work *w,
		    int64_t t0_ms, int64_t until_ms, mde_err *err)
{
	int64_t aux_ms;
	const char *period = mde_pl_aux_period(j->period_ms, &aux_ms);
	unsigned none = 0;
	bool counted = false;
	char detail[sizeof err->msg] = "";
	for (int k = 0; k < 3; k++) {
		int kind = mde_pl_aux_kinds[k];
		int64_t since, from;
		size_t before = mde_pl_aux_from(j, k, t0_ms, &since, &from);
		int64_t hole_end = from;
		mde_err e = {0};
		if (fetch_kind(p, j, w, k, from, &hole_end, &e) ==
		    MDE_ENOTFOUND) {
			none |= 1u << k;
			snprintf(detail, sizeof detail, "%s", e.msg);
		}
		mde_aux *a = &w->aux.s[kind];
		/* Stored observations up to the last slot computed: the
		 * recomputed rows after the range need theirs too. */
		int rc = mde_store_load_aux(p->store, kind, j->symbol, period,
					    since, before, until_ms, a, err);
		if (rc)
			return rc;
		note_hole(p, j, w, a, k, from, hole_end, &counted);
		if (join_stored(a, &w->fetched_aux[k]))
			return mde_err_set(err, MDE_ENOMEM, false,
					   "out of memory");
		w->aux.configured[kind] = true;
	}
	note_none(p, j, none, detail);
	return 0;
}
