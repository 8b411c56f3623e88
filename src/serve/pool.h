/*
 * pool.h - a small pool of PostgreSQL connections for the server's
 * request threads. Connections are opened on first use, prepared by
 * mde_api_session (read-only, statement timeout), and dropped when they
 * come back broken, so that a database restart heals by itself.
 */
#ifndef MDE_POOL_H
#define MDE_POOL_H

#include <libpq-fe.h>

#include "mde.h"

typedef struct mde_pool mde_pool;

typedef struct mde_pool_opts {
	const char *url;
	int size;                /* connections at most */
	int connect_timeout_s;
	int statement_timeout_ms;
	int wait_ms;             /* how long a request waits for one */
} mde_pool_opts;

int mde_pool_open(mde_pool **out, const mde_pool_opts *o,
		  mde_err *err) MDE_MUSTCHECK;
/* A connection, or NULL with err (database unreachable, or none free
 * within wait_ms: err->code MDE_EDB). */
PGconn *mde_pool_get(mde_pool *p, mde_err *err);
/* Gives c back; a connection whose status went bad is closed. */
void mde_pool_put(mde_pool *p, PGconn *c);
void mde_pool_close(mde_pool *p);

#endif
