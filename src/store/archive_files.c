/* archive_files.c - the archive_files table (archive_files.h). */
#include "archive_files.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "log.h"
#include "timeutil.h"

/* The fetch threads of a pipelined backfill report files side by side. */
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

static char *dup0(const char *s)
{
	return strdup(s ? s : "");
}

void mde_archive_buf_add(void *ud, const mde_archive_rec *rec)
{
	mde_archive_buf *b = ud;
	pthread_mutex_lock(&mu);
	if (b->n == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 32;
		void *p = realloc(b->rows, cap * sizeof *b->rows);
		if (!p) {
			pthread_mutex_unlock(&mu);
			return;
		}
		b->rows = p;
		b->cap = cap;
	}
	struct mde_archive_row *r = &b->rows[b->n++];
	r->url = dup0(rec->url);
	r->kind = dup0(rec->kind);
	r->symbol = dup0(rec->symbol);
	r->interval = dup0(rec->interval);
	r->sha256 = dup0(rec->sha256);
	r->from_ms = rec->range_start_ms;
	r->to_ms = rec->range_end_ms;
	r->size = (int64_t)rec->size;
	r->rows = (int64_t)rec->rows;
	pthread_mutex_unlock(&mu);
}

static void buf_clear(mde_archive_buf *b)
{
	for (size_t i = 0; i < b->n; i++) {
		struct mde_archive_row *r = &b->rows[i];
		free(r->url);
		free(r->kind);
		free(r->symbol);
		free(r->interval);
		free(r->sha256);
	}
	b->n = 0;
}

void mde_archive_buf_free(mde_archive_buf *b)
{
	pthread_mutex_lock(&mu);
	buf_clear(b);
	pthread_mutex_unlock(&mu);
	free(b->rows);
	memset(b, 0, sizeof *b);
}

static const char upsert_sql[] =
	"WITH old AS (SELECT sha256 FROM archive_files WHERE url = $1) "
	"INSERT INTO archive_files AS a (url, kind, symbol, interval, "
	"range_start, range_end, size, sha256, rows, run_id) VALUES ($1, $2, "
	"$3, $4, to_timestamp($5::float8 / 1000), "
	"to_timestamp($6::float8 / 1000), $7, $8, $9, $10) "
	"ON CONFLICT (url) DO UPDATE SET last_verified_at = now(), "
	"size = EXCLUDED.size, rows = EXCLUDED.rows, run_id = EXCLUDED.run_id, "
	"previous_sha256 = CASE WHEN a.sha256 <> EXCLUDED.sha256 THEN a.sha256 "
	"ELSE a.previous_sha256 END, "
	"republished_at = CASE WHEN a.sha256 <> EXCLUDED.sha256 THEN now() "
	"ELSE a.republished_at END, sha256 = EXCLUDED.sha256 "
	"RETURNING (SELECT sha256 FROM old)";

int mde_store_archive_files(mde_store *s, int64_t run_id, mde_archive_buf *b,
			    size_t *republished, mde_err *err)
{
	*republished = 0;
	int rc = 0;
	pthread_mutex_lock(&mu); /* the rows reported so far, taken */
	mde_archive_buf taken = *b;
	memset(b, 0, sizeof *b);
	pthread_mutex_unlock(&mu);
	for (size_t i = 0; i < taken.n && !rc; i++) {
		struct mde_archive_row *r = &taken.rows[i];
		char from[24], to[24], size[24], rows[24], run[24];
		snprintf(from, sizeof from, "%lld", (long long)r->from_ms);
		snprintf(to, sizeof to, "%lld", (long long)r->to_ms);
		snprintf(size, sizeof size, "%lld", (long long)r->size);
		snprintf(rows, sizeof rows, "%lld", (long long)r->rows);
		snprintf(run, sizeof run, "%lld", (long long)run_id);
		const char *v[10] = {r->url, r->kind, r->symbol, r->interval,
				     from, to, size, r->sha256, rows,
				     run_id ? run : NULL};
		PGresult *res = NULL;
		rc = mde_db_params(mde_store_conn(s), upsert_sql, 10, v,
				   PGRES_TUPLES_OK, &res, err);
		if (rc)
			break;
		const char *old = PQntuples(res) ? PQgetvalue(res, 0, 0) : "";
		if (old[0] && strcmp(old, r->sha256) != 0) {
			(*republished)++;
			mde_warn("archive.republished", "url=%s old_sha256=%s "
				 "new_sha256=%s reason=\"the file's range is "
				 "enriched again; changed candles become new "
				 "revisions\"", r->url, old, r->sha256);
		}
		PQclear(res);
	}
	buf_clear(&taken);
	free(taken.rows);
	return rc;
}
