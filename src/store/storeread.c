/*
 * storeread.c - the read side of store.h: the last stored candle of a
 * series, the candles a chunk's features need as history, and the stored
 * auxiliary series. Values come back as the text PostgreSQL keeps, so a
 * candle read back is the candle that was written.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "store.h"

int mde_store_last_time(mde_store *s, const char *symbol,
			const char *timeframe, int64_t *out_ms, bool *found,
			mde_err *err)
{
	static const char sql[] =
		"SELECT (extract(epoch FROM max(open_time)) * 1000)::int8 "
		"FROM market_data_v2 WHERE symbol = $1 AND timeframe = $2";
	const char *v[] = {symbol, timeframe};
	int rc = mde_db_query_ms(mde_store_conn(s), sql, 2, v, out_ms, err);
	*found = !rc && *out_ms != INT64_MIN;
	return rc;
}

static int append_rows(PGresult *r, mde_candles *out, bool reverse,
		       mde_err *err)
{
	int n = PQntuples(r);
	for (int k = 0; k < n; k++) {
		int i = reverse ? n - 1 - k : k;
		mde_candle_in in = {0};
		in.open_time_ms = strtoll(PQgetvalue(r, i, 0), NULL, 10);
		for (int f = 0; f < MDE_NFIELDS; f++)
			in.txt[f] = PQgetisnull(r, i, 1 + f)
					    ? NULL
					    : PQgetvalue(r, i, 1 + f);
		in.trades = PQgetisnull(r, i, 9)
				    ? MDE_NULL_TRADES
				    : strtoll(PQgetvalue(r, i, 9), NULL, 10);
		int o = mde_origin_parse(PQgetvalue(r, i, 10));
		in.origin = o < 0 ? MDE_SRC_REPLAY : o;
		int rc = mde_candles_push(out, &in, err);
		if (rc)
			return rc;
	}
	return 0;
}

#define CANDLE_COLS                                                     \
	"(extract(epoch FROM open_time) * 1000)::int8, open, high, low, " \
	"close, volume, quote_volume, taker_buy_base, taker_buy_quote, "  \
	"trades, source"
#define MS(p) "timestamptz 'epoch' + " p "::int8 * interval '1 millisecond'"

int mde_store_load_candles(mde_store *s, const char *symbol,
			   const char *timeframe, int64_t from_ms,
			   int64_t to_ms, size_t last_n, mde_candles *out,
			   mde_err *err)
{
	PGconn *c = mde_store_conn(s);
	char from[24], to[24], lim[24];
	snprintf(from, sizeof from, "%lld", (long long)from_ms);
	snprintf(to, sizeof to, "%lld", (long long)to_ms);
	snprintf(lim, sizeof lim, "%zu", last_n);
	PGresult *r;
	int rc;
	if (last_n > 0) {
		static const char before[] =
			"SELECT " CANDLE_COLS " FROM market_data_v2 WHERE "
			"symbol = $1 AND timeframe = $2 AND open_time < " MS("$3")
			" ORDER BY open_time DESC LIMIT $4";
		const char *v[] = {symbol, timeframe, from, lim};
		if ((rc = mde_db_params(c, before, 4, v, PGRES_TUPLES_OK, &r,
					err)))
			return rc;
		rc = append_rows(r, out, true, err);
		PQclear(r);
		if (rc)
			return rc;
	}
	static const char range[] =
		"SELECT " CANDLE_COLS " FROM market_data_v2 WHERE symbol = $1 "
		"AND timeframe = $2 AND open_time >= " MS("$3") " AND "
		"open_time < " MS("$4") " ORDER BY open_time";
	const char *v[] = {symbol, timeframe, from, to};
	if ((rc = mde_db_params(c, range, 4, v, PGRES_TUPLES_OK, &r, err)))
		return rc;
	rc = append_rows(r, out, false, err);
	PQclear(r);
	return rc;
}

int mde_store_load_aux(mde_store *s, int kind, const char *symbol,
		       const char *period, int64_t since_ms,
		       size_t events_before, int64_t until_ms, mde_aux *out,
		       mde_err *err)
{
	const char *table, *tcol, *vcol;
	bool has_period = true;
	switch (kind) {
	case MDE_AUX_FUNDING:
		table = "funding_rates", tcol = "funding_time";
		vcol = "funding_rate", has_period = false;
		break;
	case MDE_AUX_OPEN_INTEREST:
		table = "open_interest_hist", tcol = "ts";
		vcol = "sum_open_interest";
		break;
	case MDE_AUX_LONG_SHORT:
		table = "long_short_ratio_hist", tcol = "ts";
		vcol = "long_short_ratio";
		break;
	default:
		return mde_err_set(err, MDE_EINVAL, false,
				   "aux kind %d is not stored", kind);
	}
	char sql[1024], since[24], until[24], lim[24];
	snprintf(since, sizeof since, "%lld", (long long)since_ms);
	snprintf(until, sizeof until, "%lld", (long long)until_ms);
	snprintf(lim, sizeof lim, "%zu", events_before);
	const char *pcond = has_period ? " AND period = $5" : " AND $5::text "
							       "IS NOT NULL";
	snprintf(sql, sizeof sql,
		 "(SELECT (extract(epoch FROM %s) * 1000)::int8, %s::float8 "
		 "FROM %s WHERE symbol = $1%s AND %s < " MS("$2")
		 " ORDER BY %s DESC LIMIT $4) UNION ALL "
		 "(SELECT (extract(epoch FROM %s) * 1000)::int8, %s::float8 "
		 "FROM %s WHERE symbol = $1%s AND %s >= " MS("$2") " AND %s < "
		 MS("$3") ") ORDER BY 1",
		 tcol, vcol, table, pcond, tcol, tcol, tcol, vcol, table, pcond,
		 tcol, tcol);
	const char *v[] = {symbol, since, until, lim, period ? period : "1h"};
	PGresult *r;
	int rc = mde_db_params(mde_store_conn(s), sql, 5, v, PGRES_TUPLES_OK,
			       &r, err);
	if (rc)
		return rc;
	for (int i = 0; i < PQntuples(r) && !rc; i++)
		if (mde_aux_push(out, strtoll(PQgetvalue(r, i, 0), NULL, 10),
				 strtod(PQgetvalue(r, i, 1), NULL)))
			rc = mde_err_set(err, MDE_ENOMEM, false,
					 "out of memory");
	PQclear(r);
	return rc;
}

int mde_store_funding_kept(mde_store *s, const char *symbols, size_t n,
			   int64_t since_ms, int64_t max_gap_ms,
			   int64_t *last_ms, int64_t *run_from_ms,
			   mde_err *err)
{
	/* each event with the one before it; the run ending at the last
	 * event starts after the last gap wider than $3. The symbols travel
	 * as their comma list, and come back by position. */
	static const char sql[] =
		"WITH e AS (SELECT u.ord, f.funding_time AS t, "
		"lag(f.funding_time) OVER (PARTITION BY u.ord ORDER BY "
		"f.funding_time) AS prev FROM funding_rates f JOIN "
		"unnest(string_to_array($1, ',')) WITH ORDINALITY AS "
		"u(symbol, ord) ON u.symbol = f.symbol WHERE f.source = "
		"'binance' AND f.funding_time >= " MS("$2") ") "
		"SELECT ord, (extract(epoch FROM max(t)) * 1000)::int8, "
		"(extract(epoch FROM max(t) FILTER (WHERE prev IS NULL OR "
		"t - prev > $3::int8 * interval '1 millisecond')) * 1000)::int8 "
		"FROM e GROUP BY ord";
	for (size_t k = 0; k < n; k++)
		last_ms[k] = run_from_ms[k] = INT64_MIN;
	char since[24], gap[24];
	snprintf(since, sizeof since, "%lld", (long long)since_ms);
	snprintf(gap, sizeof gap, "%lld", (long long)max_gap_ms);
	const char *v[] = {symbols, since, gap};
	PGresult *r;
	int rc = mde_db_params(mde_store_conn(s), sql, 3, v, PGRES_TUPLES_OK,
			       &r, err);
	if (rc)
		return rc;
	for (int i = 0; i < PQntuples(r); i++) {
		long long k = strtoll(PQgetvalue(r, i, 0), NULL, 10) - 1;
		if (k < 0 || (size_t)k >= n)
			continue;
		last_ms[k] = strtoll(PQgetvalue(r, i, 1), NULL, 10);
		run_from_ms[k] = strtoll(PQgetvalue(r, i, 2), NULL, 10);
	}
	PQclear(r);
	return 0;
}
