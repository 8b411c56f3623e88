/*
 * fake_exchange.c - see fake_exchange.h. Data lives in small arrays
 * searched linearly (a test loads a handful of series); rows of one series
 * are kept sorted by time so a page is a binary search plus a copy.
 */
#include "fake_exchange.h"

#include <arpa/inet.h>
#include <math.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <microhttpd.h>

#include "clients.h"
#include "source.h"
#include "timeutil.h"

#define TXT 32

struct krow {
	int64_t t;
	char f[MDE_NFIELDS][TXT];
	int64_t trades;
	char *json;        /* the row as served, made when put or amended */
	size_t jlen;
};

struct kseries {
	int market;
	char sym[32];
	int64_t period;
	size_t n, cap;
	struct krow *r;
};

struct arow {
	int64_t t;
	char v[TXT];
};

struct aseries {
	int kind;
	char sym[32];
	int64_t period;
	size_t n, cap;
	struct arow *r;
};

struct ebar {
	int64_t day;
	double v[5];
};

struct eseries {
	char sym[32];
	size_t n, cap;
	struct ebar *r;
};

struct fault {
	char prefix[64];
	int kind, skip, count, arg;
};

struct fx {
	struct MHD_Daemon *d;
	int port;
	char url[64];
	fx_opts o;
	char polygon_key[128];
	pthread_mutex_t mu;
	struct kseries *ks;
	size_t nks;
	struct aseries *as;
	size_t nas;
	struct eseries *es;
	size_t nes;
	struct fault faults[32];
	size_t nfaults;
	fx_req *reqs;
	size_t nreqs, capreqs;
	int64_t win, used, max_used;
	size_t violations;
	size_t conns;
	int inflight, max_inflight;
	char next_base[128];
	uint64_t version;    /* bumped by every change of the data */
	int64_t aux_until;      /* aux rows from here on not served; 0 = all */
};

/* ---- a growing string ------------------------------------------------ */

void fx_buf_put(fx_buf *b, const char *p, size_t n)
{
	if (mde_grow_bytes((void **)&b->p, &b->cap, b->n + n + 1, 4096))
		return;
	memcpy(b->p + b->n, p, n);
	b->n += n;
	b->p[b->n] = '\0';
}

void fx_buf_add(fx_buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int k = vsnprintf(b->p ? b->p + b->n : NULL, b->cap - b->n, fmt, ap);
	va_end(ap);
	if (k < 0 || (size_t)k < b->cap - b->n) {
		b->n += k < 0 ? 0 : (size_t)k;
		return;
	}
	if (mde_grow_bytes((void **)&b->p, &b->cap, b->n + (size_t)k + 1, 4096))
		return;
	va_start(ap, fmt);
	vsnprintf(b->p + b->n, b->cap - b->n, fmt, ap);
	va_end(ap);
	b->n += (size_t)k;
}

/* ---- data ------------------------------------------------------------ */

static struct kseries *kfind(fx *x, int market, const char *sym,
			     int64_t period, int create)
{
	for (size_t i = 0; i < x->nks; i++)
		if (x->ks[i].market == market && x->ks[i].period == period &&
		    strcmp(x->ks[i].sym, sym) == 0)
			return &x->ks[i];
	if (!create)
		return NULL;
	struct kseries *n = realloc(x->ks, (x->nks + 1) * sizeof *n);
	if (!n)
		return NULL;
	x->ks = n;
	struct kseries *s = &x->ks[x->nks++];
	memset(s, 0, sizeof *s);
	s->market = market;
	s->period = period;
	snprintf(s->sym, sizeof s->sym, "%s", sym);
	return s;
}

/* The row as Binance serves it, made when the row is put or amended:
 * a page is then copies of its rows' text, the fake's CPU left to the
 * program it serves. */
static void kline_json(struct krow *w, int64_t p)
{
	char t[512];
	int n = snprintf(t, sizeof t, "[%lld,\"%s\",\"%s\",\"%s\",\"%s\",\"%s\","
			 "%lld,\"%s\",%lld,\"%s\",\"%s\",\"0\"]",
			 (long long)w->t, w->f[MDE_OPEN], w->f[MDE_HIGH],
			 w->f[MDE_LOW], w->f[MDE_CLOSE], w->f[MDE_VOLUME],
			 (long long)(w->t + p - 1), w->f[MDE_QUOTE_VOLUME],
			 (long long)w->trades, w->f[MDE_TAKER_BUY_BASE],
			 w->f[MDE_TAKER_BUY_QUOTE]);
	free(w->json);
	w->json = strdup(t); /* 9 fields of TXT bytes: it fits */
	w->jlen = w->json ? (size_t)n : 0;
}

static int kput(struct kseries *s, const struct krow *row)
{
	/* insert keeping order; replace an equal time */
	size_t lo = 0, hi = s->n;
	while (lo < hi) {
		size_t m = (lo + hi) / 2;
		if (s->r[m].t < row->t)
			lo = m + 1;
		else
			hi = m;
	}
	if (lo < s->n && s->r[lo].t == row->t) {
		free(s->r[lo].json);
		s->r[lo] = *row;
		s->r[lo].json = NULL;
		kline_json(&s->r[lo], s->period);
		return 0;
	}
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 1024;
		struct krow *r = realloc(s->r, cap * sizeof *r);
		if (!r)
			return -1;
		s->r = r;
		s->cap = cap;
	}
	memmove(&s->r[lo + 1], &s->r[lo], (s->n - lo) * sizeof *row);
	s->r[lo] = *row;
	s->r[lo].json = NULL;
	kline_json(&s->r[lo], s->period);
	s->n++;
	return 0;
}

int fx_add_klines(fx *x, int market, const char *sym, int64_t period_ms,
		  const mde_candles *c)
{
	int rc = 0;
	pthread_mutex_lock(&x->mu);
	x->version++;
	struct kseries *s = kfind(x, market, sym, period_ms, 1);
	for (size_t i = 0; s && i < c->n && rc == 0; i++) {
		struct krow row = {.t = c->open_time_ms[i],
				   .trades = c->trades[i]};
		for (int f = 0; f < MDE_NFIELDS; f++) {
			const char *t = mde_candles_text(c, i, f);
			snprintf(row.f[f], TXT, "%s", t ? t : "0");
		}
		rc = kput(s, &row);
	}
	pthread_mutex_unlock(&x->mu);
	return s ? rc : -1;
}

int fx_add_synthetic(fx *x, int market, const char *sym, int64_t period_ms,
		     int64_t start_ms, size_t n, uint64_t seed)
{
	int rc = 0;
	uint64_t st = seed * 2862933555777941757ULL + 3037000493ULL;
	double price = 100.0 + (double)(seed % 900);
	pthread_mutex_lock(&x->mu);
	x->version++;
	struct kseries *s = kfind(x, market, sym, period_ms, 1);
	for (size_t i = 0; s && i < n && rc == 0; i++) {
		st = st * 6364136223846793005ULL + 1442695040888963407ULL;
		double u = (double)(st >> 11) / 9007199254740992.0 - 0.5;
		double o = price, c = price * (1 + u * 0.01);
		double h = (o > c ? o : c) * 1.002, l = (o < c ? o : c) * 0.998;
		double v = 100 + (double)(st >> 40) / 1e4;
		struct krow row = {.t = start_ms + (int64_t)i * period_ms,
				   .trades = (int64_t)(st >> 50)};
		double vals[MDE_NFIELDS] = {o, h, l, c, v, v * c, v * 0.5,
					    v * c * 0.5};
		for (int f = 0; f < MDE_NFIELDS; f++)
			snprintf(row.f[f], TXT, "%.2f", vals[f]);
		snprintf(row.f[MDE_VOLUME], TXT, "%.3f", v);
		snprintf(row.f[MDE_TAKER_BUY_BASE], TXT, "%.3f", v * 0.4);
		rc = kput(s, &row);
		price = c;
	}
	pthread_mutex_unlock(&x->mu);
	return s ? rc : -1;
}

int fx_add_aux(fx *x, int kind, const char *sym, int64_t period_ms,
	       int64_t t_ms, const char *value)
{
	int rc = -1;
	pthread_mutex_lock(&x->mu);
	x->version++;
	struct aseries *s = NULL;
	for (size_t i = 0; i < x->nas; i++)
		if (x->as[i].kind == kind && x->as[i].period == period_ms &&
		    strcmp(x->as[i].sym, sym) == 0)
			s = &x->as[i];
	if (!s) {
		struct aseries *n = realloc(x->as, (x->nas + 1) * sizeof *n);
		if (!n)
			goto done;
		x->as = n;
		s = &x->as[x->nas++];
		memset(s, 0, sizeof *s);
		s->kind = kind;
		s->period = period_ms;
		snprintf(s->sym, sizeof s->sym, "%s", sym);
	}
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 256;
		struct arow *r = realloc(s->r, cap * sizeof *r);
		if (!r)
			goto done;
		s->r = r;
		s->cap = cap;
	}
	size_t i = s->n;
	while (i > 0 && s->r[i - 1].t > t_ms) /* keep sorted */
		i--;
	memmove(&s->r[i + 1], &s->r[i], (s->n - i) * sizeof *s->r);
	s->r[i].t = t_ms;
	snprintf(s->r[i].v, TXT, "%s", value);
	s->n++;
	rc = 0;
done:
	pthread_mutex_unlock(&x->mu);
	return rc;
}

int fx_add_equity(fx *x, const char *sym, int64_t day_ms, double o,
		  double h, double l, double c, double v)
{
	int rc = -1;
	pthread_mutex_lock(&x->mu);
	x->version++;
	struct eseries *s = NULL;
	for (size_t i = 0; i < x->nes; i++)
		if (strcmp(x->es[i].sym, sym) == 0)
			s = &x->es[i];
	if (!s) {
		struct eseries *n = realloc(x->es, (x->nes + 1) * sizeof *n);
		if (!n)
			goto done;
		x->es = n;
		s = &x->es[x->nes++];
		memset(s, 0, sizeof *s);
		snprintf(s->sym, sizeof s->sym, "%s", sym);
	}
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 256;
		struct ebar *r = realloc(s->r, cap * sizeof *r);
		if (!r)
			goto done;
		s->r = r;
		s->cap = cap;
	}
	s->r[s->n++] = (struct ebar){day_ms, {o, h, l, c, v}};
	rc = 0;
done:
	pthread_mutex_unlock(&x->mu);
	return rc;
}

int fx_amend(fx *x, int market, const char *sym, int64_t period_ms,
	     int64_t open_ms, const char *open, const char *high,
	     const char *low, const char *close, const char *volume)
{
	int rc = -1;
	const char *v[5] = {open, high, low, close, volume};
	pthread_mutex_lock(&x->mu);
	x->version++;
	struct kseries *s = kfind(x, market, sym, period_ms, 0);
	for (size_t i = 0; s && i < s->n; i++) {
		if (s->r[i].t != open_ms)
			continue;
		for (int f = 0; f < 5; f++)
			if (v[f])
				snprintf(s->r[i].f[f], TXT, "%s", v[f]);
		kline_json(&s->r[i], s->period);
		rc = 0;
	}
	pthread_mutex_unlock(&x->mu);
	return rc;
}

void fx_set_now(fx *x, int64_t now_ms)
{
	pthread_mutex_lock(&x->mu);
	x->o.now_ms = now_ms;
	pthread_mutex_unlock(&x->mu);
}

void fx_fault(fx *x, const char *prefix, int fault, int skip, int count,
	      int arg)
{
	pthread_mutex_lock(&x->mu);
	if (x->nfaults < MDE_ARRAY_LEN(x->faults)) {
		struct fault *f = &x->faults[x->nfaults++];
		snprintf(f->prefix, sizeof f->prefix, "%s", prefix);
		f->kind = fault;
		f->skip = skip;
		f->count = count;
		f->arg = arg;
	}
	pthread_mutex_unlock(&x->mu);
}

void fx_clear_faults(fx *x)
{
	pthread_mutex_lock(&x->mu);
	x->nfaults = 0;
	pthread_mutex_unlock(&x->mu);
}

size_t fx_nreq(fx *x)
{
	pthread_mutex_lock(&x->mu);
	size_t n = x->nreqs;
	pthread_mutex_unlock(&x->mu);
	return n;
}

int fx_get_req(fx *x, size_t i, fx_req *out)
{
	int rc = -1;
	pthread_mutex_lock(&x->mu);
	if (i < x->nreqs) {
		*out = x->reqs[i];
		rc = 0;
	}
	pthread_mutex_unlock(&x->mu);
	return rc;
}

void fx_clear_reqs(fx *x)
{
	pthread_mutex_lock(&x->mu);
	x->nreqs = 0;
	x->violations = 0;
	x->max_used = 0;
	pthread_mutex_unlock(&x->mu);
}

size_t fx_weight_violations(fx *x)
{
	pthread_mutex_lock(&x->mu);
	size_t n = x->violations;
	pthread_mutex_unlock(&x->mu);
	return n;
}

int64_t fx_max_used_weight(fx *x)
{
	pthread_mutex_lock(&x->mu);
	int64_t n = x->max_used;
	pthread_mutex_unlock(&x->mu);
	return n;
}

/* ---- loading a replay directory --------------------------------------- */

#include <dirent.h>

static const mde_window all = {INT64_MIN / 4, INT64_MAX / 4, INT64_MAX / 4,
			       0};

static int load_file(fx *x, const char *dir, const char *sym,
		     const char *name)
{
	char path[1024];
	char *body = NULL;
	size_t len;
	int rc = -1;
	snprintf(path, sizeof path, "%s/%s/%s", dir, sym, name);
	if (mde_read_file(path, (size_t)512 << 20, &body, &len, NULL))
		return -1;
	mde_candles c = {0};
	mde_aux a = {0};
	mde_page pg;
	int64_t p = 0;
	char tf[8] = "";
	const char *us = strrchr(name, '_');
	if (us && sscanf(us + 1, "%7[0-9a-z]", tf) == 1 &&
	    mde_tf_parse(tf, &p) != 0)
		p = 0;
	mde_window w = all;
	w.period_ms = p;
	if (strncmp(name, "klines_", 7) == 0 && p) {
		if (mde_binance_parse_klines(body, len, MDE_SRC_REPLAY, &w, &c,
					     &pg, NULL) == 0 &&
		    fx_add_klines(x, FX_FUTURES, sym, p, &c) == 0 &&
		    fx_add_klines(x, FX_SPOT, sym, p, &c) == 0)
			rc = 0;
	} else if (strncmp(name, "chart_1d", 8) == 0) {
		w.period_ms = MDE_DAY_MS;
		rc = mde_yahoo_parse_chart(body, len, MDE_SRC_REPLAY, &w, &c,
					   &pg, NULL);
		for (size_t i = 0; rc == 0 && i < c.n; i++)
			rc = fx_add_equity(x, sym, c.open_time_ms[i],
					   c.val[MDE_OPEN][i], c.val[MDE_HIGH][i],
					   c.val[MDE_LOW][i],
					   c.val[MDE_CLOSE][i],
					   c.val[MDE_VOLUME][i]);
	} else {
		int kind = strncmp(name, "funding", 7) == 0 ? MDE_AUX_FUNDING
			   : strncmp(name, "open_interest", 13) == 0
				   ? MDE_AUX_OPEN_INTEREST
			   : strncmp(name, "long_short", 10) == 0
				   ? MDE_AUX_LONG_SHORT
			   : strncmp(name, "taker", 5) == 0 ? MDE_AUX_TAKER
							    : -1;
		if (kind == MDE_AUX_FUNDING)
			rc = mde_binance_parse_funding(body, len, &w, &a, &pg,
						       NULL);
		else if (kind >= 0)
			rc = mde_binance_parse_futdata(body, len, kind, &w,
						       INT64_MIN, &a, &pg, NULL);
		/* an aux file without a period suffix is served for any
		 * period: store it under 0 and look it up as a fallback */
		for (size_t i = 0; kind >= 0 && rc == 0 && i < a.n; i++) {
			char v[40];
			mde_fmt_double(v, sizeof v, a.v[i]);
			rc = fx_add_aux(x, kind, sym,
					kind == MDE_AUX_FUNDING ? 0 : p, a.t[i],
					v);
		}
	}
	mde_candles_free(&c);
	mde_aux_free(&a);
	free(body);
	return rc;
}

int fx_load_dir(fx *x, const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return -1;
	struct dirent *e;
	int rc = 0;
	while ((e = readdir(d)) && rc == 0) {
		if (e->d_name[0] == '.')
			continue;
		char sub[1024];
		snprintf(sub, sizeof sub, "%s/%s", dir, e->d_name);
		DIR *s = opendir(sub);
		if (!s)
			continue;
		struct dirent *g;
		while ((g = readdir(s)) && rc == 0)
			if (strstr(g->d_name, ".json"))
				rc = load_file(x, dir, e->d_name, g->d_name);
		closedir(s);
	}
	closedir(d);
	return rc;
}


/* ---- serving ---------------------------------------------------------- */

struct reply {
	int status;
	fx_buf body;
	const char *ctype;
	int retry_after;          /* seconds, -1 = none */
	bool reset;
	bool weight_header;
};

static int64_t xnow(const fx *x)
{
	return x->o.now_ms ? x->o.now_ms : mde_now_ms();
}

static const char *arg(struct MHD_Connection *c, const char *k)
{
	return MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, k);
}

static bool arg_i64(struct MHD_Connection *c, const char *k, int64_t *v)
{
	const char *s = arg(c, k);
	if (!s || !*s)
		return false;
	char *end;
	long long x = strtoll(s, &end, 10);
	if (*end)
		return false;
	*v = x;
	return true;
}

static void binance_err(struct reply *r, int status, int code,
			const char *msg)
{
	r->status = status;
	r->body.n = 0;
	fx_buf_add(&r->body, "{\"code\":%d,\"msg\":\"%s\"}", code, msg);
}

/* First index with t >= v. */
static size_t lower(const int64_t *ts, size_t stride, size_t n, int64_t v)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t m = (lo + hi) / 2;
		if (*(const int64_t *)((const char *)ts + m * stride) < v)
			lo = m + 1;
		else
			hi = m;
	}
	return lo;
}

/* Binance's startTime/endTime/limit rule over n sorted rows:
 * [*a, *b) is the page. */
static void page_range(const int64_t *ts, size_t stride, size_t n,
		       bool has_s, int64_t s, bool has_e, int64_t e,
		       size_t limit, size_t *a, size_t *b)
{
	size_t hi = has_e ? lower(ts, stride, n, e + 1) : n;
	if (has_s) {
		*a = lower(ts, stride, n, s);
		*b = *a + limit < hi ? *a + limit : hi;
		if (*a > *b)
			*a = *b;
	} else {
		*b = hi;
		*a = hi > limit ? hi - limit : 0;
	}
}

static void serve_klines(fx *x, struct MHD_Connection *c, bool spot,
			 int fault, struct reply *r)
{
	const char *sym = arg(c, "symbol"), *iv = arg(c, "interval");
	int64_t s = 0, e = 0, lim = 500, p;
	bool hs = arg_i64(c, "startTime", &s), he = arg_i64(c, "endTime", &e);
	arg_i64(c, "limit", &lim);
	if (!sym || !iv || mde_tf_parse(iv, &p) != 0)
		return binance_err(r, 400, -1120, "Invalid interval.");
	if (lim < 1 || lim > (spot ? 1000 : 1500))
		return binance_err(r, 400, -1130,
				   "Data sent for parameter 'limit' is not "
				   "valid.");
	struct kseries *k = kfind(x, spot ? FX_SPOT : FX_FUTURES, sym, p, 0);
	if (!k)
		return binance_err(r, 400, -1121, "Invalid symbol.");
	/* like Binance: rows up to now, the open one included */
	size_t n = lower(&k->r[0].t, sizeof *k->r, k->n, xnow(x) + 1);
	size_t a, b;
	page_range(&k->r[0].t, sizeof *k->r, n, hs, s, he, e, (size_t)lim, &a,
		   &b);
	if (fault == FX_EMPTY)
		b = a;
	fx_buf_add(&r->body, "[");
	bool row_fault = fault == FX_WRONG_TYPES || fault == FX_GARBAGE_NUM ||
			 fault == FX_MISSING || fault == FX_WRONG_LEN;
	for (size_t i = a; i < b; i++) {
		const struct krow *w = &k->r[i];
		const char *open = w->f[MDE_OPEN];
		bool first = i == a;
		if (i > a)
			fx_buf_put(&r->body, ",", 1);
		if (!(first && row_fault)) {
			fx_buf_put(&r->body, w->json, w->jlen);
			continue;
		}
		/* the first row, broken */
		fx_buf_add(&r->body, "[%lld,", (long long)w->t);
		if (fault == FX_WRONG_TYPES)
			fx_buf_add(&r->body, "%s,", open);
		else if (fault == FX_GARBAGE_NUM)
			fx_buf_add(&r->body, "\"93x48.80\",");
		else
			fx_buf_add(&r->body, "\"%s\",", open);
		fx_buf_add(&r->body, "\"%s\",\"%s\",", w->f[MDE_HIGH], w->f[MDE_LOW]);
		if (fault != FX_MISSING)
			fx_buf_add(&r->body, "\"%s\",", w->f[MDE_CLOSE]);
		fx_buf_add(&r->body, "\"%s\",%lld,\"%s\",%lld,\"%s\",\"%s\"",
		       w->f[MDE_VOLUME], (long long)(w->t + p - 1),
		       w->f[MDE_QUOTE_VOLUME], (long long)w->trades,
		       w->f[MDE_TAKER_BUY_BASE], w->f[MDE_TAKER_BUY_QUOTE]);
		if (fault != FX_WRONG_LEN)
			fx_buf_add(&r->body, ",\"0\"");
		fx_buf_add(&r->body, "]");
	}
	fx_buf_add(&r->body, "]");
}

static struct aseries *afind(fx *x, int kind, const char *sym, int64_t p)
{
	struct aseries *any = NULL;
	for (size_t i = 0; i < x->nas; i++) {
		struct aseries *s = &x->as[i];
		if (s->kind != kind || strcmp(s->sym, sym) != 0)
			continue;
		if (s->period == p)
			return s;
		if (s->period == 0)
			any = s;
	}
	return any;
}

struct fref {
	int64_t t;
	const struct aseries *a;
	size_t i;
};

static int fref_cmp(const void *pa, const void *pb)
{
	const struct fref *a = pa, *b = pb;
	if (a->t != b->t)
		return a->t < b->t ? -1 : 1;
	return strcmp(a->a->sym, b->a->sym);
}

/* /fapi/v1/fundingRate without a symbol: every symbol's events in time
 * order (then by symbol), paged like one series. */
static void serve_funding_all(fx *x, bool hs, int64_t s, bool he, int64_t e,
			      size_t lim, int fault, struct reply *r)
{
	int64_t upto = xnow(x) + 1;
	if (x->aux_until && x->aux_until < upto)
		upto = x->aux_until;
	size_t n = 0, cap = 0;
	struct fref *v = NULL;
	for (size_t k = 0; k < x->nas; k++) {
		const struct aseries *a = &x->as[k];
		if (a->kind != MDE_AUX_FUNDING)
			continue;
		for (size_t i = 0; i < a->n && a->r[i].t < upto; i++) {
			if ((hs && a->r[i].t < s) || (he && a->r[i].t > e))
				continue;
			if (n == cap) {
				cap = cap ? 2 * cap : 1024;
				struct fref *q = realloc(v, cap * sizeof *v);
				if (!q) {
					free(v);
					r->status = 500;
					return;
				}
				v = q;
			}
			v[n++] = (struct fref){a->r[i].t, a, i};
		}
	}
	qsort(v, n, sizeof *v, fref_cmp);
	size_t i0 = 0, i1 = n < lim ? n : lim;
	if (!hs && n > lim) { /* no start: the most recent */
		i0 = n - lim;
		i1 = n;
	}
	if (fault == FX_EMPTY)
		i1 = i0;
	fx_buf_add(&r->body, "[");
	for (size_t i = i0; i < i1; i++)
		fx_buf_add(&r->body, "%s{\"symbol\":\"%s\",\"fundingTime\":%lld,"
		       "\"fundingRate\":\"%s\",\"markPrice\":\"\"}",
		       i > i0 ? "," : "", v[i].a->sym, (long long)v[i].t,
		       v[i].a->r[v[i].i].v);
	fx_buf_add(&r->body, "]");
	free(v);
}

static void serve_aux(fx *x, struct MHD_Connection *c, int kind,
		      int fault, struct reply *r)
{
	static const char *const field[] = {
		[MDE_AUX_OPEN_INTEREST] = "sumOpenInterest",
		[MDE_AUX_LONG_SHORT] = "longShortRatio",
		[MDE_AUX_TAKER] = "buySellRatio"};
	const char *sym = arg(c, "symbol"), *pn = arg(c, "period");
	int64_t s = 0, e = 0, p = 0;
	int64_t lim = kind == MDE_AUX_FUNDING ? 100 : 30;
	bool hs = arg_i64(c, "startTime", &s), he = arg_i64(c, "endTime", &e);
	arg_i64(c, "limit", &lim);
	if (!sym && (kind != MDE_AUX_FUNDING || x->o.funding_needs_symbol))
		return binance_err(r, 400, -1102, "Mandatory parameter "
						  "'symbol' was not sent.");
	if (!sym) {
		if (lim < 1 || lim > 1000)
			return binance_err(r, 400, -1130, "Invalid limit.");
		return serve_funding_all(x, hs, s, he, e, (size_t)lim, fault,
					 r);
	}
	if (kind != MDE_AUX_FUNDING) {
		if (!pn || mde_tf_parse(pn, &p) != 0 || p < 5 * MDE_MINUTE_MS)
			return binance_err(r, 400, -1130, "Invalid period.");
		if (lim < 1 || lim > 500)
			return binance_err(r, 400, -1130, "Invalid limit.");
		if (hs && s < xnow(x) - 30 * MDE_DAY_MS)
			return binance_err(r, 400, -1130,
					   "parameter 'startTime' is invalid.");
	} else if (lim < 1 || lim > 1000) {
		return binance_err(r, 400, -1130, "Invalid limit.");
	}
	struct aseries *a = afind(x, kind, sym, p);
	fx_buf_add(&r->body, "[");
	if (!a || fault == FX_EMPTY) {
		fx_buf_add(&r->body, "]");
		return;
	}
	int64_t upto = xnow(x) + 1;
	if (x->aux_until && x->aux_until < upto)
		upto = x->aux_until;
	size_t n = lower(&a->r[0].t, sizeof *a->r, a->n, upto), i0, i1;
	page_range(&a->r[0].t, sizeof *a->r, n, hs, s, he, e, (size_t)lim,
		   &i0, &i1);
	for (size_t i = i0; i < i1; i++) {
		bool first = i == i0;
		const char *v = a->r[i].v;
		fx_buf_add(&r->body, "%s{", i > i0 ? "," : "");
		if (kind != MDE_AUX_TAKER)
			fx_buf_add(&r->body, "\"symbol\":\"%s\",", sym);
		const char *name = kind == MDE_AUX_FUNDING ? "fundingRate"
							   : field[kind];
		if (first && fault == FX_MISSING)
			;
		else if (first && fault == FX_WRONG_TYPES)
			fx_buf_add(&r->body, "\"%s\":%s,", name, v);
		else if (first && fault == FX_GARBAGE_NUM)
			fx_buf_add(&r->body, "\"%s\":\"1x5\",", name);
		else
			fx_buf_add(&r->body, "\"%s\":\"%s\",", name, v);
		if (kind == MDE_AUX_FUNDING)
			fx_buf_add(&r->body, "\"fundingTime\":%lld,\"markPrice\":\"\"}",
			       (long long)a->r[i].t);
		else if (x->o.ts_as_string)
			fx_buf_add(&r->body, "\"timestamp\":\"%lld\"}",
			       (long long)a->r[i].t);
		else
			fx_buf_add(&r->body, "\"timestamp\":%lld}",
			       (long long)a->r[i].t);
	}
	fx_buf_add(&r->body, "]");
}

static struct eseries *efind(fx *x, const char *sym)
{
	for (size_t i = 0; i < x->nes; i++)
		if (strcmp(x->es[i].sym, sym) == 0)
			return &x->es[i];
	return NULL;
}

static void serve_yahoo(fx *x, struct MHD_Connection *c, const char *sym,
			int fault, struct reply *r)
{
	static const char *const q[5] = {"open", "high", "low", "close",
					 "volume"};
	int64_t p1 = 0, p2 = 0;
	arg_i64(c, "period1", &p1);
	arg_i64(c, "period2", &p2);
	struct eseries *s = efind(x, sym);
	if (!s) {
		r->status = 404;
		fx_buf_add(&r->body, "{\"chart\":{\"result\":null,\"error\":{\"code\":"
				 "\"Not Found\",\"description\":\"No data found, "
				 "symbol may be delisted\"}}}");
		return;
	}
	/* session open 13:30 UTC, as Yahoo stamps US equities */
	size_t idx[4096], n = 0;
	for (size_t i = 0; i < s->n && n < 4096; i++) {
		int64_t st = s->r[i].day / 1000 + 13 * 3600 + 1800;
		if (st >= p1 && st < p2 && fault != FX_EMPTY)
			idx[n++] = i;
	}
	fx_buf_add(&r->body, "{\"chart\":{\"result\":[{\"meta\":{\"currency\":"
			 "\"USD\",\"symbol\":\"%s\",\"exchangeTimezoneName\":"
			 "\"America/New_York\"}", sym);
	if (n) {
		fx_buf_add(&r->body, ",\"timestamp\":[");
		for (size_t i = 0; i < n; i++)
			fx_buf_add(&r->body, "%s%lld", i ? "," : "",
			       (long long)(s->r[idx[i]].day / 1000 + 48600));
		fx_buf_add(&r->body, "],\"indicators\":{\"quote\":[{");
		for (int k = 4; k >= 0; k--) { /* any key order will do */
			fx_buf_add(&r->body, "\"%s\":[", q[k]);
			for (size_t i = 0; i < n; i++) {
				if (i == 0 && k == 0 && fault == FX_WRONG_TYPES)
					fx_buf_add(&r->body, "\"x\"");
				else
					fx_buf_add(&r->body, "%s%.17g", i ? "," : "",
					       s->r[idx[i]].v[k]);
			}
			fx_buf_add(&r->body, "]%s", k ? "," : "");
		}
		fx_buf_add(&r->body, "}]}");
	} else {
		fx_buf_add(&r->body, ",\"indicators\":{\"quote\":[{}]}");
	}
	fx_buf_add(&r->body, "}],\"error\":null}}");
}

static int64_t parse_day(const char *s)
{
	int64_t v;
	if (strlen(s) == 10 && s[4] == '-' && mde_time_parse(s, &v) == 0)
		return v;
	char *end;
	long long x = strtoll(s, &end, 10);
	return *end ? INT64_MIN : x;
}

static void serve_polygon(fx *x, struct MHD_Connection *c, const char *url,
			  int fault, struct reply *r)
{
	char sym[64], unit[16], from[32], to[32];
	int mult;
	const char *auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
						       "Authorization");
	char want[200];
	snprintf(want, sizeof want, "Bearer %s", x->polygon_key);
	if (!auth || strcmp(auth, want) != 0) {
		r->status = 401;
		fx_buf_add(&r->body, "{\"status\":\"ERROR\",\"request_id\":\"x\","
				 "\"error\":\"API Key was not provided\"}");
		return;
	}
	if (sscanf(url, "/v2/aggs/ticker/%63[^/]/range/%d/%15[^/]/%31[^/]/%31s",
		   sym, &mult, unit, from, to) != 5 ||
	    strcmp(unit, "day") != 0) {
		r->status = 400;
		fx_buf_add(&r->body, "{\"status\":\"ERROR\",\"error\":\"bad path\"}");
		return;
	}
	int64_t a = parse_day(from), b = parse_day(to), cur = 0;
	arg_i64(c, "cursor", &cur);
	if (b != INT64_MIN && strlen(to) == 10)
		b += MDE_DAY_MS - 1; /* a date "to" is inclusive */
	struct eseries *s = efind(x, sym);
	size_t page = x->o.polygon_page ? x->o.polygon_page : 50000, k = 0;
	fx_buf_add(&r->body, "{\"ticker\":\"%s\",\"adjusted\":true", sym);
	bool more = false;
	size_t i = (size_t)cur;
	if (s && fault != FX_EMPTY) {
		for (; i < s->n; i++) {
			int64_t t = s->r[i].day + 4 * MDE_HOUR_MS;
			if (t < a || t > b)
				continue;
			if (k == page) {
				more = true;
				break;
			}
			fx_buf_add(&r->body, "%s{\"v\":%.6e,\"o\":%.17g,\"c\":%.17g,"
					 "\"h\":%.17g,\"l\":%.17g,\"t\":%lld,"
					 "\"n\":%zu}",
			       k ? "," : ",\"results\":[", s->r[i].v[4],
			       s->r[i].v[0], s->r[i].v[3], s->r[i].v[1],
			       s->r[i].v[2], (long long)t, 1000 + i);
			k++;
		}
	}
	if (k)
		fx_buf_add(&r->body, "]");
	fx_buf_add(&r->body, ",\"resultsCount\":%zu,\"status\":\"OK\","
			 "\"request_id\":\"r%zu\"", k, k);
	if (more)
		fx_buf_add(&r->body, ",\"next_url\":\"%s%s?cursor=%zu&adjusted=true"
				 "&sort=asc&limit=50000\"",
		       x->next_base[0] ? x->next_base : x->url, url, i);
	fx_buf_add(&r->body, "}");
}

static int weight_of(const char *url, struct MHD_Connection *c)
{
	int64_t lim = 500;
	arg_i64(c, "limit", &lim);
	if (strcmp(url, "/fapi/v1/klines") == 0)
		return mde_binance_klines_weight((int)lim);
	if (strcmp(url, "/api/v3/klines") == 0)
		return 2;
	if (strcmp(url, "/fapi/v1/fundingRate") == 0)
		return 1;
	return 0;
}

static enum MHD_Result collect(void *cls, enum MHD_ValueKind kind,
			       const char *k, const char *v)
{
	fx_buf *b = cls;
	fx_buf_add(b, "%s%s=%s", b->n ? "&" : "", k, v ? v : "");
	return MHD_YES;
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *c,
			       const char *url, const char *method,
			       const char *version, const char *upload,
			       size_t *upload_len, void **state)
{
	static int first_call;
	if (*state == NULL) { /* headers only so far: answer on the next call */
		*state = &first_call;
		return MHD_YES;
	}
	fx *x = cls;
	struct reply r = {.status = 200, .ctype = "application/json",
			  .retry_after = -1};
	fx_req rec = {.mono_ms = mde_mono_ms(), .wall_ms = mde_now_ms()};
	fx_buf q = {0};
	int fault = 0, farg = 0;
	MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, collect, &q);
	const char *auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
						       "Authorization");
	snprintf(rec.path, sizeof rec.path, "%s", url);
	snprintf(rec.query, sizeof rec.query, "%s", q.p ? q.p : "");
	snprintf(rec.auth, sizeof rec.auth, "%s", auth ? auth : "");
	free(q.p);

	pthread_mutex_lock(&x->mu);
	for (size_t i = 0; i < x->nfaults; i++) {
		struct fault *f = &x->faults[i];
		if (f->count <= 0 ||
		    strncmp(url, f->prefix, strlen(f->prefix)) != 0)
			continue;
		if (f->skip > 0) {
			f->skip--;
			break;
		}
		f->count--;
		fault = f->kind;
		farg = f->arg;
		break;
	}
	bool archive = strncmp(url, "/data/", 6) == 0;
	bool binance = strncmp(url, "/fapi/", 6) == 0 ||
		       strncmp(url, "/api/", 5) == 0 ||
		       strncmp(url, "/futures/", 9) == 0;
	if (binance) {
		int64_t W = x->o.weight_window_ms ? x->o.weight_window_ms
						  : 60000;
		int64_t win = mde_floor_div(mde_now_ms(), W);
		int w = weight_of(url, c);
		if (win != x->win)
			x->win = win, x->used = 0;
		r.weight_header = true;
		if (x->o.weight_limit > 0 && x->used + w > x->o.weight_limit) {
			x->violations++;
			binance_err(&r, 429, -1003, "Too many requests.");
			r.retry_after = (int)(((win + 1) * W - mde_now_ms()) /
					      1000) + 1;
			fault = -1;
		} else {
			x->used += w;
		}
		if (x->used > x->max_used)
			x->max_used = x->used;
		rec.used_weight = x->used;
	}
	/* recorded on arrival, so a slow reply is seen at once */
	rec.status = -1;
	if (x->nreqs == x->capreqs) {
		size_t cap = x->capreqs ? x->capreqs * 2 : 256;
		fx_req *n = realloc(x->reqs, cap * sizeof *n);
		if (n)
			x->reqs = n, x->capreqs = cap;
	}
	size_t slot = x->nreqs;
	if (x->nreqs < x->capreqs)
		x->reqs[x->nreqs++] = rec;
	if (++x->inflight > x->max_inflight)
		x->max_inflight = x->inflight;
	pthread_mutex_unlock(&x->mu);
	if (x->o.latency_ms > 0) {
		struct timespec ts = {x->o.latency_ms / 1000,
				      (long)(x->o.latency_ms % 1000) * 1000000L};
		nanosleep(&ts, NULL);
	}

	switch (fault) {
	case FX_429:
		binance_err(&r, 429, -1003, "Too many requests.");
		r.retry_after = farg;
		break;
	case FX_418:
		binance_err(&r, 418, -1003, "IP banned.");
		r.retry_after = farg;
		break;
	case FX_500:
		r.status = 500;
		r.ctype = "text/html";
		fx_buf_add(&r.body, "<html><body>Internal Server Error</body></html>");
		break;
	case FX_503:
		r.status = 503;
		r.ctype = "text/plain";
		fx_buf_add(&r.body, "Service Unavailable.");
		break;
	case FX_1001:
		binance_err(&r, 400, -1001, "Internal error; unable to process "
					    "your request. Please try again.");
		break;
	case FX_1001_200:
		binance_err(&r, 200, -1001, "Internal error; unable to process "
					    "your request. Please try again.");
		break;
	case FX_ERR200:
		binance_err(&r, 200, -1121, "Invalid symbol.");
		break;
	case FX_BADSYM:
		binance_err(&r, 400, -1121, "Invalid symbol.");
		break;
	case FX_RESET:
		r.reset = true;
		break;
	case FX_MALFORMED:
		fx_buf_add(&r.body, "[[1735689600000,\"93548.80\",,]");
		break;
	case FX_HTML:
		r.ctype = "text/html";
		fx_buf_add(&r.body, "<html><body>Will be right back...</body></html>");
		break;
	case FX_TEXT429:
		r.status = 429;
		r.ctype = "text/plain";
		fx_buf_add(&r.body, "Too Many Requests");
		r.retry_after = farg;
		break;
	case FX_SLOW: {
		struct timespec ts = {farg / 1000, (long)(farg % 1000) * 1000000L};
		nanosleep(&ts, NULL);
	}
		/* fall through */
	default:
		if (fault < 0 || r.status != 200 || r.body.n)
			break;
		if (archive) { /* builds its zips outside the lock */
			size_t n = 0;
			r.status = fxa_serve(x, url, &r.body.p, &n, &r.ctype);
			r.body.n = r.body.cap = n;
			if (fault == FX_TRUNCATED && r.body.n > 1)
				r.body.n /= 2;
			break;
		}
		pthread_mutex_lock(&x->mu);
		if (strcmp(url, "/fapi/v1/klines") == 0)
			serve_klines(x, c, false, fault, &r);
		else if (strcmp(url, "/api/v3/klines") == 0)
			serve_klines(x, c, true, fault, &r);
		else if (strcmp(url, "/fapi/v1/fundingRate") == 0)
			serve_aux(x, c, MDE_AUX_FUNDING, fault, &r);
		else if (strcmp(url, "/futures/data/openInterestHist") == 0)
			serve_aux(x, c, MDE_AUX_OPEN_INTEREST, fault, &r);
		else if (strcmp(url, "/futures/data/globalLongShortAccountRatio") == 0)
			serve_aux(x, c, MDE_AUX_LONG_SHORT, fault, &r);
		else if (strcmp(url, "/futures/data/takerlongshortRatio") == 0)
			serve_aux(x, c, MDE_AUX_TAKER, fault, &r);
		else if (strncmp(url, "/v8/finance/chart/", 18) == 0)
			serve_yahoo(x, c, url + 18, fault, &r);
		else if (strncmp(url, "/v2/aggs/ticker/", 16) == 0)
			serve_polygon(x, c, url, fault, &r);
		else {
			r.status = 404;
			fx_buf_add(&r.body, "{\"code\":-1,\"msg\":\"no such path\"}");
		}
		pthread_mutex_unlock(&x->mu);
		if (fault == FX_TRUNCATED && r.body.n > 1)
			r.body.n /= 2;
		size_t tn;
		char *t = fx_transform(fault, farg, r.body.p, r.body.n, &tn);
		if (t) {
			free(r.body.p);
			r.body = (fx_buf){t, tn, tn + 1};
		}
	}

	pthread_mutex_lock(&x->mu);
	if (slot < x->nreqs) {
		x->reqs[slot].status = r.reset ? 0 : r.status;
		x->reqs[slot].done_mono_ms = mde_mono_ms();
	}
	x->inflight--;
	pthread_mutex_unlock(&x->mu);

	if (r.reset) {
		free(r.body.p);
		return MHD_NO;
	}
	struct MHD_Response *resp = MHD_create_response_from_buffer(
		r.body.n, r.body.p ? r.body.p : (char *)"", r.body.p ?
		MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
	if (!resp) {
		free(r.body.p);
		return MHD_NO;
	}
	MHD_add_response_header(resp, "Content-Type", r.ctype);
	if (r.weight_header) {
		char v[32];
		snprintf(v, sizeof v, "%lld", (long long)rec.used_weight);
		/* lower case, as over HTTP/2: clients must not care */
		MHD_add_response_header(resp, "x-mbx-used-weight-1m", v);
	}
	if (r.retry_after >= 0) {
		char v[32];
		snprintf(v, sizeof v, "%d", r.retry_after);
		MHD_add_response_header(resp, "Retry-After", v);
	}
	enum MHD_Result ret = MHD_queue_response(c, (unsigned)r.status, resp);
	MHD_destroy_response(resp);
	return ret;
}

uint64_t fx_version(fx *x)
{
	pthread_mutex_lock(&x->mu);
	uint64_t v = x->version;
	pthread_mutex_unlock(&x->mu);
	return v;
}

int fx_each_kline(fx *x, int market, const char *sym, int64_t period_ms,
		  int64_t from, int64_t to, fx_krow_fn fn, void *ud)
{
	pthread_mutex_lock(&x->mu);
	struct kseries *k = kfind(x, market, sym, period_ms, 0);
	for (size_t i = k ? lower(&k->r[0].t, sizeof *k->r, k->n, from) : 0;
	     k && i < k->n && k->r[i].t < to; i++) {
		const char *f[MDE_NFIELDS];
		for (int j = 0; j < MDE_NFIELDS; j++)
			f[j] = k->r[i].f[j];
		fn(ud, k->r[i].t, f, k->r[i].trades);
	}
	pthread_mutex_unlock(&x->mu);
	return k ? 0 : -1;
}

int fx_each_aux(fx *x, int kind, const char *sym, int64_t from, int64_t to,
		fx_arow_fn fn, void *ud)
{
	int rc = -1;
	pthread_mutex_lock(&x->mu);
	for (size_t k = 0; k < x->nas; k++) {
		struct aseries *a = &x->as[k];
		if (a->kind != kind || strcmp(a->sym, sym) != 0)
			continue;
		rc = 0;
		for (size_t i = lower(&a->r[0].t, sizeof *a->r, a->n, from);
		     i < a->n && a->r[i].t < to; i++)
			fn(ud, a->r[i].t, a->r[i].v);
	}
	pthread_mutex_unlock(&x->mu);
	return rc;
}

int fx_max_inflight(fx *x)
{
	pthread_mutex_lock(&x->mu);
	int n = x->max_inflight;
	pthread_mutex_unlock(&x->mu);
	return n;
}

size_t fx_connections(fx *x)
{
	pthread_mutex_lock(&x->mu);
	size_t n = x->conns;
	pthread_mutex_unlock(&x->mu);
	return n;
}

static void on_conn(void *cls, struct MHD_Connection *c, void **socket_ctx,
		    enum MHD_ConnectionNotificationCode toe)
{
	fx *x = cls;
	if (toe != MHD_CONNECTION_NOTIFY_STARTED)
		return;
	pthread_mutex_lock(&x->mu);
	x->conns++;
	pthread_mutex_unlock(&x->mu);
}

fx *fx_start(const fx_opts *o)
{
	fx *x = calloc(1, sizeof *x);
	if (!x)
		return NULL;
	if (o)
		x->o = *o;
	snprintf(x->polygon_key, sizeof x->polygon_key, "%s",
		 x->o.polygon_key ? x->o.polygon_key : "");
	x->o.polygon_key = x->polygon_key;
	snprintf(x->next_base, sizeof x->next_base, "%s",
		 x->o.polygon_next_base ? x->o.polygon_next_base : "");
	x->o.polygon_next_base = NULL;
	pthread_mutex_init(&x->mu, NULL);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = 0};
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	x->d = MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION |
					MHD_USE_INTERNAL_POLLING_THREAD,
				0, NULL, NULL, handler, x,
				MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
				MHD_OPTION_CONNECTION_TIMEOUT, 30u,
				MHD_OPTION_NOTIFY_CONNECTION, on_conn, x,
				MHD_OPTION_END);
	if (!x->d) {
		pthread_mutex_destroy(&x->mu);
		free(x);
		return NULL;
	}
	const union MHD_DaemonInfo *di =
		MHD_get_daemon_info(x->d, MHD_DAEMON_INFO_BIND_PORT);
	x->port = di ? di->port : 0;
	snprintf(x->url, sizeof x->url, "http://127.0.0.1:%d", x->port);
	return x;
}

void fx_stop(fx *x)
{
	if (!x)
		return;
	MHD_stop_daemon(x->d);
	fxa_clear(x);
	for (size_t i = 0; i < x->nks; i++) {
		for (size_t k = 0; k < x->ks[i].n; k++)
			free(x->ks[i].r[k].json);
		free(x->ks[i].r);
	}
	for (size_t i = 0; i < x->nas; i++)
		free(x->as[i].r);
	for (size_t i = 0; i < x->nes; i++)
		free(x->es[i].r);
	free(x->ks);
	free(x->as);
	free(x->es);
	free(x->reqs);
	pthread_mutex_destroy(&x->mu);
	free(x);
}

int fx_port(const fx *x)
{
	return x->port;
}

const char *fx_url(const fx *x)
{
	return x->url;
}

int fx_kline(fx *x, int market, const char *sym, int64_t period_ms,
	     int64_t open_ms, char txt[MDE_NFIELDS][40], int64_t *trades)
{
	int rc = -1;
	pthread_mutex_lock(&x->mu);
	struct kseries *s = kfind(x, market, sym, period_ms, 0);
	size_t lo = 0, hi = s ? s->n : 0;
	while (lo < hi) {
		size_t m = (lo + hi) / 2;
		if (s->r[m].t < open_ms)
			lo = m + 1;
		else
			hi = m;
	}
	if (s && lo < s->n && s->r[lo].t == open_ms) {
		for (int f = 0; f < MDE_NFIELDS; f++)
			snprintf(txt[f], 40, "%s", s->r[lo].f[f]);
		*trades = s->r[lo].trades;
		rc = 0;
	}
	pthread_mutex_unlock(&x->mu);
	return rc;
}

void fx_set_aux_until(fx *x, int64_t t_ms)
{
	pthread_mutex_lock(&x->mu);
	x->aux_until = t_ms;
	pthread_mutex_unlock(&x->mu);
}
