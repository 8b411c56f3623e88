/*
 * prom.c - GET /metrics: the Prometheus text exposition format (0.0.4) of
 * docs/API.md, for a scraper: per series how far behind, how many rows
 * and when it last succeeded; jobs by state; fetch requests by source and
 * HTTP status and rejected candles over the last 24 hours.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_queries.h"
#include "srv.h"

/* A label value with \ " and newline escaped. */
static void label(mde_sbuf *b, const char *v)
{
	for (const char *p = v; *p; p++) {
		if (*p == '\\' || *p == '"')
			mde_sbuf_put(b, "\\", 1);
		if (*p == '\n')
			mde_sbuf_puts(b, "\\n");
		else
			mde_sbuf_put(b, p, 1);
	}
}

static void help(mde_sbuf *b, const char *name, const char *type,
		 const char *text)
{
	mde_sbuf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, text, name,
			type);
}

static void series_metric(mde_sbuf *b, const PGresult *st, const char *name,
			  int col)
{
	for (int i = 0; i < PQntuples(st); i++) {
		if (PQgetisnull(st, i, col))
			continue;
		mde_sbuf_printf(b, "%s{symbol=\"", name);
		label(b, PQgetvalue(st, i, MDE_AS_SYMBOL));
		mde_sbuf_puts(b, "\",timeframe=\"");
		label(b, PQgetvalue(st, i, MDE_AS_TIMEFRAME));
		mde_sbuf_printf(b, "\"} %s\n", PQgetvalue(st, i, col));
	}
}

static void render(mde_sbuf *b, const PGresult *st, const PGresult *m,
		   const PGresult *f)
{
	help(b, "mdenrich_series_behind_seconds", "gauge", "Time from the "
	     "last stored candle to the last closed one.");
	series_metric(b, st, "mdenrich_series_behind_seconds", MDE_AS_BEHIND_S);
	help(b, "mdenrich_series_rows", "gauge", "Rows stored per series.");
	series_metric(b, st, "mdenrich_series_rows", MDE_AS_ROWS);
	help(b, "mdenrich_series_last_success_timestamp_seconds", "gauge",
	     "When the last successful run of the series ended.");
	series_metric(b, st, "mdenrich_series_last_success_timestamp_seconds",
		      MDE_AS_LAST_OK_S);
	help(b, "mdenrich_jobs", "gauge", "Backfill jobs by state.");
	static const char *states[] = {"pending", "running", "done", "failed",
				       "cancelled"};
	for (int k = 0; k < 5; k++)
		mde_sbuf_printf(b, "mdenrich_jobs{state=\"%s\"} %s\n", states[k],
				PQgetvalue(m, 0, MDE_AM_PENDING + k));
	help(b, "mdenrich_fetch_requests_total", "gauge", "HTTP requests to "
	     "the sources in the last 24 hours, by source and status.");
	for (int i = 0; i < PQntuples(f); i++) {
		mde_sbuf_puts(b, "mdenrich_fetch_requests_total{source=\"");
		label(b, PQgetvalue(f, i, 0));
		mde_sbuf_puts(b, "\",status=\"");
		label(b, PQgetvalue(f, i, 1));
		mde_sbuf_printf(b, "\"} %s\n", PQgetvalue(f, i, 2));
	}
	help(b, "mdenrich_rejected_candles_total", "gauge", "Rejected candles "
	     "seen in the last 24 hours.");
	mde_sbuf_printf(b, "mdenrich_rejected_candles_total %s\n",
			PQgetvalue(m, 0, MDE_AM_REJECTED));
}

mde_mhd_rc mde_api_prometheus(mde_req *r)
{
	mde_mhd_rc rc;
	PGconn *c = mde_srv_begin(r, NULL, &rc);
	if (!c)
		return rc;
	PGresult *st = NULL, *m = NULL, *f = NULL;
	mde_err err = {0};
	int q = mde_api_status(c, NULL, &st, &err);
	if (!q)
		q = mde_api_metrics(c, &m, &err);
	if (!q)
		q = mde_api_fetch_counts(c, &f, &err);
	mde_srv_db_put(r, c);
	if (q) {
		PQclear(st);
		PQclear(m);
		return mde_srv_db_error(r, &err);
	}
	mde_sbuf b = {0};
	render(&b, st, m, f);
	PQclear(st);
	PQclear(m);
	PQclear(f);
	return mde_srv_text(r, 200, "text/plain; version=0.0.4; charset=utf-8",
			    &b);
}
