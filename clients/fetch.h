/*
 * fetch.h - internal to fetch.c (policy: one request with retries, budget,
 * bans, breaker) and fetch_series.c (pagination and fallback of candles
 * and aux series). The pipeline uses source.h.
 */
#ifndef MDE_FETCH_H
#define MDE_FETCH_H

#include <pthread.h>

#include "clients.h"
#include "http.h"
#include "source.h"
#include "timeutil.h"

/*
 * What every fetcher of a run knows of one host (gate.c): its weight
 * window, Retry-After and 418 ban, circuit breaker and request-count
 * limits. Fetchers opened with mde_fetcher_open_child share their
 * parent's, under its mutex: one budget per host however many requests
 * are in flight.
 */
struct mde_hostgate {
	int64_t win, used;    /* current weight window and weight used */
	int64_t resume_mono;  /* Retry-After: no request before this */
	int64_t banned_until; /* wall clock; 418 */
	mde_breaker br;
	/* request-count limits of single endpoints (funding: 500 / 5 min,
	 * /futures/data: 1000 / 5 min per IP): fixed 5-minute windows */
	int64_t cwin[3], cused[3];
	int64_t weight_sent;  /* weight of every request sent */
};

struct mde_fetch_shared {
	pthread_mutex_t mu;
	pthread_cond_t slot;        /* a request in flight ended */
	struct mde_hostgate g[MDE_NSRC];
	int inflight, max_inflight; /* requests between gate and answer */
	int cap;                    /* opts.max_in_flight; 0 = no limit */
	/* This run's verified archive zips (archive_get.c), one cache for
	 * a parent and all its children: a month's file serves every
	 * thread's chunks from one download; it has a lock of its own. */
	struct mde_ar_cache *arc;
};

struct mde_fetch_host {
	int origin;
	mde_http *http;
	char *base;
	int budget;           /* weight per window; 0 = not tracked */
	struct mde_hostgate *g; /* in f->sh, under f->sh->mu */
};

enum { LIM_NONE, LIM_FUNDING, LIM_FUTDATA };
#define LIM_WINDOW_MS (5 * MDE_MINUTE_MS)

struct mde_fetcher {
	mde_fetch_opts o;
	char *polygon_key;
	char *replay_dir;
	char auth[600];       /* "Authorization: Bearer <key>" */
	struct mde_fetch_host h[MDE_NSRC];
	mde_fetch_stats st;
	struct mde_archive *ar; /* archive.c, created on first use */
	struct mde_fetch_shared *sh; /* the parent's, or own_sh */
	struct mde_fetch_shared own_sh;
	mde_fetcher *parent;         /* a child adds its stats there */
};

/* Parses a 2xx body into the caller's table; see struct mde_fetch_req. */
typedef int (*parse_fn)(void *ctx, const mde_http_resp *r, int attempt,
			mde_page *pg, mde_err *err);

struct mde_fetch_req {
	struct mde_fetch_host *h;
	const char *url;
	const char *symbol;
	int weight;
	int lim;              /* LIM_*: a request-count limit applies */
	bool auth;            /* send the Polygon key header */
	parse_fn parse;
	void *ctx;
	mde_page pg;
};

/* "/path" and "query" of a URL, into the caller's buffers. */
/* The fetcher's "now": opts.now_ms, else the wall clock. */
int64_t mde_fetch_now(const mde_fetcher *f);
/* "binance", "binance-spot", ... of an origin. */
/* DIR of "replay:DIR", else opts.replay_dir (may be NULL). */
const char *mde_fetch_replay_dir(const mde_fetcher *f, const char *source);
/*
 * Sends q->url to q->h with the retry policy: waits for Retry-After, the
 * weight budget and request-count limits; refuses while the host is banned
 * or its breaker is open (MDE_EBANNED); retries retryable errors with
 * backoff up to max_attempts; one fetch-log record per attempt. On success
 * q->pg describes the parsed page.
 */
int mde_fetch_request(mde_fetcher *f, struct mde_fetch_req *q,
		      mde_err *err) MDE_MUSTCHECK;
/* Sleeps ms, counted in the stats, cut short by SIGINT/SIGTERM
 * (MDE_EINTR) (fetch.c). */
int mde_fetch_sleep(mde_fetcher *f, int64_t ms, mde_err *err) MDE_MUSTCHECK;

/* ---- gate.c: the shared state of each host ---------------------------- */

void mde_gate_init(struct mde_fetch_shared *s, const mde_fetch_opts *o);
void mde_gate_destroy(struct mde_fetch_shared *s);
/*
 * Waits until a request of this weight and request-count limit (LIM_*)
 * may go to h: Retry-After over, weight and count under 90% of their
 * windows; then reserves both and counts the request in flight. Refuses
 * while h is banned (MDE_EBANNED) or asks for a wait over max_wait_ms
 * (MDE_ENET); MDE_EINTR when a stop is requested while waiting.
 */
int mde_gate_acquire(mde_fetcher *f, struct mde_fetch_host *h, int weight,
		     int lim, mde_err *err) MDE_MUSTCHECK;
/* The answer (or failure) of a request mde_gate_acquire let go: the used
 * weight the server reports, a Retry-After or ban for the whole host. */
void mde_gate_settle(mde_fetcher *f, struct mde_fetch_host *h,
		     const mde_http_resp *r, int weight, const mde_err *e);
/* The breaker of h (breaker.c) under the shared lock. */
bool mde_gate_breaker_allow(mde_fetcher *f, struct mde_fetch_host *h);
void mde_gate_breaker_done(mde_fetcher *f, struct mde_fetch_host *h, bool ok);
/* A half-open breaker's trial that never went out. */
void mde_gate_breaker_untried(mde_fetcher *f, struct mde_fetch_host *h);

/* REST klines of [*cursor, end) for one Binance origin (no fallback);
 * *cursor advances past each page. */
int mde_fetch_klines_rest(mde_fetcher *f, int origin, const char *sym,
			  int64_t P, int64_t *cursor, int64_t end,
			  mde_candles *out, mde_err *err) MDE_MUSTCHECK;
/* mde_fetch_aux for Binance over REST only (the 30-day clamp, its hole). */
int mde_fetch_aux_rest(mde_fetcher *f, int kind, const char *sym, int64_t P,
		       int64_t start, int64_t end, mde_aux *out,
		       int64_t *hole_end, mde_err *err) MDE_MUSTCHECK;

#endif
