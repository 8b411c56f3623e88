/*
 * source.h - the fetch stage as the pipeline sees it: closed candles and
 * auxiliary series for one symbol and time range, from a named source,
 * with retries, rate-limit manners, a circuit breaker per source and
 * fallback to the next source for the same data.
 *
 *   source "binance"       USD-M futures klines only.
 *   source "binance-spot"  spot klines only.
 *   source "polygon"       Polygon aggregates only (a key is needed).
 *   source "yahoo"         Yahoo chart only.
 *   source "replay"        files under opts.replay_dir (data/README.md);
 *                          "replay:DIR" is accepted too (DIR wins).
 *   "binance+binance-spot" futures, and spot for the rest of the range
 *                          when futures fail (a universe's opt-in,
 *                          `fallback = binance-spot`).
 *   "polygon+yahoo"        Polygon, then Yahoo (the equity default; Yahoo
 *                          alone when no Polygon key is configured).
 *   NULL or "auto"         crypto: "binance"; equity: "polygon+yahoo".
 * A source named alone is that source only: nothing from another source
 * is ever appended (CLI.md "Sources and fallback").
 * Every candle's origin (enum mde_origin) says who served it.
 *
 * Each HTTP request (and each replay file read) produces one mde_fetch_rec
 * through opts.log_cb: the raw material of enrichment_fetch_log. The
 * record never holds a secret (the Polygon key travels in an
 * Authorization header, and params are redacted anyway).
 *
 * A fetcher is used by one thread at a time; open one per worker thread.
 * Its rate-limit, ban and breaker state lives as long as it does, so keep
 * one fetcher for a whole run.
 */
#ifndef MDE_SOURCE_H
#define MDE_SOURCE_H

#include "audit.h"
#include "candles.h"
#include "mde.h"

/* Aux kind beyond enum mde_aux_kind: takerlongshortRatio buySellRatio. */
#define MDE_AUX_TAKER MDE_NAUX

/* How Binance klines and aux series use the public data archive. */
enum mde_archive_mode {
	MDE_ARCHIVE_OFF = 0,  /* REST only (a zeroed mde_fetch_opts) */
	MDE_ARCHIVE_AUTO,     /* whole past days from the archive, REST for
				 the rest and for files it lacks */
	MDE_ARCHIVE_ONLY      /* the archive and never REST */
};
/* "auto" "only" "off" -> enum mde_archive_mode, or -1. */
int mde_archive_mode_parse(const char *s);

typedef struct mde_fetch_opts {
	const char *binance_url;      /* NULL = https://fapi.binance.com */
	const char *binance_spot_url; /* NULL = https://api.binance.com */
	const char *yahoo_url;        /* NULL = https://query1.finance.yahoo.com */
	const char *polygon_url;      /* NULL = https://api.polygon.io */
	const char *polygon_key;      /* NULL or "" = no Polygon */
	const char *replay_dir;       /* for source "replay" */
	long connect_timeout_ms;      /* 0 = 5000 */
	long timeout_ms;              /* per request; 0 = 30000 */
	size_t max_body_bytes;        /* 0 = 64 MiB */
	int max_attempts;             /* per request; 0 = 5 */
	int64_t backoff_base_ms;      /* 0 = 500; doubles per attempt */
	int64_t backoff_max_ms;       /* 0 = 30000 */
	int64_t max_wait_ms;          /* longest Retry-After we sleep; 0 = 300000 */
	int weight_budget_per_min;    /* futures; 0 = 2400 */
	int spot_weight_budget_per_min; /* 0 = 6000 */
	int64_t weight_window_ms;     /* 0 = 60000 (tests shorten it) */
	int breaker_threshold;        /* consecutive failures; 0 = 5 */
	int64_t breaker_cooldown_ms;  /* 0 = 60000 */
	mde_fetch_log_fn log_cb;      /* may be NULL */
	void *log_ud;
	int64_t now_ms;               /* "now" for closed-candle and 30-day
					 rules; 0 = wall clock */
	int archive;                  /* enum mde_archive_mode */
	const char *archive_url;      /* NULL = https://data.binance.vision */
	const char *archive_cache;    /* folder of verified files; NULL/"" =
					 none */
	int archive_parallel;         /* files downloaded at once; 0 = 8 */
	mde_archive_file_fn archive_cb; /* each archive file used; may be
					   NULL */
	void *archive_ud;
	int max_in_flight;            /* requests in flight at once from this
					 fetcher and its children; 0 = any */
} mde_fetch_opts;

typedef struct mde_fetcher mde_fetcher;

/* Per source (index = enum mde_origin) counters. */
typedef struct mde_fetch_src_stats {
	size_t requests, failures, retries, rows;
	int breaker_state;        /* enum mde_breaker_state (clients.h):
				     0 closed, 1 open, 2 half-open */
	size_t breaker_opens;
	int64_t banned_until_ms;  /* wall clock; 0 = not banned */
	int64_t weight_sent;      /* request weight sent (all fetchers) */
} mde_fetch_src_stats;

typedef struct mde_fetch_stats {
	mde_fetch_src_stats src[MDE_NSRC];
	size_t holes;             /* aux requests clamped by the 30-day rule */
	int64_t hole_ms;          /* total length of those holes */
	size_t fallbacks;         /* times a fallback source took over */
	int64_t waited_ms;        /* slept for budget / Retry-After / backoff */
	int max_inflight;         /* requests in flight at once, at most */
} mde_fetch_stats;

/* opts is copied (strings too). *out is NULL on error. */
int mde_fetcher_open(mde_fetcher **out, const mde_fetch_opts *opts,
		     mde_err *err) MDE_MUSTCHECK;
/*
 * A fetcher for another thread: its own connections, the options of
 * parent, and parent's state of each host (weight budgets, request
 * limits, Retry-After, bans, breakers), shared under a lock: requests of
 * all of them in flight at once stay within one budget per host. Its
 * counters are added to parent's when it closes (before parent).
 */
int mde_fetcher_open_child(mde_fetcher **out, mde_fetcher *parent,
			   mde_err *err) MDE_MUSTCHECK;
/* Where the fetch-log records of f go from now on. */
void mde_fetcher_set_log(mde_fetcher *f, mde_fetch_log_fn cb, void *ud);
/* Redirects the archive files f uses to cb(ud, ...). */
void mde_fetcher_set_archive_log(mde_fetcher *f, mde_archive_file_fn cb,
				 void *ud);
/* Accepts NULL. */
void mde_fetcher_close(mde_fetcher *f);

/*
 * Appends to out the closed candles with open_time in [start_ms, end_ms)
 * of symbol (canonical: BTCUSDT, AAPL), asset (enum mde_asset), period_ms
 * (a timeframe of timeutil.h). Equity daily bars get open_time 00:00 UTC
 * of their trading date. Rows come in source order (ascending); a row is
 * never appended from a response that failed to parse.
 * On error, out keeps what earlier pages (and sources) delivered: the
 * caller may store that part. Returns 0, or MDE_ENET / MDE_EPARSE /
 * MDE_EBANNED (breaker open or 418, err->retry_after_ms = ban left) /
 * MDE_EINVAL (unknown source, unsupported timeframe).
 */
int mde_fetch_candles(mde_fetcher *f, const char *source, enum mde_asset asset,
		      const char *symbol, int64_t period_ms, int64_t start_ms,
		      int64_t end_ms, mde_candles *out,
		      mde_err *err) MDE_MUSTCHECK;

/*
 * Appends to out the aux series kind (MDE_AUX_FUNDING, MDE_AUX_OPEN_INTEREST,
 * MDE_AUX_LONG_SHORT, MDE_AUX_TAKER) with time in [start_ms, end_ms),
 * ascending, no duplicate times. period_ms is the statistics period for
 * the /futures/data series (5m ... 1d), ignored for funding. source:
 * "binance" (or NULL/"auto"/"binance-spot": aux always comes from futures)
 * or "replay". Binance serves /futures/data only for the last 30 days: the
 * start is clamped and [start_ms, *unfetchable_until_ms) is the hole that
 * can no longer be fetched (== start_ms when there is none; also counted in
 * the stats). Liquidations and inflow have no source: MDE_ENOTFOUND.
 */
int mde_fetch_aux(mde_fetcher *f, const char *source, int kind,
		  const char *symbol, int64_t period_ms, int64_t start_ms,
		  int64_t end_ms, mde_aux *out, int64_t *unfetchable_until_ms,
		  mde_err *err) MDE_MUSTCHECK;

/*
 * The funding events of every symbol in symbols (sorted by strcmp) with
 * time in [start_ms, end_ms), from Binance's funding history of all
 * symbols at once (no symbol parameter: one request a page of 1000
 * events, whatever the number of symbols): out[k] gets symbols[k]'s,
 * ascending. REST only (MDE_ENOTFOUND with --archive only). On error, out
 * keeps what the pages before delivered; errors as mde_fetch_candles.
 */
int mde_fetch_funding_all(mde_fetcher *f, const char *const *symbols,
			  size_t nsymbols, int64_t start_ms, int64_t end_ms,
			  mde_aux *out, mde_err *err) MDE_MUSTCHECK;

/*
 * A local archive file (.zip holding one CSV, or the .csv) of Binance
 * klines: every row, ascending, one per time, with origin; *period_ms the
 * file's own timeframe (0 when it has no rows). The reader of the
 * archive source, for `import`.
 */
int mde_fetch_read_file(const char *path, int origin, mde_candles *out,
			int64_t *period_ms, size_t *bytes,
			mde_err *err) MDE_MUSTCHECK;

void mde_fetch_get_stats(const mde_fetcher *f, mde_fetch_stats *out);
/* "closed", "open", "half-open" for source origin (enum mde_origin). */
const char *mde_fetch_breaker(const mde_fetcher *f, enum mde_origin origin);
/* enum mde_origin of a source name ("binance" ... "replay", "replay:DIR"),
 * or of the primary of a plan ("binance+binance-spot"), or -1. */
int mde_fetch_source_origin(const char *source);
/* Whether the primary source of a series replaces the rows a fallback
 * source stored in it (binance, polygon: rank 2 against binance-spot and
 * yahoo), with or without a fallback of its own. */
bool mde_fetch_replaces_fallback(const char *source);
/*
 * The origins of a source plan ("NAME" or "NAME+FALLBACK", NULL/"auto" =
 * the asset class's default): *primary, and *fallback (-1 = none).
 * MDE_EINVAL when source is no plan (an unknown name, a fallback other
 * than binance -> binance-spot or polygon -> yahoo).
 */
int mde_fetch_plan(const char *source, enum mde_asset asset, int *primary,
		   int *fallback) MDE_MUSTCHECK;
/*
 * The span of one full klines page (*page_ms) when f fetches source's
 * candles of that period from the Binance REST API page by page (the
 * archive off): a range cut at multiples of it from its start is fetched
 * in parts side by side with the same requests as whole. False for other
 * sources, or with the archive on (its files are a month or a day).
 */
bool mde_fetch_rest_pages(const mde_fetcher *f, const char *source,
			  enum mde_asset asset, int64_t period_ms,
			  int64_t *page_ms);
/*
 * Writes into buf the plan of a series: source named (no fallback), or
 * the default of asset with the config's fallback ("binance-spot",
 * "yahoo", "none" or NULL/"" = the asset's default: none for crypto,
 * yahoo for equity). MDE_EINVAL for a fallback that does not fit.
 */
int mde_fetch_plan_make(char *buf, size_t cap, const char *source,
			const char *fallback, enum mde_asset asset) MDE_MUSTCHECK;
/*
 * The asset class a source and symbol imply (CLI.md): "yahoo" and
 * "polygon" (alone or first of a plan) mean equity unless the symbol is a
 * crypto pair (BTC-USD, X:BTCUSD, BTCUSDT); anything else crypto.
 */
enum mde_asset mde_fetch_infer_asset(const char *source, const char *symbol);

#endif
