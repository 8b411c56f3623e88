/*
 * cmd_quality.c - `mdenrich quality`: the data_quality_metrics rows,
 * worst first (lowest quality_score, then lowest completeness, then the
 * most recent day; days with nothing expected, whose ratios are NULL,
 * come last). Filters go to the server as parameters. Read-only.
 */
#include <cjson/cJSON.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "reports.h"
#include "serve.h"
#include "report.h"
#include "timeutil.h"

/* Column names, in the order of the enum: the csv header and json keys. */
static const char *const names[MDE_Q_NCOLS] = {
	"symbol", "timeframe", "day", "expected", "received", "valid",
	"rejected", "duplicates", "gaps", "suspicious", "corrections",
	"completeness", "quality_score", "computed_at"};

static bool is_int_col(int j)
{
	return j >= MDE_Q_EXPECTED && j <= MDE_Q_CORRECTIONS;
}

static int print_table(const PGresult *r, FILE *out)
{
	static const char *const heads[] = {
		"SYMBOL", "TF", "DAY", "QUALITY", "COMPLETE", "EXPECTED",
		"VALID", "GAPS", "REJECTED", "DUPS", "SUSPICIOUS",
		"CORRECTIONS", "RECEIVED"};
	static const int cols[] = {MDE_Q_SYMBOL, MDE_Q_TIMEFRAME, MDE_Q_DAY, MDE_Q_QUALITY,
				   MDE_Q_COMPLETENESS, MDE_Q_EXPECTED, MDE_Q_VALID, MDE_Q_GAPS,
				   MDE_Q_REJECTED, MDE_Q_DUPLICATES, MDE_Q_SUSPICIOUS,
				   MDE_Q_CORRECTIONS, MDE_Q_RECEIVED};
	mde_table t;
	mde_table_init(&t, heads, "lllrrrrrrrrrr", MDE_ARRAY_LEN(heads));
	int rc = 0;
	for (int i = 0; i < PQntuples(r) && rc == 0; i++) {
		char ratio[2][32];
		const char *cells[MDE_ARRAY_LEN(heads)];
		for (size_t j = 0; j < MDE_ARRAY_LEN(cols); j++) {
			int k = cols[j];
			if (k == MDE_Q_QUALITY || k == MDE_Q_COMPLETENESS) {
				char *b = ratio[k == MDE_Q_QUALITY];
				if (PQgetisnull(r, i, k))
					snprintf(b, 32, "-");
				else
					snprintf(b, 32, "%.4f",
						 strtod(PQgetvalue(r, i, k),
							NULL));
				cells[j] = b;
			} else {
				cells[j] = PQgetvalue(r, i, k);
			}
		}
		rc = mde_table_add(&t, cells);
	}
	if (rc == 0) {
		mde_table_print(&t, out);
		if (t.nrows == 0)
			fprintf(out, "(no data_quality_metrics rows match)\n");
	}
	mde_table_free(&t);
	return rc;
}

static void print_csv(const PGresult *r, FILE *out)
{
	for (int j = 0; j < MDE_Q_NCOLS; j++) {
		if (j)
			fputc(',', out);
		mde_csv_field(out, names[j]);
	}
	fputc('\n', out);
	for (int i = 0; i < PQntuples(r); i++) {
		for (int j = 0; j < MDE_Q_NCOLS; j++) {
			char tb[32];
			if (j)
				fputc(',', out);
			if (PQgetisnull(r, i, j))
				continue;
			mde_csv_field(out, j == MDE_Q_COMPUTED_AT
				? mde_report_time(r, i, j, tb, sizeof tb)
				: PQgetvalue(r, i, j));
		}
		fputc('\n', out);
	}
}

/* Adds name: value to o; false when out of memory. */
static bool add_value(cJSON *o, const PGresult *r, int i, int j)
{
	cJSON *v;
	char tb[32];
	if (PQgetisnull(r, i, j))
		v = cJSON_CreateNull();
	else if (is_int_col(j) || j == MDE_Q_COMPLETENESS || j == MDE_Q_QUALITY)
		v = cJSON_CreateNumber(strtod(PQgetvalue(r, i, j), NULL));
	else if (j == MDE_Q_COMPUTED_AT)
		v = cJSON_CreateString(mde_report_time(r, i, j, tb, sizeof tb));
	else
		v = cJSON_CreateString(PQgetvalue(r, i, j));
	if (v && cJSON_AddItemToObject(o, names[j], v))
		return true;
	cJSON_Delete(v);
	return false;
}

static int print_json(const PGresult *r, const mde_cli *cli, FILE *out)
{
	int rc = MDE_ENOMEM;
	char tb[32];
	cJSON *doc = cJSON_CreateObject(), *filters, *rows;
	if (!doc ||
	    !cJSON_AddStringToObject(doc, "generated_at",
				     mde_time_format(mde_now_ms(), tb,
						     sizeof tb)) ||
	    !(filters = cJSON_AddObjectToObject(doc, "filters")) ||
	    !(rows = cJSON_AddArrayToObject(doc, "rows")))
		goto done;
	if (!(cli->symbol ? cJSON_AddStringToObject(filters, "symbol",
						    cli->symbol)
			  : cJSON_AddNullToObject(filters, "symbol")) ||
	    !(cli->timeframe ? cJSON_AddStringToObject(filters, "timeframe",
						       cli->timeframe)
			     : cJSON_AddNullToObject(filters, "timeframe")) ||
	    !(cli->since_ms != INT64_MIN
		      ? cJSON_AddStringToObject(
				filters, "since",
				mde_time_format(cli->since_ms, tb, sizeof tb))
		      : cJSON_AddNullToObject(filters, "since")))
		goto done;
	for (int i = 0; i < PQntuples(r); i++) {
		cJSON *o = cJSON_CreateObject();
		if (!o || !cJSON_AddItemToArray(rows, o)) {
			cJSON_Delete(o);
			goto done;
		}
		for (int j = 0; j < MDE_Q_NCOLS; j++)
			if (!add_value(o, r, i, j))
				goto done;
	}
	rc = mde_json_write(out, doc);
done:
	cJSON_Delete(doc);
	return rc;
}

int mde_cmd_quality(const mde_config *cfg, const mde_cli *cli)
{
	bool html = cli->format && strcmp(cli->format, "html") == 0;
	if (html && (cli->symbol || cli->timeframe ||
		     cli->since_ms != INT64_MIN)) {
		fprintf(stderr, "mdenrich quality: --format html writes the "
			"whole dashboard page; do not combine it with "
			"--symbol, --timeframe or --since\n");
		return MDE_EXIT_USAGE;
	}
	PGconn *c = NULL;
	int code = mde_report_connect(&c, cfg, "quality");
	if (code != MDE_EXIT_OK)
		return code;

	if (html) {
		/* The dashboard's /quality page as one self-contained file. */
		mde_err e = {0};
		if (mde_serve_quality_report(c, 0, stdout, &e)) {
			fprintf(stderr, "mdenrich quality: %s\n", e.msg);
			code = MDE_EXIT_FATAL;
		}
		PQfinish(c);
		return code;
	}
	char since[24];
	snprintf(since, sizeof since, "%" PRId64, cli->since_ms);
	const char *params[3] = {cli->symbol, cli->timeframe,
				 cli->since_ms != INT64_MIN ? since : NULL};
	PGresult *r = NULL;
	mde_err err = {0};
	if (mde_store_quality_rows(c, params, &r, &err)) {
		fprintf(stderr, "mdenrich quality: %s\n", err.msg);
		code = MDE_EXIT_FATAL;
		goto done;
	}
	const char *fmt = cli->format ? cli->format : "table";
	int rc = 0;
	if (strcmp(fmt, "json") == 0)
		rc = print_json(r, cli, stdout);
	else if (strcmp(fmt, "csv") == 0)
		print_csv(r, stdout);
	else
		rc = print_table(r, stdout);
	if (rc || fflush(stdout) || ferror(stdout)) {
		fprintf(stderr, "mdenrich quality: %s\n",
			rc ? "out of memory" : "cannot write the output");
		code = MDE_EXIT_FATAL;
	}
done:
	PQclear(r);
	PQfinish(c);
	return code;
}
