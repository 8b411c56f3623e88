/*
 * http.c - the answers of the server (srv.h): every answer carries
 * Cache-Control: no-store and X-Content-Type-Options: nosniff, and a CORS
 * header only when an origin is configured. Error texts never carry a
 * database message (it may name the server); those go to the log.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "srv.h"
#include "timeutil.h"

mde_mhd_rc mde_srv_queue(mde_req *r, unsigned status,
			 struct MHD_Response *resp)
{
	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, "Cache-Control", "no-store");
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	if (r->srv->o.cors_origin) {
		MHD_add_response_header(resp, "Access-Control-Allow-Origin",
					r->srv->o.cors_origin);
		MHD_add_response_header(resp, "Vary", "Origin");
	}
	mde_mhd_rc rc = MHD_queue_response(r->conn, status, resp);
	MHD_destroy_response(resp);
	return rc;
}

mde_mhd_rc mde_srv_text(mde_req *r, unsigned status, const char *ctype,
			mde_sbuf *b)
{
	if (b->failed) {
		mde_sbuf_free(b);
		return mde_srv_error(r, 500, "out of memory");
	}
	struct MHD_Response *resp = MHD_create_response_from_buffer(
		b->n, b->s ? b->s : (char *)"", b->s ? MHD_RESPMEM_MUST_FREE
						      : MHD_RESPMEM_PERSISTENT);
	if (!resp) {
		mde_sbuf_free(b);
		return MHD_NO;
	}
	memset(b, 0, sizeof *b);
	MHD_add_response_header(resp, "Content-Type", ctype);
	if (strncmp(ctype, "text/html", 9) == 0) {
		MHD_add_response_header(resp, "Content-Security-Policy",
					"default-src 'self'; style-src 'self' "
					"'unsafe-inline'; img-src 'self' data:; "
					"frame-ancestors 'none'");
		MHD_add_response_header(resp, "X-Frame-Options", "DENY");
	}
	return mde_srv_queue(r, status, resp);
}

mde_mhd_rc mde_srv_json(mde_req *r, unsigned status, cJSON *v)
{
	char *s = v ? cJSON_PrintUnformatted(v) : NULL;
	cJSON_Delete(v);
	if (!s)
		return MHD_NO;
	mde_sbuf b = {s, strlen(s), strlen(s) + 1, false};
	return mde_srv_text(r, status, "application/json", &b);
}

mde_mhd_rc mde_srv_error(mde_req *r, unsigned status, const char *fmt, ...)
{
	char msg[400];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	mde_sbuf b = {0};
	mde_sbuf_puts(&b, "{\"error\":");
	mde_sbuf_json(&b, msg, strlen(msg));
	mde_sbuf_puts(&b, "}");
	return mde_srv_text(r, status, "application/json", &b);
}

mde_mhd_rc mde_srv_db_error(mde_req *r, const mde_err *err)
{
	mde_warn("serve.db", "sqlstate=%s error=\"%s\"", err->sqlstate,
		 err->msg);
	if (strcmp(err->sqlstate, "57014") == 0)
		return mde_srv_error(r, 504, "the query took longer than the "
				     "statement timeout; ask for less");
	if (err->retryable || strncmp(err->sqlstate, "08", 2) == 0)
		return mde_srv_error(r, 503, "database unreachable");
	return mde_srv_error(r, 500, "database error (see the server log)");
}

PGconn *mde_srv_db(mde_req *r, mde_mhd_rc *rc)
{
	mde_err err = {0};
	PGconn *c = mde_pool_get(r->srv->pool, &err);
	if (!c) {
		mde_warn("serve.db", "error=\"%s\"", err.msg);
		*rc = mde_srv_error(r, 503, "database unreachable");
	}
	return c;
}

void mde_srv_db_put(mde_req *r, PGconn *c)
{
	mde_pool_put(r->srv->pool, c);
}

const char *mde_srv_arg(mde_req *r, const char *name)
{
	return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND,
					   name);
}

typedef struct arg_check {
	const char *const *allowed;
	char unknown[64];
} arg_check;

static mde_mhd_rc check_one(void *cls, enum MHD_ValueKind kind,
			    const char *key, const char *value)
{
	arg_check *a = cls;
	for (const char *const *p = a->allowed; *p; p++)
		if (strcmp(*p, key) == 0)
			return MHD_YES;
	size_t i = 0;
	for (; key[i] && i < 40; i++)
		a->unknown[i] = isprint((unsigned char)key[i]) ? key[i] : '?';
	a->unknown[i] = '\0';
	return MHD_NO;
}

int mde_srv_check_args(mde_req *r, const char *const *allowed)
{
	arg_check a = {allowed, ""};
	MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, check_one,
				  &a);
	if (!a.unknown[0])
		return -1;
	mde_sbuf known = {0};
	for (const char *const *p = allowed; *p; p++)
		mde_sbuf_printf(&known, "%s%s", p == allowed ? "" : ", ", *p);
	int rc = mde_srv_error(r, 400, "unknown query parameter \"%s\" "
			       "(this endpoint takes: %s)", a.unknown,
			       known.n ? known.s : "none");
	mde_sbuf_free(&known);
	return rc;
}

int mde_param_symbol(const char *s, char out[33])
{
	size_t n = 0;
	for (; s[n]; n++) {
		if (n >= 32)
			return MDE_EINVAL;
		char c = (char)toupper((unsigned char)s[n]);
		if (!isupper((unsigned char)c) && !isdigit((unsigned char)c) &&
		    c != '.' && c != '_' && c != '-')
			return MDE_EINVAL;
		out[n] = c;
	}
	out[n] = '\0';
	return n ? 0 : MDE_EINVAL;
}

int mde_param_timeframe(const char *s)
{
	int64_t p;
	return mde_tf_parse(s, &p);
}

PGconn *mde_srv_begin(mde_req *r, const char *const *allowed,
		      mde_mhd_rc *rc)
{
	static const char *const none[] = {NULL};
	int a = mde_srv_check_args(r, allowed ? allowed : none);
	if (a >= 0) {
		*rc = (mde_mhd_rc)a;
		return NULL;
	}
	return mde_srv_db(r, rc);
}
