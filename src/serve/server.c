/*
 * server.c - the daemon of `mdenrich serve`: listening (127.0.0.1 unless
 * --listen says otherwise), the caps (sockets, concurrent requests, body
 * size), the routes of docs/API.md, and the shutdown on SIGINT/SIGTERM
 * once the requests in flight are answered.
 */
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "log.h"
#include "pipeline.h"
#include "srv.h"
#include "timeutil.h"

/* Splits "HOST:PORT" or "[V6]:PORT" and resolves it (numeric or name). */
static int parse_listen(const char *s, struct sockaddr_storage *ss,
			socklen_t *len)
{
	char host[256];
	const char *colon = strrchr(s, ':');
	if (!colon || colon == s || !colon[1])
		return MDE_EINVAL;
	size_t hl = (size_t)(colon - s);
	if (s[0] == '[' && hl >= 2 && s[hl - 1] == ']') {
		s++;
		hl -= 2;
	}
	if (hl >= sizeof host)
		return MDE_EINVAL;
	memcpy(host, s, hl);
	host[hl] = '\0';
	long port;
	if (mde_int_parse(colon + 1, 0, 65535, &port))
		return MDE_EINVAL;
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM,
				 .ai_flags = AI_NUMERICSERV};
	struct addrinfo *ai = NULL;
	char ps[8];
	snprintf(ps, sizeof ps, "%ld", port);
	if (getaddrinfo(host, ps, &hints, &ai) || !ai)
		return MDE_EINVAL;
	memcpy(ss, ai->ai_addr, ai->ai_addrlen);
	*len = ai->ai_addrlen;
	freeaddrinfo(ai);
	return 0;
}

/* Splits path into at most max segments after prefix; count or -1. */
static int segments(const char *path, const char *prefix, char seg[][64],
		    int max)
{
	size_t pl = strlen(prefix);
	if (strncmp(path, prefix, pl) != 0)
		return -1;
	const char *p = path + pl;
	if (*p == '\0')
		return 0;
	if (*p != '/')
		return -1;
	int n = 0;
	while (*p == '/') {
		p++;
		const char *e = strchr(p, '/');
		size_t k = e ? (size_t)(e - p) : strlen(p);
		if (n == max || k >= 64)
			return -1;
		memcpy(seg[n], p, k);
		seg[n][k] = '\0';
		n++;
		p += k;
	}
	return n;
}

static mde_mhd_rc route_get(mde_req *r, const char *url)
{
	char seg[3][64];
	int n;
	if (strcmp(url, "/healthz") == 0)
		return mde_api_healthz(r);
	if (strcmp(url, "/metrics") == 0)
		return mde_api_prometheus(r);
	if (strcmp(url, "/") == 0)
		return mde_page_overview(r);
	if (strcmp(url, "/quality") == 0)
		return mde_page_quality(r);
	if ((n = segments(url, "/series", seg, 2)) == 2)
		return mde_page_series(r, seg[0], seg[1]);
	if ((n = segments(url, "/static", seg, 1)) == 1)
		return mde_page_static(r, seg[0]);
	if ((n = segments(url, "/api/v1/enrichment/status", seg, 1)) >= 0)
		return mde_api_get_status(r, n ? seg[0] : NULL);
	if (strcmp(url, "/api/v1/enrichment/metrics") == 0)
		return mde_api_get_metrics(r);
	if ((n = segments(url, "/api/v1/data/quality", seg, 1)) == 1)
		return mde_api_get_quality(r, seg[0]);
	if ((n = segments(url, "/api/v1/market/features", seg, 2)) == 2)
		return mde_api_get_features(r, seg[0], seg[1]);
	if ((n = segments(url, "/api/v1/jobs", seg, 1)) >= 0)
		return mde_api_get_jobs(r, n ? seg[0] : NULL);
	if ((n = segments(url, "/api/v1/runs", seg, 1)) == 1)
		return mde_api_get_run(r, seg[0]);
	if (strcmp(url, "/api/v1/enrichment/trigger") == 0)
		return mde_srv_error(r, 405, "use POST");
	return mde_srv_error(r, 404, "no such page or endpoint (see "
			     "docs/API.md)");
}

static mde_mhd_rc dispatch(mde_req *r, const char *url, const char *method)
{
	if (strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0)
		return route_get(r, url);
	if (strcmp(method, "POST") == 0) {
		if (strcmp(url, "/api/v1/enrichment/trigger") == 0)
			return mde_api_trigger(r);
		return mde_srv_error(r, 405, "only GET here; POST is for "
				     "/api/v1/enrichment/trigger");
	}
	return mde_srv_error(r, 405, "method not allowed: use GET (POST "
			     "for /api/v1/enrichment/trigger)");
}

/* A Content-Length over the cap is refused before the body is read. */
static bool body_too_long(struct MHD_Connection *c)
{
	const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
						     "Content-Length");
	return cl && strtoull(cl, NULL, 10) > MDE_SRV_MAX_BODY;
}

static mde_mhd_rc on_request(void *cls, struct MHD_Connection *conn,
			     const char *url, const char *method,
			     const char *version, const char *upload,
			     size_t *upload_size, void **con_cls)
{
	mde_server *s = cls;
	mde_req *r = *con_cls;
	if (!r) {
		if (!(r = calloc(1, sizeof *r)))
			return MHD_NO;
		r->srv = s;
		r->conn = conn;
		r->counted = true;
		int now = atomic_fetch_add(&s->inflight, 1) + 1;
		r->too_many = now > s->o.max_inflight;
		r->too_big = body_too_long(conn);
		*con_cls = r;
		/* Refused before any body is read. */
		if (!r->too_many && !r->too_big)
			return MHD_YES;
	} else if (*upload_size) {
		if (r->body.n + *upload_size > MDE_SRV_MAX_BODY)
			r->too_big = true; /* chunked: no Content-Length */
		else
			mde_sbuf_put(&r->body, upload, *upload_size);
		*upload_size = 0;
		if (!r->too_big)
			return MHD_YES;
	}
	if (r->too_many)
		return mde_srv_error(r, 429, "too many concurrent requests; "
				     "retry shortly");
	if (r->too_big)
		return mde_srv_error(r, 413, "request body over 64 KiB");
	return dispatch(r, url, method);
}

static void on_completed(void *cls, struct MHD_Connection *conn,
			 void **con_cls, enum MHD_RequestTerminationCode toe)
{
	mde_server *s = cls;
	mde_req *r = *con_cls;
	if (!r)
		return;
	if (r->counted)
		atomic_fetch_sub(&s->inflight, 1);
	mde_sbuf_free(&r->body);
	free(r);
	*con_cls = NULL;
}

/* libmicrohttpd's format: the attribute lets clang check the call. */
static void mhd_log(void *cls, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[300];
	vsnprintf(msg, sizeof msg, fmt, ap);
	size_t n = strlen(msg);
	while (n && msg[n - 1] == '\n')
		msg[--n] = '\0';
	mde_warn("serve.http", "error=\"%s\"", msg);
}

static void defaults(mde_serve_opts *o)
{
	if (!o->listen)
		o->listen = "127.0.0.1:8787";
	if (o->token && !*o->token)
		o->token = NULL;
	if (o->threads <= 0)
		o->threads = 4;
	if (o->db_pool <= 0)
		o->db_pool = 4;
	if (o->max_connections <= 0)
		o->max_connections = 128;
	if (o->max_inflight <= 0)
		o->max_inflight = 64;
	if (o->statement_timeout_ms <= 0)
		o->statement_timeout_ms = 5000;
}

static struct MHD_Daemon *start(mde_server *s,
				const struct sockaddr_storage *ss)
{
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
			 MHD_USE_ERROR_LOG | MHD_USE_ITC;
	if (ss->ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	return MHD_start_daemon(
		flags, 0, NULL, NULL, on_request, s,
		MHD_OPTION_EXTERNAL_LOGGER, mhd_log, s,
		MHD_OPTION_SOCK_ADDR, (const struct sockaddr *)ss,
		MHD_OPTION_THREAD_POOL_SIZE, (unsigned)s->o.threads,
		MHD_OPTION_CONNECTION_LIMIT, (unsigned)s->o.max_connections,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30,
		MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(128 * 1024),
		MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
		MHD_OPTION_LISTENING_ADDRESS_REUSE, 1u,
		MHD_OPTION_END);
}

/* Stops taking connections, then waits (30 s at most) for the requests
 * in flight. */
static void drain(mde_server *s)
{
	MHD_quiesce_daemon(s->daemon);
	for (int i = 0; i < 300 && atomic_load(&s->inflight) > 0; i++)
		mde_sleep_ms(100, NULL);
	MHD_stop_daemon(s->daemon);
}

int mde_serve_run(const mde_config *cfg, const mde_serve_opts *opts)
{
	mde_server s = {.cfg = cfg, .o = *opts};
	defaults(&s.o);
	struct sockaddr_storage ss = {0};
	socklen_t sl = 0;
	if (parse_listen(s.o.listen, &ss, &sl)) {
		fprintf(stderr, "mdenrich serve: --listen: bad address \"%s\" "
			"(use HOST:PORT, e.g. 127.0.0.1:8787)\n", s.o.listen);
		return MDE_EXIT_USAGE;
	}
	s.token = s.o.token;
	s.token_len = s.token ? strlen(s.token) : 0;
	pthread_mutex_init(&s.trig_mu, NULL);
	mde_pool_opts po = {cfg->db_url, s.o.db_pool,
			    cfg->db_connect_timeout_s,
			    s.o.statement_timeout_ms, 5000};
	mde_err err = {0};
	if (mde_pool_open(&s.pool, &po, &err)) {
		fprintf(stderr, "mdenrich serve: %s\n", err.msg);
		return MDE_EXIT_FATAL;
	}
	signal(SIGPIPE, SIG_IGN);
	mde_install_signal_handlers();
	if (!(s.daemon = start(&s, &ss))) {
		fprintf(stderr, "mdenrich serve: cannot listen on %s (in use, "
			"or not an address of this host)\n", s.o.listen);
		mde_pool_close(s.pool);
		return MDE_EXIT_FATAL;
	}
	const union MHD_DaemonInfo *di =
		MHD_get_daemon_info(s.daemon, MHD_DAEMON_INFO_BIND_PORT);
	unsigned port = di ? di->port : 0;
	mde_info("serve.listen", "address=\"%s\" port=%u token=%s cors=%s",
		 s.o.listen, port, s.token ? "configured" : "none",
		 s.o.cors_origin ? "configured" : "none");
	printf("mdenrich serve: listening on port %u\n", port);
	fflush(stdout);
	while (!mde_stop_requested)
		mde_sleep_ms(200, &mde_stop_requested);
	mde_info("serve.stop", "inflight=%d", atomic_load(&s.inflight));
	drain(&s);
	mde_trigger_join(&s);
	mde_pool_close(s.pool);
	pthread_mutex_destroy(&s.trig_mu);
	return MDE_EXIT_OK;
}
