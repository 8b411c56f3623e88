/*
 * cmd_status.c - `mdenrich status`: every series of enrichment_status and
 * every backfill job at a glance, worst first. Read-only.
 *
 * Series: ordered by the severity of their last status (failed, then
 * partial/interrupted, then anything else not ok, then ok), then by how
 * far behind the last closed candle they are (most behind first; a series
 * with no stored candle counts as the most behind), then by name.
 * "Behind" is in candles: crypto counts grid slots after the last stored
 * candle whose candle has closed (open_time + period <= now); equity (1d)
 * counts weekdays after the last stored bar up to the last closed day
 * (exchange holidays are not known here, so one counts as a bar behind).
 *
 * Backfill jobs: failed, interrupted (no live lease, work left), running,
 * pending, then done; unfinished jobs are all listed, done ones only the
 * MAX_DONE_JOBS most recent. Progress is the time covered by the chunks'
 * cursors (a done chunk covers its whole range; an unfinished one up to
 * cursor + one period) over the job's whole range.
 */
#include <cjson/cJSON.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "reports.h"
#include "report.h"
#include "timeutil.h"

#define MAX_DONE_JOBS 20

typedef struct series_row {
	int row;         /* in the PGresult */
	int severity;    /* 3 failed .. 0 ok */
	int64_t behind;  /* candles; INT64_MAX = nothing stored */
	int64_t last_closed_ms;
} series_row;

typedef struct job_row {
	int row;
	int severity;
	const char *status;
	int64_t id;
} job_row;

static int64_t num(const PGresult *r, int i, int j)
{
	return strtoll(PQgetvalue(r, i, j), NULL, 10);
}

/* A time column for the table: to the second; "" for NULL. */
static char *tm(const PGresult *r, int i, int j, char *buf, size_t len)
{
	if (PQgetisnull(r, i, j)) {
		buf[0] = '\0';
		return buf;
	}
	return mde_time_format(mde_floor_div(num(r, i, j), 1000) * 1000, buf,
			       len);
}

static int status_severity(const PGresult *r, int i)
{
	if (PQgetisnull(r, i, MDE_SS_STATUS))
		return 1;
	const char *s = PQgetvalue(r, i, MDE_SS_STATUS);
	if (strcmp(s, "failed") == 0)
		return 3;
	if (strcmp(s, "partial") == 0 || strcmp(s, "interrupted") == 0)
		return 2;
	return strcmp(s, "ok") == 0 ? 0 : 1;
}

/* Weekdays d (days since the epoch) with a < d <= b. */
static int64_t weekdays_between(int64_t a, int64_t b)
{
	int64_t n = 0;
	if (b - a > 7 * 4) { /* whole weeks first */
		int64_t weeks = (b - a) / 7 - 1;
		n += weeks * 5;
		a += weeks * 7;
	}
	for (int64_t d = a + 1; d <= b; d++) {
		int64_t wd = ((d % 7) + 7 + 3) % 7; /* 1970-01-01: Thursday */
		if (wd < 5)
			n++;
	}
	return n;
}

static void series_behind(series_row *s, const PGresult *r, int64_t now_ms)
{
	int64_t p = 0;
	if (mde_tf_parse(PQgetvalue(r, s->row, MDE_SS_TIMEFRAME), &p))
		p = MDE_DAY_MS;
	s->last_closed_ms = mde_floor_div(now_ms - p, p) * p;
	if (PQgetisnull(r, s->row, MDE_SS_LAST)) {
		s->behind = INT64_MAX;
		return;
	}
	int64_t last = num(r, s->row, MDE_SS_LAST);
	if (strcmp(PQgetvalue(r, s->row, MDE_SS_ASSET), "equity") == 0) {
		s->behind = weekdays_between(mde_floor_div(last, MDE_DAY_MS),
					     mde_floor_div(now_ms - MDE_DAY_MS,
							   MDE_DAY_MS));
		return;
	}
	int64_t b = mde_floor_div(s->last_closed_ms - last, p);
	s->behind = b > 0 ? b : 0;
}

static const PGresult *sort_result;

static int series_cmp(const void *a, const void *b)
{
	const series_row *x = a, *y = b;
	if (x->severity != y->severity)
		return y->severity - x->severity;
	if (x->behind != y->behind)
		return x->behind < y->behind ? 1 : -1;
	int k = strcmp(PQgetvalue(sort_result, x->row, MDE_SS_SYMBOL),
		       PQgetvalue(sort_result, y->row, MDE_SS_SYMBOL));
	if (k)
		return k;
	return strcmp(PQgetvalue(sort_result, x->row, MDE_SS_TIMEFRAME),
		      PQgetvalue(sort_result, y->row, MDE_SS_TIMEFRAME));
}

static void job_classify(job_row *j, const PGresult *r)
{
	int i = j->row;
	int64_t chunks = num(r, i, MDE_SJ_CHUNKS), done = num(r, i, MDE_SJ_DONE);
	j->id = num(r, i, MDE_SJ_ID);
	if (num(r, i, MDE_SJ_CANCELLED) > 0) {
		j->status = "cancelled";
		j->severity = 0;
	} else if (num(r, i, MDE_SJ_FAILED) > 0) {
		j->status = "failed";
		j->severity = 4;
	} else if (chunks > 0 && done == chunks) {
		j->status = "done";
		j->severity = 0;
	} else if (num(r, i, MDE_SJ_LEASES) > 0) {
		j->status = "running";
		j->severity = 2;
	} else if (done > 0 || num(r, i, MDE_SJ_EXPIRED) > 0 ||
		   num(r, i, MDE_SJ_COVERED_MS) > 0) {
		j->status = "interrupted";
		j->severity = 3;
	} else {
		j->status = "pending";
		j->severity = 1;
	}
}

static int job_cmp(const void *a, const void *b)
{
	const job_row *x = a, *y = b;
	if (x->severity != y->severity)
		return y->severity - x->severity;
	return x->id < y->id ? 1 : x->id > y->id ? -1 : 0;
}

/* "2d 4h", "3h", "45m": a length of time, roughly. */
static void human_span(int64_t ms, char *buf, size_t len)
{
	int64_t m = ms / MDE_MINUTE_MS, h = m / 60, d = h / 24;
	if (d >= 1 && h % 24)
		snprintf(buf, len, "%" PRId64 "d %" PRId64 "h", d, h % 24);
	else if (d >= 1)
		snprintf(buf, len, "%" PRId64 "d", d);
	else if (h >= 1)
		snprintf(buf, len, "%" PRId64 "h", h);
	else
		snprintf(buf, len, "%" PRId64 "m", m);
}

static void behind_text(const series_row *s, const PGresult *r, char *buf,
			size_t len)
{
	if (s->behind == INT64_MAX) {
		snprintf(buf, len, "no data");
		return;
	}
	int64_t p = 0;
	if (s->behind == 0 ||
	    strcmp(PQgetvalue(r, s->row, MDE_SS_ASSET), "equity") == 0 ||
	    mde_tf_parse(PQgetvalue(r, s->row, MDE_SS_TIMEFRAME), &p)) {
		snprintf(buf, len, "%" PRId64, s->behind);
		return;
	}
	char span[32];
	human_span(s->behind * p, span, sizeof span);
	snprintf(buf, len, "%" PRId64 " (%s)", s->behind, span);
}

static double progress(const PGresult *r, int i)
{
	int64_t total = num(r, i, MDE_SJ_TOTAL_MS);
	return total > 0 ? (double)num(r, i, MDE_SJ_COVERED_MS) / (double)total
			 : 0.0;
}

static int series_table(const PGresult *r, const series_row *rows, int n,
			FILE *out)
{
	static const char *const heads[] = {
		"SYMBOL", "TF", "CLASS", "SOURCE", "FIRST", "LAST", "ROWS",
		"BEHIND", "LAST RUN", "STATUS", "AUX HOLES", "ERROR"};
	mde_table t;
	mde_table_init(&t, heads, "llllllrrllrl", MDE_ARRAY_LEN(heads));
	int rc = 0;
	for (int k = 0; k < n && rc == 0; k++) {
		int i = rows[k].row;
		char first[32], last[32], behind[48], run[64], at[32],
			err[128];
		behind_text(&rows[k], r, behind, sizeof behind);
		tm(r, i, MDE_SS_RUN_AT, at, sizeof at);
		if (PQgetisnull(r, i, MDE_SS_RUN_ID))
			snprintf(run, sizeof run, "%s", at);
		else
			snprintf(run, sizeof run, "#%s %s",
				 PQgetvalue(r, i, MDE_SS_RUN_ID), at);
		const char *cells[] = {
			PQgetvalue(r, i, MDE_SS_SYMBOL),
			PQgetvalue(r, i, MDE_SS_TIMEFRAME),
			PQgetvalue(r, i, MDE_SS_ASSET),
			PQgetvalue(r, i, MDE_SS_SOURCE),
			tm(r, i, MDE_SS_FIRST, first, sizeof first),
			tm(r, i, MDE_SS_LAST, last, sizeof last),
			PQgetvalue(r, i, MDE_SS_ROWS),
			behind,
			run,
			PQgetvalue(r, i, MDE_SS_STATUS),
			PQgetvalue(r, i, MDE_SS_AUX_HOLES),
			mde_clip(PQgetvalue(r, i, MDE_SS_ERROR), 60, err,
				 sizeof err)};
		rc = mde_table_add(&t, cells);
	}
	if (rc == 0) {
		fprintf(out, "Series (worst first):\n");
		if (n)
			mde_table_print(&t, out);
		else
			fprintf(out, "  none yet (enrichment_status is "
				     "empty)\n");
	}
	mde_table_free(&t);
	return rc;
}

static int jobs_table(const PGresult *r, const job_row *rows, int n,
		      const char *title, FILE *out)
{
	static const char *const heads[] = {
		"JOB", "STATUS", "SYMBOLS", "TF", "FROM", "TO",
		"CHUNKS done/run/pend/fail", "PROGRESS", "LEASES", "LAST ERROR"};
	mde_table t;
	mde_table_init(&t, heads, "rlllllrrll", MDE_ARRAY_LEN(heads));
	int rc = 0;
	for (int k = 0; k < n && rc == 0; k++) {
		int i = rows[k].row;
		char from[32], to[32], chunks[96], prog[96], leases[128],
			syms[64], err[128];
		int64_t p = num(r, i, MDE_SJ_PERIOD_MS);
		snprintf(chunks, sizeof chunks, "%s/%s/%s/%s of %s%s%s",
			 PQgetvalue(r, i, MDE_SJ_DONE), PQgetvalue(r, i, MDE_SJ_RUNNING),
			 PQgetvalue(r, i, MDE_SJ_PENDING),
			 PQgetvalue(r, i, MDE_SJ_FAILED),
			 PQgetvalue(r, i, MDE_SJ_CHUNKS),
			 num(r, i, MDE_SJ_CANCELLED) ? ", cancelled " : "",
			 num(r, i, MDE_SJ_CANCELLED)
				 ? PQgetvalue(r, i, MDE_SJ_CANCELLED) : "");
		snprintf(prog, sizeof prog,
			 "%.1f%% (%" PRId64 "/%" PRId64 ")",
			 100.0 * progress(r, i), num(r, i, MDE_SJ_COVERED_MS) / p,
			 num(r, i, MDE_SJ_TOTAL_MS) / p);
		char owners[64];
		mde_clip(PQgetvalue(r, i, MDE_SJ_OWNERS), 40, owners,
			 sizeof owners);
		if (num(r, i, MDE_SJ_EXPIRED) > 0)
			snprintf(leases, sizeof leases, "%s%s%s, %s expired",
				 PQgetvalue(r, i, MDE_SJ_LEASES),
				 owners[0] ? " " : "", owners,
				 PQgetvalue(r, i, MDE_SJ_EXPIRED));
		else
			snprintf(leases, sizeof leases, "%s%s%s",
				 PQgetvalue(r, i, MDE_SJ_LEASES),
				 owners[0] ? " " : "", owners);
		const char *cells[] = {
			PQgetvalue(r, i, MDE_SJ_ID),
			rows[k].status,
			mde_clip(PQgetvalue(r, i, MDE_SJ_SYMBOLS), 30, syms,
				 sizeof syms),
			PQgetvalue(r, i, MDE_SJ_TIMEFRAME),
			tm(r, i, MDE_SJ_START, from, sizeof from),
			tm(r, i, MDE_SJ_END, to, sizeof to),
			chunks,
			prog,
			leases,
			mde_clip(PQgetvalue(r, i, MDE_SJ_ERROR), 60, err,
				 sizeof err)};
		rc = mde_table_add(&t, cells);
	}
	if (rc == 0) {
		fprintf(out, "\nBackfill jobs (%s):\n", title);
		if (n)
			mde_table_print(&t, out);
		else
			fprintf(out, "  none\n");
	}
	mde_table_free(&t);
	return rc;
}

/* Adds key: the column as a string, or null. */
static bool j_str(cJSON *o, const char *key, const PGresult *r, int i, int j)
{
	return PQgetisnull(r, i, j)
		       ? cJSON_AddNullToObject(o, key) != NULL
		       : cJSON_AddStringToObject(o, key, PQgetvalue(r, i, j)) !=
				 NULL;
}

static bool j_num(cJSON *o, const char *key, const PGresult *r, int i, int j)
{
	return PQgetisnull(r, i, j)
		       ? cJSON_AddNullToObject(o, key) != NULL
		       : cJSON_AddNumberToObject(o, key,
						 (double)num(r, i, j)) != NULL;
}

static bool j_time(cJSON *o, const char *key, const PGresult *r, int i,
		   int j)
{
	char tb[32];
	return PQgetisnull(r, i, j)
		       ? cJSON_AddNullToObject(o, key) != NULL
		       : cJSON_AddStringToObject(
				 o, key, mde_report_time(r, i, j, tb,
							 sizeof tb)) != NULL;
}

static bool series_json(cJSON *arr, const PGresult *r, const series_row *s)
{
	int i = s->row;
	char tb[32];
	cJSON *o = cJSON_CreateObject();
	if (!o || !cJSON_AddItemToArray(arr, o)) {
		cJSON_Delete(o);
		return false;
	}
	return j_str(o, "symbol", r, i, MDE_SS_SYMBOL) &&
	       j_str(o, "timeframe", r, i, MDE_SS_TIMEFRAME) &&
	       j_str(o, "asset_class", r, i, MDE_SS_ASSET) &&
	       j_str(o, "source", r, i, MDE_SS_SOURCE) &&
	       j_time(o, "first_open_time", r, i, MDE_SS_FIRST) &&
	       j_time(o, "last_open_time", r, i, MDE_SS_LAST) &&
	       j_num(o, "rows_total", r, i, MDE_SS_ROWS) &&
	       (s->behind == INT64_MAX
			? cJSON_AddNullToObject(o, "behind_candles") != NULL
			: cJSON_AddNumberToObject(o, "behind_candles",
						  (double)s->behind) != NULL) &&
	       cJSON_AddStringToObject(o, "last_closed_open_time",
				       mde_time_format(s->last_closed_ms, tb,
						       sizeof tb)) &&
	       j_num(o, "last_run_id", r, i, MDE_SS_RUN_ID) &&
	       j_time(o, "last_run_at", r, i, MDE_SS_RUN_AT) &&
	       j_str(o, "last_status", r, i, MDE_SS_STATUS) &&
	       j_str(o, "last_error", r, i, MDE_SS_ERROR) &&
	       j_num(o, "aux_holes", r, i, MDE_SS_AUX_HOLES);
}

static bool job_json(cJSON *arr, const PGresult *r, const job_row *jr)
{
	int i = jr->row;
	int64_t p = num(r, i, MDE_SJ_PERIOD_MS);
	cJSON *o = cJSON_CreateObject(), *syms = NULL, *ch;
	if (!o || !cJSON_AddItemToArray(arr, o)) {
		cJSON_Delete(o);
		return false;
	}
	if (!j_num(o, "job_id", r, i, MDE_SJ_ID) ||
	    !cJSON_AddStringToObject(o, "status", jr->status) ||
	    !(syms = cJSON_AddArrayToObject(o, "symbols")))
		return false;
	const char *list = PQgetvalue(r, i, MDE_SJ_SYMBOLS);
	while (*list) {
		size_t len = strcspn(list, ",");
		char sym[64];
		snprintf(sym, sizeof sym, "%.*s", (int)len, list);
		cJSON *v = cJSON_CreateString(sym);
		if (!v || !cJSON_AddItemToArray(syms, v)) {
			cJSON_Delete(v);
			return false;
		}
		list += len + (list[len] == ',');
	}
	return j_str(o, "timeframe", r, i, MDE_SJ_TIMEFRAME) &&
	       j_str(o, "asset_class", r, i, MDE_SJ_ASSET) &&
	       j_str(o, "source", r, i, MDE_SJ_SOURCE) &&
	       j_time(o, "range_start", r, i, MDE_SJ_START) &&
	       j_time(o, "range_end", r, i, MDE_SJ_END) &&
	       j_time(o, "created_at", r, i, MDE_SJ_CREATED) &&
	       j_time(o, "updated_at", r, i, MDE_SJ_CHANGED_AT) &&
	       (ch = cJSON_AddObjectToObject(o, "chunks")) &&
	       j_num(ch, "total", r, i, MDE_SJ_CHUNKS) &&
	       j_num(ch, "done", r, i, MDE_SJ_DONE) &&
	       j_num(ch, "running", r, i, MDE_SJ_RUNNING) &&
	       j_num(ch, "pending", r, i, MDE_SJ_PENDING) &&
	       j_num(ch, "failed", r, i, MDE_SJ_FAILED) &&
	       j_num(ch, "cancelled", r, i, MDE_SJ_CANCELLED) &&
	       cJSON_AddNumberToObject(o, "progress", progress(r, i)) &&
	       cJSON_AddNumberToObject(o, "candles_done",
				       (double)(num(r, i, MDE_SJ_COVERED_MS) / p)) &&
	       cJSON_AddNumberToObject(o, "candles_total",
				       (double)(num(r, i, MDE_SJ_TOTAL_MS) / p)) &&
	       j_num(o, "active_leases", r, i, MDE_SJ_LEASES) &&
	       j_str(o, "lease_owners", r, i, MDE_SJ_OWNERS) &&
	       j_num(o, "expired_leases", r, i, MDE_SJ_EXPIRED) &&
	       j_str(o, "last_error", r, i, MDE_SJ_ERROR);
}

static int print_json(const PGresult *sr, const series_row *srows, int ns,
		      const PGresult *jr, const job_row *jrows, int nj,
		      int64_t now_ms, FILE *out)
{
	char tb[32];
	int rc = MDE_ENOMEM;
	cJSON *doc = cJSON_CreateObject(), *series, *jobs;
	if (!doc ||
	    !cJSON_AddStringToObject(doc, "generated_at",
				     mde_time_format(now_ms, tb, sizeof tb)) ||
	    !(series = cJSON_AddArrayToObject(doc, "series")) ||
	    !(jobs = cJSON_AddArrayToObject(doc, "backfill_jobs")))
		goto done;
	for (int k = 0; k < ns; k++)
		if (!series_json(series, sr, &srows[k]))
			goto done;
	for (int k = 0; k < nj; k++)
		if (!job_json(jobs, jr, &jrows[k]))
			goto done;
	rc = mde_json_write(out, doc);
done:
	cJSON_Delete(doc);
	return rc;
}

/* The series as CSV: the columns of `status --format json`. */
static void series_csv(const PGresult *r, const series_row *rows, int n,
		       FILE *out)
{
	static const struct {
		const char *name;
		int col;  /* -1 behind, -2 last closed */
		bool time;
	} cols[] = {
		{"symbol", MDE_SS_SYMBOL, false},
		{"timeframe", MDE_SS_TIMEFRAME, false},
		{"asset_class", MDE_SS_ASSET, false},
		{"source", MDE_SS_SOURCE, false},
		{"first_open_time", MDE_SS_FIRST, true},
		{"last_open_time", MDE_SS_LAST, true},
		{"rows_total", MDE_SS_ROWS, false},
		{"behind_candles", -1, false},
		{"last_closed_open_time", -2, false},
		{"last_run_id", MDE_SS_RUN_ID, false},
		{"last_run_at", MDE_SS_RUN_AT, true},
		{"last_status", MDE_SS_STATUS, false},
		{"last_error", MDE_SS_ERROR, false},
		{"aux_holes", MDE_SS_AUX_HOLES, false},
	};
	for (size_t j = 0; j < MDE_ARRAY_LEN(cols); j++)
		fprintf(out, "%s%s", j ? "," : "", cols[j].name);
	fputc('\n', out);
	for (int k = 0; k < n; k++) {
		int i = rows[k].row;
		for (size_t j = 0; j < MDE_ARRAY_LEN(cols); j++) {
			char tb[40];
			int col = cols[j].col;
			if (j)
				fputc(',', out);
			if (col == -1 && rows[k].behind != INT64_MAX)
				fprintf(out, "%" PRId64, rows[k].behind);
			else if (col == -2)
				fputs(mde_time_format(rows[k].last_closed_ms,
						      tb, sizeof tb), out);
			else if (col >= 0 && !PQgetisnull(r, i, col))
				mde_csv_field(out, cols[j].time
					? mde_report_time(r, i, col, tb,
							  sizeof tb)
					: PQgetvalue(r, i, col));
		}
		fputc('\n', out);
	}
}

/* The jobs as CSV: one row per job. */
static void jobs_csv(const PGresult *r, const job_row *rows, int n,
		     FILE *out)
{
	fputs("job_id,status,symbols,timeframe,asset_class,source,"
	      "range_start,range_end,chunks,done,running,pending,failed,"
	      "cancelled,progress,created_at,updated_at,last_error\n", out);
	static const int cols[] = {MDE_SJ_CHUNKS, MDE_SJ_DONE, MDE_SJ_RUNNING,
				   MDE_SJ_PENDING, MDE_SJ_FAILED,
				   MDE_SJ_CANCELLED};
	for (int k = 0; k < n; k++) {
		int i = rows[k].row;
		char tb[40];
		fprintf(out, "%s,%s,", PQgetvalue(r, i, MDE_SJ_ID),
			rows[k].status);
		mde_csv_field(out, PQgetvalue(r, i, MDE_SJ_SYMBOLS));
		fprintf(out, ",%s,%s,", PQgetvalue(r, i, MDE_SJ_TIMEFRAME),
			PQgetvalue(r, i, MDE_SJ_ASSET));
		mde_csv_field(out, PQgetvalue(r, i, MDE_SJ_SOURCE));
		fprintf(out, ",%s", mde_report_time(r, i, MDE_SJ_START, tb,
						    sizeof tb));
		fprintf(out, ",%s", mde_report_time(r, i, MDE_SJ_END, tb,
						    sizeof tb));
		for (size_t j = 0; j < MDE_ARRAY_LEN(cols); j++)
			fprintf(out, ",%s", PQgetvalue(r, i, cols[j]));
		fprintf(out, ",%.4f", progress(r, i));
		fprintf(out, ",%s", mde_report_time(r, i, MDE_SJ_CREATED, tb,
						    sizeof tb));
		fprintf(out, ",%s,", mde_report_time(r, i, MDE_SJ_CHANGED_AT,
						     tb, sizeof tb));
		if (!PQgetisnull(r, i, MDE_SJ_ERROR))
			mde_csv_field(out, PQgetvalue(r, i, MDE_SJ_ERROR));
		fputc('\n', out);
	}
}

/* What to do next about the interrupted and failed jobs. */
static void job_hints(const job_row *rows, int n, FILE *out)
{
	bool any = false;
	for (int k = 0; k < n; k++) {
		const char *st = rows[k].status;
		long long id = (long long)rows[k].id;
		bool failed = strcmp(st, "failed") == 0;
		if (!failed && strcmp(st, "interrupted") != 0)
			continue;
		if (!any)
			fputs("\nNext:\n", out);
		any = true;
		if (failed)
			fprintf(out, "  job %lld failed: `mdenrich resume --job "
				"%lld` retries it, `mdenrich cancel --job "
				"%lld` stops it for good\n", id, id, id);
		else
			fprintf(out, "  job %lld is interrupted: `mdenrich "
				"resume --job %lld` continues it\n", id, id);
	}
}

/* The jobs of jr classified into *rows (newest first when by_id, else
 * worst first). */
static int load_jobs(const PGresult *jr, bool by_id, job_row **rows)
{
	int nj = PQntuples(jr);
	*rows = calloc(nj ? (size_t)nj : 1, sizeof **rows);
	if (!*rows)
		return MDE_ENOMEM;
	for (int i = 0; i < nj; i++) {
		(*rows)[i].row = i;
		job_classify(&(*rows)[i], jr);
		if (by_id)
			(*rows)[i].severity = 0;
	}
	qsort(*rows, (size_t)nj, sizeof **rows, job_cmp);
	return 0;
}

int mde_cmd_jobs(const mde_config *cfg, const mde_cli *cli)
{
	PGconn *c = NULL;
	PGresult *jr = NULL;
	job_row *rows = NULL;
	mde_err err = {0};
	int code = mde_report_connect(&c, cfg, "jobs");
	if (code != MDE_EXIT_OK)
		return code;
	int rc = MDE_EXIT_FATAL;
	const char *fmt = cli->format ? cli->format : "table";
	if (mde_store_status_jobs(c, &jr, &err)) {
		fprintf(stderr, "mdenrich jobs: %s\n", err.msg);
		goto done;
	}
	if (load_jobs(jr, true, &rows))
		goto oom;
	int n = PQntuples(jr);
	if (strcmp(fmt, "csv") == 0) {
		jobs_csv(jr, rows, n, stdout);
	} else if (strcmp(fmt, "json") == 0) {
		cJSON *doc = cJSON_CreateObject(), *arr;
		bool ok = doc && (arr = cJSON_AddArrayToObject(doc, "jobs"));
		for (int k = 0; ok && k < n; k++)
			ok = job_json(arr, jr, &rows[k]);
		ok = ok && mde_json_write(stdout, doc) == 0;
		cJSON_Delete(doc);
		if (!ok)
			goto oom;
	} else {
		if (jobs_table(jr, rows, n, "newest first", stdout))
			goto oom;
		job_hints(rows, n, stdout);
	}
	rc = fflush(stdout) ? MDE_EXIT_FATAL : MDE_EXIT_OK;
	goto done;
oom:
	fprintf(stderr, "mdenrich jobs: out of memory\n");
done:
	free(rows);
	PQclear(jr);
	PQfinish(c);
	return rc;
}

int mde_cmd_status(const mde_config *cfg, const mde_cli *cli)
{
	PGconn *c = NULL;
	PGresult *sr = NULL, *jr = NULL;
	series_row *srows = NULL;
	job_row *jrows = NULL;
	mde_err err = {0};
	int code = mde_report_connect(&c, cfg, "status");
	if (code != MDE_EXIT_OK)
		return code;

	code = MDE_EXIT_FATAL;
	if (mde_store_status_series(c, &sr, &err) ||
	    mde_store_status_jobs(c, &jr, &err))
		goto fail;

	int64_t now_ms = mde_now_ms();
	int ns = PQntuples(sr), nj = PQntuples(jr);
	srows = calloc(ns ? (size_t)ns : 1, sizeof *srows);
	if (!srows || load_jobs(jr, false, &jrows)) {
		mde_err_set(&err, MDE_ENOMEM, false, "out of memory");
		goto fail;
	}
	for (int i = 0; i < ns; i++) {
		srows[i].row = i;
		srows[i].severity = status_severity(sr, i);
		series_behind(&srows[i], sr, now_ms);
	}
	sort_result = sr;
	qsort(srows, (size_t)ns, sizeof *srows, series_cmp);
	/* Keep every unfinished job and the most recent finished ones. */
	int kept = 0, done_jobs = 0;
	for (int i = 0; i < nj; i++)
		if (jrows[i].severity > 0 || done_jobs++ < MAX_DONE_JOBS)
			jrows[kept++] = jrows[i];

	int rc = 0;
	const char *fmt = cli->format ? cli->format : "table";
	if (strcmp(fmt, "json") == 0)
		rc = print_json(sr, srows, ns, jr, jrows, kept, now_ms,
				stdout);
	else if (strcmp(fmt, "csv") == 0)
		series_csv(sr, srows, ns, stdout);
	else if ((rc = series_table(sr, srows, ns, stdout)) == 0 &&
		 (rc = jobs_table(jr, jrows, kept, "worst first", stdout)) == 0)
		job_hints(jrows, kept, stdout);
	if (rc) {
		mde_err_set(&err, rc, false, "out of memory");
		goto fail;
	}
	if (fflush(stdout) || ferror(stdout)) {
		mde_err_set(&err, MDE_EIO, false, "cannot write the output");
		goto fail;
	}
	code = MDE_EXIT_OK;
	goto done;
fail:
	fprintf(stderr, "mdenrich status: %s\n", err.msg);
done:
	free(srows);
	free(jrows);
	PQclear(sr);
	PQclear(jr);
	PQfinish(c);
	return code;
}
