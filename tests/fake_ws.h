/*
 * fake_ws.h - a fake of Binance's kline WebSocket streams (SOURCES.md
 * §13) on 127.0.0.1, on a libwebsockets server thread. It replays the
 * klines a fake exchange (fake_exchange.h) holds, so that REST repair
 * finds the same candles: a clock runs from start_ms at `speed` simulated
 * milliseconds per real one; at each interval's close every connection
 * gets the closing message ("x": true) of each of its streams, then one
 * update of the new forming candle ("x": false, values that are not the
 * final ones). A new connection first gets an update of the forming
 * candle. Streams come from the path: /stream?streams=a@kline_1m/...
 *
 * Faults, at the close of the candle opening at open_ms (every stream of
 * every connection): the connection dropped (and new ones refused for
 * arg real ms), silence for arg real ms (no message, no ping, the
 * connection left open), the closing message skipped, repeated (again
 * after the next close too), delivered after the next one, a malformed
 * field, or a serverShutdown event and a close.
 */
#ifndef FAKE_WS_H
#define FAKE_WS_H

#include <stddef.h>
#include <stdint.h>

#include "fake_exchange.h"

typedef struct fws fws;

typedef struct fws_opts {
	fx *x;               /* the candles (borrowed) */
	int market;          /* FX_FUTURES or FX_SPOT */
	int64_t period_ms;
	int64_t start_ms;    /* simulated clock at start */
	int64_t end_ms;      /* no candle from here on; 0 = no end */
	double speed;        /* simulated ms per real ms (1 = real time) */
	int64_t ping_ms;     /* real ms between pings; 0 = none */
	int port;            /* 0 = ephemeral */
} fws_opts;

enum fws_fault {
	FWS_DROP = 1,    /* arg = real ms during which connections are refused */
	FWS_SILENCE,     /* arg = real ms of silence */
	FWS_SKIP,
	FWS_REPEAT,
	FWS_REORDER,
	FWS_MALFORMED,
	FWS_SHUTDOWN
};

typedef struct fws_stats {
	size_t connections, refused, pongs, pings, closed_sent, updates_sent;
} fws_stats;

fws *fws_start(const fws_opts *o);
void fws_stop(fws *w);
int fws_port(const fws *w);
/* "ws://127.0.0.1:PORT" */
const char *fws_url(const fws *w);
/* The simulated clock now. */
int64_t fws_now(fws *w);
void fws_fault(fws *w, int fault, int64_t open_ms, int64_t arg);
void fws_get_stats(fws *w, fws_stats *out);

#endif
