/*
 * fake_exchange.h - an in-process fake of the REST APIs the fetch stage
 * talks to, on 127.0.0.1 with an ephemeral port (libmicrohttpd, one thread
 * per connection). It serves, from data loaded by the test:
 *   /fapi/v1/klines, /api/v3/klines      startTime/endTime/limit semantics
 *   /fapi/v1/fundingRate                  of Binance, X-MBX-USED-WEIGHT-1M
 *     (no symbol: every symbol's events, in time order)
 *   /futures/data/openInterestHist, globalLongShortAccountRatio,
 *   takerlongshortRatio                   (30-day window enforced)
 *   /v8/finance/chart/{sym}               Yahoo
 *   /v2/aggs/ticker/{T}/range/1/day/{from}/{to}   Polygon, Bearer key,
 *                                         next_url paging
 * and, on demand, faults (429, 418, 5xx, -1001, slow replies, reset
 * connections, malformed or truncated JSON, wrong types, error bodies with
 * status 200, empty pages). Every request is recorded with its arrival
 * time so tests can check timing and parameters. Candles can be amended
 * so a later fetch sees new values. Thread-safe (one mutex).
 */
#ifndef FAKE_EXCHANGE_H
#define FAKE_EXCHANGE_H

#include <stddef.h>
#include <stdint.h>

#include "candles.h"

typedef struct fx fx;

enum fx_market { FX_FUTURES = 0, FX_SPOT = 1 };

enum fx_fault {
	FX_429 = 1,      /* arg = Retry-After seconds */
	FX_418,          /* arg = Retry-After seconds (ban) */
	FX_500,
	FX_503,
	FX_1001,         /* HTTP 400 with {"code":-1001} (retryable code) */
	FX_1001_200,     /* {"code":-1001} with HTTP 200 */
	FX_ERR200,       /* {"code":-1121,"msg":"Invalid symbol."}, HTTP 200 */
	FX_BADSYM,       /* the same with HTTP 400 */
	FX_SLOW,         /* arg = ms to wait before answering normally */
	FX_RESET,        /* close the connection without a reply */
	FX_MALFORMED,    /* not JSON */
	FX_TRUNCATED,    /* the normal body cut in half */
	FX_WRONG_TYPES,  /* first row: open as a JSON number */
	FX_GARBAGE_NUM,  /* first row: open = "93x48.80" */
	FX_WRONG_LEN,    /* first kline row has 11 elements */
	FX_MISSING,      /* first row lacks a field (close / fundingRate) */
	FX_EMPTY,        /* an empty page ([] / no results) */
	FX_HTML,         /* 200 text/html "Will be right back" */
	FX_TEXT429,      /* Yahoo style: 429 "Too Many Requests" plain text */
	/* page transforms (fake_faults.c), on the normal JSON array body */
	FX_DUPLICATES,   /* every row twice */
	FX_SHUFFLED,     /* rows in reverse order */
	FX_DROPPED,      /* arg rows dropped from the middle of the page */
	FX_NUL_DECIMAL,  /* first row: open = "<open>\u0000x" */
	FX_TRAILING      /* the body, then "xyz" after the JSON */
};

/* Applies a page transform to a JSON array body: a new malloc'd body
 * (its length in *outlen), or NULL when fault is none of them. */
char *fx_transform(int fault, int arg, const char *body, size_t len,
		   size_t *outlen);

typedef struct fx_opts {
	int64_t weight_window_ms;  /* 0 = 60000 */
	int weight_limit;          /* > 0: answer 429 past it (and count) */
	const char *polygon_key;   /* required Bearer token; NULL = none */
	size_t polygon_page;       /* results per page; 0 = 50000 */
	int64_t now_ms;            /* 0 = wall clock (30-day rule) */
	int ts_as_string;          /* /futures/data timestamp as "..." */
	const char *polygon_next_base; /* next_url host; NULL = this server */
	int latency_ms;            /* every answer this late (a round trip) */
	int funding_needs_symbol;  /* fundingRate without symbol: -1102 */
} fx_opts;

typedef struct fx_req {
	char path[256];
	char query[512];
	char auth[160];            /* Authorization header, "" if none */
	int64_t mono_ms;           /* arrival, monotonic */
	int64_t wall_ms;
	int status;                /* 0 = reset, -1 = not answered yet */
	int64_t used_weight;       /* after this request */
	int64_t done_mono_ms;      /* answered (monotonic); 0 = not yet */
} fx_req;

fx *fx_start(const fx_opts *o);
void fx_stop(fx *x);
int fx_port(const fx *x);
/* "http://127.0.0.1:PORT" (valid until fx_stop). */
const char *fx_url(const fx *x);

/* Data. Rows are copied. Return 0 or -1. */
int fx_add_klines(fx *x, int market, const char *sym, int64_t period_ms,
		  const mde_candles *c);
/* A deterministic random walk of n candles from start_ms. */
int fx_add_synthetic(fx *x, int market, const char *sym, int64_t period_ms,
		     int64_t start_ms, size_t n, uint64_t seed);
/* kind: enum mde_aux_kind or MDE_AUX_TAKER; period 0 for funding. */
int fx_add_aux(fx *x, int kind, const char *sym, int64_t period_ms,
	       int64_t t_ms, const char *value);
/* One daily equity bar (day_ms = 00:00 UTC of the trading date). */
int fx_add_equity(fx *x, const char *sym, int64_t day_ms, double o,
		  double h, double l, double c, double v);
/* Loads a replay-layout directory (data/README.md): klines into both
 * markets, aux files, chart_1d.json as equity bars. */
int fx_load_dir(fx *x, const char *dir);
/* Changes one candle's OHLCV text (NULL keeps a field). */
int fx_amend(fx *x, int market, const char *sym, int64_t period_ms,
	     int64_t open_ms, const char *open, const char *high,
	     const char *low, const char *close, const char *volume);
void fx_set_now(fx *x, int64_t now_ms);
/* Aux rows (funding, /futures/data) at or after t_ms are not served yet
 * (0 = all): they "arrive" when this is cleared. */
void fx_set_aux_until(fx *x, int64_t t_ms);
/* One stored kline's OHLCV text and trades (the fake WebSocket endpoint
 * streams them); 0, or -1 when there is none at open_ms. */
int fx_kline(fx *x, int market, const char *sym, int64_t period_ms,
	     int64_t open_ms, char txt[MDE_NFIELDS][40], int64_t *trades);

/* The next count requests whose path starts with prefix, after skipping
 * skip of them, get the fault. Faults are checked in the order added. */
void fx_fault(fx *x, const char *prefix, int fault, int skip, int count,
	      int arg);
void fx_clear_faults(fx *x);

size_t fx_nreq(fx *x);
/* Copy of request i; 0 or -1. */
int fx_get_req(fx *x, size_t i, fx_req *out);
void fx_clear_reqs(fx *x);
/* Requests refused with 429 because the weight limit was exceeded. */
size_t fx_weight_violations(fx *x);
/* Highest X-MBX-USED-WEIGHT-1M sent. */
int64_t fx_max_used_weight(fx *x);
/* TCP connections accepted so far (keep-alive reuse shows here). */
size_t fx_connections(fx *x);
/* Requests being answered at once, at most (arrival to answer). */
int fx_max_inflight(fx *x);

/* ---- the public data archive (fake_archive.c) ------------------------
 * /data/{futures/um|spot}/{monthly|daily}/{klines|fundingRate|metrics}/...
 * zips (and their .CHECKSUM) built on request, with libzip, from the same
 * rows the REST endpoints serve: a month's file once the month is over, a
 * day's file once the day is over (by the wall clock), 404 otherwise or
 * when no row falls in it. Futures kline CSVs have the header, spot ones
 * none and µs times from 2025 on, as Binance publishes them. An amended
 * candle changes the zip, hence its hash: a re-publication. */
typedef void (*fx_krow_fn)(void *ud, int64_t t, const char *const *f,
			   int64_t trades);
typedef void (*fx_arow_fn)(void *ud, int64_t t, const char *v);
/* Calls fn for each kline of the series with t in [from, to); -1 when the
 * series does not exist. */
int fx_each_kline(fx *x, int market, const char *sym, int64_t period_ms,
		  int64_t from, int64_t to, fx_krow_fn fn, void *ud);
/* The same for the aux rows of kind (of every period). */
int fx_each_aux(fx *x, int kind, const char *sym, int64_t from, int64_t to,
		fx_arow_fn fn, void *ud);

/* Changes with every change of the data (archive zips are rebuilt). */
uint64_t fx_version(fx *x);

enum fxa_flag {
	FXA_404 = 1,        /* the file (and its CHECKSUM) do not exist */
	FXA_BADSUM = 2,     /* the CHECKSUM names another hash */
	FXA_TRUNC = 4,      /* the zip is cut in half, every time */
	FXA_NOHEADER = 8,   /* kline CSV without its header row */
	FXA_HEADER = 16,    /* kline CSV with a header row (spot too) */
	FXA_MICROS = 32,    /* kline times in microseconds */
	FXA_CRLF = 64,      /* CRLF line ends */
	FXA_SHUFFLE = 128   /* rows reversed, and the first row repeated
			       with another close before its real line */
};
/* Files whose path starts with prefix get flags (later calls win). */
void fxa_set(fx *x, const char *prefix, unsigned flags);
void fxa_clear(fx *x);
/* Requests for archive paths so far (zips and CHECKSUMs). */
size_t fxa_requests(fx *x);
/* A growing NUL-terminated string, the fake's bodies: add appends
 * printf's text, put n bytes (doubling; out of memory: unchanged). */
typedef struct fx_buf {
	char *p;
	size_t n, cap;
} fx_buf;
void fx_buf_add(fx_buf *b, const char *fmt, ...) MDE_PRINTF(2, 3);
void fx_buf_put(fx_buf *b, const char *p, size_t n);

/* Serves an archive path: returns the status, *body (malloc'd, *len). */
int fxa_serve(fx *x, const char *url, char **body, size_t *len,
	      const char **ctype);

#endif
