/* reports.c - see reports.h. */
#include "reports.h"

#include "db.h"

#define MS(x) "(extract(epoch FROM " x ") * 1000)::bigint"

static const char series_sql[] =
	"SELECT symbol, timeframe, asset_class, source, " MS("first_open_time")
	", " MS("last_open_time") ", rows_total, last_run_id, "
	MS("last_run_at") ", last_status, last_error, aux_holes "
	"FROM enrichment_status";

/* The period of each timeframe, as in timeutil.c (constant SQL text). */
#define PERIOD(tf)                                                    \
	"(CASE " tf " WHEN '1m' THEN 60000 WHEN '5m' THEN 300000"     \
	" WHEN '15m' THEN 900000 WHEN '30m' THEN 1800000"             \
	" WHEN '1h' THEN 3600000 WHEN '4h' THEN 14400000"             \
	" ELSE 86400000 END)::bigint"

static const char jobs_sql[] =
	"SELECT j.job_id, array_to_string(j.symbols, ','), j.timeframe,"
	" j.asset_class, j.source, " MS("j.range_start") ", "
	MS("j.range_end") ", " MS("j.created_at") ","
	" count(s.chunk_no),"
	" count(*) FILTER (WHERE s.status = 'done'),"
	" count(*) FILTER (WHERE s.status = 'running'),"
	" count(*) FILTER (WHERE s.status = 'pending'),"
	" count(*) FILTER (WHERE s.status = 'failed'),"
	" coalesce(sum(" MS("s.range_end") " - " MS("s.range_start") "), 0),"
	" coalesce(sum(CASE WHEN s.status = 'done'"
	"  THEN " MS("s.range_end") " - " MS("s.range_start")
	"  WHEN s.cursor IS NOT NULL THEN greatest(0, least("
	MS("s.cursor") " + " PERIOD("s.timeframe") ", " MS("s.range_end")
	") - " MS("s.range_start") ") ELSE 0 END), 0),"
	" " PERIOD("j.timeframe") ","
	" (array_agg(s.last_error ORDER BY s.updated_at DESC)"
	"  FILTER (WHERE s.last_error IS NOT NULL))[1],"
	" count(*) FILTER (WHERE s.status = 'running'"
	"  AND s.lease_expires_at > now()),"
	" string_agg(DISTINCT s.lease_owner, ',') FILTER (WHERE"
	"  s.status = 'running' AND s.lease_expires_at > now()),"
	" count(*) FILTER (WHERE s.status = 'running' AND"
	"  (s.lease_expires_at IS NULL OR s.lease_expires_at <= now())),"
	" " MS("max(s.updated_at)") ","
	" count(*) FILTER (WHERE s.status = 'cancelled') "
	"FROM backfill_jobs j LEFT JOIN backfill_state s ON s.job_id = j.job_id "
	"GROUP BY j.job_id";

/* $1 symbol or NULL, $2 timeframe or NULL, $3 since (ms) or NULL. */
static const char query_sql[] =
	"SELECT symbol, timeframe, day::text, expected, received, valid,"
	" rejected, duplicates, gaps, suspicious, corrections, completeness,"
	" quality_score, (extract(epoch FROM computed_at) * 1000)::bigint "
	"FROM data_quality_metrics "
	"WHERE ($1::text IS NULL OR symbol = $1::text)"
	" AND ($2::text IS NULL OR timeframe = $2::text)"
	" AND ($3::bigint IS NULL OR day >= ((timestamptz 'epoch' +"
	"  $3::bigint * interval '1 millisecond') AT TIME ZONE 'UTC')::date) "
	"ORDER BY quality_score ASC NULLS LAST, completeness ASC NULLS LAST,"
	" day DESC, symbol, timeframe";

int mde_store_status_series(PGconn *c, PGresult **out, mde_err *err)
{
	return mde_db_params(c, series_sql, 0, NULL, PGRES_TUPLES_OK, out, err);
}

int mde_store_status_jobs(PGconn *c, PGresult **out, mde_err *err)
{
	return mde_db_params(c, jobs_sql, 0, NULL, PGRES_TUPLES_OK, out, err);
}

int mde_store_quality_rows(PGconn *c, const char *const params[3],
			   PGresult **out, mde_err *err)
{
	return mde_db_params(c, query_sql, 3, params, PGRES_TUPLES_OK, out,
			     err);
}

int mde_store_quality_series(PGconn *c, const char *symbol, PGresult **out,
			     mde_err *err)
{
	const char *v[] = {symbol};
	return mde_db_params(c, "SELECT DISTINCT symbol, timeframe FROM "
			     "data_quality_metrics WHERE $1::text IS NULL OR "
			     "symbol = $1 ORDER BY 1, 2", 1, v, PGRES_TUPLES_OK,
			     out, err);
}
