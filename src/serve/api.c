/*
 * api.c - the JSON endpoints of docs/API.md that answer from one query:
 * health, status, metrics, quality, jobs and runs. Every path and query
 * value is checked before the query; times are ISO 8601 UTC.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_queries.h"
#include "config.h"
#include "reports.h"
#include "srv.h"
#include "timeutil.h"

enum jkind { J_STR, J_INT, J_NUM };

/* Column j of row i as a JSON value of kind k (null for SQL NULL). */
static cJSON *jcol(const PGresult *r, int i, int j, enum jkind k)
{
	if (PQgetisnull(r, i, j))
		return cJSON_CreateNull();
	const char *v = PQgetvalue(r, i, j);
	if (k == J_STR)
		return cJSON_CreateString(v);
	return cJSON_CreateNumber(strtod(v, NULL));
}

static void jadd(cJSON *o, const char *name, const PGresult *r, int i, int j,
		 enum jkind k)
{
	cJSON_AddItemToObject(o, name, jcol(r, i, j, k));
}

static const char *const no_args[] = {NULL};

mde_mhd_rc mde_api_healthz(mde_req *r)
{
	mde_err err = {0};
	cJSON *o = cJSON_CreateObject();
	PGconn *c = mde_pool_get(r->srv->pool, &err);
	int rc = c ? mde_api_ping(c, &err) : MDE_EDB;
	mde_pool_put(r->srv->pool, c);
	cJSON_AddStringToObject(o, "status", rc ? "db unreachable" : "ok");
	return mde_srv_json(r, rc ? 503 : 200, o);
}

static cJSON *status_obj(const PGresult *res, int i)
{
	static const struct {
		const char *name;
		int col;
		enum jkind k;
	} f[] = {
		{"symbol", MDE_AS_SYMBOL, J_STR},
		{"timeframe", MDE_AS_TIMEFRAME, J_STR},
		{"asset_class", MDE_AS_ASSET, J_STR},
		{"source", MDE_AS_SOURCE, J_STR},
		{"first_open_time", MDE_AS_FIRST, J_STR},
		{"last_open_time", MDE_AS_LAST, J_STR},
		{"rows_total", MDE_AS_ROWS, J_INT},
		{"behind_candles", MDE_AS_BEHIND, J_INT},
		{"behind_seconds", MDE_AS_BEHIND_S, J_INT},
		{"last_run_id", MDE_AS_RUN_ID, J_INT},
		{"last_run_at", MDE_AS_RUN_AT, J_STR},
		{"last_status", MDE_AS_STATUS, J_STR},
		{"last_error", MDE_AS_ERROR, J_STR},
	};
	cJSON *o = cJSON_CreateObject();
	for (size_t k = 0; k < MDE_ARRAY_LEN(f); k++)
		jadd(o, f[k].name, res, i, f[k].col, f[k].k);
	return o;
}

mde_mhd_rc mde_api_get_status(mde_req *r, const char *symbol)
{
	char sym[33];
	int a = mde_srv_check_args(r, no_args);
	if (a >= 0)
		return (mde_mhd_rc)a;
	if (symbol && mde_param_symbol(symbol, sym))
		return mde_srv_error(r, 400, "bad symbol (use 1 to 32 of "
				     "A-Z 0-9 . _ -, e.g. BTCUSDT)");
	mde_mhd_rc rc;
	PGconn *c = mde_srv_db(r, &rc);
	if (!c)
		return rc;
	PGresult *res = NULL;
	mde_err err = {0};
	int q = mde_api_status(c, symbol ? sym : NULL, &res, &err);
	mde_srv_db_put(r, c);
	if (q)
		return mde_srv_db_error(r, &err);
	if (symbol && PQntuples(res) == 0) {
		PQclear(res);
		return mde_srv_error(r, 404, "no series of symbol %s is stored",
				     sym);
	}
	cJSON *arr = cJSON_CreateArray();
	for (int i = 0; i < PQntuples(res); i++)
		cJSON_AddItemToArray(arr, status_obj(res, i));
	PQclear(res);
	return mde_srv_json(r, 200, arr);
}

static cJSON *run_obj(const PGresult *res, int i)
{
	static const struct {
		const char *name;
		int col;
		enum jkind k;
	} f[] = {
		{"run_id", MDE_AR_ID, J_INT}, {"kind", MDE_AR_KIND, J_STR},
		{"status", MDE_AR_STATUS, J_STR},
		{"started_at", MDE_AR_STARTED, J_STR},
		{"finished_at", MDE_AR_FINISHED, J_STR},
		{"series_total", MDE_AR_SERIES, J_INT},
		{"series_failed", MDE_AR_SERIES_FAILED, J_INT},
		{"rows_fetched", MDE_AR_FETCHED, J_INT},
		{"rows_written", MDE_AR_WRITTEN, J_INT},
		{"rows_unchanged", MDE_AR_UNCHANGED, J_INT},
		{"rows_rejected", MDE_AR_REJECTED, J_INT},
		{"corrections", MDE_AR_CORRECTIONS, J_INT},
		{"args", MDE_AR_ARGS, J_STR}, {"error", MDE_AR_ERROR, J_STR},
	};
	cJSON *o = cJSON_CreateObject();
	for (size_t k = 0; k < MDE_ARRAY_LEN(f); k++)
		jadd(o, f[k].name, res, i, f[k].col, f[k].k);
	return o;
}

mde_mhd_rc mde_api_get_metrics(mde_req *r)
{
	mde_mhd_rc rc;
	PGconn *c = mde_srv_begin(r, NULL, &rc);
	if (!c)
		return rc;
	PGresult *m = NULL, *run = NULL;
	mde_err err = {0};
	int q = mde_api_metrics(c, &m, &err);
	if (!q)
		q = mde_api_run(c, NULL, &run, &err);
	mde_srv_db_put(r, c);
	if (q) {
		PQclear(m);
		return mde_srv_db_error(r, &err);
	}
	cJSON *o = cJSON_CreateObject(), *jobs = cJSON_CreateObject();
	jadd(o, "series", m, 0, MDE_AM_SERIES, J_INT);
	jadd(o, "rows_total", m, 0, MDE_AM_ROWS, J_INT);
	static const char *states[] = {"pending", "running", "done", "failed",
				       "cancelled"};
	for (int k = 0; k < 5; k++)
		jadd(jobs, states[k], m, 0, MDE_AM_PENDING + k, J_INT);
	cJSON_AddItemToObject(o, "jobs", jobs);
	cJSON_AddItemToObject(o, "last_run", PQntuples(run)
						     ? run_obj(run, 0)
						     : cJSON_CreateNull());
	jadd(o, "fetch_requests_24h", m, 0, MDE_AM_FETCH_TOTAL, J_INT);
	jadd(o, "fetch_errors_24h", m, 0, MDE_AM_FETCH_ERR, J_INT);
	jadd(o, "rejected_24h", m, 0, MDE_AM_REJECTED, J_INT);
	jadd(o, "corrections_24h", m, 0, MDE_AM_CORRECTIONS, J_INT);
	PQclear(m);
	PQclear(run);
	return mde_srv_json(r, 200, o);
}

/* A time query argument into ms text (NULL when absent); -1 when good. */
static int time_arg(mde_req *r, const char *name, char *buf, size_t len,
		    const char **out)
{
	const char *v = mde_srv_arg(r, name);
	int64_t ms;
	*out = NULL;
	if (!v)
		return -1;
	if (mde_time_parse(v, &ms))
		return mde_srv_error(r, 400, "bad time in %s (use ISO 8601 "
				     "such as 2024-01-01T00:00:00Z, or epoch "
				     "milliseconds)", name);
	snprintf(buf, len, "%" PRId64, ms);
	*out = buf;
	return -1;
}

/* Whether symbol (any timeframe when tf is NULL) is a stored series. */
static int series_known(PGconn *c, const char *sym, const char *tf,
			bool *exists, mde_err *err)
{
	if (tf)
		return mde_api_series_exists(c, sym, tf, exists, err);
	PGresult *res = NULL;
	int rc = mde_api_status(c, sym, &res, err);
	*exists = !rc && PQntuples(res) > 0;
	PQclear(res);
	return rc;
}

mde_mhd_rc mde_api_get_quality(mde_req *r, const char *symbol)
{
	static const char *const args[] = {"timeframe", "since", "until", NULL};
	char sym[33], since[24], until[24];
	const char *p[4] = {sym, NULL, NULL, NULL};
	int a = mde_srv_check_args(r, args);
	if (a >= 0)
		return (mde_mhd_rc)a;
	if (mde_param_symbol(symbol, sym))
		return mde_srv_error(r, 400, "bad symbol (use 1 to 32 of "
				     "A-Z 0-9 . _ -, e.g. BTCUSDT)");
	p[1] = mde_srv_arg(r, "timeframe");
	if (p[1] && mde_param_timeframe(p[1]))
		return mde_srv_error(r, 400, "bad timeframe (one of 1m 5m 15m "
				     "30m 1h 4h 1d)");
	if ((a = time_arg(r, "since", since, sizeof since, &p[2])) >= 0 ||
	    (a = time_arg(r, "until", until, sizeof until, &p[3])) >= 0)
		return (mde_mhd_rc)a;
	mde_mhd_rc rc;
	PGconn *c = mde_srv_db(r, &rc);
	if (!c)
		return rc;
	PGresult *res = NULL;
	mde_err err = {0};
	bool exists = true;
	int q = mde_api_quality(c, p, &res, &err);
	if (!q && PQntuples(res) == 0)
		q = series_known(c, sym, p[1], &exists, &err);
	mde_srv_db_put(r, c);
	if (q) {
		PQclear(res);
		return mde_srv_db_error(r, &err);
	}
	static const char *names[MDE_AQ_NCOLS] = {
		"symbol", "timeframe", "day", "expected", "received", "valid",
		"rejected", "duplicates", "gaps", "suspicious", "corrections",
		"completeness", "quality_score", "computed_at"};
	cJSON *arr = cJSON_CreateArray();
	for (int i = 0; i < PQntuples(res); i++) {
		cJSON *o = cJSON_CreateObject();
		for (int j = 0; j < MDE_AQ_NCOLS; j++)
			jadd(o, names[j], res, i, j,
			     j <= MDE_AQ_DAY || j == MDE_AQ_COMPUTED_AT ? J_STR
									: J_NUM);
		cJSON_AddItemToArray(arr, o);
	}
	PQclear(res);
	if (!exists) {
		/* Nothing at all: tell an unknown series from a quiet one. */
		cJSON_Delete(arr);
		return mde_srv_error(r, 404, "no series %s%s%s is stored", sym,
				     p[1] ? " " : "", p[1] ? p[1] : "");
	}
	return mde_srv_json(r, 200, arr);
}

/* The id of a path segment: digits only, > 0. */
static int parse_id(const char *s, int64_t *out)
{
	long v;
	if (mde_int_parse(s, 1, INT64_MAX, &v))
		return MDE_EINVAL;
	*out = v;
	return 0;
}

static int64_t num(const PGresult *r, int i, int j)
{
	return PQgetisnull(r, i, j) ? 0 : strtoll(PQgetvalue(r, i, j), NULL, 10);
}

static void add_ms(cJSON *o, const char *name, const PGresult *r, int i,
		   int j)
{
	char t[40];
	if (PQgetisnull(r, i, j))
		cJSON_AddNullToObject(o, name);
	else
		cJSON_AddStringToObject(o, name,
					mde_time_format(num(r, i, j), t,
							sizeof t));
}

static const char *job_state(const PGresult *r, int i)
{
	int64_t chunks = num(r, i, MDE_SJ_CHUNKS), done = num(r, i, MDE_SJ_DONE);
	if (num(r, i, MDE_SJ_FAILED) > 0)
		return "failed";
	if (chunks > 0 && done == chunks)
		return "done";
	if (num(r, i, MDE_SJ_LEASES) > 0)
		return "running";
	if (done > 0 || num(r, i, MDE_SJ_EXPIRED) > 0 ||
	    num(r, i, MDE_SJ_COVERED_MS) > 0)
		return "interrupted";
	return "pending";
}

cJSON *mde_api_job_obj(const PGresult *r, int i)
{
	cJSON *o = cJSON_CreateObject(), *ch = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "id", (double)num(r, i, MDE_SJ_ID));
	cJSON *syms = cJSON_CreateArray();
	char *list = strdup(PQgetvalue(r, i, MDE_SJ_SYMBOLS));
	for (char *sv = NULL, *t = list ? strtok_r(list, ",", &sv) : NULL; t;
	     t = strtok_r(NULL, ",", &sv))
		cJSON_AddItemToArray(syms, cJSON_CreateString(t));
	free(list);
	cJSON_AddItemToObject(o, "symbols", syms);
	jadd(o, "timeframe", r, i, MDE_SJ_TIMEFRAME, J_STR);
	jadd(o, "asset_class", r, i, MDE_SJ_ASSET, J_STR);
	jadd(o, "source", r, i, MDE_SJ_SOURCE, J_STR);
	cJSON *range = cJSON_CreateObject();
	add_ms(range, "from", r, i, MDE_SJ_START);
	add_ms(range, "to", r, i, MDE_SJ_END);
	cJSON_AddItemToObject(o, "range", range);
	add_ms(o, "created_at", r, i, MDE_SJ_CREATED);
	cJSON_AddStringToObject(o, "state", job_state(r, i));
	jadd(ch, "total", r, i, MDE_SJ_CHUNKS, J_INT);
	jadd(ch, "pending", r, i, MDE_SJ_PENDING, J_INT);
	jadd(ch, "running", r, i, MDE_SJ_RUNNING, J_INT);
	jadd(ch, "done", r, i, MDE_SJ_DONE, J_INT);
	jadd(ch, "failed", r, i, MDE_SJ_FAILED, J_INT);
	cJSON_AddItemToObject(o, "chunks", ch);
	int64_t p = num(r, i, MDE_SJ_PERIOD_MS), total = num(r, i,
							     MDE_SJ_TOTAL_MS);
	if (p <= 0)
		p = 1;
	cJSON_AddNumberToObject(o, "candles_done",
				(double)(num(r, i, MDE_SJ_COVERED_MS) / p));
	cJSON_AddNumberToObject(o, "candles_expected", (double)(total / p));
	cJSON_AddNumberToObject(o, "progress",
				total > 0 ? (double)num(r, i, MDE_SJ_COVERED_MS) /
						    (double)total
					  : 0.0);
	jadd(o, "last_error", r, i, MDE_SJ_ERROR, J_STR);
	jadd(o, "lease_owners", r, i, MDE_SJ_OWNERS, J_STR);
	add_ms(o, "updated_at", r, i, MDE_SJ_CHANGED_AT);
	return o;
}

mde_mhd_rc mde_api_get_jobs(mde_req *r, const char *id)
{
	int64_t want = 0;
	int a = mde_srv_check_args(r, no_args);
	if (a >= 0)
		return (mde_mhd_rc)a;
	if (id && parse_id(id, &want))
		return mde_srv_error(r, 400, "bad job id (a positive number)");
	mde_mhd_rc rc;
	PGconn *c = mde_srv_db(r, &rc);
	if (!c)
		return rc;
	PGresult *res = NULL;
	mde_err err = {0};
	int q = mde_store_status_jobs(c, &res, &err);
	mde_srv_db_put(r, c);
	if (q)
		return mde_srv_db_error(r, &err);
	cJSON *arr = cJSON_CreateArray(), *one = NULL;
	for (int i = 0; i < PQntuples(res); i++) {
		if (id && num(res, i, MDE_SJ_ID) != want)
			continue;
		cJSON *o = mde_api_job_obj(res, i);
		if (id)
			one = o;
		else
			cJSON_AddItemToArray(arr, o);
	}
	PQclear(res);
	if (!id)
		return mde_srv_json(r, 200, arr);
	cJSON_Delete(arr);
	if (!one)
		return mde_srv_error(r, 404, "no backfill job %s", id);
	return mde_srv_json(r, 200, one);
}

mde_mhd_rc mde_api_get_run(mde_req *r, const char *id)
{
	int64_t v;
	int a = mde_srv_check_args(r, no_args);
	if (a >= 0)
		return (mde_mhd_rc)a;
	if (parse_id(id, &v))
		return mde_srv_error(r, 400, "bad run id (a positive number)");
	mde_mhd_rc rc;
	PGconn *c = mde_srv_db(r, &rc);
	if (!c)
		return rc;
	PGresult *res = NULL;
	mde_err err = {0};
	int q = mde_api_run(c, id, &res, &err);
	mde_srv_db_put(r, c);
	if (q)
		return mde_srv_db_error(r, &err);
	if (PQntuples(res) == 0) {
		PQclear(res);
		return mde_srv_error(r, 404, "no run %s", id);
	}
	cJSON *o = run_obj(res, 0);
	PQclear(res);
	return mde_srv_json(r, 200, o);
}
