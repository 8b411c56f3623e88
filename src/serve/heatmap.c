/*
 * heatmap.c - the /quality page: a heatmap of completeness per series
 * (rows) and UTC day (columns), coloured, with every number of the day on
 * hover (the cell's title, no JavaScript needed), and the worst days with
 * their gaps, rejects and corrections. The same page is written as one
 * self-contained file by `mdenrich quality --format html`.
 *
 * The heatmap spans the last `days` days up to the latest day that has
 * metrics (not today: a morning report of yesterday's data, or a replay
 * of old data, still shows something). Every series that has metrics
 * on any day has a row, and a day without metrics an empty cell: a series
 * that stopped shows as a grey row, and every row has one cell per day.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_queries.h"
#include "page.h"
#include "srv.h"
#include "timeutil.h"

#define WORST_DAYS 20

typedef struct grid {
	int64_t first_day, last_day;  /* days since the epoch */
	int ndays;
	int nseries;
	int *series_of;               /* row -> series index, -1 = outside */
	int *first_row;               /* series -> a row that names it */
	int *cell;                    /* series * ndays + day -> row, -1 */
} grid;

static int64_t day_of(const PGresult *r, int i)
{
	int64_t ms = 0;
	if (mde_time_parse(PQgetvalue(r, i, MDE_AQ_DAY), &ms))
		return 0;
	return mde_floor_div(ms, MDE_DAY_MS);
}

static int series_cmp_rows(const PGresult *r, int a, int b)
{
	int k = strcmp(PQgetvalue(r, a, MDE_AQ_SYMBOL),
		       PQgetvalue(r, b, MDE_AQ_SYMBOL));
	if (k)
		return k;
	int64_t pa = 0, pb = 0;
	if (mde_tf_parse(PQgetvalue(r, a, MDE_AQ_TIMEFRAME), &pa) ||
	    mde_tf_parse(PQgetvalue(r, b, MDE_AQ_TIMEFRAME), &pb))
		return 0;
	return pa < pb ? -1 : pa > pb;
}

/* Lays the rows (newest day first) on the grid. */
static int grid_build(grid *g, const PGresult *r, int days)
{
	int n = PQntuples(r);
	memset(g, 0, sizeof *g);
	if (n == 0)
		return 0;
	g->last_day = day_of(r, 0);
	g->first_day = g->last_day - days + 1;
	int64_t oldest = day_of(r, n - 1);
	if (oldest > g->first_day)
		g->first_day = oldest;
	g->ndays = (int)(g->last_day - g->first_day + 1);
	g->series_of = malloc((size_t)n * sizeof *g->series_of);
	g->first_row = malloc((size_t)n * sizeof *g->first_row);
	if (!g->series_of || !g->first_row)
		return MDE_ENOMEM;
	for (int i = 0; i < n; i++) {
		int s = 0;
		while (s < g->nseries &&
		       series_cmp_rows(r, g->first_row[s], i) != 0)
			s++;
		if (s == g->nseries)
			g->first_row[g->nseries++] = i;
		g->series_of[i] = s;
	}
	g->cell = malloc((size_t)g->nseries * (size_t)g->ndays *
			 sizeof *g->cell);
	if (!g->cell)
		return MDE_ENOMEM;
	for (int k = 0; k < g->nseries * g->ndays; k++)
		g->cell[k] = -1;
	for (int i = 0; i < n; i++) {
		if (day_of(r, i) < g->first_day)
			g->series_of[i] = -1; /* a row outside the window */
		else
			g->cell[g->series_of[i] * g->ndays +
				(int)(day_of(r, i) - g->first_day)] = i;
	}
	return 0;
}

static void grid_free(grid *g)
{
	free(g->series_of);
	free(g->first_row);
	free(g->cell);
}

/* The colour class of a completeness: q0 (worst) .. q10 (complete). */
static int bucket(const PGresult *r, int i)
{
	if (PQgetisnull(r, i, MDE_AQ_COMPLETENESS))
		return 0;
	double v = strtod(PQgetvalue(r, i, MDE_AQ_COMPLETENESS), NULL);
	int q = (int)floor(v * 10 + 1e-9);
	return q < 0 ? 0 : q > 10 ? 10 : q;
}

static void cell(mde_sbuf *b, const PGresult *r, int i, const char *day)
{
	if (i < 0) {
		mde_sbuf_printf(b, "<td class=\"hm none\" title=\"%s: no "
				"metrics\"></td>", day);
		return;
	}
	mde_sbuf_printf(b, "<td class=\"hm q%d\" data-completeness=\"%s\" "
			"title=\"", bucket(r, i),
			PQgetvalue(r, i, MDE_AQ_COMPLETENESS));
	mde_sbuf_printf(b, "%s %s %s: completeness %s, quality %s, expected "
			"%s, valid %s, gaps %s, rejected %s, duplicates %s, "
			"suspicious %s, corrections %s\"></td>",
			PQgetvalue(r, i, MDE_AQ_SYMBOL),
			PQgetvalue(r, i, MDE_AQ_TIMEFRAME), day,
			PQgetvalue(r, i, MDE_AQ_COMPLETENESS),
			PQgetvalue(r, i, MDE_AQ_QUALITY),
			PQgetvalue(r, i, MDE_AQ_EXPECTED),
			PQgetvalue(r, i, MDE_AQ_VALID),
			PQgetvalue(r, i, MDE_AQ_GAPS),
			PQgetvalue(r, i, MDE_AQ_REJECTED),
			PQgetvalue(r, i, MDE_AQ_DUPLICATES),
			PQgetvalue(r, i, MDE_AQ_SUSPICIOUS),
			PQgetvalue(r, i, MDE_AQ_CORRECTIONS));
}

static void day_text(int64_t d, char *buf, size_t len)
{
	int64_t y;
	unsigned m, dd;
	mde_civil_from_days(d, &y, &m, &dd);
	snprintf(buf, len, "%04lld-%02u-%02u", (long long)y, m, dd);
}

static void heatmap(mde_sbuf *b, const PGresult *r, const grid *g)
{
	char day[16], last[16];
	day_text(g->first_day, day, sizeof day);
	day_text(g->last_day, last, sizeof last);
	mde_sbuf_printf(b, "<p>Completeness per series and UTC day, %s to %s "
			"(%d series, %d days). Hover a cell for its numbers."
			"</p>\n<div class=\"hm-wrap\"><table id=\"heatmap\" "
			"data-series=\"%d\" data-days=\"%d\"><thead><tr>"
			"<th>Series</th>", day, last, g->nseries, g->ndays,
			g->nseries, g->ndays);
	for (int d = 0; d < g->ndays; d++) {
		day_text(g->first_day + d, day, sizeof day);
		mde_sbuf_printf(b, "<th class=\"day\" title=\"%s\">%s</th>", day,
				day + 8);
	}
	mde_sbuf_puts(b, "</tr></thead><tbody>\n");
	for (int s = 0; s < g->nseries; s++) {
		int f = g->first_row[s];
		mde_sbuf_puts(b, "<tr class=\"hm-row\"><th>");
		mde_sbuf_html(b, PQgetvalue(r, f, MDE_AQ_SYMBOL));
		mde_sbuf_puts(b, " ");
		mde_sbuf_html(b, PQgetvalue(r, f, MDE_AQ_TIMEFRAME));
		mde_sbuf_puts(b, "</th>");
		for (int d = 0; d < g->ndays; d++) {
			day_text(g->first_day + d, day, sizeof day);
			cell(b, r, g->cell[s * g->ndays + d], day);
		}
		mde_sbuf_puts(b, "</tr>\n");
	}
	mde_sbuf_puts(b, "</tbody></table></div>\n<p class=\"legend\">"
		      "<span class=\"hm q0\"></span> 0% &hellip; "
		      "<span class=\"hm q5\"></span> 50% &hellip; "
		      "<span class=\"hm q10\"></span> 100% "
		      "<span class=\"hm none\"></span> no metrics</p>\n");
}

typedef struct day_key {
	double quality, completeness; /* NULL sorts last */
	int row;
} day_key;

static double qual(const PGresult *r, int i, int col)
{
	return PQgetisnull(r, i, col) ? 2.0
				      : strtod(PQgetvalue(r, i, col), NULL);
}

static int worst_cmp(const void *a, const void *b)
{
	const day_key *x = a, *y = b;
	if (x->quality != y->quality)
		return x->quality < y->quality ? -1 : 1;
	if (x->completeness != y->completeness)
		return x->completeness < y->completeness ? -1 : 1;
	return x->row - y->row;
}

/* A day with full quality and completeness and nothing to report. */
static bool perfect(const PGresult *r, int i)
{
	static const int counts[] = {MDE_AQ_GAPS, MDE_AQ_REJECTED,
				     MDE_AQ_CORRECTIONS, MDE_AQ_SUSPICIOUS};
	for (size_t k = 0; k < MDE_ARRAY_LEN(counts); k++)
		if (atol(PQgetvalue(r, i, counts[k])) != 0)
			return false;
	return qual(r, i, MDE_AQ_QUALITY) >= 1.0 &&
	       qual(r, i, MDE_AQ_COMPLETENESS) >= 1.0;
}

static void worst_days(mde_sbuf *b, const PGresult *r, const grid *g)
{
	int n = 0;
	day_key *idx = malloc((size_t)PQntuples(r) * sizeof *idx + 1);
	if (!idx)
		return;
	for (int i = 0; i < PQntuples(r); i++)
		if (g->series_of[i] >= 0 && !perfect(r, i))
			idx[n++] = (day_key){qual(r, i, MDE_AQ_QUALITY),
					     qual(r, i, MDE_AQ_COMPLETENESS), i};
	qsort(idx, (size_t)n, sizeof *idx, worst_cmp);
	mde_sbuf_printf(b, "<h2>Worst days (%d below full quality)</h2>", n);
	mde_sbuf_puts(b, "\n<table id=\"worst\"><thead><tr>"
		      "<th>Series</th><th>Day</th><th>Quality</th><th>"
		      "Completeness</th><th>Gaps</th><th>Rejected</th><th>"
		      "Corrections</th><th>Suspicious</th></tr></thead><tbody>\n");
	static const int cols[] = {MDE_AQ_DAY, MDE_AQ_QUALITY,
				   MDE_AQ_COMPLETENESS, MDE_AQ_GAPS,
				   MDE_AQ_REJECTED, MDE_AQ_CORRECTIONS,
				   MDE_AQ_SUSPICIOUS};
	for (int k = 0; k < n && k < WORST_DAYS; k++) {
		int i = idx[k].row;
		mde_sbuf_puts(b, "<tr><td>");
		mde_sbuf_html(b, PQgetvalue(r, i, MDE_AQ_SYMBOL));
		mde_sbuf_puts(b, " ");
		mde_sbuf_html(b, PQgetvalue(r, i, MDE_AQ_TIMEFRAME));
		mde_sbuf_puts(b, "</td>");
		for (size_t c = 0; c < MDE_ARRAY_LEN(cols); c++) {
			mde_sbuf_puts(b, "<td>");
			mde_sbuf_html(b, PQgetvalue(r, i, cols[c]));
			mde_sbuf_puts(b, "</td>");
		}
		mde_sbuf_puts(b, "</tr>\n");
	}
	mde_sbuf_puts(b, "</tbody></table>\n");
	if (n == 0)
		mde_sbuf_puts(b, "<p>Every day shown is complete, with no gap, "
			      "reject, correction or suspicious candle.</p>\n");
	free(idx);
}

int mde_page_quality_body(mde_sbuf *b, PGconn *c, int days, mde_err *err)
{
	const char *p[4] = {NULL, NULL, NULL, NULL};
	PGresult *r = NULL;
	int rc = mde_api_quality(c, p, &r, err);
	if (rc)
		return rc;
	grid g;
	if ((rc = grid_build(&g, r, days > 0 ? days : 60))) {
		grid_free(&g);
		PQclear(r);
		return mde_err_set(err, rc, false, "out of memory");
	}
	if (g.nseries == 0)
		mde_sbuf_puts(b, "<p id=\"heatmap-empty\">No quality metrics "
			      "are stored yet.</p>\n");
	else {
		heatmap(b, r, &g);
		worst_days(b, r, &g);
	}
	grid_free(&g);
	PQclear(r);
	return 0;
}

mde_mhd_rc mde_page_quality(mde_req *r)
{
	static const char *const args[] = {"days", NULL};
	int a = mde_srv_check_args(r, args);
	if (a >= 0)
		return (mde_mhd_rc)a;
	long days = 60;
	const char *d = mde_srv_arg(r, "days");
	if (d && mde_int_parse(d, 1, 366, &days))
		return mde_srv_error(r, 400, "bad days (1 to 366)");
	mde_mhd_rc rc;
	PGconn *c = mde_srv_db(r, &rc);
	if (!c)
		return rc;
	mde_sbuf b = {0};
	mde_err err = {0};
	mde_page_head(&b, "Data quality", false, false);
	int q = mde_page_quality_body(&b, c, (int)days, &err);
	mde_srv_db_put(r, c);
	if (q) {
		mde_sbuf_free(&b);
		return mde_srv_db_error(r, &err);
	}
	mde_page_foot(&b, false, false);
	return mde_srv_text(r, 200, "text/html; charset=utf-8", &b);
}

int mde_serve_quality_report(PGconn *c, int days, FILE *out, mde_err *err)
{
	mde_sbuf b = {0};
	mde_page_head(&b, "Data quality", true, false);
	int rc = mde_page_quality_body(&b, c, days, err);
	if (!rc) {
		mde_page_foot(&b, true, false);
		if (b.failed)
			rc = mde_err_set(err, MDE_ENOMEM, false, "out of memory");
		else if (fwrite(b.s, 1, b.n, out) != b.n || fflush(out))
			rc = mde_err_set(err, MDE_EIO, false, "cannot write the "
					 "report");
	}
	mde_sbuf_free(&b);
	return rc;
}
