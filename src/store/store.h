/*
 * store.h - the last stage: frames into PostgreSQL, and the history the
 * features need read back.
 *
 * One mde_store_write() is one transaction: the candles of a slot range are
 * COPYed (binary) into a temporary stage table, amended candles become
 * data_corrections rows, then one INSERT ... ON CONFLICT DO UPDATE ...
 * WHERE ... IS DISTINCT FROM ... writes what changed and nothing else;
 * rejects, the auxiliary series, the fetch and compute logs, the backfill
 * cursor (with the lease check), quality metrics and enrichment_status go
 * in the same transaction, and so does `NOTIFY mdenrich_candles` with the
 * batch's series, first and last open_time and the rows it inserted or
 * changed (none when it changed nothing). On any error the transaction is rolled back and
 * err->retryable says whether the pipeline may reconnect and retry.
 *
 * OHLCV are stored exactly as the source sent them: the numeric values are
 * encoded from the candle's text, never from a double.
 */
#ifndef MDE_STORE_H
#define MDE_STORE_H

#include <libpq-fe.h>

#include "audit.h"
#include "candles.h"

typedef struct mde_store mde_store;

/* Connects (see mde_db_connect). *out is NULL on error. */
int mde_store_open(mde_store **out, const char *url, int connect_timeout_s,
		   mde_err *err) MDE_MUSTCHECK;
/* Drops the connection and connects again (after a transient error). */
int mde_store_reconnect(mde_store *s, mde_err *err) MDE_MUSTCHECK;
void mde_store_close(mde_store *s);
PGconn *mde_store_conn(mde_store *s);

/* A fetch-log record kept until the next write (strings copied). */
typedef struct mde_fetch_logbuf {
	size_t n, cap;
	struct mde_fetch_logrow {
		char *source, *endpoint, *symbol, *params, *error;
		int http_status, attempt;
		int64_t rows, bytes, latency_ms, requested_at_ms;
	} *rows;
} mde_fetch_logbuf;

/* An mde_fetch_log_fn: appends rec to the mde_fetch_logbuf ud. */
void mde_fetch_logbuf_add(void *ud, const mde_fetch_rec *rec);
void mde_fetch_logbuf_clear(mde_fetch_logbuf *b);
/* Moves every record of src to the end of dst (src is left empty). */
void mde_fetch_logbuf_take(mde_fetch_logbuf *dst, mde_fetch_logbuf *src);
void mde_fetch_logbuf_free(mde_fetch_logbuf *b);

/* Per UTC day duplicate counts of a fetch, for the quality metrics. */
typedef struct mde_day_dups {
	int64_t day_ms;  /* 00:00 UTC of the day */
	int32_t count;
} mde_day_dups;

/* An aux range that can no longer be fetched (start < end) of kind. */
typedef struct mde_aux_hole {
	const char *kind; /* "funding", "open_interest", "long_short" */
	int64_t start_ms, end_ms;
} mde_aux_hole;

#define MDE_MAX_HOLES 4

/*
 * Everything one transaction writes, in three parts. Pointers are
 * borrowed.
 */
typedef struct mde_store_batch {
	const char *symbol;
	const char *timeframe;
	int64_t period_ms;
	enum mde_asset asset;
	int64_t run_id;
	int64_t now_ms;

	/* The candles: valid slots [slot_from, slot_to) of series, features
	 * from frame, OHLCV text from candles (the row series->row[i]). */
	struct mde_batch_rows {
		const mde_series *series;
		const mde_frame *frame;
		const mde_candles *candles;
		size_t slot_from, slot_to;
	} rows;

	/* What the audit and auxiliary tables get with these rows. */
	struct mde_batch_audit {
		/* Rejected candles: rows of rej_candles with their reasons. */
		const mde_candles *rej_candles;
		const mde_reject *rejects;
		size_t nrejects;
		/* Auxiliary series to keep (NULL = none): funding, open
		 * interest and long/short at aux_period ("1h", ...). */
		const mde_aux *funding, *open_interest, *long_short;
		const char *aux_period;
		const char *aux_source;
		mde_aux_hole holes[MDE_MAX_HOLES];
		size_t nholes;
		mde_fetch_logbuf *fetch_log; /* written and cleared; or NULL */
		/* The compute log row of the computation this batch ends
		 * (-1 = not the last batch): its duration, the slots
		 * computed, and what the earlier batches of it wrote and
		 * left unchanged (this batch's own counts are added). */
		int64_t compute_ms;
		size_t rows_in, written_before, unchanged_before;
		/* The fetch's duplicates per UTC day, for quality metrics. */
		const mde_day_dups *dups;
		size_t ndups;
		/* The days' quality metrics are left to a later batch of the
		 * same days (the stream's aux refresh recomputes them). */
		bool quality_later;
	} audit;

	/* The backfill chunk whose cursor advances with these rows (job_id
	 * 0 = none). The store derives the cursor from the fetched range
	 * [range_start_ms, range_end_ms) and the slots written: a batch that
	 * ends the series moves it to range_end - P, and marks the chunk
	 * done when the fetch was complete. The update must find lease_owner
	 * still holding the lease. */
	struct mde_batch_cursor {
		int64_t job_id;
		int chunk_no;
		const char *lease_owner;
		int lease_s;
		int64_t range_start_ms, range_end_ms;
		bool fetch_complete;
	} cursor;
} mde_store_batch;

/*
 * What a batch does to the cursor and the quality metrics, derived from
 * its slots and range: the cursor value, whether the chunk is done, and
 * the UTC days [qual_from_ms, qual_to_ms) whose metrics are recomputed
 * (none when equal).
 */
typedef struct mde_batch_window {
	int64_t cursor_ms;
	bool chunk_done;
	int64_t qual_from_ms, qual_to_ms;
} mde_batch_window;
void mde_store_batch_window(const mde_store_batch *b, mde_batch_window *out);

typedef struct mde_store_result {
	size_t staged;      /* candles sent */
	size_t inserted;    /* new rows */
	size_t updated;     /* rows whose values changed */
	size_t unchanged;   /* rows already equal: nothing written */
	size_t corrections; /* amended candles (revision bumped) */
	size_t rejects;
} mde_store_result;

/*
 * Writes b in one transaction. Returns 0, or MDE_EDB (err->retryable for
 * lost connections, serialization failures, deadlocks, restarts), or
 * MDE_ELOST when the backfill lease was lost (nothing written).
 */
int mde_store_write(mde_store *s, const mde_store_batch *b,
		    mde_store_result *res, mde_err *err) MDE_MUSTCHECK;

/*
 * A group of batches in one transaction (the stream commits every second
 * what closed in it, for any number of series): between begin and commit
 * each mde_store_write is a savepoint, and a batch's NOTIFY is delivered
 * at the group's commit. A failed commit is rolled back.
 */
int mde_store_group_begin(mde_store *s, mde_err *err) MDE_MUSTCHECK;
int mde_store_group_commit(mde_store *s, mde_err *err) MDE_MUSTCHECK;
void mde_store_group_rollback(mde_store *s);

/*
 * COPYs (binary) the batch's candles into table, whose columns include
 * those of market_data_v2 that the store writes; no transaction of its
 * own. The store stages with it; the benchmark measures the raw rate.
 */
int mde_store_copy(mde_store *s, const char *table, const mde_store_batch *b,
		   size_t *staged, mde_err *err) MDE_MUSTCHECK;

/*
 * Writes the fetch-log records still buffered (a series that failed before
 * its first batch, or fetches that served nothing) in a transaction of
 * their own, and clears the buffer.
 */
int mde_store_flush_fetch_log(mde_store *s, int64_t run_id,
			      mde_fetch_logbuf *log, mde_err *err) MDE_MUSTCHECK;

/* ---- reading back -------------------------------------------------- */

/* The last stored open_time of a series; *found = false when none. */
int mde_store_last_time(mde_store *s, const char *symbol,
			const char *timeframe, int64_t *out_ms, bool *found,
			mde_err *err) MDE_MUSTCHECK;
/*
 * Appends to out the stored candles of a series with open_time in
 * [from_ms, to_ms), ascending, text as stored, origin from the source
 * column; plus, when last_n > 0, the last_n candles before from_ms
 * (equity history is counted in bars, not time).
 */
int mde_store_load_candles(mde_store *s, const char *symbol,
			   const char *timeframe, int64_t from_ms,
			   int64_t to_ms, size_t last_n, mde_candles *out,
			   mde_err *err) MDE_MUSTCHECK;
/*
 * Appends to out the stored aux series kind (MDE_AUX_FUNDING,
 * MDE_AUX_OPEN_INTEREST, MDE_AUX_LONG_SHORT) of symbol with t in
 * [since_ms, until_ms), plus the events_before observations before
 * since_ms; ascending. period is ignored for funding.
 */
int mde_store_load_aux(mde_store *s, int kind, const char *symbol,
		       const char *period, int64_t since_ms,
		       size_t events_before, int64_t until_ms, mde_aux *out,
		       mde_err *err) MDE_MUSTCHECK;
/*
 * Of the funding events stored from Binance at or after since_ms, for
 * the k-th of the n symbols of the comma list symbols: the time of the
 * latest into last_ms[k], and the first of the run of events ending at
 * it in which no two are more than max_gap_ms apart into run_from_ms[k];
 * INT64_MIN when there are none.
 */
int mde_store_funding_kept(mde_store *s, const char *symbols, size_t n,
			   int64_t since_ms, int64_t max_gap_ms,
			   int64_t *last_ms, int64_t *run_from_ms,
			   mde_err *err) MDE_MUSTCHECK;

#endif
