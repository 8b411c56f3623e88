/* api_queries.c - see api_queries.h. */
#include "api_queries.h"

#include <stdio.h>
#include <stdlib.h>

#include "db.h"

#define ISO(x) "to_char((" x ") AT TIME ZONE 'UTC', " \
	"'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
#define MS_TO_TS(p) "(timestamptz 'epoch' + " p "::int8 * " \
	"interval '1 millisecond')"
#define PERIOD_S(tf)                                                  \
	"(CASE " tf " WHEN '1m' THEN 60 WHEN '5m' THEN 300"           \
	" WHEN '15m' THEN 900 WHEN '30m' THEN 1800"                   \
	" WHEN '1h' THEN 3600 WHEN '4h' THEN 14400 ELSE 86400 END)"

int mde_api_session(PGconn *c, int timeout_ms, mde_err *err)
{
	char ms[24];
	snprintf(ms, sizeof ms, "%d", timeout_ms > 0 ? timeout_ms : 5000);
	const char *v[] = {ms};
	int rc = mde_db_params(c, "SELECT set_config('statement_timeout', "
			       "$1, false)", 1, v, PGRES_TUPLES_OK, NULL, err);
	if (rc)
		return rc;
	return mde_db_exec(c, "SET default_transaction_read_only = on", err);
}

int mde_api_ping(PGconn *c, mde_err *err)
{
	return mde_db_params(c, "SELECT 1", 0, NULL, PGRES_TUPLES_OK, NULL,
			     err);
}

/*
 * Behind, in candles: crypto counts the closed slots after the last
 * stored candle; equity (1d) the weekdays after the last stored bar up to
 * yesterday (holidays unknown). behind_seconds: from the last stored
 * candle's open to the open of the last closed candle.
 */
static const char status_sql[] =
	"WITH s AS (SELECT *, " PERIOD_S("timeframe") " AS p,"
	" floor(extract(epoch FROM now()) / " PERIOD_S("timeframe")
	" - 1) * " PERIOD_S("timeframe") " AS closed_s"
	" FROM enrichment_status WHERE ($1::text IS NULL OR symbol = $1)) "
	"SELECT symbol, timeframe, asset_class, source,"
	" " ISO("first_open_time") ", " ISO("last_open_time") ", rows_total,"
	" CASE WHEN last_open_time IS NULL THEN NULL"
	"  WHEN asset_class = 'equity' THEN (SELECT count(*) FROM"
	"   generate_series((last_open_time AT TIME ZONE 'UTC')::date + 1,"
	"   (now() AT TIME ZONE 'UTC')::date - 1, interval '1 day') d"
	"   WHERE extract(isodow FROM d) < 6)"
	"  ELSE greatest(0, floor((closed_s - extract(epoch FROM"
	"   last_open_time)) / p))::int8 END,"
	" last_run_id, " ISO("last_run_at") ", last_status, last_error,"
	" greatest(0, closed_s - extract(epoch FROM last_open_time))::int8,"
	" CASE WHEN last_status = 'ok' THEN"
	"  extract(epoch FROM last_run_at)::int8 END,"
	" CASE last_status WHEN 'failed' THEN 3 WHEN 'partial' THEN 2"
	"  WHEN 'interrupted' THEN 2 WHEN 'ok' THEN 0 ELSE 1 END AS sev "
	"FROM s ORDER BY sev DESC,"
	" greatest(0, closed_s - extract(epoch FROM last_open_time))"
	"  DESC NULLS FIRST, symbol, p";

int mde_api_status(PGconn *c, const char *symbol, PGresult **out,
		   mde_err *err)
{
	const char *v[] = {symbol};
	return mde_db_params(c, status_sql, 1, v, PGRES_TUPLES_OK, out, err);
}

/* A job is failed when a chunk failed, cancelled when one was cancelled
 * (a state chunks get from `mdenrich cancel`), done when every chunk is,
 * running when one runs, else pending. */
static const char metrics_sql[] =
	"WITH j AS (SELECT job_id, CASE"
	"  WHEN bool_or(status = 'failed') THEN 'failed'"
	"  WHEN bool_or(status = 'cancelled') THEN 'cancelled'"
	"  WHEN bool_and(status = 'done') THEN 'done'"
	"  WHEN bool_or(status = 'running') THEN 'running'"
	"  ELSE 'pending' END AS state FROM backfill_state GROUP BY job_id),"
	" f AS (SELECT count(*) FILTER (WHERE error IS NOT NULL OR"
	"  http_status >= 400) AS errors, count(*) AS n"
	"  FROM enrichment_fetch_log"
	"  WHERE requested_at > now() - interval '24 hours') "
	"SELECT (SELECT count(*) FROM enrichment_status),"
	" (SELECT coalesce(sum(rows_total), 0) FROM enrichment_status),"
	" (SELECT count(*) FROM j WHERE state = 'pending')"
	"  + (SELECT count(*) FROM backfill_jobs b WHERE NOT EXISTS"
	"   (SELECT 1 FROM backfill_state s WHERE s.job_id = b.job_id)),"
	" (SELECT count(*) FROM j WHERE state = 'running'),"
	" (SELECT count(*) FROM j WHERE state = 'done'),"
	" (SELECT count(*) FROM j WHERE state = 'failed'),"
	" (SELECT count(*) FROM j WHERE state = 'cancelled'),"
	" (SELECT errors FROM f),"
	" (SELECT count(*) FROM rejected_candles"
	"  WHERE last_seen_at > now() - interval '24 hours'),"
	" (SELECT count(*) FROM data_corrections"
	"  WHERE detected_at > now() - interval '24 hours'),"
	" (SELECT n FROM f)";

int mde_api_metrics(PGconn *c, PGresult **out, mde_err *err)
{
	return mde_db_params(c, metrics_sql, 0, NULL, PGRES_TUPLES_OK, out,
			     err);
}

static const char run_sql[] =
	"SELECT run_id, kind, status, " ISO("started_at") ", "
	ISO("finished_at") ", series_total, series_failed, rows_fetched,"
	" rows_written, rows_unchanged, rows_rejected, corrections, args, error "
	"FROM enrichment_runs WHERE ($1::int8 IS NULL OR run_id = $1::int8) "
	"ORDER BY run_id DESC LIMIT 1";

int mde_api_run(PGconn *c, const char *run_id, PGresult **out, mde_err *err)
{
	const char *v[] = {run_id};
	return mde_db_params(c, run_sql, 1, v, PGRES_TUPLES_OK, out, err);
}

static const char quality_sql[] =
	"SELECT symbol, timeframe, day::text, expected, received, valid,"
	" rejected, duplicates, gaps, suspicious, corrections, completeness,"
	" quality_score, " ISO("computed_at") " "
	"FROM data_quality_metrics "
	"WHERE ($1::text IS NULL OR symbol = $1::text)"
	" AND ($2::text IS NULL OR timeframe = $2::text)"
	" AND ($3::int8 IS NULL OR day >= (" MS_TO_TS("$3")
	"  AT TIME ZONE 'UTC')::date)"
	" AND ($4::int8 IS NULL OR day < ((" MS_TO_TS("$4")
	"  - interval '1 millisecond') AT TIME ZONE 'UTC')::date + 1) "
	"ORDER BY day DESC, symbol, " PERIOD_S("timeframe");

int mde_api_quality(PGconn *c, const char *const p[4], PGresult **out,
		    mde_err *err)
{
	return mde_db_params(c, quality_sql, 4, p, PGRES_TUPLES_OK, out, err);
}

int mde_api_fetch_counts(PGconn *c, PGresult **out, mde_err *err)
{
	static const char sql[] =
		"SELECT source, CASE WHEN http_status IS NOT NULL THEN"
		" http_status::text WHEN error IS NOT NULL THEN 'error'"
		" ELSE 'none' END, count(*) "
		"FROM enrichment_fetch_log "
		"WHERE requested_at > now() - interval '24 hours' "
		"GROUP BY 1, 2 ORDER BY 1, 2";
	return mde_db_params(c, sql, 0, NULL, PGRES_TUPLES_OK, out, err);
}

int mde_api_series_exists(PGconn *c, const char *symbol,
			  const char *timeframe, bool *exists, mde_err *err)
{
	static const char sql[] =
		"SELECT EXISTS (SELECT 1 FROM enrichment_status WHERE"
		" symbol = $1 AND timeframe = $2) OR EXISTS (SELECT 1 FROM"
		" market_data_v2 WHERE symbol = $1 AND timeframe = $2)";
	const char *v[] = {symbol, timeframe};
	PGresult *r = NULL;
	int rc = mde_db_params(c, sql, 2, v, PGRES_TUPLES_OK, &r, err);
	if (!rc)
		*exists = PQgetvalue(r, 0, 0)[0] == 't';
	PQclear(r);
	return rc;
}

const char *const mde_api_feature_cols[MDE_AF_NCOLS] = {
	"open_time", "open", "high", "low", "close", "volume",
	"quote_volume", "trades", "taker_buy_base", "taker_buy_quote",
#define MDE_COLUMN(e, name, type) name,
#include "columns.def"
#undef MDE_COLUMN
	"validation_flags", "quality_score", "feature_version", "revision",
	"run_id", "asset_class", "source", "created_at", "updated_at"};

#define MDE_COLUMN(e, name, type) ", " name
#define FEATURE_COLS                                                  \
	"SELECT open_time, open::text, high::text, low::text, close::text," \
	" volume::text, quote_volume::text, trades, taker_buy_base::text," \
	" taker_buy_quote::text"
#define FEATURE_WHERE                                                 \
	" FROM market_data_v2 WHERE symbol = $1 AND timeframe = $2"       \
	" AND open_time >= " MS_TO_TS("$3") " AND open_time < "          \
	MS_TO_TS("$4") " AND ($5::int8 IS NULL OR open_time > "          \
	MS_TO_TS("$5") ") ORDER BY open_time LIMIT $6"
static const char features_sql[] = FEATURE_COLS
#include "columns.def"
	", validation_flags, quality_score, feature_version, revision, run_id,"
	" asset_class, source, created_at, updated_at" FEATURE_WHERE;
/* The columns of compute's CSV only (through quality_score). */
static const char features_csv_sql[] = FEATURE_COLS
#include "columns.def"
	", validation_flags, quality_score" FEATURE_WHERE;
#undef MDE_COLUMN

int mde_api_features_send(PGconn *c, const mde_api_page *q, mde_err *err)
{
	char f[24], t[24], a[24], l[24];
	snprintf(f, sizeof f, "%lld", (long long)q->from_ms);
	snprintf(t, sizeof t, "%lld", (long long)q->to_ms);
	snprintf(a, sizeof a, "%lld", (long long)q->after_ms);
	snprintf(l, sizeof l, "%ld", q->limit);
	const char *v[] = {q->symbol, q->timeframe, f, t,
			   q->after_ms == INT64_MIN ? NULL : a, l};
	if (!PQsendQueryParams(c, q->csv_only ? features_csv_sql : features_sql,
			       6, NULL, v, NULL, NULL, 1))
		return mde_db_check(c, NULL, PGRES_TUPLES_OK, err);
	return 0;
}

int mde_api_features_recv(PGconn *c, PGresult **out, mde_err *err)
{
	PGresult *r = PQgetResult(c), *extra;
	while ((extra = PQgetResult(c)))
		PQclear(extra);
	int rc = mde_db_check(c, r, PGRES_TUPLES_OK, err);
	if (rc)
		PQclear(r);
	else
		*out = r;
	return rc;
}

int mde_api_features_nth(PGconn *c, const char *symbol,
			 const char *timeframe, int64_t from_ms,
			 int64_t to_ms, long offset, int64_t *out_ms,
			 mde_err *err)
{
	static const char sql[] =
		"SELECT (extract(epoch FROM open_time) * 1000)::int8 "
		"FROM market_data_v2 WHERE symbol = $1 AND timeframe = $2"
		" AND open_time >= " MS_TO_TS("$3") " AND open_time < "
		MS_TO_TS("$4") " ORDER BY open_time OFFSET $5 LIMIT 1";
	char f[24], t[24], o[24];
	snprintf(f, sizeof f, "%lld", (long long)from_ms);
	snprintf(t, sizeof t, "%lld", (long long)to_ms);
	snprintf(o, sizeof o, "%ld", offset);
	const char *v[] = {symbol, timeframe, f, t, o};
	return mde_db_query_ms(c, sql, 5, v, out_ms, err);
}

int mde_api_corrections(PGconn *c, const char *symbol,
			const char *timeframe, int n, PGresult **out,
			mde_err *err)
{
	static const char sql[] =
		"SELECT " ISO("open_time") ", old_revision, new_revision,"
		" old_close::text, new_close::text, source, run_id, "
		ISO("detected_at") " FROM data_corrections"
		" WHERE symbol = $1 AND timeframe = $2"
		" ORDER BY detected_at DESC, open_time DESC LIMIT $3";
	char k[16];
	snprintf(k, sizeof k, "%d", n);
	const char *v[] = {symbol, timeframe, k};
	return mde_db_params(c, sql, 3, v, PGRES_TUPLES_OK, out, err);
}

int mde_api_rejects(PGconn *c, const char *symbol, const char *timeframe,
		    int n, PGresult **out, mde_err *err)
{
	static const char sql[] =
		"SELECT " ISO("open_time") ", source,"
		" array_to_string(reasons, ','), raw::text, times_seen, "
		ISO("last_seen_at") " FROM rejected_candles"
		" WHERE symbol = $1 AND timeframe = $2"
		" ORDER BY last_seen_at DESC, open_time DESC LIMIT $3";
	char k[16];
	snprintf(k, sizeof k, "%d", n);
	const char *v[] = {symbol, timeframe, k};
	return mde_db_params(c, sql, 3, v, PGRES_TUPLES_OK, out, err);
}
