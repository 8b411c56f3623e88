/*
 * ws.c - the kline stream client of ws.h: one libwebsockets context on a
 * thread of its own, one connection per group of streams, a 100 ms timer
 * that closes silent connections and opens the ones due to (re)connect.
 */
#include "ws.h"

#include <libwebsockets.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clients.h"
#include "log.h"
#include "timeutil.h"

#define TICK_US (100 * LWS_US_PER_MS)
#define PATH_MAX_LEN 1800 /* longer request lines are refused by some
			     servers: the rest goes by SUBSCRIBE */
#define SUB_BATCH 50

struct conn {
	struct mde_ws *w;
	struct lws *wsi;
	int no;
	char path[16384];
	char **syms;            /* canonical symbols of this connection */
	bool *seen;             /* a message since the connection opened */
	size_t nsyms;
	size_t nurl;            /* the first nurl are in the path, the rest
				   are sent as SUBSCRIBE requests */
	size_t sub_next;        /* next to subscribe */
	int64_t sub_due;        /* mono ms: at most 5 requests a second */
	int sub_id;
	bool up, killing;
	int attempt;            /* reconnects since the last good message */
	int64_t retry_mono;     /* 0 = connected or connecting */
	int64_t last_rx_mono;
	char *buf;              /* a message's fragments */
	size_t blen, bcap;
};

struct mde_ws {
	mde_ws_opts o;
	char host[256], url[512];
	int port;
	bool tls;
	struct lws_context *ctx;
	lws_sorted_usec_list_t sul;
	struct conn *conns;
	size_t nconns;
	pthread_t th;
	bool started;
	volatile int stop;
	uint64_t rng;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	mde_ws_kline *q;        /* received, not yet taken */
	size_t qn, qcap;
	mde_ws_stats st;
};

/* ---- parsing --------------------------------------------------------- */

static int field_txt(const cJSON *k, const char *name, char *dst,
		     size_t cap, mde_err *err)
{
	double v;
	const cJSON *j = cJSON_GetObjectItemCaseSensitive(k, name);
	if (mde_json_decstr(j, &v) || strlen(j->valuestring) >= cap)
		return mde_err_set(err, MDE_EPARSE, false, "kline field \"%s\" "
				   "is not a decimal string", name);
	memcpy(dst, j->valuestring, strlen(j->valuestring) + 1);
	return 0;
}

static int kline_fields(const cJSON *k, int64_t period_ms, mde_ws_kline *out,
			mde_err *err)
{
	static const char *names[MDE_NFIELDS] = {"o", "h", "l", "c",
						 "v", "q", "V", "Q"};
	int64_t t, close_ms, period;
	const cJSON *x = cJSON_GetObjectItemCaseSensitive(k, "x");
	const cJSON *s = cJSON_GetObjectItemCaseSensitive(k, "s");
	const cJSON *i = cJSON_GetObjectItemCaseSensitive(k, "i");
	if (mde_json_int(cJSON_GetObjectItemCaseSensitive(k, "t"), &t) ||
	    mde_json_int(cJSON_GetObjectItemCaseSensitive(k, "T"), &close_ms) ||
	    close_ms != t + period_ms - 1)
		return mde_err_set(err, MDE_EPARSE, false, "kline times \"t\"/"
				   "\"T\" missing or not one interval apart");
	if (!cJSON_IsString(i) || mde_tf_parse(i->valuestring, &period) ||
	    period != period_ms)
		return mde_err_set(err, MDE_EPARSE, false, "kline interval "
				   "\"i\" is not the subscribed one");
	if (!cJSON_IsString(s) || strcmp(s->valuestring, out->symbol) != 0)
		return mde_err_set(err, MDE_EPARSE, false, "kline symbol \"s\" "
				   "does not match the stream");
	if (!cJSON_IsBool(x))
		return mde_err_set(err, MDE_EPARSE, false,
				   "kline \"x\" is not a boolean");
	if (mde_json_int(cJSON_GetObjectItemCaseSensitive(k, "n"),
			 &out->trades))
		return mde_err_set(err, MDE_EPARSE, false,
				   "kline trade count \"n\" is not an integer");
	for (int f = 0; f < MDE_NFIELDS; f++)
		if (field_txt(k, names[f], out->txt[f], sizeof out->txt[f], err))
			return MDE_EPARSE;
	out->open_ms = t;
	out->closed = cJSON_IsTrue(x);
	return 0;
}

/* "btcusdt@kline_1m" -> "BTCUSDT". */
static int stream_symbol(const char *name, char *out, size_t cap)
{
	const char *at = strchr(name, '@');
	if (!at || (size_t)(at - name) >= cap || at == name ||
	    strncmp(at, "@kline_", 7) != 0)
		return MDE_EPARSE;
	for (size_t k = 0; name + k < at; k++)
		out[k] = (char)(name[k] >= 'a' && name[k] <= 'z'
					? name[k] - 'a' + 'A' : name[k]);
	out[at - name] = '\0';
	return 0;
}

static bool is_shutdown(const cJSON *j)
{
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "e");
	return cJSON_IsString(e) && strcmp(e->valuestring, "serverShutdown") == 0;
}

int mde_ws_parse(const char *msg, size_t len, int64_t period_ms,
		 mde_ws_kline *k, bool *shutdown, mde_err *err)
{
	cJSON *j = NULL;
	memset(k, 0, sizeof *k);
	*shutdown = false;
	int rc = mde_json_parse(msg, len, &j, err);
	if (rc)
		return MDE_EPARSE;
	const cJSON *data = cJSON_GetObjectItemCaseSensitive(j, "data");
	const cJSON *name = cJSON_GetObjectItemCaseSensitive(j, "stream");
	if (is_shutdown(j) || (data && is_shutdown(data))) {
		*shutdown = true;
		rc = MDE_ENOTFOUND;
	} else if (!cJSON_IsObject(data) || !cJSON_IsString(name)) {
		rc = mde_err_set(err, MDE_ENOTFOUND, false, "not a stream event");
	} else if (stream_symbol(name->valuestring, k->symbol,
				 sizeof k->symbol)) {
		rc = mde_err_set(err, MDE_EPARSE, false, "stream name \"%s\" "
				 "is not a kline stream", name->valuestring);
	} else {
		const cJSON *e = cJSON_GetObjectItemCaseSensitive(data, "e");
		const cJSON *kk = cJSON_GetObjectItemCaseSensitive(data, "k");
		if (!cJSON_IsString(e) || strcmp(e->valuestring, "kline") != 0)
			rc = mde_err_set(err, MDE_ENOTFOUND, false,
					 "not a kline event");
		else if (!cJSON_IsObject(kk))
			rc = mde_err_set(err, MDE_EPARSE, false,
					 "kline event without \"k\"");
		else
			rc = kline_fields(kk, period_ms, k, err);
	}
	cJSON_Delete(j);
	return rc;
}

/* ---- the queue ------------------------------------------------------- */

static void enqueue(struct mde_ws *w, const mde_ws_kline *k)
{
	pthread_mutex_lock(&w->mu);
	if (w->qn == w->qcap) {
		size_t cap = w->qcap ? w->qcap * 2 : 1024;
		mde_ws_kline *q = realloc(w->q, cap * sizeof *q);
		if (!q) {
			pthread_mutex_unlock(&w->mu);
			mde_error("ws.oom", "symbol=%s", k->symbol);
			return;
		}
		w->q = q;
		w->qcap = cap;
	}
	w->q[w->qn++] = *k;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
}

int mde_ws_take(mde_ws *w, int64_t wait_ms, mde_ws_kline **out, size_t *n)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += wait_ms / 1000;
	ts.tv_nsec += (wait_ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&w->mu);
	while (w->qn == 0 && wait_ms > 0 &&
	       pthread_cond_timedwait(&w->cv, &w->mu, &ts) == 0)
		;
	*out = w->q;
	*n = w->qn;
	w->q = NULL;
	w->qn = w->qcap = 0;
	pthread_mutex_unlock(&w->mu);
	return 0;
}

void mde_ws_get_stats(mde_ws *w, mde_ws_stats *out)
{
	pthread_mutex_lock(&w->mu);
	*out = w->st;
	pthread_mutex_unlock(&w->mu);
}

static void count(struct mde_ws *w, size_t *counter)
{
	pthread_mutex_lock(&w->mu);
	(*counter)++;
	pthread_mutex_unlock(&w->mu);
}

/* ---- connections ----------------------------------------------------- */

static int64_t backoff(struct mde_ws *w, int attempt)
{
	int64_t d = w->o.backoff_base_ms << (attempt < 16 ? attempt : 16);
	if (d > w->o.backoff_max_ms || d <= 0)
		d = w->o.backoff_max_ms;
	w->rng = w->rng * 6364136223846793005ULL + 1442695040888963407ULL;
	/* full range jitter over the upper half: [d/2, d) */
	return d / 2 + (int64_t)((w->rng >> 33) % (uint64_t)(d / 2 + 1));
}

static void schedule_retry(struct conn *c, const char *why)
{
	struct mde_ws *w = c->w;
	if (c->up)
		count(w, &w->st.closes);
	c->wsi = NULL;
	c->up = c->killing = false;
	if (w->stop)
		return;
	int64_t d = backoff(w, c->attempt++);
	c->retry_mono = mde_mono_ms() + d;
	mde_warn("ws.reconnect", "conn=%d streams=%zu reason=\"%s\" "
		 "delay_ms=%lld", c->no, c->nsyms, why, (long long)d);
}

static void on_message(struct conn *c)
{
	struct mde_ws *w = c->w;
	mde_ws_kline k;
	bool shutdown;
	mde_err err = {0};
	int rc = mde_ws_parse(c->buf, c->blen, w->o.period_ms, &k, &shutdown,
			      &err);
	c->last_rx_mono = mde_mono_ms();
	count(w, &w->st.messages);
	if (shutdown) {
		count(w, &w->st.shutdowns);
		mde_info("ws.shutdown", "conn=%d reason=\"serverShutdown "
			 "event: reconnecting\"", c->no);
		c->killing = true;
		lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK,
				LWS_TO_KILL_ASYNC);
		return;
	}
	if (rc == MDE_ENOTFOUND)
		return;
	if (rc) {
		count(w, &w->st.malformed);
		mde_warn("ws.malformed", "conn=%d error=\"%s\" action=\"skipped; "
			 "the candle is repaired through REST\"", c->no,
			 err.msg);
		return;
	}
	size_t i = 0;
	while (i < c->nsyms && strcmp(c->syms[i], k.symbol) != 0)
		i++;
	if (i == c->nsyms)
		return;
	k.first = !c->seen[i];
	c->seen[i] = true;
	c->attempt = 0;
	k.arrival_mono_ms = c->last_rx_mono;
	enqueue(w, &k);
}

static int receive(struct conn *c, struct lws *wsi, const void *in,
		   size_t len)
{
	if (c->blen + len + 1 > c->bcap) {
		size_t cap = (c->blen + len + 1) * 2;
		char *b = realloc(c->buf, cap);
		if (!b)
			return -1;
		c->buf = b;
		c->bcap = cap;
	}
	memcpy(c->buf + c->blen, in, len);
	c->blen += len;
	c->buf[c->blen] = '\0';
	if (lws_is_final_fragment(wsi) && !lws_remaining_packet_payload(wsi)) {
		on_message(c);
		c->blen = 0;
	}
	return 0;
}

/* Streams beyond the path: SUBSCRIBE requests of SUB_BATCH streams, at
 * most 5 a second (Binance allows 10 incoming messages a second). */
static int subscribe_more(struct conn *c)
{
	int64_t now = mde_mono_ms();
	if (c->sub_next >= c->nsyms || now < c->sub_due)
		return 0;
	unsigned char buf[LWS_PRE + 4096];
	char *p = (char *)buf + LWS_PRE;
	size_t cap = 4096, n = 0;
	n += (size_t)snprintf(p, cap, "{\"method\":\"SUBSCRIBE\",\"params\":[");
	for (size_t k = 0; k < SUB_BATCH && c->sub_next < c->nsyms; k++) {
		char name[40];
		const char *sym = c->syms[c->sub_next++];
		size_t i = 0;
		for (; sym[i] && i < sizeof name - 1; i++)
			name[i] = (char)(sym[i] >= 'A' && sym[i] <= 'Z'
						 ? sym[i] - 'A' + 'a' : sym[i]);
		name[i] = '\0';
		n += (size_t)snprintf(p + n, cap - n, "%s\"%s@kline_%s\"",
				      k ? "," : "", name,
				      mde_tf_name(c->w->o.period_ms));
	}
	n += (size_t)snprintf(p + n, cap - n, "],\"id\":%d}", ++c->sub_id);
	c->sub_due = now + 200;
	if (lws_write(c->wsi, (unsigned char *)p, n, LWS_WRITE_TEXT) < (int)n)
		return -1;
	return 0;
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason,
		    void *user, void *in, size_t len)
{
	(void)user;
	struct conn *c = wsi ? lws_get_opaque_user_data(wsi) : NULL;
	if (!c)
		return 0;
	switch (reason) {
	case LWS_CALLBACK_CLIENT_ESTABLISHED:
		c->up = true;
		c->retry_mono = 0;
		c->blen = 0;
		c->last_rx_mono = mde_mono_ms();
		memset(c->seen, 0, c->nsyms * sizeof *c->seen);
		c->sub_next = c->nurl;
		c->sub_due = 0;
		if (c->sub_next < c->nsyms)
			lws_callback_on_writable(wsi);
		count(c->w, &c->w->st.connects);
		mde_info("ws.connected", "conn=%d streams=%zu", c->no, c->nsyms);
		break;
	case LWS_CALLBACK_CLIENT_RECEIVE:
		return receive(c, wsi, in, len);
	case LWS_CALLBACK_CLIENT_WRITEABLE:
		return subscribe_more(c);
	case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
		schedule_retry(c, in && len ? (const char *)in
					    : "connection error");
		break;
	case LWS_CALLBACK_CLIENT_CLOSED:
		schedule_retry(c, c->killing ? "closed by the client"
					     : "closed by the server");
		break;
	default:
		break;
	}
	return 0;
}

static const struct lws_protocols protocols[] = {
	{"mde-ws", callback, 0, 65536, 0, NULL, 0},
	{NULL, NULL, 0, 0, 0, NULL, 0}};

static void connect_one(struct conn *c)
{
	struct mde_ws *w = c->w;
	struct lws_client_connect_info ci;
	memset(&ci, 0, sizeof ci);
	ci.context = w->ctx;
	ci.address = w->host;
	ci.port = w->port;
	ci.path = c->path;
	ci.host = w->host;
	ci.origin = w->host;
	ci.ssl_connection = w->tls ? LCCSCF_USE_SSL : 0;
	ci.local_protocol_name = "mde-ws";
	ci.opaque_user_data = c;
	ci.pwsi = &c->wsi;
	c->retry_mono = 0;
	c->killing = false;
	if (!lws_client_connect_via_info(&ci))
		schedule_retry(c, "connect failed");
}

/* Every 100 ms: silent connections are closed, due ones (re)opened. */
static void tick(lws_sorted_usec_list_t *sul)
{
	struct mde_ws *w = lws_container_of(sul, struct mde_ws, sul);
	int64_t now = mde_mono_ms();
	for (size_t i = 0; i < w->nconns; i++) {
		struct conn *c = &w->conns[i];
		if (c->up && !c->killing &&
		    now - c->last_rx_mono > w->o.silence_ms) {
			count(w, &w->st.silences);
			mde_warn("ws.silence", "conn=%d silent_ms=%lld "
				 "action=\"closing and reconnecting\"", c->no,
				 (long long)(now - c->last_rx_mono));
			c->killing = true;
			lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK,
					LWS_TO_KILL_ASYNC);
		} else if (!c->wsi && c->retry_mono && now >= c->retry_mono) {
			connect_one(c);
		} else if (c->up && c->sub_next < c->nsyms &&
			   now >= c->sub_due) {
			lws_callback_on_writable(c->wsi);
		}
	}
	if (!w->stop)
		lws_sul_schedule(w->ctx, 0, &w->sul, tick, TICK_US);
}

static void *run(void *arg)
{
	struct mde_ws *w = arg;
	for (size_t i = 0; i < w->nconns; i++)
		connect_one(&w->conns[i]);
	lws_sul_schedule(w->ctx, 0, &w->sul, tick, TICK_US);
	while (!w->stop)
		if (lws_service(w->ctx, 0) < 0)
			break;
	return NULL;
}

/* ---- setup ----------------------------------------------------------- */

static int parse_url(struct mde_ws *w, const char *url, mde_err *err)
{
	const char *rest;
	if (strncmp(url, "wss://", 6) == 0) {
		w->tls = true;
		rest = url + 6;
	} else if (strncmp(url, "ws://", 5) == 0) {
		rest = url + 5;
	} else {
		return mde_err_set(err, MDE_EINVAL, false, "WebSocket URL \"%s\" "
				   "must start with ws:// or wss://", url);
	}
	size_t n = strcspn(rest, ":/");
	if (n == 0 || n >= sizeof w->host)
		return mde_err_set(err, MDE_EINVAL, false,
				   "WebSocket URL \"%s\" has no host", url);
	memcpy(w->host, rest, n);
	w->host[n] = '\0';
	w->port = w->tls ? 443 : 80;
	if (rest[n] == ':') {
		char *end;
		long p = strtol(rest + n + 1, &end, 10);
		if (p <= 0 || p > 65535 || (*end && *end != '/'))
			return mde_err_set(err, MDE_EINVAL, false, "WebSocket "
					   "URL \"%s\": bad port", url);
		w->port = (int)p;
	}
	return 0;
}

/* Appends symbol to connection c: its stream name into the path. */
static int conn_add(struct mde_ws *w, struct conn *c, const char *sym)
{
	char name[64];
	size_t n = strlen(sym);
	if (n >= 32)
		return MDE_EINVAL;
	for (size_t i = 0; i <= n; i++)
		name[i] = (char)(sym[i] >= 'A' && sym[i] <= 'Z'
					 ? sym[i] - 'A' + 'a' : sym[i]);
	size_t len = strlen(c->path);
	char add[80];
	snprintf(add, sizeof add, "%s%s@kline_%s", c->nurl ? "/" : "", name,
		 mde_tf_name(w->o.period_ms));
	if (c->nurl == c->nsyms && len + strlen(add) < PATH_MAX_LEN) {
		memcpy(c->path + len, add, strlen(add) + 1);
		c->nurl++;
	}
	char **s = realloc(c->syms, (c->nsyms + 1) * sizeof *s);
	bool *seen = realloc(c->seen, (c->nsyms + 1) * sizeof *seen);
	if (s)
		c->syms = s;
	if (seen)
		c->seen = seen;
	if (!s || !seen || !(c->syms[c->nsyms] = strdup(sym)))
		return MDE_ENOMEM;
	c->seen[c->nsyms++] = false;
	return 0;
}

static int split(struct mde_ws *w, mde_err *err)
{
	char *list = strdup(w->o.symbols ? w->o.symbols : "");
	if (!list)
		return mde_err_set(err, MDE_ENOMEM, false, "out of memory");
	int rc = 0;
	struct conn *c = NULL;
	for (char *save = NULL, *s = strtok_r(list, ",", &save); s && !rc;
	     s = strtok_r(NULL, ",", &save)) {
		if (!c || c->nsyms == (size_t)w->o.streams_per_conn) {
			void *q = realloc(w->conns,
					  (w->nconns + 1) * sizeof *w->conns);
			if (!q) {
				rc = MDE_ENOMEM;
				break;
			}
			w->conns = q;
			c = &w->conns[w->nconns];
			memset(c, 0, sizeof *c);
			c->w = w;
			c->no = (int)w->nconns++;
			snprintf(c->path, sizeof c->path, "%s?streams=",
				 w->o.path);
		}
		rc = conn_add(w, c, s);
	}
	free(list);
	if (!rc && w->nconns == 0)
		rc = MDE_EINVAL;
	if (rc)
		return mde_err_set(err, rc, false, "cannot subscribe to "
				   "\"%s\": give a list of symbols",
				   w->o.symbols ? w->o.symbols : "");
	return 0;
}

static void ws_free(struct mde_ws *w)
{
	for (size_t i = 0; i < w->nconns; i++) {
		struct conn *c = &w->conns[i];
		for (size_t k = 0; k < c->nsyms; k++)
			free(c->syms[k]);
		free(c->syms);
		free(c->seen);
		free(c->buf);
	}
	free(w->conns);
	free(w->q);
	pthread_mutex_destroy(&w->mu);
	pthread_cond_destroy(&w->cv);
	free(w);
}

static int context(struct mde_ws *w, mde_err *err)
{
	struct lws_context_creation_info info;
	memset(&info, 0, sizeof info);
	info.port = CONTEXT_PORT_NO_LISTEN;
	info.protocols = protocols;
	info.options = w->tls ? LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT : 0;
	info.pt_serv_buf_size = 32768; /* 200 stream names in the path */
	info.max_http_header_data = 16384;
	info.fd_limit_per_thread = 64 + (unsigned)w->nconns;
	lws_set_log_level(getenv("MDE_WS_DEBUG") ? LLL_ERR | LLL_WARN | LLL_NOTICE | LLL_INFO : LLL_ERR, NULL);
	w->ctx = lws_create_context(&info);
	if (!w->ctx)
		return mde_err_set(err, MDE_ENET, false,
				   "cannot create the WebSocket context");
	return 0;
}

int mde_ws_start(mde_ws **out, const mde_ws_opts *o, mde_err *err)
{
	*out = NULL;
	struct mde_ws *w = calloc(1, sizeof *w);
	if (!w)
		return mde_err_set(err, MDE_ENOMEM, false, "out of memory");
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv, NULL);
	w->o = *o;
	w->o.path = o->path && *o->path ? o->path : "/stream";
	if (w->o.streams_per_conn <= 0)
		w->o.streams_per_conn = 200;
	if (w->o.silence_ms <= 0)
		w->o.silence_ms = 300000;
	if (w->o.backoff_base_ms <= 0)
		w->o.backoff_base_ms = 500;
	if (w->o.backoff_max_ms <= 0)
		w->o.backoff_max_ms = 30000;
	w->rng = (uint64_t)mde_now_ms() ^ (uint64_t)(uintptr_t)w;
	snprintf(w->url, sizeof w->url, "%s", o->url ? o->url : "");
	int rc = parse_url(w, w->url, err);
	if (!rc)
		rc = split(w, err);
	if (!rc)
		rc = context(w, err);
	if (!rc && pthread_create(&w->th, NULL, run, w) != 0)
		rc = mde_err_set(err, MDE_ENOMEM, false,
				 "cannot start the WebSocket thread");
	if (rc) {
		if (w->ctx)
			lws_context_destroy(w->ctx);
		ws_free(w);
		return rc;
	}
	w->started = true;
	mde_info("ws.start", "url=%s connections=%zu", w->url, w->nconns);
	*out = w;
	return 0;
}

void mde_ws_stop(mde_ws *w)
{
	if (!w)
		return;
	w->stop = 1;
	lws_cancel_service(w->ctx);
	pthread_join(w->th, NULL);
	lws_context_destroy(w->ctx);
	ws_free(w);
}
