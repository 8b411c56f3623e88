/*
 * fetchlog.c - the fetch-log buffer of store.h: the fetch stage's records
 * (one per HTTP request or replay file), copied, kept until the store
 * writes them into enrichment_fetch_log with the next batch.
 */
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "store.h"

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

void mde_fetch_logbuf_add(void *ud, const mde_fetch_rec *rec)
{
	mde_fetch_logbuf *b = ud;
	if (b->n == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 64;
		void *p = realloc(b->rows, cap * sizeof *b->rows);
		if (!p)
			return; /* the log is best effort; the data is not */
		b->rows = p;
		b->cap = cap;
	}
	struct mde_fetch_logrow *r = &b->rows[b->n++];
	r->source = dup_or_null(rec->source);
	r->endpoint = dup_or_null(rec->endpoint);
	r->symbol = dup_or_null(rec->symbol);
	char red[2048];
	r->params = rec->params ? strdup(mde_redact(rec->params, red,
						    sizeof red))
				: NULL;
	r->error = dup_or_null(rec->error);
	r->http_status = rec->http_status;
	r->attempt = rec->attempt;
	r->rows = (int64_t)rec->rows;
	r->bytes = (int64_t)rec->bytes;
	r->latency_ms = rec->latency_ms;
	r->requested_at_ms = rec->requested_at_ms;
}

void mde_fetch_logbuf_clear(mde_fetch_logbuf *b)
{
	for (size_t i = 0; i < b->n; i++) {
		struct mde_fetch_logrow *r = &b->rows[i];
		free(r->source);
		free(r->endpoint);
		free(r->symbol);
		free(r->params);
		free(r->error);
	}
	b->n = 0;
}

void mde_fetch_logbuf_free(mde_fetch_logbuf *b)
{
	if (!b)
		return;
	mde_fetch_logbuf_clear(b);
	free(b->rows);
	memset(b, 0, sizeof *b);
}

void mde_fetch_logbuf_take(mde_fetch_logbuf *dst, mde_fetch_logbuf *src)
{
	if (!src->n)
		return;
	if (dst->cap - dst->n < src->n) {
		size_t cap = dst->n + src->n;
		void *p = realloc(dst->rows, cap * sizeof *dst->rows);
		if (!p) {
			mde_fetch_logbuf_clear(src); /* best effort, as _add */
			return;
		}
		dst->rows = p;
		dst->cap = cap;
	}
	memcpy(dst->rows + dst->n, src->rows, src->n * sizeof *src->rows);
	dst->n += src->n;
	src->n = 0;
}
