/* admin.c - see admin.h. */
#include "admin.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"

const char *const mde_prune_names[MDE_PRUNE_NKINDS] = {
	"enrichment_fetch_log", "enrichment_compute_log", "enrichment_runs",
	"backfill_jobs"};

static const char cancel_sql[] =
	"WITH c AS (UPDATE backfill_state s SET status = 'cancelled', "
	"lease_owner = NULL, lease_expires_at = NULL, updated_at = now() "
	"FROM backfill_state o WHERE o.job_id = s.job_id AND o.chunk_no = "
	"s.chunk_no AND s.job_id = $1 AND s.status IN ('pending', 'failed', "
	"'running') RETURNING o.status AS was) "
	"SELECT (SELECT count(*) FROM backfill_jobs WHERE job_id = $1), "
	"count(*) FILTER (WHERE was <> 'running'), count(*) FILTER (WHERE was "
	"= 'running'), (SELECT count(*) FROM backfill_state WHERE job_id = $1 "
	"AND status = 'done') FROM c";

int mde_store_job_cancel(PGconn *c, int64_t job_id, mde_cancel_counts *out,
			 mde_err *err)
{
	char job[24];
	snprintf(job, sizeof job, "%lld", (long long)job_id);
	const char *v[] = {job};
	PGresult *r;
	int rc = mde_db_params(c, cancel_sql, 1, v, PGRES_TUPLES_OK, &r, err);
	if (rc)
		return rc;
	out->exists = strtoll(PQgetvalue(r, 0, 0), NULL, 10) > 0;
	out->cancelled = strtoull(PQgetvalue(r, 0, 1), NULL, 10);
	out->running = strtoull(PQgetvalue(r, 0, 2), NULL, 10);
	out->done = strtoull(PQgetvalue(r, 0, 3), NULL, 10);
	PQclear(r);
	return 0;
}

int mde_store_chunk_cancelled(PGconn *c, int64_t job_id, int chunk_no,
			      bool *cancelled, mde_err *err)
{
	char job[24], chunk[16];
	snprintf(job, sizeof job, "%lld", (long long)job_id);
	snprintf(chunk, sizeof chunk, "%d", chunk_no);
	const char *v[] = {job, chunk};
	PGresult *r;
	int rc = mde_db_params(c, "SELECT count(*) FROM backfill_state WHERE "
			       "job_id = $1 AND chunk_no = $2 AND status = "
			       "'cancelled'", 2, v, PGRES_TUPLES_OK, &r, err);
	if (rc)
		return rc;
	*cancelled = strcmp(PQgetvalue(r, 0, 0), "0") != 0;
	PQclear(r);
	return 0;
}

#define CUTOFF "(now() - $1::int8 * interval '1 millisecond')"
#define OLD_JOBS                                                       \
	"SELECT job_id FROM backfill_state GROUP BY job_id HAVING "    \
	"bool_and(status IN ('done', 'cancelled')) AND max(updated_at) < " \
	CUTOFF

/* Per kind: the count of a dry run, then the statements of a real one
 * (the last one's row count is the kind's count). */
static const struct {
	const char *count, *del1, *del2;
} prune_sql[MDE_PRUNE_NKINDS] = {
	{"SELECT count(*) FROM enrichment_fetch_log WHERE requested_at < "
	 CUTOFF, NULL, "DELETE FROM enrichment_fetch_log WHERE requested_at < "
	 CUTOFF},
	{"SELECT count(*) FROM enrichment_compute_log WHERE at < " CUTOFF,
	 NULL, "DELETE FROM enrichment_compute_log WHERE at < " CUTOFF},
	{"SELECT count(*) FROM enrichment_runs WHERE finished_at < " CUTOFF,
	 NULL, "DELETE FROM enrichment_runs WHERE finished_at < " CUTOFF},
	{"SELECT count(*) FROM (" OLD_JOBS ") j",
	 "DELETE FROM backfill_state WHERE job_id IN (" OLD_JOBS ")",
	 "DELETE FROM backfill_jobs j WHERE NOT EXISTS (SELECT 1 FROM "
	 "backfill_state s WHERE s.job_id = j.job_id) AND created_at < "
	 CUTOFF},
};

static int prune_kind(PGconn *c, int k, const char *cut, bool dry_run,
		      long long *count, mde_err *err)
{
	const char *v[] = {cut};
	PGresult *r = NULL;
	int rc;
	if (dry_run) {
		rc = mde_db_params(c, prune_sql[k].count, 1, v, PGRES_TUPLES_OK,
				   &r, err);
		if (!rc)
			*count = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
		PQclear(r);
		return rc;
	}
	if (prune_sql[k].del1 &&
	    (rc = mde_db_params(c, prune_sql[k].del1, 1, v, PGRES_COMMAND_OK,
				NULL, err)))
		return rc;
	rc = mde_db_params(c, prune_sql[k].del2, 1, v, PGRES_COMMAND_OK, &r,
			   err);
	if (!rc)
		*count = strtoll(PQcmdTuples(r), NULL, 10);
	PQclear(r);
	return rc;
}

int mde_store_prune(PGconn *c, int64_t older_than_ms, bool dry_run,
		    long long counts[MDE_PRUNE_NKINDS], mde_err *err)
{
	char cut[24];
	snprintf(cut, sizeof cut, "%lld", (long long)older_than_ms);
	int rc = mde_db_exec(c, "BEGIN", err);
	for (int k = 0; k < MDE_PRUNE_NKINDS && !rc; k++)
		rc = prune_kind(c, k, cut, dry_run, &counts[k], err);
	if (!rc)
		rc = mde_db_exec(c, dry_run ? "ROLLBACK" : "COMMIT", err);
	if (rc)
		mde_db_try(c, "ROLLBACK");
	return rc;
}
