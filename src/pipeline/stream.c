/*
 * stream.c - mde_pipeline_stream (stream.h): the WebSocket client's kline
 * messages into per-series pending candles, batches of them through
 * mde_pipeline_series in one store group, and the aux series' cadence.
 */
#include "stream.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "runs.h"
#include "stages.h"
#include "timeutil.h"
#include "ws.h"

#define LAT_MAX_MS 120000
#define MAX_WRITERS 16

struct sstate {
	char sym[32];
	bool have_last;
	int64_t last;           /* last candle stored (or covered by REST) */
	mde_candles pend;       /* closed candles received, not committed */
	int64_t *arrival;       /* per pending row, mono ms */
	size_t acap;
	int64_t rest_to;        /* REST repair up to here (exclusive) */
	int64_t dirty_from;     /* first row written since the aux refresh */
	bool done;              /* written in the group being committed */
	int64_t new_last;
};

struct stream;

/* A writer: one connection, one group per batch, the series i with
 * i % nwriters == k. Writer 0 is the run's own pipeline. */
typedef struct writer {
	struct stream *st;
	mde_pipeline *p;
	size_t k;
	int rc;
	mde_err err;
	size_t nseries;
	pthread_t th;
	bool started;
} writer;

typedef struct stream {
	mde_pipeline *p;
	mde_pipeline clones[MAX_WRITERS];
	writer w[MAX_WRITERS];
	size_t nw;
	const mde_stream_opts *o;
	int64_t P;
	int origin;
	struct sstate *s;
	size_t n;
	int64_t batch_first, batch_last; /* mono ms of the batch's candles */
	uint32_t *lat;                   /* histogram, 1 ms buckets */
	size_t nlat;
	int64_t lat_max;
	size_t aux_next;                 /* round robin position */
	int64_t aux_due;                 /* mono ms */
	size_t batches, candles, ignored;
} stream;

static int cmp_state(const void *a, const void *b)
{
	return strcmp(((const struct sstate *)a)->sym,
		      ((const struct sstate *)b)->sym);
}

static struct sstate *find(stream *st, const char *sym)
{
	struct sstate key;
	snprintf(key.sym, sizeof key.sym, "%s", sym);
	return bsearch(&key, st->s, st->n, sizeof key, cmp_state);
}

/* One state per symbol, with the last stored candle. */
static int states(stream *st, mde_err *err)
{
	char *list = strdup(st->o->symbols);
	if (!list)
		return mde_err_set(err, MDE_ENOMEM, false, "out of memory");
	int rc = 0;
	for (char *save = NULL, *t = strtok_r(list, ",", &save); t && !rc;
	     t = strtok_r(NULL, ",", &save)) {
		void *q = realloc(st->s, (st->n + 1) * sizeof *st->s);
		if (!q) {
			rc = mde_err_set(err, MDE_ENOMEM, false, "out of memory");
			break;
		}
		st->s = q;
		struct sstate *s = &st->s[st->n++];
		memset(s, 0, sizeof *s);
		snprintf(s->sym, sizeof s->sym, "%s", t);
		s->dirty_from = INT64_MAX;
		rc = mde_store_last_time(st->p->store, s->sym, st->o->timeframe,
					 &s->last, &s->have_last, err);
	}
	free(list);
	if (!rc)
		qsort(st->s, st->n, sizeof *st->s, cmp_state);
	return rc;
}

/* A closed candle into the series' pending ones (a repeat replaces). */
static void pend_add(stream *st, struct sstate *s, const mde_ws_kline *k)
{
	mde_candle_in in = {.open_time_ms = k->open_ms, .trades = k->trades,
			    .origin = st->origin};
	for (int f = 0; f < MDE_NFIELDS; f++)
		in.txt[f] = k->txt[f];
	for (size_t i = 0; i < s->pend.n; i++)
		if (s->pend.open_time_ms[i] == k->open_ms) {
			st->ignored++;
			return; /* repeated before its commit: the first wins */
		}
	if (s->pend.n == s->acap) {
		size_t cap = s->acap ? s->acap * 2 : 8;
		int64_t *a = realloc(s->arrival, cap * sizeof *a);
		if (!a)
			return;
		s->arrival = a;
		s->acap = cap;
	}
	mde_err err = {0};
	if (mde_candles_push(&s->pend, &in, &err)) {
		mde_warn("stream.malformed", "symbol=%s open_time=%lld "
			 "error=\"%s\"", s->sym, (long long)k->open_ms, err.msg);
		return;
	}
	s->arrival[s->pend.n - 1] = k->arrival_mono_ms;
	if (!st->batch_first)
		st->batch_first = k->arrival_mono_ms;
	st->batch_last = k->arrival_mono_ms;
}

static void on_kline(stream *st, const mde_ws_kline *k)
{
	struct sstate *s = find(st, k->symbol);
	if (!s)
		return;
	/* The first message after a (re)connect: every candle before it has
	 * closed, and what is not stored comes through REST. */
	if (k->first && s->have_last && k->open_ms > s->last + st->P &&
	    k->open_ms > s->rest_to) {
		s->rest_to = k->open_ms;
		if (!st->batch_first)
			st->batch_first = st->batch_last = mde_mono_ms();
	}
	if (!k->closed)
		return;
	if (s->have_last && k->open_ms <= s->last) {
		st->ignored++; /* repeated or out of order: stored already */
		return;
	}
	pend_add(st, s, k);
}

/* The pending candles after the last stored one, in time order, into out;
 * *gap_end is the end of the last stretch REST must fill (0 = none). */
static int ordered(const stream *st, const struct sstate *s, mde_candles *out,
		   int64_t *gap_end)
{
	size_t n = s->pend.n, m = 0;
	size_t *ix = malloc((n + 1) * sizeof *ix);
	if (!ix)
		return MDE_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		int64_t t = s->pend.open_time_ms[i];
		if (s->have_last && t <= s->last)
			continue;
		size_t k = m++;
		while (k > 0 && s->pend.open_time_ms[ix[k - 1]] > t) {
			ix[k] = ix[k - 1];
			k--;
		}
		ix[k] = i;
	}
	int rc = 0;
	for (size_t i = 0; i < m && !rc; i++)
		rc = mde_candles_copy_row(out, &s->pend, ix[i]);
	free(ix);
	int64_t t = s->have_last ? s->last + st->P
		    : out->n ? out->open_time_ms[0] : 0;
	*gap_end = 0;
	for (size_t i = 0; i < out->n; i++) {
		if (out->open_time_ms[i] > t)
			*gap_end = out->open_time_ms[i];
		t = out->open_time_ms[i] + st->P;
	}
	if (s->rest_to > t)
		*gap_end = s->rest_to;
	return rc;
}

/* One series of the batch, inside the group. A DB error is returned (the
 * group is lost); any other failure leaves the series pending. */
static int flush_series(stream *st, mde_pipeline *p, struct sstate *s,
			mde_err *err)
{
	const char *tf = st->o->timeframe;
	mde_candles c = {0};
	int64_t gap = 0;
	if (ordered(st, s, &c, &gap))
		return mde_err_set(err, MDE_ENOMEM, false, "out of memory");
	int64_t start = s->have_last ? s->last + st->P
			: c.n ? c.open_time_ms[0] : 0;
	int64_t end = c.n ? c.open_time_ms[c.n - 1] + st->P : 0;
	if (s->rest_to > end)
		end = s->rest_to;
	bool got = false;
	int rc = 0;
	if (start >= end || (!c.n && !gap)) {
		s->done = true; /* nothing left to write */
		s->new_last = s->last;
	} else if ((rc = mde_store_series_xlock(p->store, s->sym, tf, &got,
						err)) == 0 && !got) {
		mde_info("series.busy", "symbol=%s timeframe=%s reason=\"a run "
			 "or worker holds it; next batch\"", s->sym, tf);
	} else if (!rc) {
		mde_series_job j = {
			.symbol = s->sym, .timeframe = tf, .period_ms = st->P,
			.asset = MDE_CRYPTO, .source = st->o->source,
			.start_ms = start, .end_ms = end, .given = &c,
			.rest_to_ms = gap, .aux_stored = true,
			.quality_later = true,
		};
		if (gap)
			mde_info("stream.repair", "symbol=%s from=%lld to=%lld "
				 "reason=\"candles missed by the stream: REST\"",
				 s->sym, (long long)start, (long long)gap);
		rc = mde_pipeline_series(p, &j, err);
		mde_pipeline_series_done(p, s->sym, tf, MDE_CRYPTO,
					 st->o->source, rc, err);
		if (!rc) {
			s->done = true;
			s->new_last = end - st->P;
			if (start < s->dirty_from)
				s->dirty_from = start;
		} else if (rc != MDE_EDB) {
			mde_warn("stream.series", "symbol=%s error=\"%s\" "
				 "action=\"kept for the next batch\"", s->sym,
				 err->msg);
			rc = 0;
		}
	}
	mde_candles_free(&c);
	return rc;
}

static void latency_add(stream *st, int64_t d)
{
	if (d < 0)
		d = 0;
	st->lat[d < LAT_MAX_MS ? d : LAT_MAX_MS]++;
	st->nlat++;
	if (d > st->lat_max)
		st->lat_max = d;
}

static void lat_summary(const stream *st, mde_stream_latency *out)
{
	memset(out, 0, sizeof *out);
	out->count = st->nlat;
	out->max_ms = st->lat_max;
	size_t acc = 0, q50 = (st->nlat + 1) / 2,
	       q99 = st->nlat - st->nlat / 100;
	bool has50 = false;
	for (int64_t i = 0; i <= LAT_MAX_MS && st->nlat; i++) {
		acc += st->lat[i];
		if (!has50 && acc >= q50) {
			out->p50_ms = i;
			has50 = true;
		}
		if (acc >= q99) {
			out->p99_ms = i;
			break;
		}
	}
}

/* After the group committed: the series advance, latencies recorded. */
static void settle(stream *st)
{
	int64_t now = mde_mono_ms();
	for (size_t i = 0; i < st->n; i++) {
		struct sstate *s = &st->s[i];
		if (!s->done)
			continue;
		for (size_t k = 0; k < s->pend.n; k++) {
			latency_add(st, now - s->arrival[k]);
			st->candles++;
		}
		if (s->new_last > s->last || !s->have_last)
			s->last = s->new_last;
		s->have_last = s->have_last || s->pend.n;
		mde_candles_clear(&s->pend);
		s->rest_to = 0;
		s->done = false;
	}
	st->batches++;
}

/* A lost database: reconnect (with backoff); false when it stays gone. */
static bool recovered(mde_pipeline *p, mde_err *err)
{
	if (err->code != MDE_EDB || !mde_pl_connection_lost(err))
		return true; /* the connection is fine: retry next batch */
	return mde_pipeline_recover(p, err) == 0;
}

/* One writer's part of the batch, in one store group. */
static void *flush_part(void *arg)
{
	writer *w = arg;
	stream *st = w->st;
	mde_pipeline *p = w->p;
	w->nseries = 0;
	memset(&w->err, 0, sizeof w->err);
	int rc = mde_store_group_begin(p->store, &w->err);
	p->grouped = true;
	for (size_t i = w->k; i < st->n && !rc; i += st->nw) {
		struct sstate *s = &st->s[i];
		if (s->pend.n || s->rest_to) {
			rc = flush_series(st, p, s, &w->err);
			w->nseries += s->done;
		}
	}
	p->grouped = false;
	if (!rc)
		rc = mde_store_group_commit(p->store, &w->err);
	else
		mde_store_group_rollback(p->store);
	if (rc)
		for (size_t i = w->k; i < st->n; i += st->nw)
			st->s[i].done = false;
	w->rc = rc;
	return NULL;
}

/*
 * Commits the batch: every series with pending candles or a repair, each
 * writer's share in one store group, the writers side by side. Returns
 * 0, or MDE_EXIT_FATAL when the database stays unreachable; a writer's
 * failed group is retried with the next batch.
 */
static int flush(stream *st)
{
	int64_t t0 = mde_mono_ms();
	for (size_t k = 1; k < st->nw; k++)
		st->w[k].started = pthread_create(&st->w[k].th, NULL,
						  flush_part, &st->w[k]) == 0;
	flush_part(&st->w[0]);
	for (size_t k = 1; k < st->nw; k++)
		if (st->w[k].started)
			pthread_join(st->w[k].th, NULL);
		else
			flush_part(&st->w[k]);
	st->batch_first = st->batch_last = 0;
	int code = 0;
	size_t nseries = 0;
	for (size_t k = 0; k < st->nw; k++) {
		writer *w = &st->w[k];
		nseries += w->rc ? 0 : w->nseries;
		if (!w->rc)
			continue;
		mde_warn("stream.batch_failed", "writer=%zu error=\"%s\" "
			 "action=\"retried with the next batch\"", k, w->err.msg);
		if (!recovered(w->p, &w->err))
			code = MDE_EXIT_FATAL;
	}
	settle(st);
	/* Left over (a busy series, a failed group): again in batch_ms, or
	 * with the next candles. */
	for (size_t i = 0; i < st->n; i++)
		if (st->s[i].pend.n || st->s[i].rest_to)
			st->batch_first = st->batch_last =
				mde_mono_ms() + st->o->batch_ms;
	mde_debug("stream.batch", "series=%zu writers=%zu commit_ms=%lld",
		  nseries, st->nw, (long long)(mde_mono_ms() - t0));
	return code;
}

/* The aux series of one series through REST, and its rows recomputed. */
static void aux_refresh(stream *st, struct sstate *s)
{
	mde_pipeline *p = st->p;
	int64_t end = s->last + st->P;
	int64_t from = end - st->o->aux_lag_ms;
	if (s->dirty_from < from)
		from = s->dirty_from;
	from = mde_floor_div(from, st->P) * st->P;
	bool got = false;
	mde_err err = {0};
	if (mde_store_series_lock(p->store, s->sym, st->o->timeframe, false,
				  &got, &err) || !got)
		return; /* a run holds it: it fetches the aux series itself */
	mde_series_job j = {
		.symbol = s->sym, .timeframe = st->o->timeframe,
		.period_ms = st->P, .asset = MDE_CRYPTO,
		.source = st->o->source, .start_ms = from, .end_ms = end,
		.stored_only = true, .aux_refresh = true,
	};
	mde_pl_forget_funding(p, s->sym);
	int rc = mde_pipeline_series(p, &j, &err);
	mde_store_series_unlock(p->store, s->sym, st->o->timeframe);
	if (!rc) {
		s->dirty_from = INT64_MAX;
		return;
	}
	mde_warn("stream.aux", "symbol=%s error=\"%s\" action=\"retried on "
		 "the next round\"", s->sym, err.msg);
	if (rc == MDE_EDB && !recovered(p, &err))
		mde_warn("stream.aux", "symbol=%s error=\"database gone\"",
			 s->sym);
}

/* Round robin over the series, at most budget_ms at a time. */
static void aux_step(stream *st, int64_t budget_ms)
{
	int64_t t0 = mde_mono_ms();
	if (t0 < st->aux_due)
		return;
	while (st->aux_next < st->n && mde_mono_ms() - t0 < budget_ms &&
	       !mde_stop_requested) {
		struct sstate *s = &st->s[st->aux_next++];
		if (s->have_last && !s->pend.n)
			aux_refresh(st, s);
	}
	if (st->aux_next >= st->n) {
		st->aux_next = 0;
		st->aux_due = mde_mono_ms() + st->o->aux_every_ms;
	}
}

static void log_latency(const stream *st, const char *event)
{
	mde_stream_latency l;
	lat_summary(st, &l);
	mde_info(event, "candles=%zu batches=%zu ignored=%zu p50_ms=%lld "
		 "p99_ms=%lld max_ms=%lld", l.count, st->batches, st->ignored,
		 (long long)l.p50_ms, (long long)l.p99_ms, (long long)l.max_ms);
}

static void take(stream *st, mde_ws *ws, int64_t wait_ms)
{
	mde_ws_kline *ev = NULL;
	size_t n = 0;
	if (mde_ws_take(ws, wait_ms, &ev, &n) == 0)
		for (size_t i = 0; i < n; i++)
			on_kline(st, &ev[i]);
	free(ev);
}

static bool due(const stream *st)
{
	int64_t now = mde_mono_ms();
	return st->batch_first &&
	       (now - st->batch_first >= st->o->batch_ms ||
		now - st->batch_last >= st->o->quiet_ms);
}

static int loop(stream *st, mde_ws *ws)
{
	int64_t next_log = mde_mono_ms() + 60000;
	int code = 0;
	while (!mde_stop_requested && !code) {
		take(st, ws, 20);
		if (due(st))
			code = flush(st);
		if (!code && !st->batch_first) {
			aux_step(st, 200);
			mde_pipeline_heartbeat(st->p);
		}
		if (mde_mono_ms() >= next_log) {
			log_latency(st, "stream.progress");
			next_log += 60000;
		}
	}
	return code;
}

/* Writer 0 is the run's pipeline; the others get connections of their
 * own (no more writers than series). */
static int writers(stream *st, int n, mde_err *err)
{
	st->nw = n < 1 ? 1 : n > MAX_WRITERS ? MAX_WRITERS : (size_t)n;
	if (st->nw > st->n)
		st->nw = st->n ? st->n : 1;
	for (size_t k = 0; k < st->nw; k++) {
		st->w[k] = (writer){.st = st, .p = k ? &st->clones[k] : st->p,
				    .k = k};
		if (k && mde_pipeline_clone(&st->clones[k], st->p, err)) {
			st->nw = k + 1;
			return MDE_EXIT_FATAL;
		}
	}
	return 0;
}

static void stream_free(stream *st)
{
	for (size_t k = 1; k < st->nw; k++)
		mde_pipeline_clone_close(&st->clones[k], st->p);
	for (size_t i = 0; i < st->n; i++) {
		mde_candles_free(&st->s[i].pend);
		free(st->s[i].arrival);
	}
	free(st->s);
	free(st->lat);
}

int mde_pipeline_stream(mde_pipeline *p, const mde_stream_opts *o)
{
	stream st = {.p = p, .o = o};
	mde_err err = {0};
	bool spot = o->source && strcmp(o->source, "binance-spot") == 0;
	st.origin = spot ? MDE_SRC_BINANCE_SPOT : MDE_SRC_BINANCE;
	st.lat = calloc(LAT_MAX_MS + 1, sizeof *st.lat);
	if (!st.lat || mde_tf_parse(o->timeframe, &st.P) ||
	    states(&st, &err) || writers(&st, o->writers, &err)) {
		fprintf(stderr, "mdenrich stream: %s\n",
			err.msg[0] ? err.msg : "out of memory");
		stream_free(&st);
		return MDE_EXIT_FATAL;
	}
	mde_ws_opts wo = {
		.url = o->ws_url, .path = o->ws_path, .symbols = o->symbols,
		.period_ms = st.P, .silence_ms = o->silence_ms,
		.streams_per_conn = o->streams_per_conn ? o->streams_per_conn
				    : spot ? 1024 : 200,
	};
	mde_ws *ws = NULL;
	if (mde_ws_start(&ws, &wo, &err)) {
		fprintf(stderr, "mdenrich stream: %s\n", err.msg);
		stream_free(&st);
		return MDE_EXIT_USAGE;
	}
	int code = loop(&st, ws);
	/* Stopped: what arrived is committed before the exit. */
	take(&st, ws, 0);
	mde_ws_stop(ws);
	if (!code && st.batch_first)
		code = flush(&st);
	log_latency(&st, "stream.done");
	stream_free(&st);
	return code ? code : MDE_EXIT_INTERRUPTED;
}
