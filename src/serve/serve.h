/*
 * serve.h - `mdenrich serve`: the HTTP API and dashboard of docs/API.md
 * on libmicrohttpd (a pool of request threads) over a small pool of
 * read-only PostgreSQL connections. Only the store talks SQL; this stage
 * validates, renders and streams.
 */
#ifndef MDE_SERVE_H
#define MDE_SERVE_H

#include <stdio.h>

#include <libpq-fe.h>

#include "config.h"

typedef struct mde_serve_opts {
	const char *listen;       /* "HOST:PORT"; NULL = 127.0.0.1:8787 */
	const char *token;        /* NULL or "" = every POST refused */
	const char *cors_origin;  /* NULL = no CORS header is ever sent */
	int threads;              /* request threads (0 = 4) */
	int db_pool;              /* database connections (0 = 4) */
	int max_connections;      /* open sockets (0 = 128) */
	int max_inflight;         /* concurrent requests before 429 (0 = 64) */
	int statement_timeout_ms; /* per query (0 = 5000) */
} mde_serve_opts;

/*
 * Serves until SIGINT/SIGTERM, then stops taking connections, lets the
 * requests in flight (and a triggered run) finish and returns the exit
 * code of CLI.md: 0, 1 (cannot listen), 2 (bad --listen).
 */
int mde_serve_run(const mde_config *cfg, const mde_serve_opts *o);

/*
 * Writes the /quality page as one self-contained HTML file (styles,
 * scripts and data inline) to out, from connection c. days: the heatmap's
 * width (0 = 60).
 */
int mde_serve_quality_report(PGconn *c, int days, FILE *out,
			     mde_err *err) MDE_MUSTCHECK;

#endif
