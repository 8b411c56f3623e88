/*
 * srv.h - what the files of the server share: the server, one request,
 * and the answers (JSON, errors, pages, streams) with the headers every
 * answer carries.
 */
#ifndef MDE_SRV_H
#define MDE_SRV_H

#include <microhttpd.h>
#include <pthread.h>
#include <stdatomic.h>

#include <cjson/cJSON.h>

#include "pool.h"
#include "sbuf.h"
#include "serve.h"

#define MDE_SRV_MAX_BODY (64 * 1024)  /* bytes of a POST body */
#define MDE_SRV_MAX_ROWS 100000L      /* rows of one answer */
#define MDE_SRV_DEFAULT_ROWS 1000L

typedef struct mde_server {
	const mde_config *cfg;
	mde_serve_opts o;
	mde_pool *pool;
	const char *token;          /* NULL = POST refused */
	size_t token_len;
	atomic_int inflight;
	struct MHD_Daemon *daemon;
	/* The run a trigger started (one at a time). */
	pthread_mutex_t trig_mu;
	bool trig_busy, trig_joinable;
	int64_t trig_run_id;
	pthread_t trig_thread;
} mde_server;

typedef struct mde_req {
	mde_server *srv;
	struct MHD_Connection *conn;
	bool counted;      /* counts in srv->inflight */
	bool too_many;
	bool too_big;
	mde_sbuf body;     /* POST body */
} mde_req;

typedef enum MHD_Result mde_mhd_rc;

/* Queues resp with the common headers (no-store, nosniff, CORS when
 * configured) and frees it. */
mde_mhd_rc mde_srv_queue(mde_req *r, unsigned status,
			 struct MHD_Response *resp);
/* {"error": "..."} with status. */
mde_mhd_rc mde_srv_error(mde_req *r, unsigned status, const char *fmt, ...)
	MDE_PRINTF(3, 4);
/* An error of the database: 503 when unreachable or busy, 504 for a
 * statement timeout, else 500; the detail goes to the log only. */
mde_mhd_rc mde_srv_db_error(mde_req *r, const mde_err *err);
/* A cJSON value as the answer (the value is freed). */
mde_mhd_rc mde_srv_json(mde_req *r, unsigned status, cJSON *v);
/* The text of b (taken: b is emptied) with content type ctype. */
mde_mhd_rc mde_srv_text(mde_req *r, unsigned status, const char *ctype,
			mde_sbuf *b);

/* A query argument, or NULL. */
const char *mde_srv_arg(mde_req *r, const char *name);
/* 400 when the query has an argument not in allowed (NULL-terminated);
 * returns MHD_YES after answering, or -1 when every argument is known. */
int mde_srv_check_args(mde_req *r, const char *const *allowed);

/* Validation of path and query values (docs/API.md "Conventions"). */
/* Upper-cases s into out (33 bytes); 0 when it is [A-Z0-9._-]{1,32}. */
int mde_param_symbol(const char *s, char out[33]) MDE_MUSTCHECK;
/* 0 when s is a timeframe of FEATURES.md. */
int mde_param_timeframe(const char *s) MDE_MUSTCHECK;

/* A connection of the pool, or NULL after answering 503 (*rc set). */
PGconn *mde_srv_db(mde_req *r, mde_mhd_rc *rc);
void mde_srv_db_put(mde_req *r, PGconn *c);
/* The start of an endpoint that takes no path value to check: the query
 * arguments checked against allowed (NULL = none), then a connection;
 * NULL after answering (*rc set). */
PGconn *mde_srv_begin(mde_req *r, const char *const *allowed,
		      mde_mhd_rc *rc);

/* The endpoints (api.c, features.c, trigger.c, prom.c, pages.c). */
mde_mhd_rc mde_api_healthz(mde_req *r);
mde_mhd_rc mde_api_get_status(mde_req *r, const char *symbol);
mde_mhd_rc mde_api_get_metrics(mde_req *r);
mde_mhd_rc mde_api_get_quality(mde_req *r, const char *symbol);
mde_mhd_rc mde_api_get_jobs(mde_req *r, const char *id);
mde_mhd_rc mde_api_get_run(mde_req *r, const char *id);
mde_mhd_rc mde_api_get_features(mde_req *r, const char *symbol,
				const char *timeframe);
mde_mhd_rc mde_api_trigger(mde_req *r);
mde_mhd_rc mde_api_prometheus(mde_req *r);
mde_mhd_rc mde_page_overview(mde_req *r);
mde_mhd_rc mde_page_quality(mde_req *r);
mde_mhd_rc mde_page_series(mde_req *r, const char *symbol,
			   const char *timeframe);
mde_mhd_rc mde_page_static(mde_req *r, const char *name);

/* One backfill job (a row of mde_store_status_jobs) as JSON. */
cJSON *mde_api_job_obj(const PGresult *r, int i);

/* Waits for the run a trigger started (shutdown). */
void mde_trigger_join(mde_server *s);

#endif
