/*
 * api_queries.h - the read-only queries of the HTTP API and dashboard
 * (src/serve, docs/API.md). Parameters are text, already validated by the
 * caller, and always sent as query parameters. Results are in the column
 * order of the enums below; times are ISO 8601 UTC text unless named _MS
 * (epoch milliseconds). The caller renders and PQclear()s.
 */
#ifndef MDE_API_QUERIES_H
#define MDE_API_QUERIES_H

#include <libpq-fe.h>

#include "mde.h"

/*
 * Prepares a connection of the server's pool: read-only transactions, a
 * statement timeout of timeout_ms on every query.
 */
int mde_api_session(PGconn *c, int timeout_ms, mde_err *err) MDE_MUSTCHECK;
/* SELECT 1: whether the database answers. */
int mde_api_ping(PGconn *c, mde_err *err) MDE_MUSTCHECK;

/* Columns of mde_api_status: one row per enrichment_status row. */
enum {
	MDE_AS_SYMBOL, MDE_AS_TIMEFRAME, MDE_AS_ASSET, MDE_AS_SOURCE,
	MDE_AS_FIRST, MDE_AS_LAST, MDE_AS_ROWS, MDE_AS_BEHIND,
	MDE_AS_RUN_ID, MDE_AS_RUN_AT, MDE_AS_STATUS, MDE_AS_ERROR,
	MDE_AS_BEHIND_S, MDE_AS_LAST_OK_S, MDE_AS_SEVERITY, MDE_AS_NCOLS
};
/* Every series (symbol NULL) or those of one symbol, worst first: failed,
 * partial or interrupted, other, ok; then most behind; then by name. */
int mde_api_status(PGconn *c, const char *symbol, PGresult **out,
		   mde_err *err) MDE_MUSTCHECK;

/* Columns of mde_api_metrics (one row). */
enum {
	MDE_AM_SERIES, MDE_AM_ROWS, MDE_AM_PENDING, MDE_AM_RUNNING,
	MDE_AM_DONE, MDE_AM_FAILED, MDE_AM_CANCELLED, MDE_AM_FETCH_ERR,
	MDE_AM_REJECTED, MDE_AM_CORRECTIONS, MDE_AM_FETCH_TOTAL
};
int mde_api_metrics(PGconn *c, PGresult **out, mde_err *err) MDE_MUSTCHECK;

/* Columns of mde_api_run. */
enum {
	MDE_AR_ID, MDE_AR_KIND, MDE_AR_STATUS, MDE_AR_STARTED,
	MDE_AR_FINISHED, MDE_AR_SERIES, MDE_AR_SERIES_FAILED, MDE_AR_FETCHED,
	MDE_AR_WRITTEN, MDE_AR_UNCHANGED, MDE_AR_REJECTED,
	MDE_AR_CORRECTIONS, MDE_AR_ARGS, MDE_AR_ERROR, MDE_AR_NCOLS
};
/* One enrichment_runs row (run_id as text), or the last run (NULL). */
int mde_api_run(PGconn *c, const char *run_id, PGresult **out,
		mde_err *err) MDE_MUSTCHECK;

/* Columns of mde_api_quality: every column of data_quality_metrics. */
enum {
	MDE_AQ_SYMBOL, MDE_AQ_TIMEFRAME, MDE_AQ_DAY, MDE_AQ_EXPECTED,
	MDE_AQ_RECEIVED, MDE_AQ_VALID, MDE_AQ_REJECTED, MDE_AQ_DUPLICATES,
	MDE_AQ_GAPS, MDE_AQ_SUSPICIOUS, MDE_AQ_CORRECTIONS,
	MDE_AQ_COMPLETENESS, MDE_AQ_QUALITY, MDE_AQ_COMPUTED_AT, MDE_AQ_NCOLS
};
/*
 * data_quality_metrics rows, newest day first (then symbol, timeframe).
 * p: symbol or NULL, timeframe or NULL, since and until (epoch ms text:
 * days that intersect [since, until)) or NULL.
 */
int mde_api_quality(PGconn *c, const char *const p[4], PGresult **out,
		    mde_err *err) MDE_MUSTCHECK;

/* Columns of mde_api_fetch_counts: source, http status ("error" when the
 * request got no answer, "none" for a replay read), requests in the last
 * 24 hours. */
int mde_api_fetch_counts(PGconn *c, PGresult **out,
			 mde_err *err) MDE_MUSTCHECK;

/* Whether symbol/timeframe has an enrichment_status row or any row in
 * market_data_v2. */
int mde_api_series_exists(PGconn *c, const char *symbol,
			  const char *timeframe, bool *exists,
			  mde_err *err) MDE_MUSTCHECK;

/*
 * The features rows, in BINARY result format (every value as the
 * database holds it: float8 bits, int64 microseconds), column order:
 * MDE_AF_OPEN_TIME, the OHLCV text of the compute input layout (open,
 * high, low, close, volume, quote_volume, trades, taker_buy_base,
 * taker_buy_quote), the 22 features, validation_flags, quality_score,
 * then feature_version, revision, run_id, asset_class, source,
 * created_at, updated_at.
 */
enum {
	MDE_AF_OPEN_TIME = 0, MDE_AF_TRADES = 7, MDE_AF_FEATURES = 10,
	MDE_AF_FLAGS = 32, MDE_AF_QUALITY, MDE_AF_FEATURE_VERSION,
	MDE_AF_REVISION, MDE_AF_RUN_ID, MDE_AF_ASSET, MDE_AF_SOURCE,
	MDE_AF_CTIME, MDE_AF_MTIME, MDE_AF_NCOLS
};
/* The column names of the features rows, in that order. */
extern const char *const mde_api_feature_cols[MDE_AF_NCOLS];
/* One page of features rows: open_time in [from_ms, to_ms) and after
 * after_ms (exclusive; INT64_MIN = none), ascending, at most limit;
 * csv_only: only the columns up to quality_score. */
typedef struct mde_api_page {
	const char *symbol, *timeframe;
	int64_t from_ms, to_ms, after_ms;
	long limit;
	bool csv_only;
} mde_api_page;
/* Sends the page's query without waiting (so that the server computes
 * the next page while the caller formats this one)... */
int mde_api_features_send(PGconn *c, const mde_api_page *q,
			  mde_err *err) MDE_MUSTCHECK;
/* ...and waits for its result (binary, see above). */
int mde_api_features_recv(PGconn *c, PGresult **out,
			  mde_err *err) MDE_MUSTCHECK;
/* The open_time (ms) of row number offset (0-based) of that range, or
 * INT64_MIN when the range has no more rows. */
int mde_api_features_nth(PGconn *c, const char *symbol,
			 const char *timeframe, int64_t from_ms,
			 int64_t to_ms, long offset, int64_t *out_ms,
			 mde_err *err) MDE_MUSTCHECK;

/* Columns of mde_api_corrections: open_time, old_revision, new_revision,
 * old and new close, source, run_id, detected_at. The latest n. */
int mde_api_corrections(PGconn *c, const char *symbol,
			const char *timeframe, int n, PGresult **out,
			mde_err *err) MDE_MUSTCHECK;
/* Columns of mde_api_rejects: open_time, source, reasons (comma
 * separated), raw (JSON text), times_seen, last_seen_at. The latest n. */
int mde_api_rejects(PGconn *c, const char *symbol, const char *timeframe,
		    int n, PGresult **out, mde_err *err) MDE_MUSTCHECK;

#endif
