/* jobs.c - see jobs.h. */
#include "jobs.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "candles.h"
#include "db.h"
#include "timeutil.h"

#define MS(p) "timestamptz 'epoch' + " p "::int8 * interval '1 millisecond'"
#define EPOCH_MS(c) "(extract(epoch FROM " c ") * 1000)::int8"

int mde_job_create(mde_store *s, const char *symbols, const char *timeframe,
		   int64_t period_ms, const char *asset_class,
		   const char *source, int64_t from_ms, int64_t to_ms,
		   int64_t chunk_ms, int64_t run_id, int64_t *job_id,
		   size_t *nchunks, mde_err *err)
{
	PGconn *c = mde_store_conn(s);
	/* Chunks cover whole candles: bounds on the grid, the chunk a
	 * multiple of the period. */
	from_ms = mde_floor_div(from_ms, period_ms) * period_ms;
	to_ms = (mde_floor_div(to_ms - 1, period_ms) + 1) * period_ms;
	chunk_ms = (chunk_ms + period_ms - 1) / period_ms * period_ms;
	if (chunk_ms > MDE_WINDOW_MAX_SLOTS * period_ms)
		chunk_ms = MDE_WINDOW_MAX_SLOTS * period_ms;
	if (to_ms <= from_ms)
		return mde_err_set(err, MDE_EINVAL, false,
				   "the range is empty: --to must be after "
				   "--from");
	/* Times are within MDE_TIME_*_MS: no overflow here. */
	int64_t per_symbol = (to_ms - from_ms + chunk_ms - 1) / chunk_ms;
	if (per_symbol > MDE_JOB_MAX_CHUNKS)
		return mde_err_set(err, MDE_EINVAL, false,
				   "a backfill of %lld chunks per symbol is "
				   "too large (at most %lld): give a longer "
				   "[run] chunk or a shorter range",
				   (long long)per_symbol,
				   (long long)MDE_JOB_MAX_CHUNKS);
	/* The symbols travel as the comma list they are, of any length: the
	 * server splits them (string_to_array). */
	const char *arr = symbols;
	char from[24], to[24], chunk[24], run[24];
	snprintf(from, sizeof from, "%lld", (long long)from_ms);
	snprintf(to, sizeof to, "%lld", (long long)to_ms);
	snprintf(chunk, sizeof chunk, "%lld", (long long)chunk_ms);
	snprintf(run, sizeof run, "%lld", (long long)run_id);
	int rc = mde_db_exec(c, "BEGIN", err);
	if (rc)
		return rc;
	const char *v[] = {arr, timeframe, asset_class, source, from, to,
			   chunk, run};
	PGresult *r = NULL;
	rc = mde_db_params(c,
		  "INSERT INTO backfill_jobs (symbols, timeframe, asset_class, "
		  "source, range_start, range_end, chunk_ms, created_run_id) "
		  "VALUES (string_to_array($1, ','), $2, $3, $4, " MS("$5") ", "
		  MS("$6") ", $7, $8) "
		  "RETURNING job_id",
		  8, v, PGRES_TUPLES_OK, &r, err);
	if (rc)
		goto done;
	*job_id = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	char job[24];
	snprintf(job, sizeof job, "%lld", (long long)*job_id);
	PQclear(r);
	r = NULL;
	/* Chunk numbers run symbol by symbol, in time order. */
	const char *v2[] = {job, arr, timeframe, asset_class, source, from,
			    to, chunk};
	rc = mde_db_params(c,
		  "INSERT INTO backfill_state (job_id, chunk_no, symbol, "
		  "timeframe, asset_class, source, range_start, range_end) "
		  "SELECT $1, (row_number() OVER (ORDER BY s.ord, g))::int - 1, "
		  "s.sym, $3, $4, $5, " MS("g") ", " MS("least(g + $8, $7)")
		  " FROM unnest(string_to_array($2, ',')) WITH ORDINALITY AS "
		  "s(sym, ord), "
		  "generate_series($6::int8, $7::int8 - 1, $8::int8) AS g",
		  8, v2, PGRES_COMMAND_OK, &r, err);
	if (rc)
		goto done;
	*nchunks = strtoull(PQcmdTuples(r), NULL, 10);
	rc = mde_db_exec(c, "COMMIT", err);
done:
	PQclear(r);
	if (rc)
		mde_db_try(c, "ROLLBACK");
	return rc;
}

/* A chunk from row i of a result of the columns of mde_job_claim. */
static void chunk_row(const PGresult *r, int i, mde_chunk *out)
{
	memset(out, 0, sizeof *out);
	out->job_id = strtoll(PQgetvalue(r, i, 0), NULL, 10);
	out->chunk_no = atoi(PQgetvalue(r, i, 1));
	snprintf(out->symbol, sizeof out->symbol, "%s", PQgetvalue(r, i, 2));
	snprintf(out->timeframe, sizeof out->timeframe, "%s",
		 PQgetvalue(r, i, 3));
	snprintf(out->asset_class, sizeof out->asset_class, "%s",
		 PQgetvalue(r, i, 4));
	snprintf(out->source, sizeof out->source, "%s", PQgetvalue(r, i, 5));
	out->range_start_ms = strtoll(PQgetvalue(r, i, 6), NULL, 10);
	out->range_end_ms = strtoll(PQgetvalue(r, i, 7), NULL, 10);
	out->cursor_ms = PQgetisnull(r, i, 8)
				 ? INT64_MIN
				 : strtoll(PQgetvalue(r, i, 8), NULL, 10);
}

/* The claim's parts: what it sets, which chunks it may take (claimable,
 * and no earlier chunk of the series undone) and what it returns. */
#define CLAIM_SET                                                          \
	"UPDATE backfill_state SET status = 'running', lease_owner = "     \
	"$2, lease_expires_at = now() + $3::int * interval '1 second', "   \
	"attempts = attempts + 1, updated_at = now() "                     \
	"WHERE (job_id, chunk_no) = "
#define CLAIMABLE                                                          \
	"($1::int8 = 0 OR s.job_id = $1) AND (s.status = 'pending' OR "    \
	"(s.status = 'running' AND s.lease_expires_at < now()) OR "        \
	"(s.status = 'failed' AND s.attempts < $4 AND s.updated_at < "     \
	MS("$5") ")) AND NOT EXISTS (SELECT 1 FROM backfill_state e WHERE " \
	"e.job_id = s.job_id AND e.symbol = s.symbol AND e.chunk_no < "    \
	"s.chunk_no AND e.status <> 'done') "
#define CLAIM_RETURNING                                                    \
	" RETURNING job_id, chunk_no, symbol, timeframe, asset_class, "    \
	"source, " EPOCH_MS("range_start") ", " EPOCH_MS("range_end") ", " \
	EPOCH_MS("cursor")

int mde_job_claim(mde_store *s, int64_t job_id, const char *owner,
		  int lease_s, int64_t failed_before_ms, const char *own,
		  int stick, mde_chunk *out, bool *found, mde_err *err)
{
	/* alone: the first claimable chunk in chunk order (an index scan
	 * that stops at it) */
	static const char in_order[] =
		CLAIM_SET "(SELECT job_id, chunk_no FROM backfill_state s "
		"WHERE " CLAIMABLE "ORDER BY job_id, chunk_no LIMIT 1 FOR "
		"UPDATE SKIP LOCKED)" CLAIM_RETURNING;
	/* side by side: the series with the most chunks left, the caller's
	 * own (last claimed) counting $7 more, then in order; the counts
	 * are one aggregate (4 ms for a job of 2,600 chunks, where a count
	 * per candidate took 130) */
	static const char balanced[] =
		CLAIM_SET "(SELECT s.job_id, s.chunk_no FROM backfill_state s "
		"JOIN (SELECT job_id, symbol, count(*) AS n FROM backfill_state "
		"WHERE ($1::int8 = 0 OR job_id = $1) AND status NOT IN ('done', "
		"'cancelled') GROUP BY 1, 2) r ON r.job_id = s.job_id AND "
		"r.symbol = s.symbol WHERE " CLAIMABLE "ORDER BY s.job_id, r.n + "
		"CASE WHEN s.symbol = $6 THEN $7::int ELSE 0 END DESC, s.symbol "
		"= $6 DESC, s.chunk_no LIMIT 1 FOR UPDATE OF s SKIP LOCKED)"
		CLAIM_RETURNING;
	char job[24], lease[16], maxa[16], before[24], st[16];
	snprintf(job, sizeof job, "%lld", (long long)job_id);
	snprintf(lease, sizeof lease, "%d", lease_s);
	snprintf(maxa, sizeof maxa, "%d", MDE_JOB_MAX_ATTEMPTS);
	snprintf(before, sizeof before, "%lld", (long long)failed_before_ms);
	snprintf(st, sizeof st, "%d", stick);
	const char *v[] = {job, owner, lease, maxa, before, own ? own : "", st};
	PGresult *r;
	int rc = stick < 0
			 ? mde_db_params(mde_store_conn(s), in_order, 5, v,
					 PGRES_TUPLES_OK, &r, err)
			 : mde_db_params(mde_store_conn(s), balanced, 7, v,
					 PGRES_TUPLES_OK, &r, err);
	if (rc)
		return rc;
	*found = PQntuples(r) == 1;
	if (*found)
		chunk_row(r, 0, out);
	PQclear(r);
	return 0;
}

int mde_job_peek(mde_store *s, int64_t job_id, int64_t after_job,
		 int after_chunk, size_t max, mde_chunk *out, size_t *n,
		 mde_err *err)
{
	static const char sql[] =
		"SELECT job_id, chunk_no, symbol, timeframe, asset_class, "
		"source, " EPOCH_MS("range_start") ", " EPOCH_MS("range_end")
		", " EPOCH_MS("cursor") " FROM backfill_state WHERE "
		"($1::int8 = 0 OR job_id = $1) AND status = 'pending' AND "
		"(job_id, chunk_no) > ($2::int8, $3::int) "
		"ORDER BY job_id, chunk_no LIMIT $4::int";
	char job[24], aj[24], ac[16], lim[16];
	snprintf(job, sizeof job, "%lld", (long long)job_id);
	snprintf(aj, sizeof aj, "%lld", (long long)after_job);
	snprintf(ac, sizeof ac, "%d", after_chunk);
	snprintf(lim, sizeof lim, "%zu", max);
	const char *v[] = {job, aj, ac, lim};
	PGresult *r;
	*n = 0;
	int rc = mde_db_params(mde_store_conn(s), sql, 4, v, PGRES_TUPLES_OK,
			       &r, err);
	if (rc)
		return rc;
	for (int i = 0; i < PQntuples(r) && (size_t)i < max; i++)
		chunk_row(r, i, &out[(*n)++]);
	PQclear(r);
	return 0;
}

int mde_job_release(mde_store *s, const mde_chunk *c, const char *owner,
		    bool failed, const char *error, mde_err *err)
{
	char job[24], chunk[16];
	snprintf(job, sizeof job, "%lld", (long long)c->job_id);
	snprintf(chunk, sizeof chunk, "%d", c->chunk_no);
	const char *v[] = {job, chunk, owner, failed ? "failed" : "pending",
			   error};
	return mde_db_params(mde_store_conn(s),
		    "UPDATE backfill_state SET status = $4, last_error = "
		    "coalesce($5, last_error), lease_owner = NULL, "
		    "lease_expires_at = NULL, updated_at = now() WHERE job_id "
		    "= $1 AND chunk_no = $2 AND lease_owner = $3 AND status = "
		    "'running'",
		    5, v, PGRES_COMMAND_OK, NULL, err);
}

int mde_job_fail_for_good(mde_store *s, const mde_chunk *c,
			  const char *owner, const char *error, mde_err *err)
{
	char job[24], chunk[16], maxa[16];
	snprintf(job, sizeof job, "%lld", (long long)c->job_id);
	snprintf(chunk, sizeof chunk, "%d", c->chunk_no);
	snprintf(maxa, sizeof maxa, "%d", MDE_JOB_MAX_ATTEMPTS);
	const char *v[] = {job, chunk, owner, error, maxa};
	return mde_db_params(mde_store_conn(s),
		    "UPDATE backfill_state SET status = 'failed', last_error = "
		    "$4, attempts = greatest(attempts, $5::int), lease_owner = "
		    "NULL, lease_expires_at = NULL, updated_at = now() WHERE "
		    "job_id = $1 AND chunk_no = $2 AND lease_owner = $3 AND "
		    "status = 'running'",
		    5, v, PGRES_COMMAND_OK, NULL, err);
}

int mde_job_counts_get(mde_store *s, int64_t job_id, mde_job_counts *out,
		       mde_err *err)
{
	char job[24];
	snprintf(job, sizeof job, "%lld", (long long)job_id);
	const char *v[] = {job};
	PGresult *r;
	int rc = mde_db_params(
		mde_store_conn(s),
		"SELECT count(*) FILTER (WHERE status = 'pending' OR (status = "
		"'running' AND lease_expires_at <= now())), count(*) FILTER "
		"(WHERE status = 'running' AND lease_expires_at > now()), "
		"count(*) FILTER (WHERE status = 'failed'), count(*) FILTER "
		"(WHERE status = 'done'), coalesce(sum(CASE WHEN status <> "
		"'done' THEN extract(epoch FROM range_end - coalesce(cursor, "
		"range_start)) * 1000 / CASE timeframe WHEN '1m' THEN 60000 "
		"WHEN '5m' THEN 300000 WHEN '15m' THEN 900000 WHEN '30m' THEN "
		"1800000 WHEN '1h' THEN 3600000 WHEN '4h' THEN 14400000 ELSE "
		"86400000 END END), 0)::int8, count(DISTINCT (job_id, symbol, "
		"timeframe)) FILTER (WHERE status <> 'done') FROM "
		"backfill_state WHERE "
		"$1::int8 = 0 OR job_id = $1",
		1, v, PGRES_TUPLES_OK, &r, err);
	if (rc)
		return rc;
	size_t *f[] = {&out->pending, &out->running_live, &out->failed,
		       &out->done, &out->candles_left, &out->series_left};
	for (int k = 0; k < 6; k++)
		*f[k] = strtoull(PQgetvalue(r, 0, k), NULL, 10);
	PQclear(r);
	return 0;
}

int mde_job_reap(mde_store *s, const char *host, mde_err *err)
{
	char pattern[160];
	snprintf(pattern, sizeof pattern, "%s:%%", host);
	const char *v[] = {pattern};
	PGresult *r;
	PGconn *c = mde_store_conn(s);
	int rc = mde_db_params(c,
		      "SELECT DISTINCT lease_owner FROM backfill_state WHERE "
		      "status = 'running' AND lease_owner LIKE $1 AND "
		      "lease_expires_at > now()",
		      1, v, PGRES_TUPLES_OK, &r, err);
	if (rc)
		return rc;
	size_t prefix = strlen(host) + 1;
	for (int i = 0; i < PQntuples(r) && !rc; i++) {
		const char *owner = PQgetvalue(r, i, 0);
		long pid = strtol(owner + prefix, NULL, 10);
		if (pid <= 0 || kill((pid_t)pid, 0) == 0 || errno != ESRCH)
			continue;
		const char *v2[] = {owner};
		rc = mde_db_params(c,
			  "UPDATE backfill_state SET lease_expires_at = now() "
			  "- interval '1 second', last_error = 'lease owner "
			  "' || $1 || ' died' WHERE status = 'running' AND "
			  "lease_owner = $1",
			  1, v2, PGRES_COMMAND_OK, NULL, err);
	}
	PQclear(r);
	return rc;
}
