/*
 * gate.c - the shared state of each host (fetch.h): the Binance weight
 * budget and per-endpoint request limits, kept under ~90% per window;
 * Retry-After and 418 bans honoured for the whole host; the circuit
 * breaker. One mutex guards it for every fetcher of a run (a parent and
 * its children, one per fetch thread); nobody sleeps holding it.
 *
 * With requests in flight at once, the weight of a request is reserved
 * when it is let go, not when its answer comes: concurrent requests
 * cannot together pass the budget. The server's X-MBX-USED-WEIGHT-1M
 * raises the count (other clients of the same IP), never lowers it below
 * what is reserved.
 */
#include "fetch.h"

#include <inttypes.h>
#include <string.h>

#include "log.h"

static const int lim_budget[3] = {0, 500, 1000};

void mde_gate_init(struct mde_fetch_shared *s, const mde_fetch_opts *o)
{
	memset(s, 0, sizeof *s);
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->slot, NULL);
	s->cap = o->max_in_flight;
	for (int i = 0; i < MDE_NSRC; i++)
		mde_breaker_init(&s->g[i].br, o->breaker_threshold,
				 o->breaker_cooldown_ms);
}

void mde_gate_destroy(struct mde_fetch_shared *s)
{
	pthread_cond_destroy(&s->slot);
	pthread_mutex_destroy(&s->mu);
}

/* The weight window of now; a new one starts empty. */
static void weight_window(mde_fetcher *f, struct mde_hostgate *g, int64_t wall)
{
	int64_t win = mde_floor_div(wall, f->o.weight_window_ms);
	if (win != g->win) {
		g->win = win;
		g->used = 0;
	}
}

enum wait_why { WAIT_RETRY_AFTER, WAIT_WEIGHT, WAIT_REQUESTS };

/* How long until a request may go (0 = now), and why. */
static int64_t wait_ms(mde_fetcher *f, struct mde_fetch_host *h, int weight,
		       int lim, enum wait_why *why)
{
	struct mde_hostgate *g = h->g;
	int64_t wall = mde_now_ms();
	int64_t ms = g->resume_mono - mde_mono_ms();
	*why = WAIT_RETRY_AFTER;
	if (ms > 0)
		return ms;
	weight_window(f, g, wall);
	if (h->budget > 0 && (g->used + weight) * 10 > (int64_t)h->budget * 9) {
		/* next window, plus a little for clock skew with the server */
		*why = WAIT_WEIGHT;
		int64_t W = f->o.weight_window_ms;
		return (mde_floor_div(wall, W) + 1) * W - wall + 25;
	}
	if (lim == LIM_NONE)
		return 0;
	int64_t cw = mde_floor_div(wall, LIM_WINDOW_MS);
	if (cw != g->cwin[lim]) {
		g->cwin[lim] = cw;
		g->cused[lim] = 0;
	}
	*why = WAIT_REQUESTS;
	if ((g->cused[lim] + 1) * 10 > (int64_t)lim_budget[lim] * 9)
		return (cw + 1) * LIM_WINDOW_MS - wall + 25;
	return 0;
}

static void log_wait(struct mde_fetch_host *h, enum wait_why why, int64_t ms)
{
	if (why == WAIT_RETRY_AFTER)
		mde_debug("request.retry_after", "source=%s wait_ms=%" PRId64,
			  mde_origin_name(h->origin), ms);
	else if (why == WAIT_WEIGHT)
		mde_info("budget.weight_wait",
			 "source=%s used=%" PRId64 " budget=%d wait_ms=%" PRId64,
			 mde_origin_name(h->origin), h->g->used, h->budget, ms);
	else
		mde_info("budget.request_wait", "source=%s wait_ms=%" PRId64,
			 mde_origin_name(h->origin), ms);
}

int mde_gate_acquire(mde_fetcher *f, struct mde_fetch_host *h, int weight,
		     int lim, mde_err *err)
{
	struct mde_fetch_shared *s = f->sh;
	struct mde_hostgate *g = h->g;
	pthread_mutex_lock(&s->mu);
	for (;;) {
		int64_t wall = mde_now_ms();
		if (g->banned_until > wall) {
			int64_t left = g->banned_until - wall;
			pthread_mutex_unlock(&s->mu);
			int rc = mde_err_set(err, MDE_EBANNED, false,
					     "%s: banned (HTTP 418) for %" PRId64
					     " more ms",
					     mde_origin_name(h->origin), left);
			err->retry_after_ms = left;
			return rc;
		}
		if (s->cap > 0 && s->inflight >= s->cap) {
			/* as many in flight as allowed, from all fetchers */
			pthread_cond_wait(&s->slot, &s->mu);
			continue;
		}
		enum wait_why why;
		int64_t ms = wait_ms(f, h, weight, lim, &why);
		if (ms <= 0)
			break;
		if (why == WAIT_RETRY_AFTER && ms > f->o.max_wait_ms) {
			pthread_mutex_unlock(&s->mu);
			return mde_err_set(err, MDE_ENET, false,
					   "%s asked us to wait %" PRId64 " ms",
					   mde_origin_name(h->origin), ms);
		}
		log_wait(h, why, ms);
		pthread_mutex_unlock(&s->mu);
		mde_log_progress_wait(why == WAIT_RETRY_AFTER
					      ? "the server's Retry-After"
					      : why == WAIT_WEIGHT
						      ? "the weight budget"
						      : "the request budget", ms);
		int rc = mde_fetch_sleep(f, ms, err);
		mde_log_progress_wait(NULL, 0);
		if (rc)
			return rc; /* stopping */
		pthread_mutex_lock(&s->mu);
	}
	if (h->budget > 0)
		g->used += weight;
	if (lim != LIM_NONE)
		g->cused[lim]++;
	g->weight_sent += weight;
	if (++s->inflight > s->max_inflight)
		s->max_inflight = s->inflight;
	pthread_mutex_unlock(&s->mu);
	return 0;
}

void mde_gate_settle(mde_fetcher *f, struct mde_fetch_host *h,
		     const mde_http_resp *r, int weight, const mde_err *e)
{
	struct mde_fetch_shared *s = f->sh;
	struct mde_hostgate *g = h->g;
	pthread_mutex_lock(&s->mu);
	s->inflight--;
	pthread_cond_signal(&s->slot);
	if (h->budget > 0) {
		int64_t win = g->win;
		weight_window(f, g, mde_now_ms());
		if (r->used_weight_1m > g->used)
			g->used = r->used_weight_1m;
		else if (!r->status && win == g->win && g->used >= weight)
			g->used -= weight; /* never reached the server */
	}
	/* 429 (and a 503 that says when) holds the whole host back */
	if (e && e->code != MDE_EBANNED && e->retry_after_ms > 0) {
		int64_t until = mde_mono_ms() + e->retry_after_ms;
		if (until > g->resume_mono)
			g->resume_mono = until;
	}
	if (e && e->code == MDE_EBANNED) {
		int64_t ban = e->retry_after_ms > 0 ? e->retry_after_ms : 120000;
		if (mde_now_ms() + ban > g->banned_until)
			g->banned_until = mde_now_ms() + ban;
		mde_error("source.banned", "source=%s ban_ms=%" PRId64,
			  mde_origin_name(h->origin), ban);
	}
	pthread_mutex_unlock(&s->mu);
}

bool mde_gate_breaker_allow(mde_fetcher *f, struct mde_fetch_host *h)
{
	pthread_mutex_lock(&f->sh->mu);
	bool ok = mde_breaker_allow(&h->g->br, mde_mono_ms());
	pthread_mutex_unlock(&f->sh->mu);
	return ok;
}

void mde_gate_breaker_done(mde_fetcher *f, struct mde_fetch_host *h, bool ok)
{
	pthread_mutex_lock(&f->sh->mu);
	if (ok)
		mde_breaker_success(&h->g->br);
	else
		mde_breaker_failure(&h->g->br, mde_mono_ms());
	pthread_mutex_unlock(&f->sh->mu);
}

void mde_gate_breaker_untried(mde_fetcher *f, struct mde_fetch_host *h)
{
	pthread_mutex_lock(&f->sh->mu);
	if (h->g->br.state == MDE_BRK_HALF_OPEN)
		h->g->br.trial = false;
	pthread_mutex_unlock(&f->sh->mu);
}
