/*
 * report.h - the output helpers of the read-only commands (status,
 * quality): an aligned text table for people and RFC 4180 CSV fields for
 * scripts. JSON output uses cJSON directly.
 */
#ifndef MDE_REPORT_H
#define MDE_REPORT_H

#include <stdio.h>

#include <cjson/cJSON.h>
#include <libpq-fe.h>

#include "config.h"
#include "mde.h"

/*
 * A table of strings printed with aligned columns. Cells are copied in;
 * the table owns them until mde_table_free. Widths count UTF-8 code
 * points, and control characters in cells are printed as spaces so one
 * row is always one line.
 */
typedef struct mde_table {
	size_t ncols, nrows, cap;
	const char *const *heads; /* ncols names, not copied */
	const char *align;        /* ncols chars: 'l' or 'r' */
	char **cells;             /* nrows * ncols, owned */
} mde_table;

/* heads and align must outlive the table (string literals, typically). */
void mde_table_init(mde_table *t, const char *const *heads,
		    const char *align, size_t ncols);
/* Appends a row of ncols cells (NULL prints as ""). */
int mde_table_add(mde_table *t, const char *const *cells) MDE_MUSTCHECK;
/* Prints the header, a rule and the rows, two spaces between columns. */
void mde_table_print(const mde_table *t, FILE *out);
void mde_table_free(mde_table *t);

/* Writes s as one CSV field: quoted (quotes doubled) when it holds a
   comma, a quote, CR or LF, or leading/trailing spaces. NULL is empty. */
void mde_csv_field(FILE *out, const char *s);

/* Copies s into buf (size len) on one line, cut to max code points with
   "..." when longer. Returns buf. */
char *mde_clip(const char *s, size_t max, char *buf, size_t len);

/*
 * Connects to cfg's database for command `cmd` and checks that the schema
 * is migrated. Returns MDE_EXIT_OK with *out set (the caller PQfinish-es
 * it), or MDE_EXIT_FATAL after printing why (the URL without password)
 * on stderr.
 */
int mde_report_connect(PGconn **out, const mde_config *cfg, const char *cmd);

/* Prints doc as indented JSON and a newline: 0, or MDE_ENOMEM. */
int mde_json_write(FILE *out, const cJSON *doc) MDE_MUSTCHECK;

/* Value of a column holding epoch milliseconds, as ISO 8601 UTC into buf
   (>= 32 bytes); "" for NULL. Returns buf. */
char *mde_report_time(const PGresult *r, int row, int col, char *buf,
		      size_t len);

#endif
