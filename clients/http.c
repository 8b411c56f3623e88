/*
 * http.c - libcurl behind mde_http (see http.h). One easy handle per
 * mde_http: libcurl keeps its connection cache on the handle, so requests
 * to one host reuse one keep-alive connection. Bodies grow in a buffer
 * capped at max_body_bytes (curl's dynbuf "toobig" idea): past the cap the
 * write callback refuses the data and the request fails.
 */
#include "http.h"
#include "proc.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "timeutil.h"

struct mde_http {
	CURL *curl;
	mde_http_opts o;
	char ua[64];
	char errbuf[CURL_ERROR_SIZE];
	/* the response being received */
	mde_http_resp *resp;
	size_t cap;
	bool toobig;
};

static int global_init(mde_err *err)
{
	/* curl_global_init is not thread-safe before 7.84; call it once. */
	static int done = 0;
	if (!done) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
			return mde_err_set(err, MDE_ENET, false,
					   "curl_global_init failed");
		done = 1;
	}
	return 0;
}

static size_t on_body(char *p, size_t sz, size_t n, void *ud)
{
	mde_http *h = ud;
	mde_http_resp *r = h->resp;
	size_t len = sz * n;
	if (r->len + len + 1 > h->o.max_body_bytes) {
		h->toobig = true;
		return 0; /* makes curl fail with CURLE_WRITE_ERROR */
	}
	if (r->len + len + 1 > h->cap) {
		size_t cap = h->cap ? h->cap : 16384;
		while (cap < r->len + len + 1)
			cap *= 2;
		if (cap > h->o.max_body_bytes)
			cap = h->o.max_body_bytes;
		char *b = realloc(r->body, cap);
		if (!b)
			return 0;
		r->body = b;
		h->cap = cap;
	}
	memcpy(r->body + r->len, p, len);
	r->len += len;
	r->body[r->len] = '\0';
	return len;
}

/* Header value after "name:" when the line is that header, else NULL. */
static const char *header_value(const char *line, size_t len,
				const char *name, size_t *vlen)
{
	size_t nl = strlen(name);
	if (len <= nl || line[nl] != ':' || strncasecmp(line, name, nl) != 0)
		return NULL;
	const char *v = line + nl + 1, *e = line + len;
	while (v < e && (*v == ' ' || *v == '\t'))
		v++;
	while (e > v && isspace((unsigned char)e[-1]))
		e--;
	*vlen = (size_t)(e - v);
	return v;
}

static int64_t parse_int(const char *v, size_t len)
{
	if (len == 0 || len > 18)
		return -1;
	int64_t x = 0;
	for (size_t i = 0; i < len; i++) {
		if (!isdigit((unsigned char)v[i]))
			return -1;
		x = x * 10 + (v[i] - '0');
	}
	return x;
}

/* Counts the requests libcurl writes (its debug stream shows each
 * request's header block once); nothing is printed. */
static int on_debug(CURL *c, curl_infotype t, char *p, size_t n, void *ud)
{
	(void)c;
	mde_http *h = ud;
	/* one block per request, starting with its request line */
	if (t == CURLINFO_HEADER_OUT && h->resp && n >= 4 &&
	    memcmp(p, "GET ", 4) == 0)
		h->resp->sent++;
	return 0;
}

static size_t on_header(char *p, size_t sz, size_t n, void *ud)
{
	mde_http *h = ud;
	mde_http_resp *r = h->resp;
	size_t len = sz * n, vl;
	const char *v;
	if (len >= 5 && strncmp(p, "HTTP/", 5) == 0) {
		/* a new response (e.g. after 100 Continue): forget the old */
		r->used_weight_1m = -1;
		r->retry_after_ms = -1;
		r->content_type[0] = '\0';
	} else if ((v = header_value(p, len, "x-mbx-used-weight-1m", &vl))) {
		r->used_weight_1m = parse_int(v, vl);
	} else if ((v = header_value(p, len, "retry-after", &vl))) {
		int64_t s = parse_int(v, vl);
		if (s < 0 && vl < 64) { /* an HTTP-date */
			char date[64];
			memcpy(date, v, vl);
			date[vl] = '\0';
			time_t t = curl_getdate(date, NULL);
			if (t > 0)
				s = (int64_t)t - mde_now_ms() / 1000;
			if (s < 0 && t > 0)
				s = 0;
		}
		r->retry_after_ms = s >= 0 ? s * 1000 : -1;
	} else if ((v = header_value(p, len, "content-type", &vl))) {
		if (vl >= sizeof r->content_type)
			vl = sizeof r->content_type - 1;
		memcpy(r->content_type, v, vl);
		r->content_type[vl] = '\0';
	}
	return len;
}

static int on_progress(void *ud, curl_off_t dltotal, curl_off_t dlnow,
		       curl_off_t ultotal, curl_off_t ulnow)
{
	(void)ud, (void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
	return mde_stop_requested ? 1 : 0;
}

int mde_http_open(mde_http **out, const mde_http_opts *o, mde_err *err)
{
	*out = NULL;
	if (global_init(err))
		return err ? err->code : MDE_ENET;
	mde_http *h = calloc(1, sizeof *h);
	if (!h)
		return mde_err_set(err, MDE_ENOMEM, false, "out of memory");
	if (o)
		h->o = *o;
	if (h->o.connect_timeout_ms <= 0)
		h->o.connect_timeout_ms = 5000;
	if (h->o.timeout_ms <= 0)
		h->o.timeout_ms = 30000;
	if (h->o.max_body_bytes == 0)
		h->o.max_body_bytes = (size_t)64 << 20;
	snprintf(h->ua, sizeof h->ua, "%s",
		 h->o.user_agent ? h->o.user_agent : "mdenrich/" MDE_VERSION);
	h->o.user_agent = h->ua;
	h->curl = curl_easy_init();
	if (!h->curl) {
		free(h);
		return mde_err_set(err, MDE_ENOMEM, false,
				   "curl_easy_init failed");
	}
	CURL *c = h->curl;
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, h->o.connect_timeout_ms);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, h->o.timeout_ms);
	curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(c, CURLOPT_USERAGENT, h->ua);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, h->errbuf);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, h);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, h);
	/* A stop request ends a slow transfer too (checked about once a
	 * second, and on every chunk received). */
	curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(c, CURLOPT_DEBUGFUNCTION, on_debug);
	curl_easy_setopt(c, CURLOPT_DEBUGDATA, h);
	curl_easy_setopt(c, CURLOPT_VERBOSE, 1L);
	*out = h;
	return 0;
}

void mde_http_close(mde_http *h)
{
	if (!h)
		return;
	curl_easy_cleanup(h->curl);
	free(h);
}

void mde_http_resp_free(mde_http_resp *r)
{
	if (!r)
		return;
	free(r->body);
	memset(r, 0, sizeof *r);
	r->used_weight_1m = -1;
	r->retry_after_ms = -1;
}

static bool transport_retryable(CURLcode rc)
{
	switch (rc) {
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_COULDNT_CONNECT:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_GOT_NOTHING:
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
	case CURLE_PARTIAL_FILE:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
	case CURLE_BAD_CONTENT_ENCODING:
		return true;
	default:
		return false;
	}
}

/* The body's first line, printable, for an error message. */
static void snippet(const mde_http_resp *r, char *buf, size_t cap)
{
	size_t k = 0;
	for (size_t i = 0; r->body && i < r->len && k + 1 < cap && i < 160;
	     i++) {
		char ch = r->body[i];
		if (ch == '\n' || ch == '\r')
			break;
		buf[k++] = isprint((unsigned char)ch) ? ch : '?';
	}
	buf[k] = '\0';
}

/* Gets h ready for a request of url into resp. */
static void begin(mde_http *h, const char *url, mde_http_resp *resp)
{
	mde_http_resp_free(resp);
	h->resp = resp;
	h->cap = 0;
	h->toobig = false;
	h->errbuf[0] = '\0';
	curl_easy_setopt(h->curl, CURLOPT_URL, url);
}

/* Classifies a finished transfer (cc) of h's response. */
static int finish(mde_http *h, CURLcode cc, mde_err *err)
{
	mde_http_resp *resp = h->resp;
	int rc = 0;
	long status = 0;
	curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &status);
	resp->status = (int)status;
	h->resp = NULL;
	if (cc != CURLE_OK) {
		if (h->toobig)
			rc = mde_err_set(err, MDE_ENET, false,
					 "response larger than %zu bytes",
					 h->o.max_body_bytes);
		else if (cc == CURLE_ABORTED_BY_CALLBACK && mde_stop_requested)
			rc = mde_err_set(err, MDE_EINTR, false,
					 "interrupted during the request");
		else
			rc = mde_err_set(err, MDE_ENET, transport_retryable(cc),
					 "%s: %s", curl_easy_strerror(cc),
					 h->errbuf[0] ? h->errbuf : "-");
		if (err)
			err->http_status = resp->status;
		return rc;
	}
	if (status >= 200 && status < 300)
		return 0;
	char snip[168];
	snippet(resp, snip, sizeof snip);
	if (status == 418) {
		rc = mde_err_set(err, MDE_EBANNED, false,
				 "HTTP 418 (IP banned) %s", snip);
	} else {
		bool retry = status == 429 || status == 408 || status >= 500;
		rc = mde_err_set(err, MDE_ENET, retry, "HTTP %ld %s", status, snip);
	}
	if (err) {
		err->http_status = (int)status;
		err->retry_after_ms =
			resp->retry_after_ms > 0 ? resp->retry_after_ms : 0;
	}
	return rc;
}

int mde_http_get(mde_http *h, const char *url, const char *const *headers,
		 mde_http_resp *resp, mde_err *err)
{
	int rc = 0;
	struct curl_slist *hl = NULL;
	begin(h, url, resp);
	for (size_t i = 0; headers && headers[i]; i++) {
		struct curl_slist *n = curl_slist_append(hl, headers[i]);
		if (!n) {
			curl_slist_free_all(hl);
			h->resp = NULL;
			return mde_err_set(err, MDE_ENOMEM, false,
					   "out of memory");
		}
		hl = n;
	}
	curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, hl);
	int64_t t0 = mde_mono_ms();
	CURLcode cc = curl_easy_perform(h->curl);
	resp->latency_ms = mde_mono_ms() - t0;
	rc = finish(h, cc, err);
	curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, NULL);
	curl_slist_free_all(hl);
	return rc;
}

/* ---- several GETs at once (curl multi) -------------------------------- */

struct mde_http_multi {
	CURLM *m;
	int n;
	mde_http **pool;       /* one easy handle per transfer in flight */
	mde_http_job **busy;   /* the job of pool[i], NULL when free */
	int64_t *t0;
};

void mde_http_multi_close(mde_http_multi *m)
{
	if (!m)
		return;
	for (int i = 0; i < m->n; i++)
		mde_http_close(m->pool ? m->pool[i] : NULL);
	if (m->m)
		curl_multi_cleanup(m->m);
	free(m->pool);
	free(m->busy);
	free(m->t0);
	free(m);
}

int mde_http_multi_open(mde_http_multi **out, const mde_http_opts *o,
			int parallel, mde_err *err)
{
	*out = NULL;
	mde_http_multi *m = calloc(1, sizeof *m);
	if (!m)
		return mde_err_set(err, MDE_ENOMEM, false, "out of memory");
	m->n = parallel > 0 ? parallel : 8;
	m->pool = calloc((size_t)m->n, sizeof *m->pool);
	m->busy = calloc((size_t)m->n, sizeof *m->busy);
	m->t0 = calloc((size_t)m->n, sizeof *m->t0);
	int rc = 0;
	if (!m->pool || !m->busy || !m->t0 || global_init(err) ||
	    !(m->m = curl_multi_init())) {
		rc = mde_err_set(err, MDE_ENOMEM, false, "curl multi: no memory");
		goto fail;
	}
	curl_multi_setopt(m->m, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)m->n);
	for (int i = 0; i < m->n; i++)
		if ((rc = mde_http_open(&m->pool[i], o, err)))
			goto fail;
	*out = m;
	return 0;
fail:
	mde_http_multi_close(m);
	return rc ? rc : MDE_ENOMEM;
}

/* Collects the transfers that ended; returns how many. */
static int reap(mde_http_multi *m)
{
	int left, done = 0;
	CURLMsg *msg;
	while ((msg = curl_multi_info_read(m->m, &left))) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		for (int i = 0; i < m->n; i++) {
			if (!m->busy[i] || m->pool[i]->curl != msg->easy_handle)
				continue;
			mde_http_job *j = m->busy[i];
			j->resp.latency_ms = mde_mono_ms() - m->t0[i];
			curl_multi_remove_handle(m->m, m->pool[i]->curl);
			j->rc = finish(m->pool[i], msg->data.result, &j->err);
			if (j->resp.status == 404)
				j->rc = j->err.code = MDE_ENOTFOUND;
			m->busy[i] = NULL;
			done++;
		}
	}
	return done;
}

void mde_http_get_all(mde_http_multi *m, mde_http_job *jobs, size_t n)
{
	size_t next = 0, finished = 0;
	while (finished < n) {
		for (int i = 0; i < m->n && next < n; i++) {
			if (m->busy[i])
				continue;
			mde_http_job *j = &jobs[next++];
			mde_err_clear(&j->err);
			begin(m->pool[i], j->url, &j->resp);
			m->busy[i] = j;
			m->t0[i] = mde_mono_ms();
			curl_multi_add_handle(m->m, m->pool[i]->curl);
		}
		int running = 0;
		curl_multi_perform(m->m, &running);
		finished += (size_t)reap(m);
		if (finished < n && running)
			curl_multi_poll(m->m, NULL, 0, 1000, NULL);
	}
}

int mde_url_escape(char *buf, size_t cap, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t k = strlen(buf);
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		bool keep = isalnum(ch) || ch == '-' || ch == '_' || ch == '.' ||
			    ch == '~';
		if (k + (keep ? 1 : 3) + 1 > cap)
			return MDE_EINVAL;
		if (keep) {
			buf[k++] = (char)ch;
		} else {
			buf[k++] = '%';
			buf[k++] = hex[ch >> 4];
			buf[k++] = hex[ch & 15];
		}
	}
	buf[k] = '\0';
	return 0;
}
