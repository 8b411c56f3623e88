/* db.c - see db.h. */
#include "db.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

char *mde_db_describe(const char *url, char *buf, size_t len)
{
	if (!url || !*url)
		return strncpy(buf, "(libpq defaults / PG* environment)", len);
	return mde_redact(url, buf, len);
}

/* Trims libpq's trailing newline and collapses inner newlines. */
static void one_line(char *s)
{
	size_t n = strlen(s);
	while (n && (s[n - 1] == '\n' || s[n - 1] == ' '))
		s[--n] = '\0';
	for (char *p = s; *p; p++)
		if (*p == '\n' || *p == '\t')
			*p = ' ';
}

int mde_db_connect(PGconn **out, const char *url, int connect_timeout_s,
		   mde_err *err)
{
	char timeout[16];
	snprintf(timeout, sizeof timeout, "%d",
		 connect_timeout_s > 0 ? connect_timeout_s : 5);
	const char *keys[] = {"dbname", "application_name", "connect_timeout",
			      NULL};
	const char *vals[] = {url && *url ? url : NULL, "mdenrich", timeout,
			      NULL};
	*out = NULL;
	PGconn *c = PQconnectdbParams(keys, vals, 1);
	if (!c)
		return mde_err_set(err, MDE_ENOMEM, false, "out of memory");
	if (PQstatus(c) != CONNECTION_OK) {
		char where[512], msg[400];
		snprintf(msg, sizeof msg, "%s", PQerrorMessage(c));
		one_line(msg);
		mde_log_mask(msg, sizeof msg);
		mde_db_describe(url, where, sizeof where);
		mde_err_set(err, MDE_EDB, true,
			    "cannot connect to database %s: %s", where, msg);
		if (err) /* sqlclient_unable_to_establish_sqlconnection */
			snprintf(err->sqlstate, sizeof err->sqlstate, "08001");
		PQfinish(c);
		return MDE_EDB;
	}
	/* Every time we read or write is UTC; numeric text must round-trip. */
	PGresult *r = PQexec(c, "SET TIME ZONE 'UTC'; "
				"SET extra_float_digits = 3");
	int rc = mde_db_check(c, r, PGRES_COMMAND_OK, err);
	PQclear(r);
	if (rc) {
		PQfinish(c);
		return rc;
	}
	*out = c;
	return 0;
}

bool mde_db_sqlstate_retryable(const char *st)
{
	if (!st || !*st)
		return false;
	return strcmp(st, "40001") == 0 || strcmp(st, "40P01") == 0 ||
	       strncmp(st, "08", 2) == 0 || strcmp(st, "57P01") == 0 ||
	       strcmp(st, "57P02") == 0 || strcmp(st, "57P03") == 0;
}

int mde_db_check(PGconn *c, const PGresult *r, ExecStatusType want,
		 mde_err *err)
{
	if (r && PQresultStatus(r) == want)
		return 0;
	const char *st = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
	char msg[400];
	snprintf(msg, sizeof msg, "%s",
		 r ? PQresultErrorMessage(r) : PQerrorMessage(c));
	if (!msg[0])
		snprintf(msg, sizeof msg, "%s", PQerrorMessage(c));
	one_line(msg);
	mde_log_mask(msg, sizeof msg);
	bool lost = PQstatus(c) != CONNECTION_OK;
	mde_err_set(err, MDE_EDB, lost || mde_db_sqlstate_retryable(st), "%s",
		    msg[0] ? msg : "database error");
	if (err) {
		snprintf(err->sqlstate, sizeof err->sqlstate, "%s",
			 st ? st : (lost ? "08006" : ""));
	}
	return MDE_EDB;
}

int mde_db_exec(PGconn *c, const char *sql, mde_err *err)
{
	PGresult *r = PQexec(c, sql);
	ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
	int rc = 0;
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
		rc = mde_db_check(c, r, PGRES_COMMAND_OK, err);
	PQclear(r);
	return rc;
}

void mde_db_try(PGconn *c, const char *sql)
{
	PQclear(PQexec(c, sql));
}

int mde_db_params(PGconn *c, const char *sql, int n, const char *const *vals,
		  ExecStatusType want, PGresult **out, mde_err *err)
{
	PGresult *r = PQexecParams(c, sql, n, NULL, vals, NULL, NULL, 0);
	int rc = mde_db_check(c, r, want, err);
	if (rc || !out)
		PQclear(r);
	else
		*out = r;
	return rc;
}

int mde_db_prepared(PGconn *c, bool *prepared, const char *name,
		    const char *sql, int n, const char *const *vals,
		    ExecStatusType want, PGresult **out, mde_err *err)
{
	if (!*prepared) {
		PGresult *p = PQprepare(c, name, sql, n, NULL);
		int rc = mde_db_check(c, p, PGRES_COMMAND_OK, err);
		PQclear(p);
		if (rc)
			return rc;
		*prepared = true;
	}
	PGresult *r = PQexecPrepared(c, name, n, vals, NULL, NULL, 0);
	int rc = mde_db_check(c, r, want, err);
	if (rc || !out)
		PQclear(r);
	else
		*out = r;
	return rc;
}

int mde_db_query_ms(PGconn *c, const char *sql, int n,
		    const char *const *vals, int64_t *out, mde_err *err)
{
	PGresult *r = NULL;
	int rc = mde_db_params(c, sql, n, vals, PGRES_TUPLES_OK, &r, err);
	if (rc)
		return rc;
	*out = PQntuples(r) && !PQgetisnull(r, 0, 0)
		       ? strtoll(PQgetvalue(r, 0, 0), NULL, 10)
		       : INT64_MIN;
	PQclear(r);
	return 0;
}
