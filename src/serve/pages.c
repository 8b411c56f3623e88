/*
 * pages.c - the dashboard's pages for a person (docs/API.md "Pages"):
 * `/` (every series worst first, every backfill job with a progress bar)
 * and `/series/{symbol}/{timeframe}` (the chart, the latest corrections
 * and rejected candles), and the files of /static/. Tables are HTML from
 * the server, readable without JavaScript; the charts are drawn by
 * dygraphs (served by us) from the features endpoint.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_queries.h"
#include "assets.h"
#include "page.h"
#include "reports.h"
#include "srv.h"
#include "timeutil.h"

const mde_asset *mde_asset_find(const char *name)
{
	for (size_t i = 0; i < mde_nassets; i++)
		if (strcmp(mde_assets[i].name, name) == 0)
			return &mde_assets[i];
	return NULL;
}

static void put_asset(mde_sbuf *b, const char *tag, const char *name)
{
	const mde_asset *a = mde_asset_find(name);
	mde_sbuf_printf(b, "<%s>\n", tag);
	if (a)
		mde_sbuf_put(b, (const char *)a->data, a->size);
	mde_sbuf_printf(b, "\n</%.6s>\n", tag);
}

void mde_page_head(mde_sbuf *b, const char *title, bool inline_assets,
		   bool charts)
{
	mde_sbuf_puts(b, "<!DOCTYPE html>\n<html lang=\"en\"><head>"
		      "<meta charset=\"utf-8\">\n<meta name=\"viewport\" "
		      "content=\"width=device-width, initial-scale=1\">\n"
		      "<title>");
	mde_sbuf_html(b, title);
	mde_sbuf_puts(b, " - mdenrich</title>\n");
	if (inline_assets) {
		put_asset(b, "style", "dashboard.css");
	} else {
		mde_sbuf_puts(b, "<link rel=\"icon\" href=\"data:,\">\n"
			      "<link rel=\"stylesheet\" "
			      "href=\"/static/dashboard.css\">\n");
		if (charts)
			mde_sbuf_puts(b, "<link rel=\"stylesheet\" "
				      "href=\"/static/dygraph.min.css\">\n");
	}
	mde_sbuf_puts(b, "</head><body>\n<nav><a href=\"/\">Overview</a> "
		      "<a href=\"/quality\">Quality</a> <a href=\"/metrics\">"
		      "Metrics</a></nav>\n<main>\n<h1>");
	mde_sbuf_html(b, title);
	mde_sbuf_puts(b, "</h1>\n");
}

void mde_page_foot(mde_sbuf *b, bool inline_assets, bool charts)
{
	mde_sbuf_puts(b, "</main>\n");
	if (inline_assets) {
		put_asset(b, "script", "dashboard.js");
	} else {
		if (charts)
			mde_sbuf_puts(b, "<script src=\"/static/dygraph.min.js\">"
				      "</script>\n");
		mde_sbuf_puts(b, "<script src=\"/static/dashboard.js\">"
			      "</script>\n");
	}
	mde_sbuf_puts(b, "</body></html>\n");
}

/* A cell of column j of row i, HTML-escaped ("" for NULL). */
static void td(mde_sbuf *b, const PGresult *r, int i, int j, const char *cls)
{
	mde_sbuf_printf(b, "<td%s%s%s>", cls ? " class=\"" : "",
			cls ? cls : "", cls ? "\"" : "");
	if (!PQgetisnull(r, i, j))
		mde_sbuf_html(b, PQgetvalue(r, i, j));
	mde_sbuf_puts(b, "</td>");
}

static void series_table(mde_sbuf *b, const PGresult *r)
{
	mde_sbuf_printf(b, "<h2>Series (%d), worst first</h2>\n", PQntuples(r));
	mde_sbuf_puts(b, "<table id=\"series\"><thead><tr><th>Series</th>"
		      "<th>Asset</th><th>Source</th><th>Last candle</th>"
		      "<th>Behind (candles)</th><th>Rows</th><th>Last status"
		      "</th><th>Last run</th><th>Last error</th></tr></thead>"
		      "<tbody>\n");
	for (int i = 0; i < PQntuples(r); i++) {
		const char *st = PQgetisnull(r, i, MDE_AS_STATUS)
					 ? "none" : PQgetvalue(r, i, MDE_AS_STATUS);
		mde_sbuf_puts(b, "<tr><td><a href=\"/series/");
		mde_sbuf_html(b, PQgetvalue(r, i, MDE_AS_SYMBOL));
		mde_sbuf_puts(b, "/");
		mde_sbuf_html(b, PQgetvalue(r, i, MDE_AS_TIMEFRAME));
		mde_sbuf_puts(b, "\">");
		mde_sbuf_html(b, PQgetvalue(r, i, MDE_AS_SYMBOL));
		mde_sbuf_puts(b, " ");
		mde_sbuf_html(b, PQgetvalue(r, i, MDE_AS_TIMEFRAME));
		mde_sbuf_puts(b, "</a></td>");
		td(b, r, i, MDE_AS_ASSET, NULL);
		td(b, r, i, MDE_AS_SOURCE, NULL);
		td(b, r, i, MDE_AS_LAST, NULL);
		td(b, r, i, MDE_AS_BEHIND, "num");
		td(b, r, i, MDE_AS_ROWS, "num");
		mde_sbuf_puts(b, "<td class=\"st-");
		mde_sbuf_html(b, st);
		mde_sbuf_puts(b, "\">");
		mde_sbuf_html(b, st);
		mde_sbuf_puts(b, "</td>");
		td(b, r, i, MDE_AS_RUN_AT, NULL);
		td(b, r, i, MDE_AS_ERROR, "err");
		mde_sbuf_puts(b, "</tr>\n");
	}
	mde_sbuf_puts(b, "</tbody></table>\n");
}

static void job_row(mde_sbuf *b, cJSON *j)
{
	double prog = cJSON_GetObjectItem(j, "progress")->valuedouble;
	const cJSON *ch = cJSON_GetObjectItem(j, "chunks");
	const cJSON *err = cJSON_GetObjectItem(j, "last_error");
	const cJSON *range = cJSON_GetObjectItem(j, "range");
	mde_sbuf_printf(b, "<tr><td class=\"num\">%.0f</td><td>",
			cJSON_GetObjectItem(j, "id")->valuedouble);
	const cJSON *sym;
	int k = 0;
	cJSON_ArrayForEach(sym, cJSON_GetObjectItem(j, "symbols")) {
		mde_sbuf_puts(b, k++ ? ", " : "");
		mde_sbuf_html(b, sym->valuestring);
	}
	mde_sbuf_printf(b, " %s</td><td>%s &rarr; %s</td><td>%s</td>",
			cJSON_GetObjectItem(j, "timeframe")->valuestring,
			cJSON_GetObjectItem(range, "from")->valuestring,
			cJSON_GetObjectItem(range, "to")->valuestring,
			cJSON_GetObjectItem(j, "state")->valuestring);
	mde_sbuf_printf(b, "<td><progress max=\"100\" value=\"%.1f\">%.1f%%"
			"</progress> %.1f%%</td><td class=\"num\">%.0f / %.0f"
			"</td><td class=\"num\">%.0f / %.0f</td><td class=\"err\">",
			prog * 100, prog * 100, prog * 100,
			cJSON_GetObjectItem(ch, "done")->valuedouble,
			cJSON_GetObjectItem(ch, "total")->valuedouble,
			cJSON_GetObjectItem(j, "candles_done")->valuedouble,
			cJSON_GetObjectItem(j, "candles_expected")->valuedouble);
	if (cJSON_IsString(err))
		mde_sbuf_html(b, err->valuestring);
	mde_sbuf_puts(b, "</td></tr>\n");
}

static void jobs_table(mde_sbuf *b, const PGresult *r)
{
	mde_sbuf_printf(b, "<h2>Backfill jobs (%d)</h2>\n", PQntuples(r));
	mde_sbuf_puts(b, "<table id=\"jobs\"><thead><tr><th>Job</th><th>"
		      "Series</th><th>Range</th><th>State</th><th>Progress</th>"
		      "<th>Chunks</th><th>Candles</th><th>Last error</th></tr>"
		      "</thead><tbody>\n");
	for (int i = PQntuples(r) - 1; i >= 0; i--) {
		cJSON *j = mde_api_job_obj(r, i);
		job_row(b, j);
		cJSON_Delete(j);
	}
	mde_sbuf_puts(b, "</tbody></table>\n");
}

mde_mhd_rc mde_page_overview(mde_req *r)
{
	mde_mhd_rc rc;
	PGconn *c = mde_srv_begin(r, NULL, &rc);
	if (!c)
		return rc;
	PGresult *st = NULL, *jobs = NULL;
	mde_err err = {0};
	int q = mde_api_status(c, NULL, &st, &err);
	if (!q)
		q = mde_store_status_jobs(c, &jobs, &err);
	mde_srv_db_put(r, c);
	if (q) {
		PQclear(st);
		return mde_srv_db_error(r, &err);
	}
	mde_sbuf b = {0};
	mde_page_head(&b, "Enrichment overview", false, false);
	series_table(&b, st);
	jobs_table(&b, jobs);
	mde_page_foot(&b, false, false);
	PQclear(st);
	PQclear(jobs);
	return mde_srv_text(r, 200, "text/html; charset=utf-8", &b);
}

static void small_table(mde_sbuf *b, const char *title, const char *id,
			const char *const *heads, const PGresult *r)
{
	int nc = PQnfields(r);
	mde_sbuf_printf(b, "<h2>%s (%d)</h2>\n<table id=\"%s\"><thead><tr>",
			title, PQntuples(r), id);
	for (int j = 0; j < nc; j++)
		mde_sbuf_printf(b, "<th>%s</th>", heads[j]);
	mde_sbuf_puts(b, "</tr></thead><tbody>\n");
	for (int i = 0; i < PQntuples(r); i++) {
		mde_sbuf_puts(b, "<tr>");
		for (int j = 0; j < nc; j++)
			td(b, r, i, j, NULL);
		mde_sbuf_puts(b, "</tr>\n");
	}
	mde_sbuf_puts(b, "</tbody></table>\n");
}

static void series_body(mde_sbuf *b, const char *sym, const char *tf,
			const PGresult *st, int i, const PGresult *corr,
			const PGresult *rej)
{
	int64_t p = 0;
	if (mde_tf_parse(tf, &p))
		p = MDE_HOUR_MS;
	mde_sbuf_printf(b, "<p>%s candles stored, %s to %s (%s, source %s). "
			"Drag on a chart to zoom, double-click to reset.</p>\n",
			PQgetvalue(st, i, MDE_AS_ROWS),
			PQgetvalue(st, i, MDE_AS_FIRST),
			PQgetvalue(st, i, MDE_AS_LAST),
			PQgetvalue(st, i, MDE_AS_ASSET),
			PQgetvalue(st, i, MDE_AS_SOURCE));
	mde_sbuf_printf(b, "<div id=\"chart-root\" data-symbol=\"%s\" "
			"data-timeframe=\"%s\" data-period-ms=\"%" PRId64 "\" "
			"data-asset=\"", sym, tf, p);
	mde_sbuf_html(b, PQgetvalue(st, i, MDE_AS_ASSET));
	mde_sbuf_puts(b, "\">\n<h2>Close, SMA 20, SMA 50</h2>\n"
		      "<div id=\"chart-price\" class=\"chart\"></div>\n"
		      "<h2>Volatility 20, funding rate, open interest</h2>\n"
		      "<div id=\"chart-aux\" class=\"chart\"></div>\n"
		      "<p id=\"chart-status\">Charts need JavaScript.</p>\n"
		      "</div>\n");
	static const char *const ch[] = {"Open time", "Old revision",
					 "New revision", "Old close",
					 "New close", "Source", "Run",
					 "Detected"};
	static const char *const rh[] = {"Open time", "Source", "Reasons",
					 "Raw values", "Times seen",
					 "Last seen"};
	small_table(b, "Latest corrections", "corrections", ch, corr);
	small_table(b, "Latest rejected candles", "rejects", rh, rej);
}

mde_mhd_rc mde_page_series(mde_req *r, const char *symbol,
			   const char *timeframe)
{
	static const char *const no_args[] = {NULL};
	char sym[33];
	int a = mde_srv_check_args(r, no_args);
	if (a >= 0)
		return (mde_mhd_rc)a;
	if (mde_param_symbol(symbol, sym) || mde_param_timeframe(timeframe))
		return mde_srv_error(r, 400, "bad symbol or timeframe");
	mde_mhd_rc rc;
	PGconn *c = mde_srv_db(r, &rc);
	if (!c)
		return rc;
	PGresult *st = NULL, *corr = NULL, *rej = NULL;
	mde_err err = {0};
	int q = mde_api_status(c, sym, &st, &err);
	if (!q)
		q = mde_api_corrections(c, sym, timeframe, 50, &corr, &err);
	if (!q)
		q = mde_api_rejects(c, sym, timeframe, 50, &rej, &err);
	mde_srv_db_put(r, c);
	if (q) {
		PQclear(st);
		PQclear(corr);
		return mde_srv_db_error(r, &err);
	}
	int row = -1;
	for (int i = 0; i < PQntuples(st); i++)
		if (strcmp(PQgetvalue(st, i, MDE_AS_TIMEFRAME), timeframe) == 0)
			row = i;
	mde_sbuf b = {0};
	if (row >= 0) {
		char title[64];
		snprintf(title, sizeof title, "%s %s", sym, timeframe);
		mde_page_head(&b, title, false, true);
		series_body(&b, sym, timeframe, st, row, corr, rej);
		mde_page_foot(&b, false, true);
	}
	PQclear(st);
	PQclear(corr);
	PQclear(rej);
	if (row < 0) {
		mde_sbuf_free(&b);
		return mde_srv_error(r, 404, "no series %s %s is stored", sym,
				     timeframe);
	}
	return mde_srv_text(r, 200, "text/html; charset=utf-8", &b);
}

mde_mhd_rc mde_page_static(mde_req *r, const char *name)
{
	const mde_asset *a = mde_asset_find(name);
	if (!a)
		return mde_srv_error(r, 404, "no such file");
	const char *dot = strrchr(name, '.');
	const char *type = dot && !strcmp(dot, ".js")
				   ? "text/javascript; charset=utf-8"
				   : "text/css; charset=utf-8";
	struct MHD_Response *resp = MHD_create_response_from_buffer(
		a->size, (void *)a->data, MHD_RESPMEM_PERSISTENT);
	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, "Content-Type", type);
	return mde_srv_queue(r, 200, resp);
}
