/*
 * store.c - the writer of store.h. A batch is staged with binary COPY into
 * a temporary table (one per connection, emptied at commit), then moved
 * into market_data_v2 by set-based statements, so the cost per candle is
 * one COPY row and one index probe. Statements are built once from the
 * column list of columns.def.
 */
#include "store.h"

#include <stdarg.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "log.h"
#include "pgcopy.h"
#include "quality.h"
#include "timeutil.h"

struct mde_store {
	PGconn *c;
	char *url;
	int timeout_s;
	bool stage_ready;
	bool group;      /* inside mde_store_group_begin: batches are
			    savepoints of one transaction */
	bool stage_at_group; /* stage_ready when the group began */
	mde_copybuf copy;    /* kept from batch to batch: its pages are
				touched once, not once a batch */
	bool quality_prepared; /* on this connection (mde_db_prepared) */
};

PGconn *mde_store_conn(mde_store *s)
{
	return s->c;
}

int mde_store_open(mde_store **out, const char *url, int connect_timeout_s,
		   mde_err *err)
{
	*out = NULL;
	mde_store *s = calloc(1, sizeof *s);
	if (!s || !(s->url = strdup(url ? url : ""))) {
		free(s);
		return mde_err_set(err, MDE_ENOMEM, false, "out of memory");
	}
	s->timeout_s = connect_timeout_s;
	int rc = mde_db_connect(&s->c, s->url, s->timeout_s, err);
	if (rc) {
		mde_store_close(s);
		return rc;
	}
	*out = s;
	return 0;
}

int mde_store_reconnect(mde_store *s, mde_err *err)
{
	PQfinish(s->c);
	s->c = NULL;
	s->stage_ready = false;
	s->group = false;
	s->quality_prepared = false;
	return mde_db_connect(&s->c, s->url, s->timeout_s, err);
}

void mde_store_close(mde_store *s)
{
	if (!s)
		return;
	PQfinish(s->c);
	free(s->copy.p);
	free(s->url);
	free(s);
}

/* ---- statements ------------------------------------------------------ */

#define OHLCV_COLS "open, high, low, close, volume, quote_volume, " \
		   "taker_buy_base, taker_buy_quote, trades"
#define NSTAGE (5 + 9 + MDE_NFEATURES + 4)

static char stage_cols[1024];
static char sql_stage[2048], sql_upsert[16384], sql_corr[4096],
	sql_filter[16384];

/* The batch's rows of market_data_v2: one series, one key range. */
#define RANGE_M                                                          \
	"m.symbol = $1 AND m.timeframe = $2 AND m.open_time >= "           \
	"timestamptz 'epoch' + $3::int8 * interval '1 millisecond' AND "   \
	"m.open_time <= timestamptz 'epoch' + $4::int8 * interval "        \
	"'1 millisecond'"

static void cat(char *dst, size_t cap, const char *fmt, ...)
	MDE_PRINTF(3, 4);
static void cat(char *dst, size_t cap, const char *fmt, ...)
{
	size_t n = strlen(dst);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(dst + n, cap - n, fmt, ap);
	va_end(ap);
}

/* "OHLCV and trades differ, and x may replace m; or x upgrades m from a
 * fallback source": the candle itself changed (new revision). */
#define CHANGED(x)                                                      \
	"(((m.open, m.high, m.low, m.close, m.volume, m.quote_volume, "  \
	"m.taker_buy_base, m.taker_buy_quote, m.trades) IS DISTINCT FROM (" \
	x ".open, " x ".high, " x ".low, " x ".close, " x ".volume, " x    \
	".quote_volume, " x ".taker_buy_base, " x ".taker_buy_quote, " x  \
	".trades) AND mde_source_rank(" x ".source) >= "                  \
	"mde_source_rank(m.source)) OR mde_source_rank(" x ".source) > "  \
	"mde_source_rank(m.source))"

/* Bits 4 (amended) and 8 (fallback source) belong to the store. */
#define FLAGS(x)                                                        \
	"((" x ".validation_flags & 3) | CASE WHEN m.revision > 1 OR "     \
	CHANGED(x) " THEN 4 ELSE 0 END | CASE WHEN mde_source_rank(CASE "  \
	"WHEN " CHANGED(x) " THEN " x ".source ELSE m.source END) = 1 THEN " \
	"8 ELSE 0 END)"

/* "The row m would change if x were written": the candle, a feature
 * beyond rounding noise, the flags, the quality score or the version. */
static void differs(char *q, size_t cap, const char *x)
{
	bool s = strcmp(x, "s") == 0;
	cat(q, cap, "%s OR m.validation_flags <> %s OR m.feature_version <> "
		    "%s.feature_version OR mde_fdiff(m.quality_score, "
		    "%s.quality_score)",
	    s ? CHANGED("s") : CHANGED("excluded"),
	    s ? FLAGS("s") : FLAGS("excluded"), x, x);
	for (int k = 0; k < MDE_NFEATURES; k++) {
		const char *n = mde_column_names[k];
		if (mde_column_int2(k))
			cat(q, cap, " OR m.%s IS DISTINCT FROM %s.%s", n, x, n);
		else
			cat(q, cap, " OR mde_fdiff(m.%s, %s.%s)", n, x, n);
	}
}

static void build_sql_once(void)
{
	cat(stage_cols, sizeof stage_cols,
	    "symbol, timeframe, open_time, asset_class, source, " OHLCV_COLS);
	for (int k = 0; k < MDE_NFEATURES; k++)
		cat(stage_cols, sizeof stage_cols, ", %s", mde_column_names[k]);
	cat(stage_cols, sizeof stage_cols,
	    ", validation_flags, quality_score, feature_version, run_id");

	snprintf(sql_stage, sizeof sql_stage,
		 "CREATE TEMP TABLE IF NOT EXISTS mde_stage ON COMMIT DELETE "
		 "ROWS AS SELECT %s FROM market_data_v2 WITH NO DATA",
		 stage_cols);

	/* Amended candles: old and new values of the fields that changed. */
	char *q = sql_corr;
	size_t cap = sizeof sql_corr;
	cat(q, cap, "INSERT INTO data_corrections (symbol, timeframe, "
		    "open_time, old_revision, new_revision, old_source, source");
	static const char *f[] = {"open", "high", "low", "close", "volume",
				  "quote_volume", "taker_buy_base",
				  "taker_buy_quote", "trades"};
	for (size_t i = 0; i < MDE_ARRAY_LEN(f); i++)
		cat(q, cap, ", old_%s, new_%s", f[i], f[i]);
	cat(q, cap, ", run_id) SELECT m.symbol, m.timeframe, m.open_time, "
		    "m.revision, m.revision + 1, m.source, s.source");
	for (size_t i = 0; i < MDE_ARRAY_LEN(f); i++)
		cat(q, cap,
		    ", CASE WHEN m.%s IS DISTINCT FROM s.%s THEN m.%s END"
		    ", CASE WHEN m.%s IS DISTINCT FROM s.%s THEN s.%s END",
		    f[i], f[i], f[i], f[i], f[i], f[i]);
	cat(q, cap, ", s.run_id FROM mde_stage s JOIN market_data_v2 m ON "
		    "m.open_time = s.open_time WHERE " RANGE_M " AND "
		    CHANGED("s"));

	q = sql_upsert;
	cap = sizeof sql_upsert;
	cat(q, cap, "WITH up AS (INSERT INTO market_data_v2 AS m (%s) "
		    "SELECT %s FROM mde_stage ON CONFLICT (symbol, timeframe, "
		    "open_time) DO UPDATE SET source = CASE WHEN "
		    CHANGED("excluded") " THEN excluded.source ELSE m.source "
		    "END",
	    stage_cols, stage_cols);
	for (size_t i = 0; i < MDE_ARRAY_LEN(f); i++)
		cat(q, cap, ", %s = CASE WHEN " CHANGED("excluded")
			    " THEN excluded.%s ELSE m.%s END",
		    f[i], f[i], f[i]);
	for (int k = 0; k < MDE_NFEATURES; k++)
		cat(q, cap, ", %s = excluded.%s", mde_column_names[k],
		    mde_column_names[k]);
	cat(q, cap, ", validation_flags = %s, quality_score = "
		    "excluded.quality_score, feature_version = "
		    "excluded.feature_version, revision = m.revision + CASE "
		    "WHEN " CHANGED("excluded") " THEN 1 ELSE 0 END, "
		    "asset_class = excluded.asset_class, run_id = "
		    "excluded.run_id, updated_at = now() WHERE ",
	    FLAGS("excluded"));
	differs(q, cap, "excluded");
	cat(q, cap, " RETURNING (xmax = 0) AS inserted) SELECT count(*) "
		    "FILTER (WHERE inserted), count(*) FILTER (WHERE NOT "
		    "inserted) FROM up");

	/* Rows already stored with these values leave the stage first, so
	 * that the upsert neither writes nor locks them. */
	q = sql_filter;
	cap = sizeof sql_filter;
	cat(q, cap, "DELETE FROM mde_stage s USING market_data_v2 m WHERE "
		    "m.open_time = s.open_time AND " RANGE_M " AND NOT (");
	differs(q, cap, "s");
	cat(q, cap, ")");
}

/* The statements above, built once for every thread of the process:
 * writers side by side start their first batches at once, and one of
 * them read a column list another was still writing. */
static void build_sql(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, build_sql_once);
}

/* ---- writing ---------------------------------------------------------- */

/* One row of the batch, slot i, in COPY's binary form; -1 when a decimal
 * field is no number (err says which). */
static int copy_row(mde_copybuf *buf, const mde_store_batch *b, size_t i,
		    const char *asset, mde_err *err)
{
	const mde_series *se = b->rows.series;
	const mde_frame *fr = b->rows.frame;
	uint32_t row = se->row[i];
	int origin = b->rows.candles->origin[row];
	mde_copy_put16(buf, NSTAGE);
	mde_copy_text(buf, b->symbol);
	mde_copy_text(buf, b->timeframe);
	mde_copy_time(buf, se->t[i]);
	mde_copy_text(buf, asset);
	mde_copy_text(buf, mde_origin_name(origin));
	for (int f = 0; f < MDE_NFIELDS; f++) {
		const char *txt = mde_candles_text(b->rows.candles, row, f);
		if (mde_copy_numeric(buf, txt)) {
			mde_err_set(err, MDE_EINVAL, false,
				    "%s at %lld is not a decimal",
				    mde_field_names[f], (long long)se->t[i]);
			return -1;
		}
	}
	if (b->rows.candles->trades[row] == MDE_NULL_TRADES)
		mde_copy_null(buf);
	else
		mde_copy_int8(buf, b->rows.candles->trades[row]);
	for (int k = 0; k < MDE_NFEATURES; k++) {
		if (mde_column_int2(k))
			mde_copy_int2(buf, fr->col[k][i]);
		else
			mde_copy_float8(buf, fr->col[k][i]);
	}
	bool fallback = mde_origin_rank(origin) == 1;
	mde_copy_int4(buf, (fr->flags[i] & 3) |
				   (fallback ? MDE_VF_FALLBACK : 0));
	mde_copy_float8(buf, fr->quality[i]);
	mde_copy_int4(buf, MDE_FEATURE_VERSION);
	mde_copy_int8(buf, b->run_id);
	return 0;
}

/* Sends what buf holds and empties it. */
static int copy_send(mde_store *s, mde_copybuf *buf, mde_err *err)
{
	if (buf->oom)
		return mde_err_set(err, MDE_ENOMEM, false, "out of memory");
	if (buf->n && PQputCopyData(s->c, (const char *)buf->p,
				    (int)buf->n) != 1)
		return mde_err_set(err, MDE_EDB, true, "COPY: %s",
				   PQerrorMessage(s->c));
	buf->n = 0;
	return 0;
}

/*
 * The rows go to the server in CopyData messages of 64 KiB, sent while the
 * next are encoded: the buffer stays small and the server parses while the
 * client encodes. The server reads each message whole before it parses
 * it: messages of 1 MiB made a 200,000-candle backfill 25% slower (2.1-2.3
 * s against 1.5-1.8 s; 32 KiB to 256 KiB within 10% of 64 KiB).
 */
#define COPY_MESSAGE_BYTES ((size_t)64 << 10)

/* The batch's valid slots, by binary COPY into table. */
int mde_store_copy(mde_store *s, const char *table,
		   const mde_store_batch *b, size_t *staged, mde_err *err)
{
	build_sql();
	const mde_series *se = b->rows.series;
	size_t i = b->rows.slot_from, n = 0;
	*staged = 0;
	while (i < b->rows.slot_to && !se->valid[i])
		i++;
	if (i == b->rows.slot_to)
		return 0;
	char sql[1400];
	snprintf(sql, sizeof sql, "COPY %s (%s) FROM STDIN BINARY", table,
		 stage_cols);
	PGresult *r = PQexec(s->c, sql);
	int rc = mde_db_check(s->c, r, PGRES_COPY_IN, err);
	PQclear(r);
	if (rc)
		return rc;
	mde_copybuf buf = s->copy;
	buf.n = 0;
	buf.oom = false;
	mde_copy_begin(&buf);
	const char *asset = mde_asset_name(b->asset);
	for (; i < b->rows.slot_to && !rc; i++) {
		if (!se->valid[i])
			continue;
		if (copy_row(&buf, b, i, asset, err))
			rc = MDE_EINVAL;
		else
			n++;
		if (!rc && buf.n >= COPY_MESSAGE_BYTES)
			rc = copy_send(s, &buf, err);
	}
	if (!rc) {
		mde_copy_end(&buf);
		rc = copy_send(s, &buf, err);
	}
	s->copy = buf;
	/* an error ends the COPY: the server discards what it was sent */
	if (PQputCopyEnd(s->c, rc ? "aborted" : NULL) != 1 && !rc)
		rc = mde_err_set(err, MDE_EDB, true, "COPY: %s",
				 PQerrorMessage(s->c));
	while ((r = PQgetResult(s->c)) != NULL) {
		if (!rc)
			rc = mde_db_check(s->c, r, PGRES_COMMAND_OK, err);
		PQclear(r);
	}
	if (!rc)
		*staged = n;
	return rc;
}

/* Appends s as a JSON string. */
static void json_str(char *dst, size_t cap, const char *s)
{
	size_t n = strlen(dst);
	if (n + 2 >= cap)
		return;
	dst[n++] = '"';
	for (; s && *s && n + 8 < cap; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch == '"' || ch == '\\')
			n += (size_t)snprintf(dst + n, cap - n, "\\%c", ch);
		else if (ch < 0x20)
			n += (size_t)snprintf(dst + n, cap - n, "\\u%04x", ch);
		else
			dst[n++] = (char)ch;
	}
	dst[n++] = '"';
	dst[n] = '\0';
}

static int write_rejects(mde_store *s, const mde_store_batch *b,
			 mde_err *err)
{
	static const char sql[] =
		"INSERT INTO rejected_candles (symbol, timeframe, open_time, "
		"source, raw, reasons, run_id) VALUES ($1, $2, timestamptz "
		"'epoch' + $3::int8 * interval '1 millisecond', $4, $5::jsonb, "
		"$6::text[], $7) ON CONFLICT (symbol, timeframe, open_time, "
		"source) DO UPDATE SET raw = excluded.raw, reasons = "
		"excluded.reasons, run_id = excluded.run_id, last_seen_at = "
		"now(), times_seen = rejected_candles.times_seen + 1";
	const mde_candles *c = b->audit.rej_candles;
	for (size_t k = 0; k < b->audit.nrejects; k++) {
		uint32_t row = b->audit.rejects[k].row;
		char t[32], raw[2048] = "{", reasons[512] = "{", run[32];
		snprintf(t, sizeof t, "%lld", (long long)c->open_time_ms[row]);
		cat(raw, sizeof raw, "\"open_time\": %s", t);
		for (int f = 0; f < MDE_NFIELDS; f++) {
			const char *txt = mde_candles_text(c, row, f);
			cat(raw, sizeof raw, ", \"%s\": ", mde_field_names[f]);
			if (txt)
				json_str(raw, sizeof raw, txt);
			else
				cat(raw, sizeof raw, "null");
		}
		if (c->trades[row] != MDE_NULL_TRADES)
			cat(raw, sizeof raw, ", \"trades\": %lld",
			    (long long)c->trades[row]);
		cat(raw, sizeof raw, "}");
		mde_reject_reasons_str(b->audit.rejects[k].reasons, reasons + 1,
				       sizeof reasons - 2);
		cat(reasons, sizeof reasons, "}");
		snprintf(run, sizeof run, "%lld", (long long)b->run_id);
		const char *v[] = {b->symbol, b->timeframe, t,
				   mde_origin_name(c->origin[row]), raw,
				   reasons, run};
		int rc = mde_db_params(s->c, sql, 7, v, PGRES_COMMAND_OK, NULL,
				     err);
		if (rc)
			return rc;
	}
	return 0;
}

/* '{a,b,c}' text arrays of an aux series' times and values. */
static int aux_arrays(const mde_aux *a, char **times, char **vals)
{
	size_t cap = 32 + a->n * 40;
	*times = malloc(cap);
	*vals = malloc(cap);
	if (!*times || !*vals)
		return MDE_ENOMEM;
	size_t nt = 0, nv = 0;
	(*times)[nt++] = '{';
	(*vals)[nv++] = '{';
	for (size_t i = 0; i < a->n; i++) {
		char num[40];
		mde_fmt_double(num, sizeof num, a->v[i]);
		nt += (size_t)snprintf(*times + nt, cap - nt, "%s%lld",
				       i ? "," : "", (long long)a->t[i]);
		nv += (size_t)snprintf(*vals + nv, cap - nv, "%s%s",
				       i ? "," : "", num);
	}
	snprintf(*times + nt, cap - nt, "}");
	snprintf(*vals + nv, cap - nv, "}");
	return 0;
}

static int write_aux(mde_store *s, const mde_store_batch *b, mde_err *err)
{
	static const char funding[] =
		"INSERT INTO funding_rates (symbol, funding_time, funding_rate, "
		"source) SELECT $1, timestamptz 'epoch' + t * interval "
		"'1 millisecond', v, $4 FROM unnest($2::int8[], $3::numeric[]) "
		"AS u(t, v) WHERE $5::text IS NOT NULL ON CONFLICT (symbol, "
		"funding_time) DO UPDATE SET funding_rate = "
		"excluded.funding_rate, source = excluded.source, fetched_at = "
		"now() WHERE funding_rates.funding_rate <> excluded.funding_rate";
	static const char oi[] =
		"INSERT INTO open_interest_hist (symbol, period, ts, "
		"sum_open_interest, source) SELECT $1, $5, timestamptz 'epoch' "
		"+ t * interval '1 millisecond', v, $4 FROM unnest($2::int8[], "
		"$3::numeric[]) AS u(t, v) ON CONFLICT (symbol, period, ts) DO "
		"UPDATE SET sum_open_interest = excluded.sum_open_interest, "
		"fetched_at = now() WHERE open_interest_hist.sum_open_interest "
		"<> excluded.sum_open_interest";
	static const char ls[] =
		"INSERT INTO long_short_ratio_hist (symbol, period, ts, "
		"long_short_ratio, source) SELECT $1, $5, timestamptz 'epoch' "
		"+ t * interval '1 millisecond', v, $4 FROM unnest($2::int8[], "
		"$3::numeric[]) AS u(t, v) ON CONFLICT (symbol, period, ts) DO "
		"UPDATE SET long_short_ratio = excluded.long_short_ratio, "
		"fetched_at = now() WHERE long_short_ratio_hist."
		"long_short_ratio <> excluded.long_short_ratio";
	const struct {
		const mde_aux *a;
		const char *sql;
	} list[] = {{b->audit.funding, funding}, {b->audit.open_interest, oi},
		    {b->audit.long_short, ls}};
	for (size_t i = 0; i < MDE_ARRAY_LEN(list); i++) {
		if (!list[i].a || list[i].a->n == 0)
			continue;
		char *times = NULL, *vals = NULL;
		int rc = aux_arrays(list[i].a, &times, &vals);
		if (!rc) {
			const char *v[] = {b->symbol, times, vals,
					   b->audit.aux_source ? b->audit.aux_source
							 : "binance",
					   b->audit.aux_period ? b->audit.aux_period : "1h"};
			rc = mde_db_params(s->c, list[i].sql, 5, v,
					 PGRES_COMMAND_OK, NULL, err);
		} else {
			mde_err_set(err, rc, false, "out of memory");
		}
		free(times);
		free(vals);
		if (rc)
			return rc;
	}
	/* Aux ranges the source no longer serves and no run kept. */
	static const char hole[] =
		"INSERT INTO aux_holes (symbol, kind, period, hole_start, "
		"hole_end, run_id) SELECT $1, $2, $3, timestamptz 'epoch' + "
		"$4::int8 * interval '1 millisecond', timestamptz 'epoch' + "
		"$5::int8 * interval '1 millisecond', $6 ON CONFLICT (symbol, "
		"kind, period, hole_start) DO UPDATE SET hole_end = "
		"greatest(aux_holes.hole_end, excluded.hole_end) WHERE "
		"aux_holes.hole_end < excluded.hole_end";
	for (size_t i = 0; i < b->audit.nholes; i++) {
		char t0[24], t1[24], run[24];
		snprintf(t0, sizeof t0, "%lld", (long long)b->audit.holes[i].start_ms);
		snprintf(t1, sizeof t1, "%lld", (long long)b->audit.holes[i].end_ms);
		snprintf(run, sizeof run, "%lld", (long long)b->run_id);
		const char *v[] = {b->symbol, b->audit.holes[i].kind,
				   b->audit.aux_period ? b->audit.aux_period : "1h", t0, t1,
				   run};
		int rc = mde_db_params(s->c, hole, 6, v, PGRES_COMMAND_OK, NULL,
				     err);
		if (rc)
			return rc;
	}
	return 0;
}

/* Fetch-log rows per INSERT statement (12 parameters each). */
#define FETCH_LOG_ROWS 256
#define FETCH_LOG_COLS 12

/* One row's parameters as text, into its slots of v (texts in t). */
struct logtext {
	char st[16], rows[24], bytes[24], lat[24], att[16], at[24];
};

static void fetch_log_params(const char *run, const struct mde_fetch_logrow *r,
			     struct logtext *t, const char **v)
{
	snprintf(t->st, sizeof t->st, "%d", r->http_status);
	snprintf(t->rows, sizeof t->rows, "%lld", (long long)r->rows);
	snprintf(t->bytes, sizeof t->bytes, "%lld", (long long)r->bytes);
	snprintf(t->lat, sizeof t->lat, "%lld", (long long)r->latency_ms);
	snprintf(t->att, sizeof t->att, "%d", r->attempt);
	snprintf(t->at, sizeof t->at, "%lld", (long long)r->requested_at_ms);
	const char *row[FETCH_LOG_COLS] = {
		run, r->source ? r->source : "?",
		r->endpoint ? r->endpoint : "?", r->symbol, r->params,
		r->http_status ? t->st : NULL, t->rows, t->bytes, t->lat,
		t->att, r->error, t->at};
	memcpy(v, row, sizeof row);
}

/*
 * The fetch log's rows, up to FETCH_LOG_ROWS in one INSERT (a `run` over
 * 200 symbols logs 800 requests: a few statements, not 800 round trips).
 */
static int insert_fetch_log(mde_store *s, int64_t run_id,
			    const mde_fetch_logbuf *log, mde_err *err)
{
	static const char head[] =
		"INSERT INTO enrichment_fetch_log (run_id, source, endpoint, "
		"symbol, params, http_status, rows, bytes, latency_ms, attempt, "
		"error, requested_at) VALUES ";
	if (!log || log->n == 0)
		return 0;
	char run[24];
	snprintf(run, sizeof run, "%lld", (long long)run_id);
	size_t per = log->n < FETCH_LOG_ROWS ? log->n : FETCH_LOG_ROWS;
	/* "($1, ..., $11, timestamptz 'epoch' + $12::int8 * interval
	   '1 millisecond'), " is under 160 bytes a row */
	size_t cap = sizeof head + per * 160;
	char *sql = malloc(cap);
	const char **v = malloc(per * FETCH_LOG_COLS * sizeof *v);
	struct logtext *t = malloc(per * sizeof *t);
	int rc = 0;
	if (!sql || !v || !t) {
		rc = mde_err_set(err, MDE_ENOMEM, false, "out of memory");
		goto done;
	}
	for (size_t i0 = 0; i0 < log->n && !rc; i0 += per) {
		size_t m = log->n - i0 < per ? log->n - i0 : per;
		size_t len = (size_t)snprintf(sql, cap, "%s", head);
		for (size_t k = 0; k < m; k++) {
			int b = (int)(k * FETCH_LOG_COLS);
			len += (size_t)snprintf(
				sql + len, cap - len,
				"%s($%d, $%d, $%d, $%d, $%d, $%d, $%d, $%d, "
				"$%d, $%d, $%d, timestamptz 'epoch' + "
				"$%d::int8 * interval '1 millisecond')",
				k ? ", " : "", b + 1, b + 2, b + 3, b + 4,
				b + 5, b + 6, b + 7, b + 8, b + 9, b + 10,
				b + 11, b + 12);
			fetch_log_params(run, &log->rows[i0 + k], &t[k],
					 v + k * FETCH_LOG_COLS);
		}
		rc = mde_db_params(s->c, sql, (int)(m * FETCH_LOG_COLS), v,
				   PGRES_COMMAND_OK, NULL, err);
	}
done:
	free(sql);
	free(v);
	free(t);
	return rc;
}

int mde_store_flush_fetch_log(mde_store *s, int64_t run_id,
			      mde_fetch_logbuf *log, mde_err *err)
{
	if (!log || log->n == 0)
		return 0;
	int rc = s->group ? 0 : mde_db_exec(s->c, "BEGIN", err);
	if (s->group) {
		if (!(rc = insert_fetch_log(s, run_id, log, err)))
			mde_fetch_logbuf_clear(log);
		return rc;
	}
	if (!rc)
		rc = insert_fetch_log(s, run_id, log, err);
	if (!rc)
		rc = mde_db_exec(s->c, "COMMIT", err);
	if (rc) {
		mde_db_try(s->c, "ROLLBACK");
		return rc;
	}
	mde_fetch_logbuf_clear(log);
	return 0;
}

static int write_logs(mde_store *s, const mde_store_batch *b,
		      const mde_store_result *res, mde_err *err)
{
	char run[24];
	snprintf(run, sizeof run, "%lld", (long long)b->run_id);
	int rc = insert_fetch_log(s, b->run_id, b->audit.fetch_log, err);
	if (rc)
		return rc;
	if (b->audit.compute_ms < 0)
		return 0;
	static const char compute[] =
		"INSERT INTO enrichment_compute_log (run_id, symbol, timeframe, "
		"rows_in, rows_written, rows_unchanged, duration_ms) VALUES "
		"($1, $2, $3, $4, $5, $6, $7)";
	char in[24], wr[24], un[24], ms[24];
	snprintf(in, sizeof in, "%zu", b->audit.rows_in);
	snprintf(wr, sizeof wr, "%zu",
		 b->audit.written_before + res->inserted + res->updated);
	snprintf(un, sizeof un, "%zu", b->audit.unchanged_before + res->unchanged);
	snprintf(ms, sizeof ms, "%lld", (long long)b->audit.compute_ms);
	const char *v[] = {run, b->symbol, b->timeframe, in, wr, un, ms};
	return mde_db_params(s->c, compute, 7, v, PGRES_COMMAND_OK, NULL, err);
}

static int advance_cursor(mde_store *s, const mde_store_batch *b,
			  mde_err *err)
{
	static const char sql[] =
		"UPDATE backfill_state SET cursor = timestamptz 'epoch' + "
		"$3::int8 * interval '1 millisecond', status = CASE WHEN $4 "
		"THEN 'done' ELSE status END, lease_expires_at = CASE WHEN $4 "
		"THEN NULL ELSE now() + $6::int * interval '1 second' END, "
		"lease_owner = CASE WHEN $4 THEN NULL ELSE lease_owner END, "
		"last_error = CASE WHEN $4 THEN NULL ELSE last_error END, "
		"updated_at = now() WHERE job_id = $1 AND chunk_no = $2 AND "
		"lease_owner = $5 AND status = 'running'";
	mde_batch_window w;
	mde_store_batch_window(b, &w);
	char job[24], chunk[16], cur[24], lease[16];
	snprintf(job, sizeof job, "%lld", (long long)b->cursor.job_id);
	snprintf(chunk, sizeof chunk, "%d", b->cursor.chunk_no);
	snprintf(cur, sizeof cur, "%lld", (long long)w.cursor_ms);
	snprintf(lease, sizeof lease, "%d", b->cursor.lease_s);
	const char *v[] = {job, chunk, cur, w.chunk_done ? "true" : "false",
			   b->cursor.lease_owner ? b->cursor.lease_owner : "",
			   lease};
	PGresult *r = NULL;
	int rc = mde_db_params(s->c, sql, 6, v, PGRES_COMMAND_OK, &r, err);
	if (rc)
		return rc;
	bool held = strcmp(PQcmdTuples(r), "1") == 0;
	PQclear(r);
	if (!held)
		return mde_err_set(err, MDE_ELOST, false,
				   "lost the lease on job %lld chunk %d: "
				   "another worker took it over",
				   (long long)b->cursor.job_id, b->cursor.chunk_no);
	return 0;
}

void mde_store_batch_window(const mde_store_batch *b, mde_batch_window *out)
{
	const mde_series *s = b->rows.series;
	size_t i0 = b->rows.slot_from, i1 = b->rows.slot_to;
	int64_t P = b->period_ms, end = b->cursor.range_end_ms;
	bool last = i1 >= s->n;
	/* The cursor covers the fetched range only: the recomputed rows
	 * after it are not part of the chunk. */
	int64_t upto = i1 > i0 ? s->t[i1 - 1] : b->cursor.range_start_ms - P;
	out->cursor_ms = last || upto > end - P ? end - P : upto;
	out->chunk_done = last && b->cursor.fetch_complete;
	int64_t qfrom = i1 > i0 ? s->t[i0] : b->cursor.range_start_ms;
	int64_t qto = i1 > i0 ? s->t[i1 - 1] + P : qfrom;
	out->qual_from_ms = mde_floor_div(qfrom, MDE_DAY_MS) * MDE_DAY_MS;
	out->qual_to_ms = qto > qfrom
				  ? (mde_floor_div(qto - 1, MDE_DAY_MS) + 1) *
					    MDE_DAY_MS
				  : out->qual_from_ms;
}

/* The key range of the batch's valid slots; false when it has none. */
static bool batch_range(const mde_store_batch *b, int64_t *lo, int64_t *hi)
{
	bool any = false;
	for (size_t i = b->rows.slot_from; i < b->rows.slot_to; i++) {
		if (!b->rows.series->valid[i])
			continue;
		if (!any)
			*lo = b->rows.series->t[i];
		*hi = b->rows.series->t[i];
		any = true;
	}
	return any;
}

/*
 * The candles: straight into market_data_v2 when none of the batch's keys
 * is stored yet (a fresh backfill; the series lock keeps other mdenrich
 * writers out, and a unique violation sends the batch down the staged path
 * again), else through the stage: unchanged rows leave it, amended ones
 * become corrections, the rest is upserted.
 */
/* The per-day counts of the rows the fast path inserted, for the quality
 * metrics (mde_quality_known); false when out of memory. */
static bool known_days(const mde_store_batch *b, int64_t lo, int64_t hi,
		       mde_quality_known *k)
{
	const mde_series *se = b->rows.series;
	size_t cap = (size_t)((hi - lo) / MDE_DAY_MS) + 2;
	mde_quality_day *d = calloc(cap, sizeof *d);
	if (!d)
		return false;
	size_t n = 0;
	for (size_t i = b->rows.slot_from; i < b->rows.slot_to; i++) {
		if (!se->valid[i])
			continue;
		int64_t day = mde_floor_div(se->t[i], MDE_DAY_MS) * MDE_DAY_MS;
		if (n == 0 || d[n - 1].day_ms != day) {
			if (n == cap) { /* unreachable: t ascends in [lo, hi] */
				free(d);
				return false;
			}
			d[n++].day_ms = day;
		}
		d[n - 1].valid++;
		d[n - 1].suspicious += (b->rows.frame->flags[i] & 1) != 0;
	}
	*k = (mde_quality_known){.lo_ms = lo, .hi_ms = hi, .days = d,
				 .ndays = n};
	return true;
}

static int write_candles(mde_store *s, const mde_store_batch *b,
			 bool fast_ok, mde_store_result *res,
			 mde_quality_known *known, mde_err *err)
{
	int64_t lo = 0, hi = 0;
	if (!batch_range(b, &lo, &hi))
		return 0;
	char from[24], to[24];
	snprintf(from, sizeof from, "%lld", (long long)lo);
	snprintf(to, sizeof to, "%lld", (long long)hi);
	const char *v[] = {b->symbol, b->timeframe, from, to};
	PGresult *r = NULL;
	int rc;
	if (fast_ok) {
		if ((rc = mde_db_params(s->c, "SELECT NOT EXISTS (SELECT 1 FROM "
					    "market_data_v2 m WHERE " RANGE_M ")",
				      4, v, PGRES_TUPLES_OK, &r, err)))
			return rc;
		bool empty = strcmp(PQgetvalue(r, 0, 0), "t") == 0;
		PQclear(r);
		if (empty) {
			rc = mde_store_copy(s, "market_data_v2", b,
					    &res->staged, err);
			res->inserted = res->staged;
			if (!rc && !known_days(b, lo, hi, known))
				rc = mde_err_set(err, MDE_ENOMEM, false,
						 "out of memory");
			return rc;
		}
	}
	if (!s->stage_ready) {
		if ((rc = mde_db_exec(s->c, sql_stage, err)))
			return rc;
		s->stage_ready = true;
	}
	if ((rc = mde_store_copy(s, "mde_stage", b, &res->staged, err)) ||
	    (rc = mde_db_params(s->c, sql_filter, 4, v, PGRES_COMMAND_OK, &r,
			      err)))
		return rc;
	res->unchanged = strtoull(PQcmdTuples(r), NULL, 10);
	PQclear(r);
	if (res->unchanged == res->staged)
		return 0;
	if ((rc = mde_db_params(s->c, sql_corr, 4, v, PGRES_COMMAND_OK, &r,
			      err)))
		return rc;
	res->corrections = strtoull(PQcmdTuples(r), NULL, 10);
	PQclear(r);
	if ((rc = mde_db_params(s->c, sql_upsert, 0, NULL, PGRES_TUPLES_OK, &r,
			      err)))
		return rc;
	res->inserted = strtoull(PQgetvalue(r, 0, 0), NULL, 10);
	res->updated = strtoull(PQgetvalue(r, 0, 1), NULL, 10);
	res->unchanged = res->staged - res->inserted - res->updated;
	PQclear(r);
	return 0;
}

/*
 * NOTIFY mdenrich_candles (SCHEMA.md "Events") for a batch that inserted
 * or changed rows: delivered at commit, so a listener can read them.
 */
static int notify(mde_store *s, const mde_store_batch *b,
		  const mde_store_result *res, mde_err *err)
{
	int64_t lo = 0, hi = 0;
	size_t rows = res->inserted + res->updated;
	if (rows == 0 || !batch_range(b, &lo, &hi))
		return 0;
	char t0[40], t1[40], payload[512] = "{\"symbol\": ";
	json_str(payload, sizeof payload, b->symbol);
	cat(payload, sizeof payload, ", \"timeframe\": ");
	json_str(payload, sizeof payload, b->timeframe);
	cat(payload, sizeof payload, ", \"first_open_time\": \"%s\", "
	    "\"last_open_time\": \"%s\", \"rows\": %zu}",
	    mde_time_format(lo, t0, sizeof t0),
	    mde_time_format(hi, t1, sizeof t1), rows);
	const char *v[] = {payload};
	return mde_db_params(s->c, "SELECT pg_notify('mdenrich_candles', $1)",
			     1, v, PGRES_TUPLES_OK, NULL, err);
}

/* One batch's statements, inside its transaction or savepoint; known
 * receives what the fast path inserted. */
static int write_stmts(mde_store *s, const mde_store_batch *b, bool fast_ok,
		       mde_store_result *res, mde_quality_known *known,
		       mde_err *err)
{
	int rc;
	if ((rc = write_candles(s, b, fast_ok, res, known, err)) ||
	    (rc = notify(s, b, res, err)))
		return rc;
	if ((rc = write_rejects(s, b, err)))
		return rc;
	res->rejects = b->audit.nrejects;
	if ((rc = write_aux(s, b, err)) || (rc = write_logs(s, b, res, err)))
		return rc;
	/* A batch that changed nothing cannot move its days' metrics, but
	 * for the days whose slots are still closing (an outage shows as
	 * gaps only as time passes). */
	mde_batch_window w;
	mde_store_batch_window(b, &w);
	int64_t qfrom = w.qual_from_ms;
	bool quiet = res->inserted + res->updated + res->corrections +
			     b->audit.nrejects + b->audit.ndups == 0;
	int64_t recent = mde_floor_div(b->now_ms - 2 * MDE_DAY_MS, MDE_DAY_MS) *
			 MDE_DAY_MS;
	if (quiet && qfrom < recent)
		qfrom = recent;
	if (qfrom < w.qual_to_ms && !b->audit.quality_later &&
	    (rc = mde_quality_recompute(
		     NULL, s->c, &s->quality_prepared, b->symbol,
		     b->timeframe, b->period_ms, b->asset, qfrom, w.qual_to_ms,
		     b->audit.dups, b->audit.ndups, known->days ? known : NULL,
		     b->now_ms, err)))
		return rc;
	if (b->cursor.job_id && (rc = advance_cursor(s, b, err)))
		return rc;
	return 0;
}

static int write_tx(mde_store *s, const mde_store_batch *b, bool fast_ok,
		    mde_store_result *res, mde_err *err)
{
	mde_quality_known known = {0};
	int rc = write_stmts(s, b, fast_ok, res, &known, err);
	free((void *)known.days);
	return rc;
}

int mde_store_group_begin(mde_store *s, mde_err *err)
{
	int rc = mde_db_exec(s->c, "BEGIN", err);
	s->group = rc == 0;
	s->stage_at_group = s->stage_ready;
	return rc;
}

int mde_store_group_commit(mde_store *s, mde_err *err)
{
	s->group = false;
	int rc = mde_db_exec(s->c, "COMMIT", err);
	if (rc) {
		mde_db_try(s->c, "ROLLBACK");
		s->stage_ready = s->stage_at_group;
	}
	return rc;
}

void mde_store_group_rollback(mde_store *s)
{
	s->group = false;
	mde_db_try(s->c, "ROLLBACK");
	/* A stage created inside the group is gone with it. */
	s->stage_ready = s->stage_at_group;
}

int mde_store_write(mde_store *s, const mde_store_batch *b,
		    mde_store_result *res, mde_err *err)
{
	build_sql();
	int rc = 0;
	/* In a group a batch is a savepoint: its failure leaves the group's
	 * earlier batches in place. */
	const char *begin = s->group ? "SAVEPOINT mde_batch" : "BEGIN";
	const char *commit = s->group ? "RELEASE SAVEPOINT mde_batch"
				      : "COMMIT";
	const char *rollback = s->group ? "ROLLBACK TO SAVEPOINT mde_batch"
					: "ROLLBACK";
	for (int fast = 1; fast >= 0; fast--) {
		memset(res, 0, sizeof *res);
		if ((rc = mde_db_exec(s->c, begin, err)))
			return rc;
		/* The stage is created inside the transaction: a rollback
		 * (or a failed COMMIT) takes it away again. */
		bool stage_before = s->stage_ready;
		rc = write_tx(s, b, fast, res, err);
		if (!rc)
			rc = mde_db_exec(s->c, commit, err);
		if (!rc)
			break;
		mde_db_try(s->c, rollback);
		s->stage_ready = stage_before;
		memset(res, 0, sizeof *res);
		/* Someone stored a key of the batch since we looked: the
		 * staged path handles it. */
		if (!fast || strcmp(err->sqlstate, "23505") != 0)
			return rc;
	}
	if (b->audit.fetch_log)
		mde_fetch_logbuf_clear(b->audit.fetch_log);
	return 0;
}
