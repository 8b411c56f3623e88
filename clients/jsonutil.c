/*
 * jsonutil.c - strict readers for the numbers sources send. cJSON keeps
 * numbers as doubles, which is exact for millisecond times (< 2^53); a
 * decimal that arrives as a string is parsed from the string, whole, so
 * "12abc" or "" is an error and not 12 or 0.
 */
#define _GNU_SOURCE /* memmem */
#include "clients.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdalign.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- an arena for the nodes of one document ----------------------- */

/*
 * cJSON allocates every node and string on its own: about 13,000 mallocs
 * and frees for a page of 1000 klines, a third of a backfill's client
 * time. Inside a scope of mde_json_arena_begin/end they come from this
 * thread's arena instead (cJSON's own allocation hooks), and the scope's
 * end drops them at once. Outside a scope the hooks are malloc and free.
 */
#define ARENA_BLOCK (1u << 20)
struct arena_blk {
	struct arena_blk *next;
	size_t used, cap;
	max_align_t data[];
};
static __thread struct arena_blk *arena;   /* newest block first */
static __thread bool arena_on;
/* frees a thread's kept block when the thread ends */
static pthread_key_t arena_key;
static pthread_once_t arena_key_once = PTHREAD_ONCE_INIT;

static void arena_drop(void *blocks)
{
	for (struct arena_blk *b = blocks, *next; b; b = next) {
		next = b->next;
		free(b);
	}
}

static void arena_key_make(void)
{
	(void)pthread_key_create(&arena_key, arena_drop);
}

static bool in_arena(const void *p)
{
	for (const struct arena_blk *b = arena; b; b = b->next) {
		const char *d = (const char *)b->data;
		if ((const char *)p >= d && (const char *)p < d + b->cap)
			return true;
	}
	return false;
}

static void *arena_malloc(size_t n)
{
	if (!arena_on)
		return malloc(n);
	n = (n + sizeof(max_align_t) - 1) & ~(sizeof(max_align_t) - 1);
	if (!arena || arena->cap - arena->used < n) {
		size_t cap = n > ARENA_BLOCK ? n : ARENA_BLOCK;
		struct arena_blk *b = malloc(sizeof *b + cap);
		if (!b)
			return NULL;
		*b = (struct arena_blk){.next = arena, .cap = cap};
		arena = b;
		pthread_once(&arena_key_once, arena_key_make);
		(void)pthread_setspecific(arena_key, arena);
	}
	void *p = (char *)arena->data + arena->used;
	arena->used += n;
	return p;
}

static void arena_free(void *p)
{
	if (p && !(arena_on && in_arena(p)))
		free(p);
}

/* Installed before main, while there is one thread. */
__attribute__((constructor)) static void arena_hooks(void)
{
	cJSON_Hooks h = {.malloc_fn = arena_malloc, .free_fn = arena_free};
	cJSON_InitHooks(&h);
}

void mde_json_arena_begin(void)
{
	arena_on = true;
}

void mde_json_arena_end(void)
{
	arena_on = false;
	if (!arena)
		return;
	/* keep one block for the next document, emptied */
	while (arena->next) {
		struct arena_blk *b = arena->next;
		arena->next = b->next;
		free(b);
	}
	if (arena->cap > ARENA_BLOCK) {
		free(arena);
		arena = NULL;
	} else {
		arena->used = 0;
	}
	(void)pthread_setspecific(arena_key, arena);
}

void mde_page_reset(mde_page *pg)
{
	memset(pg, 0, sizeof *pg);
	pg->first_ms = INT64_MIN;
	pg->last_ms = INT64_MIN;
}

void mde_page_time(mde_page *pg, int64_t t)
{
	if (pg->first_ms == INT64_MIN)
		pg->first_ms = t;
	if (t > pg->last_ms)
		pg->last_ms = t;
}

int mde_json_int(const cJSON *j, int64_t *out)
{
	if (cJSON_IsNumber(j)) {
		double d = j->valuedouble;
		if (!isfinite(d) || d != floor(d) || fabs(d) > 9007199254740992.0)
			return MDE_EPARSE;
		*out = (int64_t)d;
		return 0;
	}
	if (cJSON_IsString(j) && j->valuestring) {
		const char *s = j->valuestring;
		size_t n = strlen(s);
		if (n == 0 || n > 18)
			return MDE_EPARSE;
		int64_t x = 0;
		for (size_t i = 0; i < n; i++) {
			if (s[i] < '0' || s[i] > '9')
				return MDE_EPARSE;
			x = x * 10 + (s[i] - '0');
		}
		*out = x;
		return 0;
	}
	return MDE_EPARSE;
}

int mde_json_decstr(const cJSON *j, double *out)
{
	double v;
	if (!cJSON_IsString(j) || !j->valuestring ||
	    mde_parse_decimal(j->valuestring, strlen(j->valuestring), &v) ||
	    !isfinite(v))
		return MDE_EPARSE;
	*out = v;
	return 0;
}

int mde_json_num(const cJSON *j, double *out)
{
	if (cJSON_IsNumber(j)) {
		if (!isfinite(j->valuedouble))
			return MDE_EPARSE;
		*out = j->valuedouble;
		return 0;
	}
	return mde_json_decstr(j, out);
}

/* Where in [p, end) an escaped NUL (\u0000, not \\u0000) starts, or
 * NULL; body is where the text begins. */
static const char *escaped_nul(const char *body, const char *p,
			       const char *end)
{
	for (; (p = memmem(p, (size_t)(end - p), "\\u0000", 6)); p += 6) {
		size_t bs = 0;
		for (const char *q = p; q > body && q[-1] == '\\'; q--)
			bs++;
		if (bs % 2 == 0)
			return p;
	}
	return NULL;
}

/* A copy of body with every escaped NUL replaced by \uFFFD (same
 * length), or NULL when there is none (or no memory: then the strict
 * length check below still refuses nothing wrongly). */
static char *without_nul(const char *body, size_t len)
{
	const char *end = body + len, *p = escaped_nul(body, body, end);
	if (!p)
		return NULL;
	char *c = malloc(len + 1);
	if (!c)
		return NULL;
	memcpy(c, body, len);
	c[len] = '\0';
	for (; p; p = escaped_nul(body, p + 6, end))
		memcpy(c + (p - body), "\\uFFFD", 6);
	return c;
}

static int not_json(const char *body, size_t len, size_t at, mde_err *err)
{
	char head[24];
	size_t k = 0;
	for (size_t i = 0; i < len && k + 1 < sizeof head; i++)
		head[k++] = (body[i] >= 32 && body[i] < 127) ? body[i] : '?';
	head[k] = '\0';
	return mde_err_set(err, MDE_EPARSE, true,
			   "response is not one JSON document (error at byte "
			   "%zu of %zu, starts \"%s\")",
			   at, len, head);
}

int mde_json_parse(const char *body, size_t len, cJSON **out, mde_err *err)
{
	*out = NULL;
	if (!body || len == 0)
		return mde_err_set(err, MDE_EPARSE, true, "empty body");
	/* JSON has no raw NUL: inside a string cJSON would end the value
	 * there ("93548.80\0x" read as 93548.80) */
	const char *nul = memchr(body, '\0', len);
	if (nul)
		return not_json(body, len, (size_t)(nul - body), err);
	char *copy = without_nul(body, len);
	const char *b = copy ? copy : body, *end = NULL;
	cJSON *j = cJSON_ParseWithLengthOpts(b, len, &end, 0);
	size_t at = end && end >= b ? (size_t)(end - b) : 0;
	while (j && at < len && strchr(" \t\r\n", b[at]) && b[at])
		at++;
	free(copy);
	if (!j || at != len) {
		cJSON_Delete(j);
		return not_json(body, len, at, err);
	}
	*out = j;
	return 0;
}

void mde_json_field(const cJSON *j, bool strings, mde_candle_in *in, int f,
		    char *buf, size_t cap)
{
	in->txt[f] = NULL;
	if (!j || cJSON_IsNull(j))
		return;
	if (cJSON_IsString(j)) {
		if (j->valuestring && j->valuestring[0])
			in->txt[f] = j->valuestring;
		return;
	}
	if (!strings && cJSON_IsNumber(j)) {
		mde_fmt_double(buf, cap, j->valuedouble);
		in->txt[f] = buf;
		return;
	}
	char *t = cJSON_PrintUnformatted(j);
	snprintf(buf, cap, "%s", t ? t : "?");
	cJSON_free(t);
	in->txt[f] = buf;
	in->malformed = true;
}
