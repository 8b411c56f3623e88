/*
 * fetch.c - the fetch stage's facade (source.h) and the one place where
 * the retry policy lives: bounded attempts with exponential backoff and
 * jitter for errors marked retryable where they were born (http.c, the
 * parsers), Retry-After honoured per host, 418 bans honoured per host, the
 * Binance weight budget kept under ~90% per window, a circuit breaker per
 * source and fallback to the next source for the same data.
 *
 * Pagination (docs/SOURCES.md): klines page by cursor = last open + P
 * until a short page or the end; funding by last fundingTime + 1;
 * /futures/data in windows of period x 500, clamped to the last 30 days.
 */
#include "source.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clients.h"
#include "http.h"
#include "log.h"
#include "timeutil.h"

struct host {
	int origin;
	mde_http *http;
	char *base;
	int budget;           /* weight per window; 0 = not tracked */
	int64_t win, used;    /* current weight window and weight used */
	int64_t resume_mono;  /* Retry-After: no request before this */
	int64_t banned_until; /* wall clock; 418 */
	mde_breaker br;
};

struct mde_fetcher {
	mde_fetch_opts o;
	char *polygon_key;
	char *replay_dir;
	char auth[600];       /* "Authorization: Bearer <key>" */
	struct host h[MDE_NSRC];
	mde_fetch_stats st;
	uint64_t rng;
};

static const char *const source_names[MDE_NSRC] = {
	"binance", "binance-spot", "yahoo", "polygon", "replay", "csv"};

int mde_fetch_source_origin(const char *s)
{
	if (!s)
		return -1;
	if (strncmp(s, "replay:", 7) == 0)
		return MDE_SRC_REPLAY;
	for (int i = 0; i < MDE_SRC_CSV; i++)
		if (strcmp(s, source_names[i]) == 0)
			return i;
	return -1;
}

static int64_t now_ms(const mde_fetcher *f)
{
	return f->o.now_ms ? f->o.now_ms : mde_now_ms();
}

static void sleep_ms(mde_fetcher *f, int64_t ms)
{
	if (ms <= 0)
		return;
	f->st.waited_ms += ms;
	struct timespec ts = {.tv_sec = ms / 1000,
			      .tv_nsec = (long)(ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) != 0)
		;
}

static uint64_t rnd(mde_fetcher *f)
{
	/* xorshift64*: jitter only, no need for quality */
	f->rng ^= f->rng >> 12;
	f->rng ^= f->rng << 25;
	f->rng ^= f->rng >> 27;
	return f->rng * 2685821657736338717ULL;
}

static char *dup_or(const char *s, const char *def)
{
	const char *v = s && *s ? s : def;
	if (!v)
		return NULL;
	char *d = strdup(v);
	size_t n = d ? strlen(d) : 0;
	while (n > 0 && d[n - 1] == '/') /* bases join with "/path" */
		d[--n] = '\0';
	return d;
}

int mde_fetcher_open(mde_fetcher **out, const mde_fetch_opts *opts,
		     mde_err *err)
{
	*out = NULL;
	mde_fetcher *f = calloc(1, sizeof *f);
	if (!f)
		return mde_err_set(err, MDE_ENOMEM, false, "out of memory");
	int rc = 0;
	f->o = *opts;
	mde_fetch_opts *o = &f->o;
	if (o->max_attempts <= 0)
		o->max_attempts = 5;
	if (o->backoff_base_ms <= 0)
		o->backoff_base_ms = 500;
	if (o->backoff_max_ms <= 0)
		o->backoff_max_ms = 30000;
	if (o->max_wait_ms <= 0)
		o->max_wait_ms = 300000;
	if (o->weight_budget_per_min <= 0)
		o->weight_budget_per_min = 2400;
	if (o->spot_weight_budget_per_min <= 0)
		o->spot_weight_budget_per_min = 6000;
	if (o->weight_window_ms <= 0)
		o->weight_window_ms = 60000;
	f->polygon_key = opts->polygon_key && *opts->polygon_key
				 ? strdup(opts->polygon_key)
				 : NULL;
	f->replay_dir = dup_or(opts->replay_dir, NULL);
	o->polygon_key = f->polygon_key;
	o->replay_dir = f->replay_dir;
	if (f->polygon_key) {
		mde_log_add_secret(f->polygon_key);
		snprintf(f->auth, sizeof f->auth,
			 "Authorization: Bearer %s", f->polygon_key);
	}
	const char *bases[MDE_NSRC] = {
		[MDE_SRC_BINANCE] = opts->binance_url
					    ? opts->binance_url
					    : "https://fapi.binance.com",
		[MDE_SRC_BINANCE_SPOT] = opts->binance_spot_url
						 ? opts->binance_spot_url
						 : "https://api.binance.com",
		[MDE_SRC_YAHOO] = opts->yahoo_url
					  ? opts->yahoo_url
					  : "https://query1.finance.yahoo.com",
		[MDE_SRC_POLYGON] = opts->polygon_url ? opts->polygon_url
						      : "https://api.polygon.io",
	};
	mde_http_opts ho = {.connect_timeout_ms = o->connect_timeout_ms,
			    .timeout_ms = o->timeout_ms,
			    .max_body_bytes = o->max_body_bytes};
	for (int i = 0; i < MDE_NSRC; i++) {
		struct host *h = &f->h[i];
		h->origin = i;
		mde_breaker_init(&h->br, o->breaker_threshold,
				 o->breaker_cooldown_ms);
		if (!bases[i])
			continue;
		h->base = dup_or(bases[i], NULL);
		if (!h->base) {
			rc = mde_err_set(err, MDE_ENOMEM, false,
					 "out of memory");
			goto done;
		}
		if ((rc = mde_http_open(&h->http, &ho, err)))
			goto done;
	}
	f->h[MDE_SRC_BINANCE].budget = o->weight_budget_per_min;
	f->h[MDE_SRC_BINANCE_SPOT].budget = o->spot_weight_budget_per_min;
	f->rng = (uint64_t)mde_mono_ns() ^ ((uint64_t)getpid() << 32) ^
		 0x9E3779B97F4A7C15ULL;
	if (!f->rng)
		f->rng = 1;
	*out = f;
	f = NULL;
done:
	mde_fetcher_close(f);
	return rc;
}

void mde_fetcher_close(mde_fetcher *f)
{
	if (!f)
		return;
	for (int i = 0; i < MDE_NSRC; i++) {
		mde_http_close(f->h[i].http);
		free(f->h[i].base);
	}
	free(f->polygon_key);
	free(f->replay_dir);
	free(f);
}

void mde_fetch_get_stats(const mde_fetcher *f, mde_fetch_stats *out)
{
	*out = f->st;
	for (int i = 0; i < MDE_NSRC; i++) {
		out->src[i].breaker_state = f->h[i].br.state;
		out->src[i].breaker_opens = f->h[i].br.opens;
		out->src[i].banned_until_ms = f->h[i].banned_until;
	}
}

const char *mde_fetch_breaker(const mde_fetcher *f, int origin)
{
	if (origin < 0 || origin >= MDE_NSRC)
		return "?";
	return mde_breaker_state_name(f->h[origin].br.state);
}

/* ---- one request, with the retry policy ------------------------------ */

/* Parses a 2xx body into the caller's table; see struct req. */
typedef int (*parse_fn)(void *ctx, const mde_http_resp *r, int attempt,
			mde_page *pg, mde_err *err);

struct req {
	struct host *h;
	const char *url;
	const char *symbol;
	int weight;
	bool auth;            /* send the Polygon key header */
	parse_fn parse;
	void *ctx;
	mde_page pg;
};

/* "/path" and "query" of a URL, into the caller's buffers. */
static void split_url(const char *url, char *path, size_t pcap, char *query,
		      size_t qcap)
{
	const char *p = strstr(url, "://");
	p = p ? strchr(p + 3, '/') : url;
	if (!p)
		p = "/";
	const char *q = strchr(p, '?');
	size_t pl = q ? (size_t)(q - p) : strlen(p);
	if (pl >= pcap)
		pl = pcap - 1;
	memcpy(path, p, pl);
	path[pl] = '\0';
	char raw[2048];
	snprintf(raw, sizeof raw, "%s", q ? q + 1 : "");
	mde_redact(raw, query, qcap);
}

static void record(mde_fetcher *f, const struct req *q,
		   const mde_http_resp *r, int attempt, int64_t at_ms,
		   const char *error)
{
	char path[512], params[1024];
	split_url(q->url, path, sizeof path, params, sizeof params);
	if (error || q->h->origin == MDE_SRC_REPLAY) {
		char msg[600];
		snprintf(msg, sizeof msg, "%s", error ? error : "");
		for (char *c = msg; *c; c++)
			if (*c == '"')
				*c = '\'';
		if (error)
			mde_warn("fetch_failed",
				 "source=%s endpoint=%s symbol=%s attempt=%d "
				 "status=%d error=\"%s\"",
				 source_names[q->h->origin], path, q->symbol,
				 attempt, r ? r->status : 0, msg);
	}
	if (!f->o.log_cb)
		return;
	mde_fetch_rec rec = {.source = source_names[q->h->origin],
			     .endpoint = path,
			     .symbol = q->symbol,
			     .params = params,
			     .http_status = r ? r->status : 0,
			     .rows = error ? 0 : q->pg.rows,
			     .bytes = r ? r->len : 0,
			     .latency_ms = r ? r->latency_ms : 0,
			     .attempt = attempt,
			     .error = error,
			     .requested_at_ms = at_ms};
	f->o.log_cb(f->o.log_ud, &rec);
}

/* Waits out Retry-After and the weight budget; refuses while banned. */
static int gate(mde_fetcher *f, struct host *h, int weight, mde_err *err)
{
	int64_t wall = mde_now_ms();
	if (h->banned_until > wall) {
		int rc = mde_err_set(err, MDE_EBANNED, false,
				     "%s: banned (HTTP 418) for %" PRId64
				     " more ms", source_names[h->origin],
				     h->banned_until - wall);
		err->retry_after_ms = h->banned_until - wall;
		return rc;
	}
	int64_t wait = h->resume_mono - mde_mono_ms();
	if (wait > f->o.max_wait_ms)
		return mde_err_set(err, MDE_ENET, false,
				   "%s asked us to wait %" PRId64 " ms",
				   source_names[h->origin], wait);
	if (wait > 0) {
		mde_debug("retry_after_wait", "source=%s wait_ms=%" PRId64,
			  source_names[h->origin], wait);
		sleep_ms(f, wait);
	}
	if (h->budget <= 0)
		return 0;
	int64_t W = f->o.weight_window_ms;
	wall = mde_now_ms();
	int64_t win = mde_floor_div(wall, W);
	if (win != h->win) {
		h->win = win;
		h->used = 0;
	}
	if ((h->used + weight) * 10 > (int64_t)h->budget * 9) {
		/* next window, plus a little for clock skew with the server */
		int64_t ms = (win + 1) * W - wall + 25;
		mde_info("weight_budget_wait",
			 "source=%s used=%" PRId64 " budget=%d wait_ms=%" PRId64,
			 source_names[h->origin], h->used, h->budget, ms);
		sleep_ms(f, ms);
		h->win = mde_floor_div(mde_now_ms(), W);
		h->used = 0;
	}
	return 0;
}

static void account(mde_fetcher *f, struct host *h, const mde_http_resp *r,
		    int weight, const mde_err *e)
{
	if (h->budget > 0) {
		int64_t win = mde_floor_div(mde_now_ms(), f->o.weight_window_ms);
		if (win != h->win) {
			h->win = win;
			h->used = 0;
		}
		if (r->used_weight_1m >= 0)
			h->used = r->used_weight_1m;
		else if (r->status)
			h->used += weight;
	}
	if (e && e->http_status == 429 && e->retry_after_ms > 0)
		h->resume_mono = mde_mono_ms() + e->retry_after_ms;
	if (e && e->code == MDE_EBANNED) {
		int64_t ban = e->retry_after_ms > 0 ? e->retry_after_ms : 120000;
		h->banned_until = mde_now_ms() + ban;
		mde_error("source_banned", "source=%s ban_ms=%" PRId64,
			  source_names[h->origin], ban);
	}
}

/* A client error the source is not to blame for (bad symbol, ...). */
static bool our_fault(const mde_err *e)
{
	int s = e->http_status;
	return s >= 400 && s < 500 && s != 408 && s != 429 && s != 418;
}

static int do_request(mde_fetcher *f, struct req *q, mde_err *err)
{
	struct host *h = q->h;
	mde_http_resp r = {.used_weight_1m = -1, .retry_after_ms = -1};
	const char *hdrs[2] = {q->auth ? f->auth : NULL, NULL};
	mde_fetch_src_stats *ss = &f->st.src[h->origin];
	int rc = 0;
	if (!mde_breaker_allow(&h->br, mde_mono_ms())) {
		rc = mde_err_set(err, MDE_EBANNED, false,
				 "%s: circuit breaker open",
				 source_names[h->origin]);
		err->retry_after_ms = 0;
		return rc;
	}
	for (int attempt = 1;; attempt++) {
		mde_err_clear(err);
		if ((rc = gate(f, h, q->weight, err)))
			break;
		int64_t at = mde_now_ms();
		ss->requests++;
		if (attempt > 1)
			ss->retries++;
		mde_page_reset(&q->pg);
		rc = mde_http_get(h->http, q->url, hdrs, &r, err);
		if (rc == 0)
			rc = q->parse(q->ctx, &r, attempt, &q->pg, err);
		else if (h->origin <= MDE_SRC_BINANCE_SPOT && rc != MDE_EBANNED)
			mde_binance_error_body(r.body, r.len, err);
		account(f, h, &r, q->weight, rc ? err : NULL);
		record(f, q, &r, attempt, at, rc ? err->msg : NULL);
		if (rc == 0) {
			ss->rows += q->pg.rows;
			mde_breaker_success(&h->br);
			break;
		}
		rc = err->code;
		ss->failures++;
		if (rc == MDE_EBANNED || !err->retryable ||
		    attempt >= f->o.max_attempts) {
			if (rc == MDE_EBANNED || !our_fault(err))
				mde_breaker_failure(&h->br, mde_mono_ms());
			else
				mde_breaker_success(&h->br); /* it answered */
			break;
		}
		int64_t d = f->o.backoff_base_ms;
		for (int k = 1; k < attempt && d < f->o.backoff_max_ms; k++)
			d *= 2;
		if (d > f->o.backoff_max_ms)
			d = f->o.backoff_max_ms;
		d += (int64_t)(rnd(f) % (uint64_t)(d / 2 + 1));
		/* a Retry-After is waited out by gate() before the next try */
		sleep_ms(f, d);
	}
	mde_http_resp_free(&r);
	return rc;
}

/* ---- candles --------------------------------------------------------- */

struct kctx {
	mde_fetcher *f;
	int kind;             /* 0 binance klines, 1 yahoo, 2 polygon */
	int origin;
	mde_window w;
	bool mid;             /* earlier pages of this range had rows */
	mde_candles *out;
};

static int parse_candles(void *ctx, const mde_http_resp *r, int attempt,
			 mde_page *pg, mde_err *err)
{
	struct kctx *k = ctx;
	int rc;
	if (k->kind == 0)
		rc = mde_binance_parse_klines(r->body, r->len, k->origin, &k->w,
					      k->out, pg, err);
	else if (k->kind == 1)
		rc = mde_yahoo_parse_chart(r->body, r->len, k->origin, &k->w,
					   k->out, pg, err);
	else
		rc = mde_polygon_parse_aggs(r->body, r->len, k->origin, &k->w,
					    k->out, pg, err);
	if (rc)
		return rc;
	/* An empty page where closed candles should exist, after earlier
	 * pages had data: a glitch worth another try; on the last attempt
	 * we accept it as the end of the data (a delisted symbol). */
	int64_t lim = k->w.end_ms < k->w.now_ms ? k->w.end_ms : k->w.now_ms;
	if (k->kind == 0 && pg->rows == 0 && k->mid &&
	    k->w.start_ms + k->w.period_ms <= lim &&
	    attempt < k->f->o.max_attempts)
		return mde_err_set(err, MDE_EPARSE, true,
				   "empty page in the middle of the range "
				   "(at %" PRId64 ")", k->w.start_ms);
	return 0;
}

static int klines(mde_fetcher *f, int origin, const char *sym, int64_t P,
		  int64_t *cursor, int64_t end, mde_candles *out, mde_err *err)
{
	bool spot = origin == MDE_SRC_BINANCE_SPOT;
	int limit = spot ? MDE_BINANCE_SPOT_KLINES_LIMIT
			 : MDE_BINANCE_KLINES_LIMIT;
	char url[1024];
	struct kctx k = {.f = f, .kind = 0, .origin = origin, .out = out};
	struct req q = {.h = &f->h[origin],
			.url = url,
			.symbol = sym,
			.weight = spot ? MDE_BINANCE_SPOT_KLINES_WEIGHT
				       : mde_binance_klines_weight(limit),
			.parse = parse_candles,
			.ctx = &k};
	int64_t now = now_ms(f);
	while (*cursor < end) {
		if (mde_binance_klines_url(url, sizeof url, f->h[origin].base,
					   spot, sym, P, *cursor, end - 1,
					   limit))
			return mde_err_set(err, MDE_EINVAL, false,
					   "cannot build klines URL for %s", sym);
		k.w = (mde_window){*cursor, end, now, P};
		int rc = do_request(f, &q, err);
		if (rc)
			return rc;
		if (q.pg.rows == 0)
			break;
		k.mid = true;
		int64_t next = q.pg.last_ms + P;
		if (next <= *cursor)
			return mde_err_set(err, MDE_EPARSE, false,
					   "klines page did not advance past "
					   "%" PRId64, *cursor);
		*cursor = next;
		if (q.pg.rows < (size_t)limit)
			break;
	}
	return 0;
}

static int yahoo(mde_fetcher *f, const char *sym, int asset, int64_t P,
		 int64_t *cursor, int64_t end, mde_candles *out, mde_err *err)
{
	char ysym[64], url[1024];
	if (mde_symbol_for(ysym, sizeof ysym, sym, asset, MDE_SRC_YAHOO))
		return mde_err_set(err, MDE_ENOTFOUND, false,
				   "%s has no Yahoo symbol", sym);
	if (mde_yahoo_chart_url(url, sizeof url, f->h[MDE_SRC_YAHOO].base,
				ysym, P, *cursor, end))
		return mde_err_set(err, MDE_EINVAL, false,
				   "Yahoo has no %" PRId64 " ms bars", P);
	struct kctx k = {.f = f, .kind = 1, .origin = MDE_SRC_YAHOO,
			 .out = out, .w = {*cursor, end, now_ms(f), P}};
	struct req q = {.h = &f->h[MDE_SRC_YAHOO], .url = url, .symbol = ysym,
			.parse = parse_candles, .ctx = &k};
	int rc = do_request(f, &q, err);
	if (rc == 0)
		*cursor = end;
	return rc;
}

static int polygon(mde_fetcher *f, const char *sym, int asset, int64_t P,
		   int64_t *cursor, int64_t end, mde_candles *out,
		   mde_err *err)
{
	char psym[64], url[2048];
	struct host *h = &f->h[MDE_SRC_POLYGON];
	if (!f->polygon_key)
		return mde_err_set(err, MDE_EINVAL, false,
				   "no Polygon key configured");
	if (mde_symbol_for(psym, sizeof psym, sym, asset, MDE_SRC_POLYGON))
		return mde_err_set(err, MDE_ENOTFOUND, false,
				   "%s has no Polygon symbol", sym);
	if (mde_polygon_aggs_url(url, sizeof url, h->base, psym, P, *cursor,
				 end))
		return mde_err_set(err, MDE_EINVAL, false,
				   "Polygon has no %" PRId64 " ms bars", P);
	struct kctx k = {.f = f, .kind = 2, .origin = MDE_SRC_POLYGON,
			 .out = out, .w = {*cursor, end, now_ms(f), P}};
	struct req q = {.h = h, .url = url, .symbol = psym, .auth = true,
			.parse = parse_candles, .ctx = &k};
	for (int pages = 0;; pages++) {
		size_t n0 = out->n;
		int rc = do_request(f, &q, err);
		if (rc)
			return rc;
		if (out->n > n0)
			*cursor = out->open_time_ms[out->n - 1] + P;
		if (!q.pg.has_next)
			break;
		/* the key goes only to the host it was configured for */
		size_t bl = strlen(h->base);
		if (strncmp(q.pg.next_url, h->base, bl) != 0 ||
		    (q.pg.next_url[bl] != '/' && q.pg.next_url[bl] != '\0'))
			return mde_err_set(err, MDE_EPARSE, false,
					   "next_url points to another host");
		if (pages > 10000)
			return mde_err_set(err, MDE_EPARSE, false,
					   "next_url loop");
		snprintf(url, sizeof url, "%s", q.pg.next_url);
	}
	*cursor = end;
	return 0;
}

static int replay_candles(mde_fetcher *f, const char *dir, const char *sym,
			  int64_t P, int64_t start, int64_t end,
			  mde_candles *out, mde_err *err)
{
	mde_replay_info info;
	mde_window w = {start, end, now_ms(f), P};
	int64_t at = mde_now_ms(), t0 = mde_mono_ms();
	size_t cap = f->o.max_body_bytes ? f->o.max_body_bytes : (size_t)256 << 20;
	int rc = mde_replay_candles(dir, sym, &w, cap, out, &info, err);
	f->st.src[MDE_SRC_REPLAY].requests++;
	f->st.src[MDE_SRC_REPLAY].rows += info.rows;
	if (f->o.log_cb) {
		mde_fetch_rec rec = {.source = "replay", .endpoint = info.file,
				     .symbol = sym, .params = "",
				     .rows = info.rows, .bytes = info.bytes,
				     .latency_ms = mde_mono_ms() - t0,
				     .attempt = 1, .error = rc ? err->msg : NULL,
				     .requested_at_ms = at};
		f->o.log_cb(f->o.log_ud, &rec);
	}
	return rc;
}

static const char *replay_dir(const mde_fetcher *f, const char *source)
{
	if (source && strncmp(source, "replay:", 7) == 0 && source[7])
		return source + 7;
	return f->replay_dir;
}

int mde_fetch_candles(mde_fetcher *f, const char *source, int asset,
		      const char *symbol, int64_t period_ms, int64_t start_ms,
		      int64_t end_ms, mde_candles *out, mde_err *err)
{
	mde_err local;
	if (!err)
		err = &local;
	mde_err_clear(err);
	if (!symbol || !*symbol || period_ms <= 0 || end_ms < start_ms)
		return mde_err_set(err, MDE_EINVAL, false, "bad fetch request");
	if (!source || strcmp(source, "auto") == 0)
		source = asset == MDE_EQUITY ? "polygon" : "binance";
	int origin = mde_fetch_source_origin(source);
	if (origin < 0 || origin == MDE_SRC_CSV)
		return mde_err_set(err, MDE_EINVAL, false,
				   "unknown source \"%.40s\"", source);
	if (start_ms == end_ms)
		return 0;
	if (origin == MDE_SRC_REPLAY) {
		const char *dir = replay_dir(f, source);
		if (!dir)
			return mde_err_set(err, MDE_EINVAL, false,
					   "replay source without a directory");
		return replay_candles(f, dir, symbol, period_ms, start_ms,
				      end_ms, out, err);
	}
	int64_t cursor = start_ms;
	int rc;
	char ssym[64];
	switch (origin) {
	case MDE_SRC_BINANCE:
	case MDE_SRC_BINANCE_SPOT:
		if (!mde_binance_interval(period_ms))
			return mde_err_set(err, MDE_EINVAL, false,
					   "Binance has no %" PRId64 " ms klines",
					   period_ms);
		if (mde_symbol_for(ssym, sizeof ssym, symbol, asset, origin))
			return mde_err_set(err, MDE_ENOTFOUND, false,
					   "%s has no spot twin", symbol);
		rc = klines(f, origin, ssym, period_ms, &cursor, end_ms, out,
			    err);
		if (rc == 0 || origin == MDE_SRC_BINANCE_SPOT)
			return rc;
		if (mde_symbol_for(ssym, sizeof ssym, symbol, asset,
				   MDE_SRC_BINANCE_SPOT))
			return rc; /* no spot twin: keep the futures error */
		mde_warn("fetch_fallback",
			 "symbol=%s from=binance to=binance-spot cursor=%" PRId64
			 " reason=%s", symbol, cursor, mde_rc_name(rc));
		f->st.fallbacks++;
		return klines(f, MDE_SRC_BINANCE_SPOT, ssym, period_ms,
			      &cursor, end_ms, out, err);
	case MDE_SRC_POLYGON:
		rc = polygon(f, symbol, asset, period_ms, &cursor, end_ms, out,
			     err);
		if (rc == 0)
			return 0;
		if (f->polygon_key) {
			mde_warn("fetch_fallback",
				 "symbol=%s from=polygon to=yahoo cursor=%" PRId64
				 " reason=%s", symbol, cursor, mde_rc_name(rc));
			f->st.fallbacks++;
		}
		mde_err_clear(err);
		return yahoo(f, symbol, asset, period_ms, &cursor, end_ms, out,
			     err);
	case MDE_SRC_YAHOO:
		return yahoo(f, symbol, asset, period_ms, &cursor, end_ms, out,
			     err);
	}
	return mde_err_set(err, MDE_EINVAL, false, "unknown source");
}

/* ---- auxiliary series ------------------------------------------------ */

struct actx {
	int kind;
	mde_window w;
	int64_t after;
	mde_aux *out;
};

static int parse_aux(void *ctx, const mde_http_resp *r, int attempt,
		     mde_page *pg, mde_err *err)
{
	struct actx *a = ctx;
	if (a->kind == MDE_AUX_FUNDING)
		return mde_binance_parse_funding(r->body, r->len, &a->w, a->out,
						 pg, err);
	return mde_binance_parse_futdata(r->body, r->len, a->kind, &a->w,
					 a->after, a->out, pg, err);
}

static int funding(mde_fetcher *f, const char *sym, int64_t start,
		   int64_t end, mde_aux *out, mde_err *err)
{
	char url[1024];
	struct actx a = {.kind = MDE_AUX_FUNDING, .out = out};
	struct req q = {.h = &f->h[MDE_SRC_BINANCE], .url = url, .symbol = sym,
			.weight = 1, .parse = parse_aux, .ctx = &a};
	int64_t cursor = start;
	while (cursor < end) {
		if (mde_binance_funding_url(url, sizeof url, q.h->base, sym,
					    cursor, end - 1,
					    MDE_BINANCE_FUNDING_LIMIT))
			return mde_err_set(err, MDE_EINVAL, false,
					   "cannot build funding URL");
		a.w = (mde_window){cursor, end, 0, 0};
		int rc = do_request(f, &q, err);
		if (rc)
			return rc;
		if (q.pg.rows == 0)
			break;
		if (q.pg.last_ms + 1 <= cursor)
			return mde_err_set(err, MDE_EPARSE, false,
					   "funding page did not advance");
		cursor = q.pg.last_ms + 1;
		if (q.pg.rows < MDE_BINANCE_FUNDING_LIMIT)
			break;
	}
	return 0;
}

static int futdata(mde_fetcher *f, int kind, const char *sym, int64_t P,
		   int64_t start, int64_t end, mde_aux *out, mde_err *err)
{
	char url[1024];
	const int64_t limit = MDE_BINANCE_FUTDATA_LIMIT;
	struct actx a = {.kind = kind, .out = out, .after = INT64_MIN};
	struct req q = {.h = &f->h[MDE_SRC_BINANCE], .url = url, .symbol = sym,
			.weight = 0, .parse = parse_aux, .ctx = &a};
	int64_t now = now_ms(f), ws = start;
	while (ws < end && ws <= now) {
		int64_t we = ws + P * limit - 1; /* 500 slots, both inclusive */
		if (we > end - 1)
			we = end - 1;
		if (mde_binance_futdata_url(url, sizeof url, q.h->base, kind,
					    sym, P, ws, we, (int)limit))
			return mde_err_set(err, MDE_EINVAL, false,
					   "no /futures/data period for %" PRId64
					   " ms", P);
		a.w = (mde_window){start, end, now, P};
		int rc = do_request(f, &q, err);
		if (rc)
			return rc;
		if (out->n)
			a.after = out->t[out->n - 1];
		/* a full page that stops before the window's last slot may
		 * have been cut short (unaligned stamps): resume after it */
		if (q.pg.rows >= (size_t)limit && q.pg.last_ms >= ws &&
		    q.pg.last_ms < we - P + 1)
			ws = q.pg.last_ms + 1;
		else
			ws = we + 1;
	}
	return 0;
}

int mde_fetch_aux(mde_fetcher *f, const char *source, int kind,
		  const char *symbol, int64_t period_ms, int64_t start_ms,
		  int64_t end_ms, mde_aux *out, int64_t *unfetchable_until_ms,
		  mde_err *err)
{
	mde_err local;
	if (!err)
		err = &local;
	mde_err_clear(err);
	if (unfetchable_until_ms)
		*unfetchable_until_ms = start_ms;
	if (kind == MDE_AUX_LIQUIDATIONS || kind == MDE_AUX_INFLOW)
		return mde_err_set(err, MDE_ENOTFOUND, false,
				   "no REST source for this aux series");
	if (kind < 0 || kind > MDE_AUX_TAKER || !symbol || end_ms < start_ms)
		return mde_err_set(err, MDE_EINVAL, false, "bad aux request");
	int origin = mde_fetch_source_origin(source ? source : "binance");
	if (source && strcmp(source, "auto") == 0)
		origin = MDE_SRC_BINANCE;
	if (origin == MDE_SRC_REPLAY) {
		const char *dir = replay_dir(f, source);
		if (!dir)
			return mde_err_set(err, MDE_EINVAL, false,
					   "replay source without a directory");
		mde_replay_info info;
		mde_window w = {start_ms, end_ms, now_ms(f), period_ms};
		int64_t at = mde_now_ms();
		size_t cap = f->o.max_body_bytes ? f->o.max_body_bytes
						 : (size_t)256 << 20;
		int rc = mde_replay_aux(dir, kind, symbol, period_ms, &w, cap,
					out, &info, err);
		if (f->o.log_cb) {
			mde_fetch_rec rec = {.source = "replay",
					     .endpoint = info.file,
					     .symbol = symbol, .params = "",
					     .rows = info.rows,
					     .bytes = info.bytes, .attempt = 1,
					     .error = rc ? err->msg : NULL,
					     .requested_at_ms = at};
			f->o.log_cb(f->o.log_ud, &rec);
		}
		return rc;
	}
	if (origin != MDE_SRC_BINANCE && origin != MDE_SRC_BINANCE_SPOT)
		return mde_err_set(err, MDE_ENOTFOUND, false,
				   "%s has no aux series", source);
	if (start_ms == end_ms)
		return 0;
	if (kind == MDE_AUX_FUNDING)
		return funding(f, symbol, start_ms, end_ms, out, err);
	if (period_ms <= 0)
		return mde_err_set(err, MDE_EINVAL, false, "bad period");
	/* Binance refuses a startTime older than ~30 days: start at the
	 * first period boundary a minute inside the window. */
	int64_t oldest = now_ms(f) - MDE_BINANCE_FUTDATA_DAYS * MDE_DAY_MS +
			 MDE_MINUTE_MS;
	oldest = -mde_floor_div(-oldest, period_ms) * period_ms;
	int64_t start = start_ms;
	if (start < oldest) {
		start = oldest < end_ms ? oldest : end_ms;
		f->st.holes++;
		f->st.hole_ms += start - start_ms;
		mde_info("aux_hole",
			 "symbol=%s kind=%d from=%" PRId64 " until=%" PRId64
			 " reason=\"older than 30 days\"",
			 symbol, kind, start_ms, start);
	}
	if (unfetchable_until_ms)
		*unfetchable_until_ms = start;
	if (start >= end_ms)
		return 0;
	return futdata(f, kind, symbol, period_ms, start, end_ms, out, err);
}
