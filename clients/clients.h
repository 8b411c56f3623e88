/*
 * clients.h - internal interface of the fetch stage (not for the pipeline:
 * it uses source.h). The source files below build request URLs and parse
 * response bodies, with no I/O, so they are tested offline from recorded
 * bodies paired with the exact URL they must produce:
 *   binance.c  USD-M futures and spot klines, funding, /futures/data/ series
 *   yahoo.c    /v8/finance/chart
 *   polygon.c  /v2/aggs
 *   symbols.c  symbol conventions of each source
 *   breaker.c  per-source circuit breaker
 *   jsonutil.c strict number helpers shared by the parsers
 * Parsers append to the caller's table only when the whole body is good:
 * on any error the table is left exactly as it was.
 */
#ifndef MDE_CLIENTS_H
#define MDE_CLIENTS_H

#include <cjson/cJSON.h>

#include "candles.h"
#include "mde.h"

/* Which rows a parser keeps: start <= open < end, closed at now. */
typedef struct mde_window {
	int64_t start_ms, end_ms; /* [start, end) on the row's time */
	int64_t now_ms;           /* rows with open + period > now are open */
	int64_t period_ms;
} mde_window;

/* What one response held, for pagination and the fetch log. */
typedef struct mde_page {
	size_t rows;             /* rows in the body, before filtering */
	size_t kept;             /* rows appended to the output */
	size_t dropped;          /* rows without a usable time (logged) */
	int64_t first_ms, last_ms; /* first/last row time; INT64_MIN if none */
	bool has_next;           /* polygon: next_url present */
	char next_url[2048];
} mde_page;

void mde_page_reset(mde_page *pg);
/* Notes a row's time in the page's first/last. */
void mde_page_time(mde_page *pg, int64_t t);
/* A candle of open_time t belongs to the answer: inside the window and
 * closed (open_time + P <= now). */
static inline bool mde_window_keeps(const mde_window *w, int64_t t)
{
	return t >= w->start_ms && t < w->end_ms &&
	       t + w->period_ms <= w->now_ms;
}

/* ---- jsonutil.c ---------------------------------------------------- */

/* Integer (ms, count) from a JSON integer or a string of digits. */
int mde_json_int(const cJSON *j, int64_t *out) MDE_MUSTCHECK;
/* Decimal from a JSON string holding a complete number ("0.0001"). */
int mde_json_decstr(const cJSON *j, double *out) MDE_MUSTCHECK;
/* Finite JSON number, or a decimal string. */
int mde_json_num(const cJSON *j, double *out) MDE_MUSTCHECK;
/* Parses body, which must be exactly one JSON document (whitespace
 * around it only: no trailing text, no second document, no NUL inside);
 * an escaped NUL (\u0000) in a string becomes U+FFFD, so that a decimal
 * "93548.80\u0000x" is malformed, not 93548.80. MDE_EPARSE (retryable: a
 * cut or garbled body is usually transient) with a short description
 * when it is not one JSON document. */
int mde_json_parse(const char *body, size_t len, cJSON **out,
		   mde_err *err) MDE_MUSTCHECK;
/*
 * Between begin and end, the cJSON documents this thread parses or builds
 * take their memory from an arena the end drops at once (no malloc and
 * free per node): every document of the scope must be deleted, or no
 * longer used, before its end.
 */
void mde_json_arena_begin(void);
void mde_json_arena_end(void);

/* The text of one field of a candle row, as received: into in->txt[f]
 * (pointing into j or buf). A string is taken as is (a decimal, or
 * anything the validation rejects); a number (strings = false: Yahoo,
 * Polygon) as its shortest round-trip text; null, absent or "" is NULL;
 * any other type is kept as its JSON text and the row marked malformed. */
void mde_json_field(const cJSON *j, bool strings, mde_candle_in *in, int f,
		    char *buf, size_t cap);

/* ---- binance.c ----------------------------------------------------- */

#define MDE_BINANCE_KLINES_LIMIT 1000  /* 5 weight: 200 rows/weight */
#define MDE_BINANCE_KLINES_WEIGHT 5
#define MDE_BINANCE_SPOT_KLINES_LIMIT 1000
#define MDE_BINANCE_SPOT_KLINES_WEIGHT 2
#define MDE_BINANCE_FUNDING_LIMIT 1000
#define MDE_BINANCE_FUTDATA_LIMIT 500
#define MDE_BINANCE_FUTDATA_DAYS 30

/* The interval / period name of a length ("1h"), or NULL. */
const char *mde_binance_interval(int64_t period_ms);
/* Weight of a futures klines request with this limit. */
int mde_binance_klines_weight(int limit);
/*
 * The limit of a klines request that needs `need` more candles: no more
 * than needed (futures weight 1 under 100 rows, 2 under 500, 5 up to
 * 1000: an hourly run's ~25 candles cost 1, not 5), at most a full page.
 */
int mde_binance_klines_limit(bool spot, int64_t need);

/* base + /fapi/v1/klines (spot: /api/v3/klines) ?symbol&interval&
 * startTime&endTime&limit; end_incl_ms is inclusive, as Binance reads it. */
int mde_binance_klines_url(char *buf, size_t cap, const char *base,
			   bool spot, const char *symbol, int64_t period_ms,
			   int64_t start_ms, int64_t end_incl_ms,
			   int limit) MDE_MUSTCHECK;
int mde_binance_parse_klines(const char *body, size_t len,
			     enum mde_origin origin,
			     const mde_window *w, mde_candles *out,
			     mde_page *pg, mde_err *err) MDE_MUSTCHECK;
/* The same through a cJSON document, for every page: what the one above
 * falls back to for a page not of the usual shape (and the reference
 * the tests and the fuzzer hold it to). */
int mde_binance_parse_klines_doc(const char *body, size_t len,
				 enum mde_origin origin,
				 const mde_window *w, mde_candles *out,
				 mde_page *pg, mde_err *err) MDE_MUSTCHECK;

/* symbol NULL: the funding of every symbol (SOURCES.md §3). */
int mde_binance_funding_url(char *buf, size_t cap, const char *base,
			    const char *symbol, int64_t start_ms,
			    int64_t end_incl_ms, int limit) MDE_MUSTCHECK;
/* Funding rows with fundingTime in [w->start, w->end); period unused. */
int mde_binance_parse_funding(const char *body, size_t len,
			      const mde_window *w, mde_aux *out,
			      mde_page *pg, mde_err *err) MDE_MUSTCHECK;
/*
 * A page of every symbol's funding, in time order: the rows of symbols[k]
 * (sorted by strcmp) with fundingTime in [w->start, w->end) go to out[k],
 * a row not after that table's last one skipped (the repeat of a page
 * boundary); other symbols' rows are checked and dropped. A bad row, or a
 * row earlier than the one above it, rejects the whole page.
 */
int mde_binance_parse_funding_all(const char *body, size_t len,
				  const mde_window *w,
				  const char *const *symbols, size_t nsymbols,
				  mde_aux *out, mde_page *pg,
				  mde_err *err) MDE_MUSTCHECK;

/* kind: MDE_AUX_OPEN_INTEREST, MDE_AUX_LONG_SHORT or MDE_AUX_TAKER. */
const char *mde_binance_futdata_path(int kind);
int mde_binance_futdata_url(char *buf, size_t cap, const char *base,
			    int kind, const char *symbol, int64_t period_ms,
			    int64_t start_ms, int64_t end_incl_ms,
			    int limit) MDE_MUSTCHECK;
/* Rows with timestamp in [w->start, w->end) and > after_ms (dedupe at
 * page boundaries: pages arrive in ascending order). */
int mde_binance_parse_futdata(const char *body, size_t len, int kind,
			      const mde_window *w, int64_t after_ms,
			      mde_aux *out, mde_page *pg,
			      mde_err *err) MDE_MUSTCHECK;

/*
 * When body is a Binance error object {"code":-1121,"msg":"..."}, sets err
 * (retryable for -1000, -1001, -1007, -1008; MDE_EBANNED for -1003 with
 * "banned") keeping err->http_status and returns that negative code;
 * otherwise returns 0 and leaves err alone.
 */
int mde_binance_error_body(const char *body, size_t len, mde_err *err);

/* ---- yahoo.c ------------------------------------------------------- */

/* Yahoo's interval name for a period ("1d", "60m"), or NULL. */
const char *mde_yahoo_interval(int64_t period_ms);
int mde_yahoo_chart_url(char *buf, size_t cap, const char *base,
			const char *ysymbol, int64_t period_ms,
			int64_t start_ms, int64_t end_ms) MDE_MUSTCHECK;
/* Daily bars get open_time = 00:00 UTC of the stamp's UTC date. */
int mde_yahoo_parse_chart(const char *body, size_t len, enum mde_origin origin,
			  const mde_window *w, mde_candles *out,
			  mde_page *pg, mde_err *err) MDE_MUSTCHECK;

/* ---- polygon.c ----------------------------------------------------- */

int mde_polygon_aggs_url(char *buf, size_t cap, const char *base,
			 const char *psymbol, int64_t period_ms,
			 int64_t start_ms, int64_t end_ms) MDE_MUSTCHECK;
/* Sets pg->has_next / pg->next_url from next_url. */
int mde_polygon_parse_aggs(const char *body, size_t len, enum mde_origin origin,
			   const mde_window *w, mde_candles *out,
			   mde_page *pg, mde_err *err) MDE_MUSTCHECK;

/* ---- symbols.c ----------------------------------------------------- */

/*
 * Maps a canonical symbol (Binance "BTCUSDT" for crypto, the ticker for
 * equities) to the convention of source origin (enum mde_origin):
 * BTCUSDT -> BTCUSDT (binance, binance-spot), BTC-USD (yahoo), X:BTCUSD
 * (polygon). Multiplied futures contracts (1000PEPEUSDT) have no spot,
 * Yahoo or Polygon twin at the same price: MDE_ENOTFOUND.
 */
int mde_symbol_for(char *out, size_t cap, const char *canonical,
		   enum mde_asset asset,
		   enum mde_origin origin) MDE_MUSTCHECK;
/* The canonical symbol of a source's symbol (BTC-USD, X:BTCUSD -> BTCUSDT;
 * an equity ticker stays as it is). */
int mde_symbol_canonical(char *out, size_t cap,
			 const char *sym) MDE_MUSTCHECK;

/* ---- replay.c ------------------------------------------------------ */

/* What a replay read touched, for the fetch log. */
typedef struct mde_replay_info {
	char file[160];   /* relative to the replay dir: "BTCUSDT/klines_1h.json" */
	size_t bytes, rows;
} mde_replay_info;

/*
 * Candles of symbol from DIR/SYMBOL/klines_<tf>.json (Binance kline array),
 * else chart_<tf>.json (Yahoo chart body), else aggs_<tf>.json (Polygon
 * body), filtered by w; origin MDE_SRC_REPLAY. MDE_ENOTFOUND when none of
 * the files exists.
 */
int mde_replay_candles(const char *dir, const char *symbol,
		       const mde_window *w, size_t max_bytes,
		       mde_candles *out, mde_replay_info *info,
		       mde_err *err) MDE_MUSTCHECK;
/*
 * Aux series from DIR/SYMBOL/funding.json, open_interest_<tf>.json (else
 * open_interest.json), long_short_<tf>.json (else long_short.json),
 * taker_<tf>.json (else taker.json): the REST bodies of Binance.
 */
int mde_replay_aux(const char *dir, int kind, const char *symbol,
		   int64_t period_ms, const mde_window *w, size_t max_bytes,
		   mde_aux *out, mde_replay_info *info,
		   mde_err *err) MDE_MUSTCHECK;
/* ---- breaker.c ----------------------------------------------------- */

enum mde_breaker_state { MDE_BRK_CLOSED, MDE_BRK_OPEN, MDE_BRK_HALF_OPEN };

typedef struct mde_breaker {
	int state;
	int fails;          /* consecutive failures */
	int threshold;      /* fails that open the breaker */
	int64_t cooldown_ms;
	int64_t opened_ms;  /* monotonic time it opened */
	bool trial;         /* half-open: the one trial request is out */
	size_t opens;       /* times it opened */
} mde_breaker;

void mde_breaker_init(mde_breaker *b, int threshold, int64_t cooldown_ms);
/* May a request go now? Half-open lets exactly one trial through. */
bool mde_breaker_allow(mde_breaker *b, int64_t mono_ms);
void mde_breaker_success(mde_breaker *b);
void mde_breaker_failure(mde_breaker *b, int64_t mono_ms);
const char *mde_breaker_state_name(int state);

#endif
