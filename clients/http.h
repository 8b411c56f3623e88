/*
 * http.h - the one place that talks to libcurl. One mde_http per source
 * (host): it owns a CURL easy handle, so keep-alive connections are reused
 * from one request to the next. TLS is verified, every request has connect
 * and total timeouts, the body is capped (a response that grows past the
 * cap is an error, never a truncated success), gzip is accepted, and the
 * headers the callers need are captured case-insensitively.
 *
 * Classification happens here, where the error is born: transport errors
 * (timeouts, refused or reset connections, empty replies) and HTTP 408, 429
 * and 5xx are retryable; HTTP 418 is MDE_EBANNED with the ban's length in
 * retry_after_ms; other 4xx are not retryable. Nothing here sleeps or
 * retries: the policy lives in fetch.c.
 *
 * Not thread-safe: one mde_http is used by one thread at a time.
 */
#ifndef MDE_HTTP_H
#define MDE_HTTP_H

#include "mde.h"

typedef struct mde_http mde_http;

typedef struct mde_http_opts {
	long connect_timeout_ms; /* 0 = 5000 */
	long timeout_ms;         /* whole request; 0 = 30000 */
	size_t max_body_bytes;   /* 0 = 64 MiB */
	const char *user_agent;  /* NULL = "mdenrich/<version>" */
} mde_http_opts;

typedef struct mde_http_resp {
	int status;              /* HTTP status, 0 when none was received */
	char *body;              /* NUL-terminated, owned; NULL when none */
	size_t len;              /* body bytes (decoded) */
	int64_t used_weight_1m;  /* X-MBX-USED-WEIGHT-1M, -1 when absent */
	int64_t retry_after_ms;  /* Retry-After, -1 when absent */
	int64_t latency_ms;      /* request start to last byte */
	int sent;                /* times the request went out: libcurl
				    sends it again, once, on a fresh
				    connection when a reused one closed
				    without an answer */
	char content_type[64];
} mde_http_resp;

int mde_http_open(mde_http **out, const mde_http_opts *o,
		  mde_err *err) MDE_MUSTCHECK;
/* Accepts NULL. */
void mde_http_close(mde_http *h);

/*
 * GET url with the extra headers (NULL-terminated list of "Name: value",
 * may be NULL). resp (zero-initialised before its first use, then reused
 * freely; free it with mde_http_resp_free) is reset first and always filled as far as the
 * exchange got, so a caller can still read an error body (Binance's
 * {"code","msg"}). Returns 0 for a 2xx reply, else a negative code with
 * err->http_status, err->retryable and err->retry_after_ms set. The
 * message never contains the URL's query (it may carry a secret).
 */
int mde_http_get(mde_http *h, const char *url, const char *const *headers,
		 mde_http_resp *resp, mde_err *err) MDE_MUSTCHECK;
void mde_http_resp_free(mde_http_resp *r);

/*
 * Several GETs at once over one curl multi handle: at most `parallel`
 * transfers in flight (and connections open), each with its own capped
 * body, classified exactly as mde_http_get does (HTTP 404 is
 * MDE_ENOTFOUND). No retries here either.
 */
typedef struct mde_http_multi mde_http_multi;

typedef struct mde_http_job {
	const char *url;       /* in */
	mde_http_resp resp;    /* out; zero it first, free with
				  mde_http_resp_free */
	mde_err err;           /* out */
	int rc;                /* out: 0 for a 2xx reply */
} mde_http_job;

/* parallel <= 0 means 8. */
int mde_http_multi_open(mde_http_multi **out, const mde_http_opts *o,
			int parallel, mde_err *err) MDE_MUSTCHECK;
void mde_http_multi_close(mde_http_multi *m);
/* Runs every job to its end. */
void mde_http_get_all(mde_http_multi *m, mde_http_job *jobs, size_t n);

/*
 * Appends s to buf percent-encoded for a URL path segment or query value
 * (RFC 3986 unreserved characters kept). Returns MDE_EINVAL when it does
 * not fit.
 */
int mde_url_escape(char *buf, size_t cap, const char *s) MDE_MUSTCHECK;

#endif
