/*
 * stream.h - live enrichment (`mdenrich stream`, SOURCES.md §13): closed
 * candles from Binance's kline WebSocket streams through the same
 * validate -> compute -> store path as `run` (mde_pipeline_series).
 *
 * Only a candle's `"x": true` message is final; updates of the forming
 * candle are never stored. Closed candles gather into a batch that
 * commits, for every series at once, as one store group (one
 * transaction) per writer (each its own connection and a share of the
 * series, side by side): batch_ms after its first candle arrived at the latest, or
 * quiet_ms after the last one (the burst at the close of an interval is
 * over). Each series takes its lock for the group's transaction only,
 * without waiting: a series a run or worker holds waits for the next
 * batch.
 *
 * On every (re)connect, the first message of a stream tells where the
 * exchange is: every candle closed since the last one stored is fetched
 * through REST first, and so is any candle missing between two closed
 * ones (a skipped or malformed message), so the table has no hole the
 * exchange has data for. A candle at or before the last one stored
 * (repeated, out of order) changes nothing.
 *
 * The aux series (funding, open interest, long/short) are fetched through
 * REST every aux_every_ms, round robin over the series within a time
 * budget per batch; each refresh recomputes the rows written since the
 * last one and those of the last aux_lag_ms, so that once they caught
 * up the rows equal what `run` writes.
 */
#ifndef MDE_STREAM_H
#define MDE_STREAM_H

#include "pipeline.h"

typedef struct mde_stream_opts {
	const char *symbols;    /* comma separated */
	const char *timeframe;
	const char *source;     /* "binance" | "binance-spot" */
	const char *ws_url;     /* ws[s]://host[:port] */
	const char *ws_path;    /* "/stream" */
	int streams_per_conn;   /* 0: 200 futures, 1024 spot */
	int64_t batch_ms, quiet_ms, silence_ms, aux_every_ms, aux_lag_ms;
	int writers;            /* database connections writing a batch */
} mde_stream_opts;

/* Latency from a closing message's arrival to its commit. */
typedef struct mde_stream_latency {
	size_t count;
	int64_t p50_ms, p99_ms, max_ms;
} mde_stream_latency;

/*
 * Streams until SIGINT/SIGTERM (mde_stop_requested), then commits what
 * is in flight. Returns an exit code: MDE_EXIT_INTERRUPTED after a stop,
 * MDE_EXIT_FATAL when the database stays unreachable.
 */
int mde_pipeline_stream(mde_pipeline *p, const mde_stream_opts *o);

#endif
