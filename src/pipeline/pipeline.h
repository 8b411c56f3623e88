/*
 * pipeline.h - the only module that knows the order of the stages:
 * fetch -> validate -> compute -> store, for one series and time range.
 *
 * A series range [start_ms, end_ms) is enriched as follows: the candles are
 * fetched (with fallback), validated (rejects kept with every reason), and
 * laid on the grid after the stored history the features need (their
 * warm-up before start, and the stored candles up to a warm-up after end, so
 * that a prepend of older history recomputes what depends on it); the
 * features are computed over that whole stretch and the rows from start on
 * are written in batches of batch_rows, each batch one transaction that
 * also advances the backfill cursor. A transient database error rolls the
 * batch back, reconnects with backoff and retries it.
 */
#ifndef MDE_PIPELINE_H
#define MDE_PIPELINE_H

#include <signal.h>

#include "candles.h"
#include "config.h"
#include "proc.h"
#include "source.h"
#include "archive_files.h"
#include "store.h"
#include "validate.h"

/* mde_stop_requested (proc.h), set by SIGINT/SIGTERM: work stops after
 * the batch in flight. */

enum mde_run_kind { MDE_RUN_HOURLY, MDE_RUN_NIGHTLY, MDE_RUN_MANUAL,
		    MDE_RUN_BACKFILL, MDE_RUN_WORKER };

typedef struct mde_pipeline {
	const mde_config *cfg;
	mde_store *store;
	mde_fetcher *fetcher;
	mde_fetch_logbuf logbuf;
	mde_archive_buf arbuf;   /* archive files used, for archive_files */
	int64_t run_id;
	char host[128];          /* this host's name */
	char owner[160];         /* host:pid, the lease owner */
	/* totals for enrichment_runs */
	size_t series_total, series_failed, rows_fetched, rows_written,
		rows_unchanged, rows_rejected, corrections;
	size_t series_inserted;  /* rows the current series added */
	int64_t heartbeat_ms;    /* monotonic time of the last heartbeat */
	/* Series skipped because another process held their lock: the
	 * run's record says so (enrichment_runs.error). */
	size_t series_skipped;
	char skipped[256];
	/* Funding history fetched this run, per symbol: one request serves
	 * many chunks (Binance allows 500 funding requests per 5 minutes). */
	struct mde_funding_memo {
		char symbol[40];
		int64_t from_ms, to_ms;
		mde_aux data;
	} *funding;
	size_t nfunding;
	/* One fetch of every symbol's funding for the series of a run set
	 * whose funding since the last stored event is recent (aux.c):
	 * announced to the fetch threads first, taken into the memo by the
	 * first series that needs it. */
	struct mde_funding_share {
		char **symbols;       /* sorted by strcmp */
		int64_t *from;        /* each one's funding range start */
		size_t n;
		int64_t from_ms, to_ms; /* what the one fetch asks for */
		int64_t *last;        /* of the set's k-th symbol: the latest
					 funding event stored, and */
		int64_t *run_from;    /* the first of the gap-free run of
					 events ending at it */
		size_t nset;          /* symbols in the set */
		bool building;        /* between begin and end */
		bool pending;         /* announced, not taken yet */
	} share;
	/* What is said once per series and run: aux series the source
	 * does not have (aux.none, at once) and aux holes (aux.holes, one
	 * summary line when the run ends). */
	struct mde_series_note {
		char symbol[40], timeframe[8];
		unsigned none_mask, hole_mask;   /* bits: aux kind index */
		int64_t hole_from, hole_until;
		size_t hole_windows;
	} *notes;
	size_t nnotes;
	char failed_names[400];  /* "XRPUSDT 1h, ..." for the last sentence */
	/* fetch threads running ahead of the stages (prefetch.h); NULL =
	 * every fetch in this thread, when it is needed */
	struct mde_prefetch *pf;
	/* progress reporting (backfill) */
	size_t progress_done, progress_total;
	int64_t progress_started_ms, progress_last_ms;
	bool progress;
	/* A writer of a drain (mde_pipeline_drain): its candles count in
	 * the progress of this pipeline. */
	struct mde_pipeline *progress_to;
	/* One of several writers of a drain: it announces to its fetch
	 * threads only the chunks of the series it holds (the others are
	 * another writer's), and its claims balance the writers
	 * (mde_job_claim's stick). */
	bool side_by_side;
	/* The working tables of the last series (stages.h), kept for the
	 * next: a writer touches their pages once, not once a chunk. */
	struct mde_pl_reuse *reuse;
	/* Batches are part of a store group (the stream): a failure goes
	 * back to the caller at once, which retries the whole group. */
	bool grouped;
} mde_pipeline;

typedef struct mde_series_job {
	const char *symbol;
	const char *timeframe;
	int64_t period_ms;
	enum mde_asset asset;
	const char *source;   /* binance|binance-spot|yahoo|polygon|replay:DIR */
	int64_t start_ms, end_ms;
	int64_t job_id;       /* backfill chunk, 0 = none */
	int chunk_no;
	bool stored_only;     /* recompute stored candles and aux series:
				 no fetch (a feature definition changed) */
	/* The stream (stream.c): closed candles it received (ascending, in
	 * [start_ms, end_ms)) join what REST serves of [start_ms,
	 * rest_to_ms) (none when rest_to_ms <= start_ms); the aux series
	 * are then the stored ones only (aux_stored), and come on a cadence
	 * of their own: a recompute of stored candles that fetches them
	 * (stored_only with aux_refresh). */
	const mde_candles *given;
	int64_t rest_to_ms;
	bool aux_stored;
	bool aux_refresh;
	bool quality_later;   /* the quality metrics wait for the refresh */
	bool more;            /* a piece of a chunk with more after it: its
				 last batch does not finish the chunk */
} mde_series_job;

/* Connects, opens the fetcher, records the run. Returns an exit code. */
int mde_pipeline_open(mde_pipeline *p, const mde_config *cfg, int kind,
		      const char *args, mde_err *err);
/* Remembers a failed series for the closing sentence. */
void mde_pipeline_note_failed(mde_pipeline *p, const char *symbol,
			      const char *timeframe);
/*
 * Ends a run for people: the aux-hole summary lines, then one sentence on
 * stderr ("nothing changed", "120 candles written, 3 amended", "2 series
 * failed: ...") for command cmd.
 */
void mde_pipeline_say_done(mde_pipeline *p, const char *cmd, int code);

/*
 * Another connection and fetcher for the same run (the stream's writers,
 * one per thread); closing adds its totals to into's.
 */
int mde_pipeline_clone(mde_pipeline *q, const mde_pipeline *p,
		       mde_err *err) MDE_MUSTCHECK;
/* A clone whose fetcher shares p's host budgets (Retry-After, weight,
 * endpoint limits, bans): a writer that fetches while p does. Its fetch
 * records and archive files are its own, written by its own store. */
int mde_pipeline_clone_fetching(mde_pipeline *q, mde_pipeline *p,
				mde_err *err) MDE_MUSTCHECK;
void mde_pipeline_clone_close(mde_pipeline *q, mde_pipeline *into);
/* Records the run's end (status from code) and frees everything. */
void mde_pipeline_close(mde_pipeline *p, int exit_code, const char *error);

/*
 * Enriches one series range. Returns 0, MDE_EINTR (stopped after a
 * committed batch), or an error for this series (the others may go on):
 * err->retryable false when retrying now cannot help.
 */
int mde_pipeline_series(mde_pipeline *p, const mde_series_job *j,
			mde_err *err) MDE_MUSTCHECK;

/* Refreshes the run's heartbeat (runs.h), at most once a minute. */
void mde_pipeline_heartbeat(mde_pipeline *p);

/*
 * Records how a series ended (rc 0 = ok) in enrichment_status, in its own
 * small transaction; a failure to do so is logged, not returned.
 */
void mde_pipeline_series_done(mde_pipeline *p, const char *symbol,
			      const char *timeframe, enum mde_asset asset,
			      const char *source, int rc, const mde_err *err);

/*
 * After a retryable database error (lost connection, server restart):
 * reconnects with backoff, up to the configured retries. 0 when the store
 * is usable again; else err says why not. Session locks are gone.
 */
int mde_pipeline_recover(mde_pipeline *p, mde_err *err) MDE_MUSTCHECK;

/* A set of series a run enriches: a command line, or a [universe]. */
typedef struct mde_series_set {
	const char *symbols;   /* comma separated */
	const char *timeframe;
	const char *source;    /* NULL = the asset class's default */
	const char *asset;     /* NULL = implied by source and symbols */
	const char *since;     /* the universe's since, or NULL */
	const char *fallback;  /* the universe's fallback key; "none" for a
				  --source (that source only), NULL = the
				  asset class's default */
} mde_series_set;

/*
 * The source plan (source.h: "binance", "polygon+yahoo", ...) and asset
 * class of a set of series (sources.c): the asset is asset when given,
 * else implied by the source and each symbol, which must agree. A named
 * source with fallback "none" is that source only. MDE_EINVAL with a
 * message naming the fix in why.
 */
int mde_pipeline_sources(const char *source, const char *fallback,
			 const char *asset, const char *symbols, char *plan,
			 size_t cap, enum mde_asset *asset_out, char *why,
			 size_t whylen) MDE_MUSTCHECK;

/*
 * Enriches each series of set incrementally (run.c): from the last stored
 * candle minus the overlap (or since_ms for a new series, or an earlier
 * --since), to until_ms (INT64_MIN: the last closed candle), window by
 * window. Series another process holds are skipped. Returns an exit code;
 * *failed counts the series that failed.
 */
int mde_pipeline_run_set(mde_pipeline *p, const mde_series_set *set,
			 int64_t since_ms, int64_t until_ms, size_t *failed);

enum mde_drain_mode {
	MDE_DRAIN_JOB,   /* backfill, resume: until the job(s) are done */
	MDE_DRAIN_WORKER /* claim chunks of any job until told to stop */
};

/*
 * Claims and runs chunks of job_id (0 = every job) until nothing is left
 * to claim (drain.c); at most max_chunks when > 0. Returns an exit code.
 */
int mde_pipeline_drain(mde_pipeline *p, enum mde_drain_mode mode,
		       int64_t job_id, long max_chunks, bool idle_exit);

/*
 * The stages without fetch or store (the offline compute command): c is
 * validated into v (rejects kept) and its valid candles computed into fr
 * with the aux series (may be NULL). Both stay owned by the caller, also
 * on error.
 */
int mde_pipeline_offline(mde_validation *v, mde_frame *fr,
			 const mde_candles *c, int64_t period_ms,
			 enum mde_asset asset, const mde_auxset *aux,
			 mde_err *err) MDE_MUSTCHECK;

/*
 * `mdenrich import` (import.c): the kline files (.zip or .csv as Binance's
 * archive ships them; directories recursively) of one series, read by
 * the archive's reader, through validate -> compute -> store window by
 * window under the series lock. Candles of another timeframe: MDE_EINVAL
 * before anything is written. Returns an exit code.
 */
int mde_pipeline_import(mde_pipeline *p, const char *symbol,
			const char *timeframe, int64_t period_ms,
			const char *source, char *const *paths, size_t npaths);

/*
 * The same by segment, so that memory follows the data and not the time
 * span between two candles (offline.c): a crypto series is split where
 * two candles are further apart than the features' warm-up, each segment
 * validated and computed alone, with the values of the whole grid.
 *
 * mde_offline_open validates every segment: rejects and dups (rows of c,
 * ascending) and stats are those of the whole input, or an error
 * (MDE_EINVAL, MDE_ENOMEM) before anything is computed. Then, for k in
 * [0, nseg), mde_offline_segment computes segment k: series and frame
 * hold it until the next call, map[i] is the row of c of series row i
 * (map NULL: c's rows). mde_offline_free in every case.
 */
typedef struct mde_offline {
	mde_reject *rejects;
	size_t nrejects;
	uint32_t *dups;
	size_t ndups;
	mde_vstats stats;
	size_t nseg;
	const mde_series *series; /* after mde_offline_segment */
	const mde_frame *frame;
	const uint32_t *map;
	struct mde_offline_priv *priv;
} mde_offline;

int mde_offline_open(mde_offline *o, const mde_candles *c, int64_t period_ms,
		     enum mde_asset asset, const mde_auxset *aux,
		     mde_err *err) MDE_MUSTCHECK;
int mde_offline_segment(mde_offline *o, size_t k, mde_err *err) MDE_MUSTCHECK;
void mde_offline_free(mde_offline *o);

/* The last candle open_time that is closed at now_ms: floor(now/P)*P. */
int64_t mde_last_closed_end(int64_t now_ms, int64_t period_ms);

#endif
