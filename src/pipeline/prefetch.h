/*
 * prefetch.h - private to src/pipeline: fetches that run ahead of the
 * pipeline on a pool of threads (prefetch.c), each with its own fetcher
 * sharing the run's host budgets (mde_fetcher_open_child). The pipeline
 * announces the fetches it will make (candles and aux series of the next
 * series or chunks); when a step needs one, it takes the finished result
 * instead of fetching, else fetches as before. The database is only ever
 * touched by the pipeline's own thread, in its order: one series' batches
 * stay in order and in their transactions.
 *
 * Memory stays bounded: at most `ahead` fetches are running or finished
 * and not yet taken. Taking a fetch drops every one announced before it
 * (a series skipped, a plan that changed); their fetch-log records are
 * kept for the next write, so every attempt still gets its row.
 */
#ifndef MDE_PREFETCH_H
#define MDE_PREFETCH_H

#include "pipeline.h"

/* What is fetched: candles (kind MDE_PF_CANDLES), an aux series, or the
 * funding of many symbols at once (MDE_PF_FUNDING_ALL: symbol "", the
 * symbols in symbols[nsymbols], sorted, which outlive the pool). A
 * FUNDING_ALL fetch is announced after the series it serves and started
 * before any other; it is never dropped by a later take, and taking it
 * drops nothing: whichever of its series needs it first takes it. */
#define MDE_PF_CANDLES (-1)
#define MDE_PF_FUNDING_ALL (-2)
typedef struct mde_pf_req {
	int kind;               /* MDE_PF_CANDLES, MDE_PF_FUNDING_ALL or
				   MDE_AUX_* */
	const char *const *symbols;
	size_t nsymbols;
	char symbol[40];
	char source[300];
	enum mde_asset asset;
	int64_t period_ms;      /* candles; the statistics period of aux */
	int64_t from_ms, to_ms;
} mde_pf_req;

/* The finished fetch handed to the step that needed it. */
typedef struct mde_pf_result {
	mde_candles candles;
	mde_aux aux;
	mde_aux *per;           /* FUNDING_ALL: one table a symbol */
	size_t nper;
	int64_t hole_end_ms;    /* mde_fetch_aux's unfetchable_until */
	int64_t to_ms;          /* the fetched range's end */
	int rc;
	mde_err err;
} mde_pf_result;

/* Frees a result's tables. */
void mde_pf_result_free(mde_pf_result *r);
/* Fetches rq with f into *r (zeroed), as a fetch thread does; what the
 * caller of a take that returned false may do itself. */
void mde_pf_fetch(mde_fetcher *f, const mde_pf_req *rq, mde_pf_result *r);

typedef struct mde_prefetch mde_prefetch;

/* Starts nthreads fetch threads (p->fetcher's children); at most ahead
 * fetches running or unclaimed. */
int mde_pf_open(mde_pipeline *p, int nthreads, size_t ahead,
		mde_err *err) MDE_MUSTCHECK;
/* Stops the threads (after their fetch in flight), keeps the fetch-log
 * records of what was not taken in p->logbuf, frees the rest. */
void mde_pf_close(mde_pipeline *p);
/* Announces a fetch (no-op without a pool). */
int mde_pf_add(mde_pipeline *p, const mde_pf_req *rq) MDE_MUSTCHECK;
/*
 * Takes the announced fetch of rq (waiting for it to finish): true and
 * *out filled (the caller frees its tables), its fetch-log records moved
 * to p->logbuf. With cover, an announced fetch of the same start whose
 * end reaches rq's end serves too. A fetch not started yet is waited for
 * when a thread is free to start it. False when none was announced, or
 * no thread has started it and none is free (it is withdrawn): the
 * caller fetches.
 */
bool mde_pf_take(mde_pipeline *p, const mde_pf_req *rq, bool cover,
		 mde_pf_result *out);
/* Whether a funding fetch of symbol reaching to_ms is announced and not
 * taken yet. */
bool mde_pf_has_funding(mde_pipeline *p, const char *symbol, int64_t to_ms);

/* The requests mde_pipeline_series makes for j: its candles (unless
 * stored_only) and aux series, announced in that order. */
int mde_pf_add_series(mde_pipeline *p, const mde_series_job *j) MDE_MUSTCHECK;

#endif
