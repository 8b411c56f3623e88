/*
 * serveutil.h - helpers of the server tests and benchmark: start
 * `mdenrich serve` on a free loopback port and wait until it answers, and
 * a small HTTP client (libcurl) for its answers.
 */
#ifndef MDE_SERVEUTIL_H
#define MDE_SERVEUTIL_H

#include <stddef.h>
#include <sys/types.h>

typedef struct mde_http_resp {
	long status;
	char *body;      /* NUL-terminated, malloc'ed */
	size_t len;
	char headers[8192];
} mde_http_resp;

/* A free TCP port of 127.0.0.1 (bound then released). */
int mde_free_port(void);
/*
 * Starts `mdenrich --config CONF --db DB --log-format json serve --listen
 * 127.0.0.1:PORT [extra...]` (extra: NULL-terminated) with output
 * appended to logfile, and waits (10 s at most) for /healthz. Returns its
 * pid, or -1.
 */
pid_t mde_serve_start(const char *conf, const char *db, int port,
		      const char *logfile, const char *const *extra);
/* method "GET"/"POST"/...; body and auth (the Authorization header value)
 * may be NULL. Returns the status (0 when no answer); free r->body. */
long mde_http(int port, const char *method, const char *path,
	      const char *body, size_t body_len, const char *auth,
	      mde_http_resp *r);
void mde_http_free(mde_http_resp *r);

#endif
