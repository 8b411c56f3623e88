/*
 * trigger.c - POST /api/v1/enrichment/trigger: starts a run like `mdenrich
 * run`, in a thread of the server, and answers 202 with its run_id as
 * soon as its enrichment_runs row exists. The run is the pipeline's own
 * (mde_pipeline_run_set): the series locks apply, a series another
 * process is writing is skipped and the run's record says so.
 *
 * Only with `Authorization: Bearer TOKEN`, compared in constant time;
 * refused (403) when no token is configured. One triggered run at a time
 * (409 while one is going); the source of a series is its [universe]'s,
 * and a body may name binance, binance-spot, yahoo or polygon, never a
 * replay directory (no path of the server's disk comes from a request).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "pipeline.h"
#include "srv.h"
#include "timeutil.h"

typedef struct trig {
	mde_server *srv;
	mde_pipeline p;
	char *symbols;         /* comma separated, or NULL for a schedule */
	char timeframe[8];
	char schedule[16];
	const char *source, *asset;
	const char *fallback; /* "none" for a named source, else the universe's */
	int64_t since_ms, until_ms;
} trig;

/* Compares in time that depends on the token's length only. */
static bool token_ok(const char *got, size_t glen, const char *want,
		     size_t wlen)
{
	volatile unsigned char d = glen != wlen;
	for (size_t i = 0; i < wlen; i++)
		d |= (unsigned char)want[i] ^
		     (unsigned char)(i < glen ? got[i] : 0);
	return d == 0;
}

static mde_mhd_rc unauthorized(mde_req *r, const char *why)
{
	mde_sbuf b = {0};
	mde_sbuf_puts(&b, "{\"error\":");
	mde_sbuf_json(&b, why, strlen(why));
	mde_sbuf_puts(&b, "}");
	struct MHD_Response *resp = MHD_create_response_from_buffer(
		b.n, b.s, MHD_RESPMEM_MUST_FREE);
	if (!resp) {
		mde_sbuf_free(&b);
		return MHD_NO;
	}
	MHD_add_response_header(resp, "Content-Type", "application/json");
	MHD_add_response_header(resp, "WWW-Authenticate", "Bearer");
	return mde_srv_queue(r, 401, resp);
}

/* -1 when the request carries the token, else the answer. */
static int check_auth(mde_req *r)
{
	mde_server *s = r->srv;
	if (!s->token)
		return mde_srv_error(r, 403, "POST is refused: no API token "
				     "is configured (start serve with "
				     "--token-file FILE or MDENRICH_API_TOKEN)");
	const char *h = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND,
						    "Authorization");
	if (!h || strncmp(h, "Bearer ", 7) != 0)
		return unauthorized(r, "missing token: send Authorization: "
				    "Bearer TOKEN");
	if (!token_ok(h + 7, strlen(h + 7), s->token, s->token_len)) {
		mde_warn("serve.auth", "reason=\"wrong token\"");
		return unauthorized(r, "wrong token");
	}
	return -1;
}

/* The [universe] of tf that lists symbol, or NULL. */
static const mde_universe *universe_of(const mde_config *cfg,
				       const char *symbol, const char *tf)
{
	size_t n = strlen(symbol);
	for (size_t i = 0; i < cfg->nuniverses; i++) {
		const mde_universe *u = &cfg->universes[i];
		if (strcmp(u->timeframe, tf) != 0)
			continue;
		for (const char *p = u->symbols; (p = strstr(p, symbol));
		     p += n)
			if ((p == u->symbols || p[-1] == ',') &&
			    (p[n] == ',' || p[n] == '\0'))
				return u;
	}
	return NULL;
}

static const char *body_symbols(mde_req *r, const cJSON *arr, trig *t)
{
	mde_sbuf list = {0};
	int n = cJSON_GetArraySize(arr);
	if (!cJSON_IsArray(arr) || n < 1 || n > 200)
		return "symbols must be an array of 1 to 200 symbols";
	for (int i = 0; i < n; i++) {
		const cJSON *e = cJSON_GetArrayItem(arr, i);
		char sym[33];
		if (!cJSON_IsString(e) || mde_param_symbol(e->valuestring, sym)) {
			mde_sbuf_free(&list);
			return "bad symbol in symbols (1 to 32 of A-Z 0-9 . _ -)";
		}
		mde_sbuf_printf(&list, "%s%s", i ? "," : "", sym);
	}
	if (list.failed)
		return "out of memory";
	t->symbols = list.s;
	return NULL;
}

static const char *body_time(const cJSON *o, const char *name, int64_t *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
	*out = INT64_MIN;
	if (!v)
		return NULL;
	if (!cJSON_IsString(v) || mde_time_parse(v->valuestring, out))
		return "bad time in since/until (ISO 8601, e.g. 2024-01-01)";
	return NULL;
}

/* Reads the body into t; NULL when good, else what is wrong. */
static const char *read_body(mde_req *r, const cJSON *o, trig *t)
{
	const mde_config *cfg = r->srv->cfg;
	if (!cJSON_IsObject(o))
		return "body must be a JSON object: {\"symbols\": [...], "
		       "\"timeframe\": \"1h\"} or {\"schedule\": \"hourly\"}";
	const cJSON *sch = cJSON_GetObjectItemCaseSensitive(o, "schedule");
	const cJSON *syms = cJSON_GetObjectItemCaseSensitive(o, "symbols");
	const cJSON *tf = cJSON_GetObjectItemCaseSensitive(o, "timeframe");
	const cJSON *src = cJSON_GetObjectItemCaseSensitive(o, "source");
	const char *e;
	if ((e = body_time(o, "since", &t->since_ms)) ||
	    (e = body_time(o, "until", &t->until_ms)))
		return e;
	if (sch) {
		if (syms || tf || src)
			return "schedule takes its series from the config file; "
			       "do not combine it with symbols or timeframe";
		if (!cJSON_IsString(sch) || (strcmp(sch->valuestring, "hourly") &&
					     strcmp(sch->valuestring, "nightly")))
			return "schedule must be hourly or nightly";
		size_t n = 0;
		for (size_t i = 0; i < cfg->nuniverses; i++)
			n += !strcmp(cfg->universes[i].schedule, sch->valuestring);
		if (!n)
			return "no [universe] of the config file has that "
			       "schedule";
		snprintf(t->schedule, sizeof t->schedule, "%s",
			 sch->valuestring);
		return NULL;
	}
	if (!cJSON_IsString(tf) || mde_param_timeframe(tf->valuestring))
		return "timeframe must be one of 1m 5m 15m 30m 1h 4h 1d";
	snprintf(t->timeframe, sizeof t->timeframe, "%s", tf->valuestring);
	if ((e = body_symbols(r, syms, t)))
		return e;
	static const char *ok[] = {"binance", "binance-spot", "yahoo",
				   "polygon"};
	if (src) {
		for (size_t i = 0; cJSON_IsString(src) && i < 4; i++)
			if (!strcmp(src->valuestring, ok[i]))
				t->source = ok[i];
		if (!t->source)
			return "source must be binance, binance-spot, yahoo "
			       "or polygon";
		t->fallback = "none"; /* that source only, as --source */
	}
	char first[33];
	snprintf(first, sizeof first, "%.*s",
		 (int)strcspn(t->symbols, ","), t->symbols);
	const mde_universe *u = universe_of(cfg, first, t->timeframe);
	if (u) {
		if (!t->source) {
			t->source = u->source;
			t->fallback = u->fallback;
		}
		t->asset = u->asset_class;
	}
	return NULL;
}

static void *run_thread(void *arg)
{
	trig *t = arg;
	const mde_config *cfg = t->srv->cfg;
	size_t failed = 0;
	int code = 0;
	if (t->schedule[0]) {
		for (size_t i = 0; i < cfg->nuniverses && !code; i++) {
			const mde_universe *u = &cfg->universes[i];
			if (strcmp(u->schedule, t->schedule) != 0)
				continue;
			mde_series_set set = {u->symbols, u->timeframe,
					      u->source, u->asset_class,
					      u->since, u->fallback};
			code = mde_pipeline_run_set(&t->p, &set, t->since_ms,
						    t->until_ms, &failed);
		}
	} else {
		mde_series_set set = {t->symbols, t->timeframe, t->source,
				      t->asset, NULL, t->fallback};
		code = mde_pipeline_run_set(&t->p, &set, t->since_ms,
					    t->until_ms, &failed);
	}
	if (!code && failed)
		code = MDE_EXIT_PARTIAL;
	mde_info("serve.run_done", "run_id=%lld series=%zu failed=%zu "
		 "skipped=%zu written=%zu exit=%d", (long long)t->p.run_id,
		 t->p.series_total, t->p.series_failed, t->p.series_skipped,
		 t->p.rows_written, code);
	mde_pipeline_close(&t->p, code, NULL);
	mde_server *s = t->srv;
	free(t->symbols);
	free(t);
	pthread_mutex_lock(&s->trig_mu);
	s->trig_busy = false;
	pthread_mutex_unlock(&s->trig_mu);
	return NULL;
}

/* Records the run and starts its thread; answers. */
static mde_mhd_rc start_run(mde_req *r, trig *t)
{
	mde_server *s = r->srv;
	char args[600];
	snprintf(args, sizeof args, "serve trigger %s%s %s", t->schedule,
		 t->symbols ? t->symbols : "", t->timeframe);
	int kind = !t->schedule[0] ? MDE_RUN_MANUAL
		   : !strcmp(t->schedule, "hourly") ? MDE_RUN_HOURLY
						    : MDE_RUN_NIGHTLY;
	mde_err err = {0};
	if (mde_pipeline_open(&t->p, s->cfg, kind, args, &err)) {
		mde_pipeline_close(&t->p, MDE_EXIT_FATAL, err.msg);
		mde_warn("serve.trigger", "error=\"%s\"", err.msg);
		free(t->symbols);
		free(t);
		return mde_srv_error(r, 503, "cannot start a run: database "
				     "unreachable");
	}
	int64_t id = t->p.run_id;
	if (pthread_create(&s->trig_thread, NULL, run_thread, t)) {
		mde_pipeline_close(&t->p, MDE_EXIT_FATAL, "no thread");
		free(t->symbols);
		free(t);
		return mde_srv_error(r, 500, "cannot start a thread");
	}
	s->trig_busy = s->trig_joinable = true;
	s->trig_run_id = id;
	mde_info("serve.trigger", "run_id=%lld args=\"%s\"", (long long)id,
		 args);
	cJSON *o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "run_id", (double)id);
	char url[64];
	snprintf(url, sizeof url, "/api/v1/runs/%lld", (long long)id);
	cJSON_AddStringToObject(o, "status_url", url);
	return mde_srv_json(r, 202, o);
}

mde_mhd_rc mde_api_trigger(mde_req *r)
{
	int a = check_auth(r);
	if (a >= 0)
		return (mde_mhd_rc)a;
	cJSON *o = cJSON_ParseWithLength(r->body.s ? r->body.s : "",
					 r->body.n);
	if (!o)
		return mde_srv_error(r, 400, "body is not JSON");
	trig *t = calloc(1, sizeof *t);
	if (!t) {
		cJSON_Delete(o);
		return MHD_NO;
	}
	t->srv = r->srv;
	const char *bad = read_body(r, o, t);
	/* Strings of t point into the config, not into o. */
	cJSON_Delete(o);
	if (bad) {
		free(t->symbols);
		free(t);
		return mde_srv_error(r, 400, "%s", bad);
	}
	mde_server *s = r->srv;
	pthread_mutex_lock(&s->trig_mu);
	mde_mhd_rc rc;
	if (s->trig_busy) {
		rc = mde_srv_error(r, 409, "run %lld, started by an earlier "
				   "trigger, is still going; try again when it "
				   "ends", (long long)s->trig_run_id);
		free(t->symbols);
		free(t);
	} else {
		if (s->trig_joinable)
			pthread_join(s->trig_thread, NULL);
		s->trig_joinable = false;
		rc = start_run(r, t);
	}
	pthread_mutex_unlock(&s->trig_mu);
	return rc;
}

void mde_trigger_join(mde_server *s)
{
	pthread_mutex_lock(&s->trig_mu);
	bool j = s->trig_joinable;
	s->trig_joinable = false;
	pthread_mutex_unlock(&s->trig_mu);
	if (j)
		pthread_join(s->trig_thread, NULL);
}
