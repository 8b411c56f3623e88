/* runs.c - see runs.h. */
#include "runs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "proc.h"
#include "timeutil.h"

int mde_store_run_begin(mde_store *s, const char *kind, const char *host,
			int pid, const char *args, int64_t *run_id,
			mde_err *err)
{
	char p[16];
	snprintf(p, sizeof p, "%d", pid);
	const char *v[] = {kind, host, p, args};
	PGresult *r = NULL;
	int rc = mde_db_params(mde_store_conn(s),
			       "INSERT INTO enrichment_runs (kind, host, pid, "
			       "args) VALUES ($1, $2, $3, $4) RETURNING run_id",
			       4, v, PGRES_TUPLES_OK, &r, err);
	if (rc)
		return rc;
	*run_id = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	return 0;
}

int mde_store_run_end(mde_store *s, int64_t run_id, const char *status,
		      const mde_run_totals *t, const char *error, mde_err *err)
{
	char n[7][24], run[24];
	size_t vals[7] = {t->series_total, t->series_failed, t->rows_fetched,
			  t->rows_written, t->rows_unchanged, t->rows_rejected,
			  t->corrections};
	for (int i = 0; i < 7; i++)
		snprintf(n[i], sizeof n[i], "%zu", vals[i]);
	snprintf(run, sizeof run, "%lld", (long long)run_id);
	const char *v[] = {run,  status, n[0], n[1], n[2],
			   n[3], n[4],   n[5], n[6], error};
	return mde_db_params(
		mde_store_conn(s),
		"UPDATE enrichment_runs SET finished_at = now(), status = $2, "
		"series_total = $3, series_failed = $4, rows_fetched = $5, "
		"rows_written = $6, rows_unchanged = $7, rows_rejected = $8, "
		"corrections = $9, error = $10 WHERE run_id = $1",
		10, v, PGRES_COMMAND_OK, NULL, err);
}

/* Namespace of the two-key advisory locks: "mde" in ASCII. */
#define LOCK_NS "7169125"

static void series_key(char *key, size_t len, const char *symbol,
		       const char *timeframe)
{
	snprintf(key, len, "%s/%s", symbol, timeframe);
}

/* One pg_try_advisory_lock of key. */
static int try_lock(mde_store *s, const char *key, bool *got, mde_err *err)
{
	const char *v[] = {key};
	PGresult *r = NULL;
	int rc = mde_db_params(
		mde_store_conn(s),
		"SELECT pg_try_advisory_lock(" LOCK_NS ", hashtext($1))", 1, v,
		PGRES_TUPLES_OK, &r, err);
	if (!rc)
		*got = strcmp(PQgetvalue(r, 0, 0), "t") == 0;
	PQclear(r);
	return rc;
}

/*
 * Waiting is polling (every 200 ms), not a blocking pg_advisory_lock: a
 * stop request (proc.h) ends the wait with MDE_EINTR, whoever holds the
 * lock and for however long.
 */
int mde_store_series_lock(mde_store *s, const char *symbol,
			  const char *timeframe, bool wait, bool *got,
			  mde_err *err)
{
	char key[96];
	series_key(key, sizeof key, symbol, timeframe);
	for (;;) {
		int rc = try_lock(s, key, got, err);
		if (rc || *got || !wait)
			return rc;
		if (mde_stop_requested)
			return mde_err_set(err, MDE_EINTR, false,
					   "interrupted while waiting for the "
					   "lock of %s", key);
		mde_sleep_ms(200, &mde_stop_requested);
	}
}

int mde_store_series_xlock(mde_store *s, const char *symbol,
			   const char *timeframe, bool *got, mde_err *err)
{
	char key[96];
	series_key(key, sizeof key, symbol, timeframe);
	const char *v[] = {key};
	PGresult *r = NULL;
	int rc = mde_db_params(mde_store_conn(s),
			       "SELECT pg_try_advisory_xact_lock(" LOCK_NS
			       ", hashtext($1))",
			       1, v, PGRES_TUPLES_OK, &r, err);
	if (!rc)
		*got = strcmp(PQgetvalue(r, 0, 0), "t") == 0;
	PQclear(r);
	return rc;
}

void mde_store_series_unlock(mde_store *s, const char *symbol,
			     const char *timeframe)
{
	char key[96];
	series_key(key, sizeof key, symbol, timeframe);
	const char *v[] = {key};
	PQclear(PQexecParams(mde_store_conn(s),
			     "SELECT pg_advisory_unlock(" LOCK_NS
			     ", hashtext($1))",
			     1, NULL, v, NULL, NULL, 0));
}

int mde_store_first_fallback(mde_store *s, const char *symbol,
			     const char *timeframe, int64_t *out_ms,
			     mde_err *err)
{
	const char *v[] = {symbol, timeframe};
	return mde_db_query_ms(
		mde_store_conn(s),
		"SELECT (extract(epoch FROM min(open_time)) * 1000)::int8 FROM "
		"market_data_v2 WHERE symbol = $1 AND timeframe = $2 AND "
		"validation_flags & 8 <> 0",
		2, v, out_ms, err);
}

int mde_store_first_stale(mde_store *s, const char *symbol,
			  const char *timeframe, int64_t *out_ms, mde_err *err)
{
	char fv[16];
	snprintf(fv, sizeof fv, "%d", MDE_FEATURE_VERSION);
	const char *v[] = {symbol, timeframe, fv};
	return mde_db_query_ms(
		mde_store_conn(s),
		"SELECT (extract(epoch FROM first_open_time) * 1000)::int8 FROM "
		"enrichment_status WHERE symbol = $1 AND timeframe = $2 AND "
		"feature_version IS DISTINCT FROM $3::int4",
		3, v, out_ms, err);
}

int mde_store_job_exists(mde_store *s, int64_t job_id, bool *exists,
			 mde_err *err)
{
	char job[24];
	snprintf(job, sizeof job, "%lld", (long long)job_id);
	const char *v[] = {job};
	PGresult *r = NULL;
	int rc = mde_db_params(mde_store_conn(s),
			       "SELECT 1 FROM backfill_jobs WHERE job_id = $1",
			       1, v, PGRES_TUPLES_OK, &r, err);
	if (!rc)
		*exists = PQntuples(r) == 1;
	PQclear(r);
	return rc;
}
