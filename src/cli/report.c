/* report.c - see report.h. */
#include "report.h"

#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "db.h"
#include "migrate.h"
#include "timeutil.h"

int mde_report_connect(PGconn **out, const mde_config *cfg, const char *cmd)
{
	mde_err err = {0};
	PGconn *c = NULL;
	*out = NULL;
	if (mde_db_connect(&c, cfg->db_url, cfg->db_connect_timeout_s, &err)) {
		fprintf(stderr, "mdenrich %s: %s\n", cmd, err.msg);
		return MDE_EXIT_FATAL;
	}
	if (mde_migrate_check(c, &err)) {
		char where[512];
		fprintf(stderr, "mdenrich %s: database %s: %s\n", cmd,
			mde_db_describe(cfg->db_url, where, sizeof where),
			err.msg);
		PQfinish(c);
		return MDE_EXIT_FATAL;
	}
	*out = c;
	return MDE_EXIT_OK;
}

char *mde_report_time(const PGresult *r, int row, int col, char *buf,
		      size_t len)
{
	if (PQgetisnull(r, row, col)) {
		buf[0] = '\0';
		return buf;
	}
	return mde_time_format(strtoll(PQgetvalue(r, row, col), NULL, 10),
			       buf, len);
}

void mde_table_init(mde_table *t, const char *const *heads,
		    const char *align, size_t ncols)
{
	memset(t, 0, sizeof *t);
	t->heads = heads;
	t->align = align;
	t->ncols = ncols;
}

int mde_table_add(mde_table *t, const char *const *cells)
{
	if (t->nrows == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 16;
		char **p = realloc(t->cells, cap * t->ncols * sizeof *p);
		if (!p)
			return MDE_ENOMEM;
		t->cells = p;
		t->cap = cap;
	}
	char **row = t->cells + t->nrows * t->ncols;
	for (size_t j = 0; j < t->ncols; j++) {
		row[j] = strdup(cells[j] ? cells[j] : "");
		if (!row[j]) {
			while (j--)
				free(row[j]);
			return MDE_ENOMEM;
		}
	}
	t->nrows++;
	return 0;
}

/* Code points of a UTF-8 string (continuation bytes do not count). */
static size_t width(const char *s)
{
	size_t n = 0;
	for (; *s; s++)
		if (((unsigned char)*s & 0xC0) != 0x80)
			n++;
	return n;
}

static void cell(FILE *out, const char *s, size_t w, char align, bool last)
{
	size_t pad = w - width(s);
	if (align == 'r')
		for (size_t i = 0; i < pad; i++)
			fputc(' ', out);
	for (const char *p = s; *p; p++)
		fputc((unsigned char)*p < 0x20 || *p == 0x7f ? ' ' : *p, out);
	if (align != 'r' && !last)
		for (size_t i = 0; i < pad; i++)
			fputc(' ', out);
}

void mde_table_print(const mde_table *t, FILE *out)
{
	size_t *w = calloc(t->ncols ? t->ncols : 1, sizeof *w);
	if (!w)
		return;
	for (size_t j = 0; j < t->ncols; j++) {
		w[j] = width(t->heads[j]);
		for (size_t i = 0; i < t->nrows; i++) {
			size_t k = width(t->cells[i * t->ncols + j]);
			if (k > w[j])
				w[j] = k;
		}
	}
	for (size_t j = 0; j < t->ncols; j++) {
		if (j)
			fputs("  ", out);
		cell(out, t->heads[j], w[j], t->align[j], j + 1 == t->ncols);
	}
	fputc('\n', out);
	for (size_t j = 0; j < t->ncols; j++) {
		if (j)
			fputs("  ", out);
		for (size_t k = 0; k < w[j]; k++)
			fputc('-', out);
	}
	fputc('\n', out);
	for (size_t i = 0; i < t->nrows; i++) {
		char **row = t->cells + i * t->ncols;
		/* No trailing blanks: stop after the last non-empty cell. */
		size_t end = t->ncols;
		while (end > 1 && !row[end - 1][0])
			end--;
		for (size_t j = 0; j < end; j++) {
			if (j)
				fputs("  ", out);
			cell(out, row[j], w[j], t->align[j], j + 1 == end);
		}
		fputc('\n', out);
	}
	free(w);
}

void mde_table_free(mde_table *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	t->cells = NULL;
	t->nrows = t->cap = 0;
}

void mde_csv_field(FILE *out, const char *s)
{
	if (!s)
		return;
	size_t n = strlen(s);
	bool quote = strpbrk(s, ",\"\r\n") != NULL ||
		     (n && (s[0] == ' ' || s[n - 1] == ' '));
	if (!quote) {
		fputs(s, out);
		return;
	}
	fputc('"', out);
	for (const char *p = s; *p; p++) {
		if (*p == '"')
			fputc('"', out);
		fputc(*p, out);
	}
	fputc('"', out);
}

/* Bytes of the UTF-8 sequence that starts with byte b. */
static size_t seq_len(unsigned char b)
{
	return b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC0 ? 2 : 1;
}

char *mde_clip(const char *s, size_t max, char *buf, size_t len)
{
	size_t used = 0, cps = 0;
	if (!len)
		return buf;
	buf[0] = '\0';
	if (!s)
		return buf;
	bool cut = width(s) > max;
	size_t keep = cut ? (max > 3 ? max - 3 : 0) : max;
	/* Room for "..." and the NUL when cutting. */
	size_t room = cut ? (len > 4 ? len - 4 : 0) : len - 1;
	const unsigned char *p = (const unsigned char *)s;
	while (*p && cps < keep) {
		size_t k = seq_len(*p);
		if (used + k > room)
			break;
		size_t m = 0;
		for (; m < k && p[m]; m++)
			buf[used++] = p[m] < 0x20 || p[m] == 0x7f ? ' '
								  : (char)p[m];
		p += m;
		cps++;
		if (m < k) /* a truncated sequence at the end of s */
			break;
	}
	buf[used] = '\0';
	if (cut && used + 4 <= len)
		memcpy(buf + used, "...", 4);
	return buf;
}

int mde_json_write(FILE *out, const cJSON *doc)
{
	char *text = cJSON_Print(doc);
	if (!text)
		return MDE_ENOMEM;
	fprintf(out, "%s\n", text);
	cJSON_free(text);
	return 0;
}
