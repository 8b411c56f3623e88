/*
 * stages.h - private to src/pipeline: the working set of one series
 * (what each step of mde_pipeline_series hands the next) and the helpers
 * the pipeline's files share.
 */
#ifndef MDE_STAGES_H
#define MDE_STAGES_H

#include "pipeline.h"
#include "validate.h"

typedef struct mde_pl_work {
	/* fetch */
	mde_candles fetched;    /* as the source sent them */
	int frc;                /* the fetch's error (0 = complete) */
	mde_err ferr;
	int64_t end_ms;         /* end of what the fetch delivered */
	/* assemble */
	mde_validation val;     /* its series is freed once merged */
	mde_candles rejected;   /* the rejected rows of the fetch, which is
				   freed once merged (val.rejects index
				   these) */
	mde_day_dups *dups;     /* duplicates of the fetch per UTC day */
	size_t ndups;
	mde_candles merged;     /* stored history, then the valid fetched */
	mde_series series;
	mde_auxset aux;         /* stored + fetched, for the features */
	mde_aux fetched_aux[3]; /* funding, OI, long/short to keep */
	mde_aux_hole holes[3];
	size_t nholes;
	bool aux_failed;
	/* compute */
	mde_frame frame;
	int64_t compute_ms;
} mde_pl_work;

/* What mde_pipeline_series keeps from one series to the next. */
struct mde_pl_reuse {
	mde_candles merged;
	mde_validation val;
	mde_series series;
	mde_frame frame;
};
/* Frees p->reuse (pipeline close). */
void mde_pl_reuse_free(mde_pipeline *p);

/* The /futures/data period for a timeframe (1m has none: 5m). */
const char *mde_pl_aux_period(int64_t period_ms, int64_t *aux_ms);
/* The names of the three aux series the pipeline keeps, in w->fetched_aux
 * order (funding, open interest, long/short). */
extern const char *const mde_pl_aux_names[3];
/* The aux source of a series: its replay folder, else "binance". */
const char *mde_pl_aux_source(const char *source);
/* MDE_AUX_* of the three, in w->fetched_aux order. */
extern const int mde_pl_aux_kinds[3];
/* Where aux series k of j is needed from (*since) and fetched from
 * (*from) for a range starting at t0_ms; returns the observations needed
 * before since (mde_features_aux_need). */
size_t mde_pl_aux_from(const mde_series_job *j, int k, int64_t t0_ms,
		       int64_t *since, int64_t *from);
/* The end of a funding fetch for [from, to): up to a year ahead, so that
 * later chunks of the same symbol reuse it (the run's memo). */
int64_t mde_pl_funding_until(int64_t from, int64_t to);
/* Whether this run's funding memo of symbol covers [from, to). */
bool mde_pl_funding_memo_covers(const mde_pipeline *p, const char *symbol,
				int64_t from, int64_t to);

/*
 * Fetches the aux series of a crypto series and merges them with what the
 * store kept, into w->aux (for the features) and w->fetched_aux (only
 * what the store does not hold yet); records holes in w->holes and sets
 * w->aux_failed when a source failed.
 */
/* Logs one aux.holes line per series with holes this run, and frees the
 * notes (aux.c). */
void mde_pl_notes_flush(mde_pipeline *p);

int mde_pl_load_aux(mde_pipeline *p, const mde_series_job *j, mde_pl_work *w,
		    int64_t t0_ms, int64_t until_ms, mde_err *err) MDE_MUSTCHECK;

/*
 * One fetch of every symbol's funding for the series of a run set: begin
 * with the set's comma list of n symbols (it reads what the store holds
 * of each one's funding); add the k-th symbol's funding range
 * [from, until) as mde_pl_aux_from and mde_pl_funding_until give it: true
 * when it is shared (the store holds the range without a gap up to its
 * latest event, and what is newer spans at most MDE_PL_SHARE_DAYS), and
 * then no fetch of its own is announced; end announces the shared fetch.
 * Nothing is shared when any of it fails, or with --archive only: each
 * series fetches its own.
 */
#define MDE_PL_SHARE_DAYS 3
void mde_pl_share_begin(mde_pipeline *p, const char *symbols, size_t n);
bool mde_pl_share_add(mde_pipeline *p, size_t k, const char *symbol,
		      int64_t from, int64_t until);
void mde_pl_share_end(mde_pipeline *p);
/* Whether symbol's funding comes from the planned shared fetch. */
bool mde_pl_share_has(const mde_pipeline *p, const char *symbol);
/* Frees the plan (after the fetch threads stopped). */
void mde_pl_share_free(mde_pipeline *p);

/* Drops what this run remembered of symbol's funding history: the next
 * fetch asks the source again (the stream's aux refresh, where events
 * published since the last one must be seen). */
void mde_pl_forget_funding(mde_pipeline *p, const char *symbol);

/* Exponential backoff with jitter for the k-th retry (k >= 1). */
int64_t mde_pl_backoff_ms(int k);
/* The error says the connection itself is gone (class 08, or the server
 * shutting down, 57P0x): only then reconnect. */
bool mde_pl_connection_lost(const mde_err *e);

#endif
