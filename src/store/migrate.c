/* migrate.c - see migrate.h. */
#include "migrate.h"

#include <stdio.h>
#include <stdlib.h>

#include "db.h"
#include "log.h"

/* Any constant shared by every mdenrich process; "mdem" in ASCII. */
#define MIGRATE_LOCK_KEY "1835296109"

static int applied_version(PGconn *c, int version, bool *yes, mde_err *err)
{
	char v[16];
	snprintf(v, sizeof v, "%d", version);
	const char *params[] = {v};
	PGresult *r = PQexecParams(
		c, "SELECT 1 FROM schema_migrations WHERE version = $1", 1,
		NULL, params, NULL, NULL, 0);
	int rc = mde_db_check(c, r, PGRES_TUPLES_OK, err);
	if (!rc)
		*yes = PQntuples(r) > 0;
	PQclear(r);
	return rc;
}

static int apply_one(PGconn *c, const mde_migration *m, mde_err *err)
{
	int rc = mde_db_exec(c, "BEGIN", err);
	if (rc)
		return rc;
	rc = mde_db_exec(c, m->sql, err);
	if (rc) {
		char msg[400];
		snprintf(msg, sizeof msg, "%.399s", err->msg);
		snprintf(err->msg, sizeof err->msg, "migration %04d_%s: %s",
			 m->version, m->name, msg);
		goto done;
	}
	char v[16];
	snprintf(v, sizeof v, "%d", m->version);
	const char *params[] = {v, m->name};
	PGresult *r = PQexecParams(
		c,
		"INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
		2, NULL, params, NULL, NULL, 0);
	rc = mde_db_check(c, r, PGRES_COMMAND_OK, err);
	PQclear(r);
	if (!rc)
		rc = mde_db_exec(c, "COMMIT", err);
done:
	if (rc) {
		mde_db_try(c, "ROLLBACK");
	}
	return rc;
}

int mde_migrate(PGconn *c, int *applied, mde_err *err)
{
	return mde_migrate_list(c, mde_migrations, mde_nmigrations, applied,
				err);
}

int mde_migrate_list(PGconn *c, const mde_migration *list, size_t n,
		     int *applied, mde_err *err)
{
	*applied = 0;
	int rc = mde_db_exec(c, "SELECT pg_advisory_lock(" MIGRATE_LOCK_KEY ")",
			     err);
	if (rc)
		return rc;
	rc = mde_db_exec(c,
			 "SET client_min_messages = warning; "
			 "CREATE TABLE IF NOT EXISTS schema_migrations ("
			 " version int PRIMARY KEY,"
			 " name text NOT NULL,"
			 " applied_at timestamptz NOT NULL DEFAULT now())",
			 err);
	for (size_t i = 0; !rc && i < n; i++) {
		const mde_migration *m = &list[i];
		bool yes = false;
		rc = applied_version(c, m->version, &yes, err);
		if (rc || yes)
			continue;
		rc = apply_one(c, m, err);
		if (!rc) {
			(*applied)++;
			mde_info("migrate.applied", "version=%04d name=%s",
				 m->version, m->name);
		}
	}
	mde_db_try(c, "SELECT pg_advisory_unlock(" MIGRATE_LOCK_KEY ")");
	return rc;
}

int mde_migrate_check(PGconn *c, mde_err *err)
{
	PGresult *r = PQexec(c, "SELECT coalesce(max(version), 0) "
				"FROM schema_migrations");
	int rc = mde_db_check(c, r, PGRES_TUPLES_OK, err);
	if (rc) {
		PQclear(r);
		return mde_err_set(err, MDE_ENOTFOUND, false,
				   "the database has no schema; run "
				   "`mdenrich migrate` first");
	}
	int have = atoi(PQgetvalue(r, 0, 0));
	PQclear(r);
	int want = mde_nmigrations ? mde_migrations[mde_nmigrations - 1].version
				   : 0;
	if (have < want)
		return mde_err_set(err, MDE_ENOTFOUND, false,
				   "the database schema is at version %d, this "
				   "mdenrich needs %d; run `mdenrich migrate`",
				   have, want);
	return 0;
}
