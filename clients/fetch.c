/*
 * fetch.c - the fetcher of source.h and the one place where the retry
 * policy lives: bounded attempts with exponential backoff and jitter for
 * errors marked retryable where they were born (http.c, the parsers),
 * Retry-After honoured per host, 418 bans honoured per host, the Binance
 * weight budget and per-endpoint request limits kept under ~90% per
 * window, and a circuit breaker per source. Pagination and fallback are in
 * fetch_series.c.
 */
#include "source.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <strings.h>
#include <unistd.h>

#include "archive.h"
#include "fetch.h"
#include "log.h"
#include "proc.h"


int64_t mde_fetch_now(const mde_fetcher *f)
{
	return f->o.now_ms ? f->o.now_ms : mde_now_ms();
}

/* Every wait of the fetcher: cut short by SIGINT/SIGTERM (MDE_EINTR). */
static int sleep_ms(mde_fetcher *f, int64_t ms, mde_err *err)
{
	if (ms > 0 && !mde_stop_requested) {
		int64_t t0 = mde_mono_ms();
		mde_sleep_ms(ms, &mde_stop_requested);
		f->st.waited_ms += mde_mono_ms() - t0;
	}
	if (mde_stop_requested)
		return mde_err_set(err, MDE_EINTR, false,
				   "interrupted while waiting to fetch");
	return 0;
}

int mde_fetch_sleep(mde_fetcher *f, int64_t ms, mde_err *err)
{
	return sleep_ms(f, ms, err);
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
	o->archive_url = dup_or(opts->archive_url,
				"https://data.binance.vision");
	o->archive_cache = dup_or(opts->archive_cache, NULL);
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
	mde_gate_init(&f->own_sh, o);
	f->sh = &f->own_sh;
	for (int i = 0; i < MDE_NSRC; i++) {
		struct mde_fetch_host *h = &f->h[i];
		h->origin = i;
		h->g = &f->sh->g[i];
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
	*out = f;
	f = NULL;
done:
	mde_fetcher_close(f);
	return rc;
}

int mde_fetcher_open_child(mde_fetcher **out, mde_fetcher *parent,
			   mde_err *err)
{
	int rc = mde_fetcher_open(out, &parent->o, err);
	if (rc)
		return rc;
	mde_fetcher *f = *out;
	f->parent = parent;
	f->sh = parent->sh;
	for (int i = 0; i < MDE_NSRC; i++)
		f->h[i].g = &f->sh->g[i];
	return 0;
}

void mde_fetcher_set_log(mde_fetcher *f, mde_fetch_log_fn cb, void *ud)
{
	f->o.log_cb = cb;
	f->o.log_ud = ud;
}

void mde_fetcher_set_archive_log(mde_fetcher *f, mde_archive_file_fn cb,
				 void *ud)
{
	f->o.archive_cb = cb;
	f->o.archive_ud = ud;
}

/* A child's counters go to its parent when it closes. */
static void add_stats(mde_fetcher *to, const mde_fetch_stats *s)
{
	pthread_mutex_lock(&to->sh->mu);
	for (int i = 0; i < MDE_NSRC; i++) {
		to->st.src[i].requests += s->src[i].requests;
		to->st.src[i].failures += s->src[i].failures;
		to->st.src[i].retries += s->src[i].retries;
		to->st.src[i].rows += s->src[i].rows;
	}
	to->st.holes += s->holes;
	to->st.hole_ms += s->hole_ms;
	to->st.fallbacks += s->fallbacks;
	to->st.waited_ms += s->waited_ms;
	pthread_mutex_unlock(&to->sh->mu);
}

void mde_fetcher_close(mde_fetcher *f)
{
	if (!f)
		return;
	if (f->parent)
		add_stats(f->parent, &f->st);
	mde_ar_cache_free(f->own_sh.arc);
	mde_gate_destroy(&f->own_sh);
	for (int i = 0; i < MDE_NSRC; i++) {
		mde_http_close(f->h[i].http);
		free(f->h[i].base);
	}
	free(f->polygon_key);
	free(f->replay_dir);
	mde_archive_free(f->ar);
	free((char *)f->o.archive_url);
	free((char *)f->o.archive_cache);
	free(f);
}

void mde_fetch_get_stats(const mde_fetcher *f, mde_fetch_stats *out)
{
	pthread_mutex_lock(&f->sh->mu);
	*out = f->st;
	for (int i = 0; i < MDE_NSRC; i++) {
		out->src[i].breaker_state = f->h[i].g->br.state;
		out->src[i].breaker_opens = f->h[i].g->br.opens;
		out->src[i].banned_until_ms = f->h[i].g->banned_until;
		out->src[i].weight_sent = f->h[i].g->weight_sent;
	}
	out->max_inflight = f->sh->max_inflight;
	pthread_mutex_unlock(&f->sh->mu);
}

const char *mde_fetch_breaker(const mde_fetcher *f, enum mde_origin origin)
{
	if (origin < 0 || origin >= MDE_NSRC)
		return "?";
	return mde_breaker_state_name(f->h[origin].g->br.state);
}

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

static void record(mde_fetcher *f, const struct mde_fetch_req *q,
		   const mde_http_resp *r, int attempt, int64_t at_ms,
		   const char *error)
{
	char path[512], params[1024], msg[600] = "";
	split_url(q->url, path, sizeof path, params, sizeof params);
	/* the record goes to the database: no registered secret in it */
	mde_log_mask(path, sizeof path);
	mde_log_mask(params, sizeof params);
	if (error) {
		snprintf(msg, sizeof msg, "%s", error);
		mde_log_mask(msg, sizeof msg);
		char q2[600];
		snprintf(q2, sizeof q2, "%s", msg);
		for (char *c = q2; *c; c++)
			if (*c == '"')
				*c = '\'';
		mde_warn("request.failed",
			 "source=%s endpoint=%s symbol=%s attempt=%d "
			 "status=%d error=\"%s\"",
			 mde_origin_name(q->h->origin), path,
			 q->symbol ? q->symbol : "*", attempt,
			 r ? r->status : 0, q2);
	}
	if (!f->o.log_cb)
		return;
	mde_fetch_rec rec = {.source = mde_origin_name(q->h->origin),
			     .endpoint = path,
			     .symbol = q->symbol,
			     .params = params,
			     .http_status = r ? r->status : 0,
			     .rows = error ? 0 : q->pg.rows,
			     .bytes = r ? r->len : 0,
			     .latency_ms = r ? r->latency_ms : 0,
			     .attempt = attempt,
			     .error = error ? msg : NULL,
			     .requested_at_ms = at_ms};
	f->o.log_cb(f->o.log_ud, &rec);
}

/* A client error the source is not to blame for (bad symbol, ...). */
static bool our_fault(const mde_err *e)
{
	int s = e->http_status;
	return s >= 400 && s < 500 && s != 408 && s != 429 && s != 418;
}

/* A URL a secret may travel to: https, or http to a loopback address
 * (127.0.0.0/8, [::1], localhost: the tests' fake exchange). */
static bool secret_ok(const char *url)
{
	if (strncasecmp(url, "https://", 8) == 0)
		return true;
	if (strncasecmp(url, "http://", 7) != 0)
		return false;
	const char *h = url + 7, *at = strpbrk(h, "@/?#");
	if (at && *at == '@')
		h = at + 1;
	size_t n = strcspn(h, ":/?#");
	if (h[0] == '[')
		return strncmp(h, "[::1]", 5) == 0;
	if (n == 9 && strncasecmp(h, "localhost", 9) == 0)
		return true;
	unsigned a, b, c, d;
	char end;
	char host[64];
	if (n >= sizeof host)
		return false;
	memcpy(host, h, n);
	host[n] = '\0';
	return sscanf(host, "%u.%u.%u.%u%c", &a, &b, &c, &d, &end) == 4 &&
	       a == 127 && b < 256 && c < 256 && d < 256;
}

int mde_fetch_request(mde_fetcher *f, struct mde_fetch_req *q, mde_err *err)
{
	if (q->auth && !secret_ok(q->url))
		return mde_err_set(err, MDE_EINVAL, false,
				   "refusing to send the %s key over plain "
				   "http to a non-loopback host: set an "
				   "https:// URL for it",
				   mde_origin_name(q->h->origin));
	struct mde_fetch_host *h = q->h;
	mde_http_resp r = {.used_weight_1m = -1, .retry_after_ms = -1};
	const char *hdrs[2] = {q->auth ? f->auth : NULL, NULL};
	mde_fetch_src_stats *ss = &f->st.src[h->origin];
	int rc = 0;
	if (!mde_gate_breaker_allow(f, h)) {
		rc = mde_err_set(err, MDE_EBANNED, false,
				 "%s: circuit breaker open",
				 mde_origin_name(h->origin));
		err->retry_after_ms = 0;
		return rc;
	}
	for (int attempt = 1;; attempt++) {
		mde_err_clear(err);
		if ((rc = mde_gate_acquire(f, h, q->weight, q->lim, err))) {
			mde_gate_breaker_untried(f, h);
			break;
		}
		int64_t at = mde_now_ms();
		ss->requests++;
		if (attempt > 1)
			ss->retries++;
		mde_page_reset(&q->pg);
		rc = mde_http_get(h->http, q->url, hdrs, &r, err);
		if (rc == 0)
			rc = q->parse(q->ctx, &r, attempt, &q->pg, err);
		else if (h->origin <= MDE_SRC_BINANCE_SPOT && rc != MDE_EBANNED &&
			 rc != MDE_EINTR)
			mde_binance_error_body(r.body, r.len, err);
		mde_gate_settle(f, h, &r, q->weight, rc ? err : NULL);
		/* a request libcurl sent again (a reused connection closed
		 * without an answer) is a request too: its own row */
		for (int k = 1; k < r.sent; k++) {
			ss->requests++;
			record(f, q, NULL, attempt, at, "connection closed "
			       "without an answer (sent again on a new "
			       "connection)");
		}
		record(f, q, &r, attempt, at, rc ? err->msg : NULL);
		if (rc == 0) {
			ss->rows += q->pg.rows;
			mde_gate_breaker_done(f, h, true);
			break;
		}
		rc = err->code;
		ss->failures++;
		if (rc == MDE_EINTR)
			break; /* stopped: nothing to hold against the source */
		if (rc == MDE_EBANNED || !err->retryable ||
		    attempt >= f->o.max_attempts) {
			/* our fault: the source answered */
			mde_gate_breaker_done(f, h, rc != MDE_EBANNED &&
							    our_fault(err));
			break;
		}
		int64_t d = mde_backoff_ms(f->o.backoff_base_ms,
					   f->o.backoff_max_ms, attempt);
		/* a Retry-After is waited out by the gate before the next try */
		if ((rc = sleep_ms(f, d, err)))
			break;
	}
	mde_http_resp_free(&r);
	return rc;
}

const char *mde_fetch_replay_dir(const mde_fetcher *f, const char *source)
{
	if (source && strncmp(source, "replay:", 7) == 0 && source[7])
		return source + 7;
	return f->replay_dir;
}
