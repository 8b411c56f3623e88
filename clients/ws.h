/*
 * ws.h - Binance kline WebSocket streams (SOURCES.md §13), on
 * libwebsockets: the combined stream endpoint `/stream?streams=a/b/...`,
 * the symbols split over as many connections as the per-connection stream
 * limit needs (200 on futures, 1024 on spot).
 *
 * The client runs its own thread: it connects, answers pings (libwebsockets
 * sends the pong with the ping's payload), closes a connection that stays
 * silent (no message) for longer than silence_ms, and reconnects after any
 * close (the 24 h mark, a `serverShutdown` event, a reset, silence) with a
 * capped exponential backoff and jitter, re-subscribing the same streams.
 * Every kline message is parsed strictly; a malformed one is logged and
 * skipped (the consumer sees the candle missing and repairs it through
 * REST). The consumer takes the parsed messages with mde_ws_take().
 */
#ifndef MDE_WS_H
#define MDE_WS_H

#include "candles.h"
#include "mde.h"

typedef struct mde_ws_opts {
	const char *url;        /* ws[s]://host[:port] */
	const char *path;       /* "/stream" (routed: "/market/stream") */
	const char *symbols;    /* comma separated, canonical (BTCUSDT) */
	int64_t period_ms;      /* the kline interval */
	int streams_per_conn;   /* 0 = 200 */
	int64_t silence_ms;     /* 0 = 300000 */
	int64_t backoff_base_ms;/* 0 = 500 */
	int64_t backoff_max_ms; /* 0 = 30000 */
} mde_ws_opts;

/* One kline message. */
typedef struct mde_ws_kline {
	char symbol[32];        /* canonical, from the stream */
	int64_t open_ms;
	bool closed;            /* "x": true: the candle is final */
	bool first;             /* the first message of this stream since its
				   connection (re)opened */
	int64_t arrival_mono_ms;/* when the message arrived */
	char txt[MDE_NFIELDS][40];
	int64_t trades;
} mde_ws_kline;

typedef struct mde_ws_stats {
	size_t connects, closes, messages, malformed, pings, shutdowns,
		silences;
} mde_ws_stats;

typedef struct mde_ws mde_ws;

/* Checks the options and starts the client thread. */
int mde_ws_start(mde_ws **out, const mde_ws_opts *o,
		 mde_err *err) MDE_MUSTCHECK;
/* Stops the thread, closes every connection, frees. Accepts NULL. */
void mde_ws_stop(mde_ws *w);
/*
 * Moves the messages received so far (oldest first) into *out (a
 * malloc'ed array the caller frees) and their count into *n; waits up to
 * wait_ms for the first one.
 */
int mde_ws_take(mde_ws *w, int64_t wait_ms, mde_ws_kline **out,
		size_t *n) MDE_MUSTCHECK;
void mde_ws_get_stats(mde_ws *w, mde_ws_stats *out);

/*
 * Parses one combined-stream message into k (no I/O; for tests too).
 * Returns 0, MDE_EPARSE (err says which field) for a malformed kline,
 * or MDE_ENOTFOUND for a message that is not a kline: *shutdown is set
 * for a `serverShutdown` event.
 */
int mde_ws_parse(const char *msg, size_t len, int64_t period_ms,
		 mde_ws_kline *k, bool *shutdown, mde_err *err) MDE_MUSTCHECK;

#endif
