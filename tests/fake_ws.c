/*
 * fake_ws.c - the fake kline streams of fake_ws.h: one libwebsockets
 * server context on its own thread, a 5 ms timer that moves every
 * connection's candles along the simulated clock, and a queue of
 * messages per connection written as the socket allows.
 */
#include "fake_ws.h"

#include <libwebsockets.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "timeutil.h"

#define MAXCONN 64
#define MAXFAULT 32

struct msg {
	struct msg *next;
	size_t len;
	unsigned char buf[]; /* LWS_PRE bytes, then the text */
};

struct fconn {
	struct lws *wsi;
	char (*syms)[32];       /* canonical (upper case) */
	size_t nsyms;
	int64_t next_close;     /* open time of the candle closing next */
	struct msg *head, *tail;
	bool ping_due, close_after;
	int64_t silent_until, next_ping;
	int64_t repeat_t, held_t; /* INT64_MIN = none */
};

struct fault {
	int kind;
	int64_t t, arg;
};

struct fws {
	fws_opts o;
	struct lws_context *ctx;
	lws_sorted_usec_list_t sul;
	pthread_t th;
	volatile int stop;
	int port;
	char url[64];
	int64_t t0_mono;
	pthread_mutex_t mu;     /* faults and stats */
	struct fault faults[MAXFAULT];
	size_t nfaults;
	int64_t refuse_until;
	fws_stats st;
	struct fconn *conns[MAXCONN];
};

int64_t fws_now(fws *w)
{
	return w->o.start_ms +
	       (int64_t)((double)(mde_mono_ms() - w->t0_mono) * w->o.speed);
}

static void push(struct fconn *c, const char *text)
{
	size_t len = strlen(text);
	struct msg *m = malloc(sizeof *m + LWS_PRE + len + 1);
	if (!m)
		return;
	m->next = NULL;
	m->len = len;
	memcpy(m->buf + LWS_PRE, text, len + 1);
	if (c->tail)
		c->tail->next = m;
	else
		c->head = m;
	c->tail = m;
}

static void lower(char *dst, const char *src)
{
	for (; *src; src++)
		*dst++ = (char)(*src >= 'A' && *src <= 'Z' ? *src - 'A' + 'a'
							   : *src);
	*dst = '\0';
}

/* The kline message of sym's candle at t: final, forming, or with a
 * malformed open. false when the exchange holds no such candle. */
static bool kline(fws *w, const char *sym, int64_t t, int kind, char *out,
		  size_t cap)
{
	char f[MDE_NFIELDS][40];
	int64_t trades;
	if ((w->o.end_ms && t >= w->o.end_ms) ||
	    fx_kline(w->o.x, w->o.market, sym, w->o.period_ms, t, f, &trades))
		return false;
	if (kind == 1) { /* forming: not the final values */
		for (int k = 1; k < 4; k++)
			snprintf(f[k], sizeof f[k], "%s", f[0]);
		for (int k = 4; k < MDE_NFIELDS; k++)
			snprintf(f[k], sizeof f[k], "0");
		trades = 1;
	} else if (kind == 2) {
		snprintf(f[0], sizeof f[0], "1x2.5");
	}
	char name[40];
	lower(name, sym);
	const char *tf = mde_tf_name(w->o.period_ms);
	snprintf(out, cap,
		 "{\"stream\":\"%s@kline_%s\",\"data\":{\"e\":\"kline\","
		 "\"E\":%lld,\"s\":\"%s\",\"k\":{\"t\":%lld,\"T\":%lld,"
		 "\"s\":\"%s\",\"i\":\"%s\",\"f\":100,\"L\":200,\"o\":\"%s\","
		 "\"c\":\"%s\",\"h\":\"%s\",\"l\":\"%s\",\"v\":\"%s\","
		 "\"n\":%lld,\"x\":%s,\"q\":\"%s\",\"V\":\"%s\",\"Q\":\"%s\","
		 "\"B\":\"0\"}}}",
		 name, tf, (long long)fws_now(w), sym, (long long)t,
		 (long long)(t + w->o.period_ms - 1), sym, tf, f[MDE_OPEN],
		 f[MDE_CLOSE], f[MDE_HIGH], f[MDE_LOW], f[MDE_VOLUME],
		 (long long)trades, kind == 1 ? "false" : "true",
		 f[MDE_QUOTE_VOLUME], f[MDE_TAKER_BUY_BASE],
		 f[MDE_TAKER_BUY_QUOTE]);
	return true;
}

static void push_all(fws *w, struct fconn *c, int64_t t, int kind)
{
	char buf[1024];
	size_t sent = 0;
	for (size_t i = 0; i < c->nsyms; i++)
		if (kline(w, c->syms[i], t, kind, buf, sizeof buf)) {
			push(c, buf);
			sent++;
		}
	pthread_mutex_lock(&w->mu);
	if (kind == 1)
		w->st.updates_sent += sent;
	else
		w->st.closed_sent += sent;
	pthread_mutex_unlock(&w->mu);
}

static int fault_at(fws *w, int64_t t, int64_t *arg)
{
	int kind = 0;
	pthread_mutex_lock(&w->mu);
	for (size_t i = 0; i < w->nfaults; i++)
		if (w->faults[i].t == t) {
			kind = w->faults[i].kind;
			*arg = w->faults[i].arg;
		}
	pthread_mutex_unlock(&w->mu);
	return kind;
}

/* The close of candle t on connection c, with the fault planned for it. */
static void close_candle(fws *w, struct fconn *c, int64_t t)
{
	int64_t arg = 0, P = w->o.period_ms, now = mde_mono_ms();
	int kind = fault_at(w, t, &arg);
	switch (kind) {
	case FWS_DROP:
		pthread_mutex_lock(&w->mu);
		w->refuse_until = now + arg;
		pthread_mutex_unlock(&w->mu);
		c->close_after = true;
		return;
	case FWS_SILENCE:
		c->silent_until = now + arg;
		return;
	case FWS_SHUTDOWN:
		push(c, "{\"e\":\"serverShutdown\",\"E\":1}");
		c->close_after = true;
		return;
	case FWS_SKIP:
		break;
	case FWS_REORDER:
		c->held_t = t;
		break;
	case FWS_MALFORMED:
		push_all(w, c, t, 2);
		break;
	default:
		push_all(w, c, t, 0);
		if (kind == FWS_REPEAT) {
			push_all(w, c, t, 0);
			c->repeat_t = t;
		}
	}
	if (c->held_t == t - P) { /* the held one, after its successor */
		push_all(w, c, c->held_t, 0);
		c->held_t = INT64_MIN;
	}
	if (c->repeat_t == t - P) {
		push_all(w, c, c->repeat_t, 0);
		c->repeat_t = INT64_MIN;
	}
	push_all(w, c, t + P, 1);
}

static void advance(fws *w, struct fconn *c, int64_t sim, int64_t now)
{
	int64_t P = w->o.period_ms;
	bool silent = now < c->silent_until;
	while (c->next_close + P <= sim && !c->close_after) {
		if (!silent)
			close_candle(w, c, c->next_close);
		c->next_close += P;
	}
	if (!silent && w->o.ping_ms && now >= c->next_ping) {
		c->ping_due = true;
		c->next_ping = now + w->o.ping_ms;
	}
	if (!silent && (c->head || c->ping_due || c->close_after))
		lws_callback_on_writable(c->wsi);
}

static void tick(lws_sorted_usec_list_t *sul)
{
	fws *w = lws_container_of(sul, fws, sul);
	int64_t sim = fws_now(w), now = mde_mono_ms();
	for (int i = 0; i < MAXCONN; i++)
		if (w->conns[i])
			advance(w, w->conns[i], sim, now);
	if (!w->stop)
		lws_sul_schedule(w->ctx, 0, &w->sul, tick, 5 * LWS_US_PER_MS);
}

/* Adds the stream "btcusdt@kline_1m" (as BTCUSDT) to c. */
static int add_stream(struct fconn *c, const char *s)
{
	const char *at = strchr(s, '@');
	if (!at || at - s >= 32)
		return 0;
	void *q = realloc(c->syms, (c->nsyms + 1) * sizeof *c->syms);
	if (!q)
		return -1;
	c->syms = q;
	memset(c->syms[c->nsyms], 0, sizeof c->syms[c->nsyms]);
	for (const char *k = s; k < at; k++)
		c->syms[c->nsyms][k - s] = (char)(*k >= 'a' && *k <= 'z'
						  ? *k - 'a' + 'A' : *k);
	c->nsyms++;
	return 0;
}

/* {"method":"SUBSCRIBE","params":[...],"id":N}: the streams join, each
 * with an update of its forming candle; the answer {"result":null,...}. */
static void on_request(fws *w, struct fconn *c, const char *in, size_t len)
{
	cJSON *j = cJSON_ParseWithLength(in, len);
	const cJSON *m = cJSON_GetObjectItem(j, "method");
	const cJSON *ps = cJSON_GetObjectItem(j, "params");
	const cJSON *id = cJSON_GetObjectItem(j, "id");
	if (cJSON_IsString(m) && strcmp(m->valuestring, "SUBSCRIBE") == 0 &&
	    cJSON_IsArray(ps)) {
		size_t n0 = c->nsyms;
		const cJSON *e;
		cJSON_ArrayForEach(e, ps)
			if (cJSON_IsString(e))
				add_stream(c, e->valuestring);
		char buf[1024], ans[64];
		for (size_t i = n0; i < c->nsyms; i++)
			if (kline(w, c->syms[i], c->next_close, 1, buf,
				  sizeof buf))
				push(c, buf);
		snprintf(ans, sizeof ans, "{\"result\":null,\"id\":%d}",
			 cJSON_IsNumber(id) ? id->valueint : 0);
		push(c, ans);
		lws_callback_on_writable(c->wsi);
	}
	cJSON_Delete(j);
}

/* The streams of the path "a@kline_1m/b@kline_1m" (may be none). */
static int subscribe(fws *w, struct fconn *c, struct lws *wsi)
{
	char *buf = malloc(32768);
	const char *arg = buf ? lws_get_urlarg_by_name(wsi, "streams=", buf,
						       32768) : NULL;
	char *q = strdup(arg ? arg : "");
	free(buf);
	if (!q)
		return -1;
	int rc = 0;
	for (char *save = NULL, *s = strtok_r(q, "/", &save); s && !rc;
	     s = strtok_r(NULL, "/", &save))
		rc = add_stream(c, s);
	free(q);
	int64_t P = w->o.period_ms;
	c->next_close = mde_floor_div(fws_now(w), P) * P;
	c->repeat_t = c->held_t = INT64_MIN;
	c->next_ping = mde_mono_ms() + w->o.ping_ms;
	push_all(w, c, c->next_close, 1); /* the forming candle, at once */
	return rc;
}

static void conn_free(fws *w, struct fconn *c)
{
	for (int i = 0; i < MAXCONN; i++)
		if (w->conns[i] == c)
			w->conns[i] = NULL;
	while (c->head) {
		struct msg *m = c->head;
		c->head = m->next;
		free(m);
	}
	c->tail = NULL;
	free(c->syms);
	c->syms = NULL;
}

static int writeable(struct fconn *c)
{
	if (c->ping_due) {
		unsigned char p[LWS_PRE + 8];
		memcpy(p + LWS_PRE, "ping", 4);
		c->ping_due = false;
		if (lws_write(c->wsi, p + LWS_PRE, 4, LWS_WRITE_PING) < 0)
			return -1;
	} else if (c->head) {
		struct msg *m = c->head;
		c->head = m->next;
		if (!c->head)
			c->tail = NULL;
		int rc = lws_write(c->wsi, m->buf + LWS_PRE, m->len,
				   LWS_WRITE_TEXT);
		free(m);
		if (rc < 0)
			return -1;
	} else if (c->close_after) {
		return -1;
	}
	if (c->head || c->close_after)
		lws_callback_on_writable(c->wsi);
	return 0;
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason,
		    void *user, void *in, size_t len)
{
	fws *w = lws_context_user(lws_get_context(wsi));
	struct fconn *c = user;
	switch (reason) {
	case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION: {
		pthread_mutex_lock(&w->mu);
		bool refuse = mde_mono_ms() < w->refuse_until;
		w->st.refused += refuse;
		pthread_mutex_unlock(&w->mu);
		return refuse ? -1 : 0;
	}
	case LWS_CALLBACK_ESTABLISHED: {
		memset(c, 0, sizeof *c);
		c->wsi = wsi;
		int slot = -1;
		for (int i = 0; i < MAXCONN && slot < 0; i++)
			if (!w->conns[i])
				slot = i;
		if (slot < 0 || subscribe(w, c, wsi))
			return -1;
		w->conns[slot] = c;
		pthread_mutex_lock(&w->mu);
		w->st.connections++;
		pthread_mutex_unlock(&w->mu);
		lws_callback_on_writable(wsi);
		break;
	}
	case LWS_CALLBACK_RECEIVE:
		if (c && c->wsi)
			on_request(w, c, in, len);
		break;
	case LWS_CALLBACK_SERVER_WRITEABLE:
		return c && c->wsi ? writeable(c) : 0;
	case LWS_CALLBACK_RECEIVE_PONG:
		pthread_mutex_lock(&w->mu);
		w->st.pongs++;
		pthread_mutex_unlock(&w->mu);
		break;
	case LWS_CALLBACK_CLOSED:
		if (c)
			conn_free(w, c);
		break;
	default:
		break;
	}
	return 0;
}

static const struct lws_protocols protocols[] = {
	{"fake-ws", callback, sizeof(struct fconn), 4096, 0, NULL, 0},
	{NULL, NULL, 0, 0, 0, NULL, 0}};

static void *run(void *arg)
{
	fws *w = arg;
	lws_sul_schedule(w->ctx, 0, &w->sul, tick, 5 * LWS_US_PER_MS);
	while (!w->stop)
		if (lws_service(w->ctx, 0) < 0)
			break;
	return NULL;
}

fws *fws_start(const fws_opts *o)
{
	fws *w = calloc(1, sizeof *w);
	if (!w)
		return NULL;
	w->o = *o;
	if (w->o.speed <= 0)
		w->o.speed = 1;
	pthread_mutex_init(&w->mu, NULL);
	struct lws_context_creation_info info;
	memset(&info, 0, sizeof info);
	info.port = o->port;
	info.iface = "127.0.0.1";
	info.protocols = protocols;
	info.user = w;
	info.pt_serv_buf_size = 32768;
	info.max_http_header_data = 16384;
	/* 200 stream names in the request line */
	static struct lws_token_limits limits;
	for (int i = 0; i < WSI_TOKEN_COUNT; i++)
		limits.token_limit[i] = 16000;
	info.token_limits = &limits;
	lws_set_log_level(getenv("FWS_DEBUG") ? LLL_ERR | LLL_WARN | LLL_NOTICE | LLL_INFO : LLL_ERR, NULL);
	w->ctx = lws_create_context(&info);
	struct lws_vhost *vh = w->ctx ? lws_get_vhost_by_name(w->ctx, "default")
				      : NULL;
	if (!vh) {
		if (w->ctx)
			lws_context_destroy(w->ctx);
		free(w);
		return NULL;
	}
	w->port = lws_get_vhost_listen_port(vh);
	snprintf(w->url, sizeof w->url, "ws://127.0.0.1:%d", w->port);
	w->t0_mono = mde_mono_ms();
	if (pthread_create(&w->th, NULL, run, w) != 0) {
		lws_context_destroy(w->ctx);
		free(w);
		return NULL;
	}
	return w;
}

void fws_stop(fws *w)
{
	if (!w)
		return;
	w->stop = 1;
	lws_cancel_service(w->ctx);
	pthread_join(w->th, NULL);
	lws_context_destroy(w->ctx);
	pthread_mutex_destroy(&w->mu);
	free(w);
}

int fws_port(const fws *w)
{
	return w->port;
}

const char *fws_url(const fws *w)
{
	return w->url;
}

void fws_fault(fws *w, int fault, int64_t open_ms, int64_t arg)
{
	pthread_mutex_lock(&w->mu);
	if (w->nfaults < MAXFAULT)
		w->faults[w->nfaults++] = (struct fault){fault, open_ms, arg};
	pthread_mutex_unlock(&w->mu);
}

void fws_get_stats(fws *w, fws_stats *out)
{
	pthread_mutex_lock(&w->mu);
	*out = w->st;
	pthread_mutex_unlock(&w->mu);
}
