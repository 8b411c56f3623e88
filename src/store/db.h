/*
 * db.h - the PostgreSQL connection and error classification. Values go
 * only through parameters; identifiers only through PQescapeIdentifier.
 * Retryable errors (pgbench's canRetryError, widened to lost connections):
 * SQLSTATE 40001 serialization failure, 40P01 deadlock, class 08 connection
 * exceptions, 57P01-57P03 server shutting down or starting up, and a
 * connection whose status went bad.
 */
#ifndef MDE_DB_H
#define MDE_DB_H

#include <libpq-fe.h>

#include "mde.h"

/*
 * Connects to url (a postgresql:// URL or a conninfo string; NULL or ""
 * means libpq's defaults and PG* variables) with application_name
 * "mdenrich" and connect_timeout seconds. On failure err carries the
 * server's message and the URL without its password.
 */
int mde_db_connect(PGconn **out, const char *url, int connect_timeout_s,
		   mde_err *err) MDE_MUSTCHECK;
/* Runs a statement whose failure changes nothing (ROLLBACK, unlock). */
void mde_db_try(PGconn *c, const char *sql);
/*
 * Runs sql with text parameters vals[0..n). 0 when the result status is
 * `want`; then *out (if out is not NULL) owns the result (PQclear it).
 * Otherwise err is filled (see mde_db_check) and nothing is returned.
 */
int mde_db_params(PGconn *c, const char *sql, int n, const char *const *vals,
		  ExecStatusType want, PGresult **out,
		  mde_err *err) MDE_MUSTCHECK;
/*
 * mde_db_params through a statement prepared on the connection as name
 * (parsed once; planned for each call's values unless the server's
 * plan_cache_mode or its own choice makes a generic plan, see
 * quality.c): prepared when !*prepared, then *prepared = true. The caller
 * keeps *prepared with the connection, false again on a new one.
 */
int mde_db_prepared(PGconn *c, bool *prepared, const char *name,
		    const char *sql, int n, const char *const *vals,
		    ExecStatusType want, PGresult **out,
		    mde_err *err) MDE_MUSTCHECK;
/*
 * Runs a query of one value in epoch milliseconds (an int8): *out gets it,
 * or INT64_MIN when there is no row or the value is NULL.
 */
int mde_db_query_ms(PGconn *c, const char *sql, int n,
		    const char *const *vals, int64_t *out,
		    mde_err *err) MDE_MUSTCHECK;
/* Runs a statement without parameters or results. */
int mde_db_exec(PGconn *c, const char *sql, mde_err *err) MDE_MUSTCHECK;
/*
 * Checks a result: 0 when its status is `want`, else fills err (message,
 * sqlstate, retryable) and returns MDE_EDB. Does not PQclear.
 */
int mde_db_check(PGconn *c, const PGresult *r, ExecStatusType want,
		 mde_err *err) MDE_MUSTCHECK;
bool mde_db_sqlstate_retryable(const char *sqlstate);
/* A one-line description of the server for messages, password removed. */
char *mde_db_describe(const char *url, char *buf, size_t len);

#endif
