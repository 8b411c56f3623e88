/*
 * quality.c - see quality.h. Everything is computed by the server in one
 * statement over the series' own rows (PK range scans), so the result
 * depends only on what is committed plus the caller's duplicates and
 * clock, never on which process ran the batch.
 *
 * Times cross the wire as bigint milliseconds and become timestamptz
 * with `timestamptz 'epoch' + ms * interval '1 millisecond'` (exact, unlike
 * to_timestamp(float8)); days are taken AT TIME ZONE 'UTC' so the session
 * time zone never matters.
 */
#include "quality.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "candles.h"
#include "db.h"
#include "timeutil.h"

/*
 * $1 symbol, $2 timeframe, $3 period ms, $4 'crypto'|'equity',
 * $5 first day 00:00 (ms), $6 day after the last (ms), $7 open_time of the
 * last closed slot (ms), $8 duplicate days (ms[]), $9 their counts,
 * $10..$11 the range the caller knows (ms; from = to: none), $12 its days
 * (ms[]), $13 their rows, $14 their suspicious rows.
 */
/* A bigint millisecond parameter as timestamptz. The bounds are written
 * into each WHERE (not joined from a CTE) so that they are index
 * conditions whatever the planner believes of a table still being filled. */
#define TS(p) "(timestamptz 'epoch' + " p "::bigint * interval '1 millisecond')"
#define LO TS("$5")
#define HI TS("$6")

static const char recompute_sql[] =
	"WITH days AS ("
	" SELECT d0, (" TS("d0") " AT TIME ZONE 'UTC')::date AS day"
	" FROM generate_series($5::bigint, $6::bigint - 86400000, 86400000)"
	"  AS d0),"
	"f AS ("
	" SELECT (extract(epoch FROM min(open_time)) * 1000)::bigint AS ms"
	" FROM market_data_v2 WHERE symbol = $1 AND timeframe = $2),"
	/* the stored rows of the days, but those the caller knows */
	"s AS ("
	" SELECT m.open_time, m.validation_flags FROM market_data_v2 m"
	" WHERE m.symbol = $1 AND m.timeframe = $2"
	"  AND m.open_time >= " LO " AND m.open_time < " TS("least($6, $10)")
	" UNION ALL"
	" SELECT m.open_time, m.validation_flags FROM market_data_v2 m"
	" WHERE m.symbol = $1 AND m.timeframe = $2"
	"  AND m.open_time > " TS("$11") " AND m.open_time < " HI "),"
	"v AS ("
	" SELECT day, sum(n) AS valid, sum(x) AS suspicious FROM ("
	"  SELECT (s.open_time AT TIME ZONE 'UTC')::date AS day, count(*) AS n,"
	"   count(*) FILTER (WHERE s.validation_flags & 1 <> 0) AS x"
	"  FROM s GROUP BY 1"
	"  UNION ALL"
	"  SELECT (" TS("u.d") " AT TIME ZONE 'UTC')::date, u.n, u.x"
	"  FROM unnest($12::bigint[], $13::bigint[], $14::bigint[])"
	"   AS u(d, n, x)) y"
	" GROUP BY 1),"
	"rj AS ("
	" SELECT (r.open_time AT TIME ZONE 'UTC')::date AS day,"
	"  count(DISTINCT r.open_time) AS rejected"
	" FROM rejected_candles r"
	" WHERE r.symbol = $1 AND r.timeframe = $2"
	"  AND r.open_time >= " LO " AND r.open_time < " HI
	"  AND NOT EXISTS (SELECT 1 FROM market_data_v2 m"
	"   WHERE m.symbol = $1 AND m.timeframe = $2"
	"    AND m.open_time = r.open_time)"
	" GROUP BY 1),"
	"co AS ("
	" SELECT (k.open_time AT TIME ZONE 'UTC')::date AS day,"
	"  count(DISTINCT k.open_time) AS corrections"
	" FROM data_corrections k"
	" WHERE k.symbol = $1 AND k.timeframe = $2"
	"  AND k.open_time >= " LO " AND k.open_time < " HI
	" GROUP BY 1),"
	"dp AS ("
	" SELECT (" TS("u.d") " AT TIME ZONE 'UTC')::date AS day,"
	"  sum(u.n) AS duplicates"
	" FROM unnest($8::bigint[], $9::bigint[]) AS u(d, n)"
	" GROUP BY 1),"
	"ex AS ("
	" SELECT q.day, q.duplicates FROM data_quality_metrics q"
	" WHERE q.symbol = $1 AND q.timeframe = $2"
	"  AND q.day >= (" LO " AT TIME ZONE 'UTC')::date"
	"  AND q.day < (" HI " AT TIME ZONE 'UTC')::date),"
	"c AS ("
	" SELECT d.day,"
	"  CASE WHEN $4::text = 'crypto' THEN"
	"   CASE WHEN f.ms IS NULL THEN 0 ELSE greatest(0,"
	"    (least(d.d0 + 86400000 - $3::bigint, $7::bigint)"
	"     - greatest(d.d0, ceil(f.ms::numeric / $3::bigint)::bigint"
	"                      * $3::bigint)) / $3::bigint + 1) END"
	"  ELSE coalesce(v.valid, 0) + coalesce(rj.rejected, 0) END"
	"   AS expected,"
	"  coalesce(v.valid, 0) AS valid,"
	"  coalesce(rj.rejected, 0) AS rejected,"
	"  coalesce(dp.duplicates, ex.duplicates, 0) AS duplicates,"
	"  coalesce(v.suspicious, 0) AS suspicious,"
	"  coalesce(co.corrections, 0) AS corrections,"
	"  (v.day IS NOT NULL OR rj.day IS NOT NULL OR co.day IS NOT NULL"
	"   OR dp.day IS NOT NULL OR ex.day IS NOT NULL) AS touched"
	" FROM days d CROSS JOIN f"
	" LEFT JOIN v ON v.day = d.day LEFT JOIN rj ON rj.day = d.day"
	" LEFT JOIN co ON co.day = d.day LEFT JOIN dp ON dp.day = d.day"
	" LEFT JOIN ex ON ex.day = d.day) "
	"INSERT INTO data_quality_metrics AS q (symbol, timeframe, day,"
	" expected, received, valid, rejected, duplicates, gaps, suspicious,"
	" corrections, completeness, quality_score, computed_at) "
	"SELECT $1, $2, c.day, c.expected, c.valid + c.rejected, c.valid,"
	" c.rejected, c.duplicates, greatest(c.expected - c.valid, 0),"
	" c.suspicious, c.corrections,"
	" CASE WHEN c.expected > 0 THEN c.valid::float8 / c.expected END,"
	" CASE WHEN c.expected > 0 THEN least(1::float8, greatest(0::float8,"
	"  (c.valid - 0.5 * c.suspicious)::float8 / c.expected)) END,"
	" now() "
	"FROM c WHERE c.touched OR c.expected > 0 "
	"ON CONFLICT (symbol, timeframe, day) DO UPDATE SET"
	" expected = EXCLUDED.expected, received = EXCLUDED.received,"
	" valid = EXCLUDED.valid, rejected = EXCLUDED.rejected,"
	" duplicates = EXCLUDED.duplicates, gaps = EXCLUDED.gaps,"
	" suspicious = EXCLUDED.suspicious,"
	" corrections = EXCLUDED.corrections,"
	" completeness = EXCLUDED.completeness,"
	" quality_score = EXCLUDED.quality_score,"
	" computed_at = EXCLUDED.computed_at "
	"WHERE (q.expected, q.received, q.valid, q.rejected, q.duplicates,"
	" q.gaps, q.suspicious, q.corrections, q.completeness,"
	" q.quality_score) IS DISTINCT FROM (EXCLUDED.expected,"
	" EXCLUDED.received, EXCLUDED.valid, EXCLUDED.rejected,"
	" EXCLUDED.duplicates, EXCLUDED.gaps, EXCLUDED.suspicious,"
	" EXCLUDED.corrections, EXCLUDED.completeness,"
	" EXCLUDED.quality_score)";

/* Writes "{a,b,...}" of dups' days (which = 0) or counts (which = 1). */
static char *dup_array(const mde_day_dups *dups, size_t n, int which)
{
	size_t cap = 3 + n * 22, used = 0;
	char *s = malloc(cap);
	if (!s)
		return NULL;
	s[used++] = '{';
	for (size_t i = 0; i < n; i++) {
		int64_t v = which == 0
			? mde_floor_div(dups[i].day_ms, MDE_DAY_MS) * MDE_DAY_MS
			: (int64_t)dups[i].count;
		used += (size_t)snprintf(s + used, cap - used, "%s%" PRId64,
					 i ? "," : "", v);
	}
	snprintf(s + used, cap - used, "}");
	return s;
}

/* "{...}" of known's days (which = 0), rows (1) or suspicious rows (2). */
static char *known_array(const mde_quality_known *k, int which)
{
	size_t n = k ? k->ndays : 0, cap = 3 + n * 22, used = 0;
	char *s = malloc(cap);
	if (!s)
		return NULL;
	s[used++] = '{';
	for (size_t i = 0; i < n; i++) {
		int64_t v = which == 0	 ? k->days[i].day_ms
			    : which == 1 ? k->days[i].valid
					 : k->days[i].suspicious;
		used += (size_t)snprintf(s + used, cap - used, "%s%" PRId64,
					 i ? "," : "", v);
	}
	snprintf(s + used, cap - used, "}");
	return s;
}

int mde_quality_recompute(size_t *changed, PGconn *c, bool *prepared,
			  const char *symbol, const char *timeframe,
			  int64_t period_ms, int asset_class, int64_t from_ms,
			  int64_t to_ms, const mde_day_dups *dups, size_t ndups,
			  const mde_quality_known *known, int64_t now_ms,
			  mde_err *err)
{
	char *days = NULL, *counts = NULL, *kdays = NULL, *kvalid = NULL,
	     *ksusp = NULL;
	PGresult *r = NULL;
	int rc = 0;
	if (changed)
		*changed = 0;
	if (period_ms <= 0 || MDE_DAY_MS % period_ms != 0 ||
	    (asset_class != MDE_CRYPTO && asset_class != MDE_EQUITY) ||
	    !symbol || !timeframe)
		return mde_err_set(err, MDE_EINVAL, false,
				   "quality: bad series arguments");
	if (from_ms >= to_ms)
		return 0;
	if (ndups && !dups)
		return mde_err_set(err, MDE_EINVAL, false,
				   "quality: dups is NULL");

	int64_t lo = mde_floor_div(from_ms, MDE_DAY_MS) * MDE_DAY_MS;
	int64_t hi = (mde_floor_div(to_ms - 1, MDE_DAY_MS) + 1) * MDE_DAY_MS;
	/* The last slot whose candle has closed: open_time + P <= now. */
	int64_t last_closed = mde_floor_div(now_ms - period_ms, period_ms) *
			      period_ms;
	days = dup_array(dups, ndups, 0);
	counts = dup_array(dups, ndups, 1);
	kdays = known_array(known, 0);
	kvalid = known_array(known, 1);
	ksusp = known_array(known, 2);
	if (!days || !counts || !kdays || !kvalid || !ksusp) {
		rc = mde_err_set(err, MDE_ENOMEM, false, "out of memory");
		goto done;
	}
	char p_period[24], p_lo[24], p_hi[24], p_closed[24];
	snprintf(p_period, sizeof p_period, "%" PRId64, period_ms);
	snprintf(p_lo, sizeof p_lo, "%" PRId64, lo);
	snprintf(p_hi, sizeof p_hi, "%" PRId64, hi);
	snprintf(p_closed, sizeof p_closed, "%" PRId64, last_closed);
	/* Nothing known: an empty range after the window, which the second
	 * scan of s then covers not at all and the first whole. */
	char p_klo[24], p_khi[24];
	snprintf(p_klo, sizeof p_klo, "%" PRId64, known ? known->lo_ms : hi);
	snprintf(p_khi, sizeof p_khi, "%" PRId64, known ? known->hi_ms : hi);
	const char *params[14] = {symbol, timeframe, p_period,
				  mde_asset_name(asset_class), p_lo, p_hi,
				  p_closed, days, counts, p_klo, p_khi,
				  kdays, kvalid, ksusp};
	/* A prepared statement runs on its generic plan, made once per
	 * connection: the server kept planning it for each batch's values
	 * (2.3 ms a batch, more than the 1 ms of running it, in the statement
	 * log of a 200,000-candle backfill), though its bounds are index
	 * conditions either way. SET LOCAL: for the caller's transaction. */
	if (prepared &&
	    (rc = mde_db_exec(c, "SET LOCAL plan_cache_mode = "
				 "force_generic_plan", err)))
		goto done;
	rc = prepared ? mde_db_prepared(c, prepared, "mde_quality",
					recompute_sql, 14, params,
					PGRES_COMMAND_OK, &r, err)
		      : mde_db_params(c, recompute_sql, 14, params,
				      PGRES_COMMAND_OK, &r, err);
	if (rc == 0 && changed)
		*changed = (size_t)strtoull(PQcmdTuples(r), NULL, 10);
done:
	PQclear(r);
	free(days);
	free(counts);
	free(kdays);
	free(kvalid);
	free(ksusp);
	return rc;
}

/*
 * $1 symbol, $2 timeframe, $3 asset class, $4 source or NULL, $5 run id
 * or NULL, $6 status, $7 error or NULL, $8 rows added (< 0: count),
 * $9 the feature version all rows are at now, or NULL (unchanged).
 */
static const char status_sql[] =
	"INSERT INTO enrichment_status AS s (symbol, timeframe, asset_class,"
	" source, first_open_time, last_open_time, rows_total, last_run_id,"
	" last_run_at, last_status, last_error, aux_holes, feature_version) "
	"SELECT $1, $2, $3, $4,"
	" (SELECT min(open_time) FROM market_data_v2"
	"  WHERE symbol = $1 AND timeframe = $2),"
	" (SELECT max(open_time) FROM market_data_v2"
	"  WHERE symbol = $1 AND timeframe = $2),"
	/* Counted only for a new status row or when asked ($8 < 0): a
	 * count grows with the series; the pipeline knows what it added. */
	" CASE WHEN $8::bigint < 0 OR NOT EXISTS (SELECT 1 FROM"
	"  enrichment_status WHERE symbol = $1 AND timeframe = $2)"
	"  THEN (SELECT count(*) FROM market_data_v2"
	"  WHERE symbol = $1 AND timeframe = $2) ELSE -1 END,"
	" $5::bigint, now(), $6, $7,"
	" (SELECT count(*) FROM aux_holes WHERE symbol = $1),"
	" $9::int4 "
	"ON CONFLICT (symbol, timeframe) DO UPDATE SET"
	" asset_class = EXCLUDED.asset_class,"
	" source = coalesce(EXCLUDED.source, s.source),"
	" first_open_time = EXCLUDED.first_open_time,"
	" last_open_time = EXCLUDED.last_open_time,"
	" rows_total = CASE WHEN EXCLUDED.rows_total < 0"
	"  THEN s.rows_total + $8 ELSE EXCLUDED.rows_total END,"
	" last_run_id = coalesce(EXCLUDED.last_run_id, s.last_run_id),"
	" last_run_at = EXCLUDED.last_run_at,"
	" last_status = EXCLUDED.last_status,"
	" last_error = EXCLUDED.last_error,"
	" aux_holes = EXCLUDED.aux_holes,"
	" feature_version = coalesce(EXCLUDED.feature_version,"
	"  s.feature_version)";

int mde_status_refresh(PGconn *c, const char *symbol, const char *timeframe,
		       int asset_class, const char *source, int64_t run_id,
		       int64_t rows_added, bool all_current,
		       const char *status, const char *error, mde_err *err)
{
	if (!symbol || !timeframe || !status ||
	    (asset_class != MDE_CRYPTO && asset_class != MDE_EQUITY))
		return mde_err_set(err, MDE_EINVAL, false,
				   "status: bad series arguments");
	char p_run[24], p_added[24];
	snprintf(p_run, sizeof p_run, "%" PRId64, run_id);
	snprintf(p_added, sizeof p_added, "%" PRId64, rows_added);
	char p_fv[16];
	snprintf(p_fv, sizeof p_fv, "%d", MDE_FEATURE_VERSION);
	const char *params[9] = {symbol, timeframe,
				 mde_asset_name(asset_class), source,
				 run_id > 0 ? p_run : NULL, status, error,
				 p_added, all_current ? p_fv : NULL};
	PGresult *r = PQexecParams(c, status_sql, 9, NULL, params, NULL, NULL,
				   0);
	int rc = mde_db_check(c, r, PGRES_COMMAND_OK, err);
	PQclear(r);
	return rc;
}
