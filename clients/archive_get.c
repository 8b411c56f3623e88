/*
 * archive_get.c - verified archive files (archive_get.h): the download
 * rounds, SHA-256 (OpenSSL EVP), the zip read from memory (libzip), a small
 * in-memory cache of this run's verified zips (a monthly file serves the
 * two chunks that share its month) and the optional cache folder.
 */
#include "archive_get.h"

#include <errno.h>
#include <pthread.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <zip.h>

#include "log.h"

#define LRU_N 16
/* Funding and metrics files serve the two chunks on either side of a
 * month's or day's end, and open interest and long/short the same day.
 * A kline month is not kept here (a 1m futures month is about 2.5 MB):
 * the chunk that reads it keeps the rows the next chunk needs
 * (mde_ar_rest_put), which then needs the zip no more. */
#define LRU_BYTES ((size_t)2 << 20)

struct lru {
	char path[256];
	unsigned char *zip;
	size_t zlen;
	char sha[65];
	uint64_t stamp;
};

/* A file found missing earlier in the run: not asked for again. */
struct gone {
	uint64_t hash; /* of path */
	char path[256];
	int rc;
	mde_err err;
};

/* The rows of a verified file after the window of the chunk that read
 * it, kept for the chunk that follows (mde_ar_rest_put). */
#define REST_N 8
struct rest {
	char path[256];
	int64_t from;        /* the rows' first open time may not be before */
	bool used;           /* a slot: rows, or (none) a marker that the
				chunk starting at from read the file itself */
	mde_candles rows;
	char sha[65];
	size_t size, nrows;  /* the file's, for archive_files */
	uint64_t stamp;
};

/* Shared by a fetcher and its children (every writer and fetch thread of
 * a run), under mu: a small zip is downloaded once, a file found missing
 * is asked for once (open interest and long/short read the same metrics
 * days), and a month's rows parsed past a chunk's end wait for the next. */
struct mde_ar_cache {
	pthread_mutex_t mu;
	struct lru lru[LRU_N];
	uint64_t clock;
	struct gone *gone;
	size_t ngone, gone_cap;
	struct rest rest[REST_N];
};

struct mde_archive {
	mde_http_multi *multi;
	bool down;            /* the host failed as a whole: not asked again */
	struct mde_ar_cache *lru; /* the family's (mde_fetch_shared.arc) */
};

void mde_ar_cache_free(struct mde_ar_cache *c)
{
	if (!c)
		return;
	for (int i = 0; i < LRU_N; i++)
		free(c->lru[i].zip);
	for (int i = 0; i < REST_N; i++)
		mde_candles_free(&c->rest[i].rows);
	free(c->gone);
	pthread_mutex_destroy(&c->mu);
	free(c);
}

void mde_archive_free(struct mde_archive *a)
{
	if (!a)
		return;
	mde_http_multi_close(a->multi);
	free(a);
}

bool mde_ar_down(const mde_fetcher *f)
{
	return f->ar && f->ar->down;
}

static int ar_init(mde_fetcher *f, mde_err *err)
{
	if (f->ar)
		return 0;
	struct mde_archive *a = calloc(1, sizeof *a);
	if (!a)
		return mde_err_set(err, MDE_ENOMEM, false, "out of memory");
	pthread_mutex_lock(&f->sh->mu);
	if (!f->sh->arc && (f->sh->arc = calloc(1, sizeof *f->sh->arc)))
		pthread_mutex_init(&f->sh->arc->mu, NULL);
	a->lru = f->sh->arc;
	pthread_mutex_unlock(&f->sh->mu);
	if (!a->lru) {
		free(a);
		return mde_err_set(err, MDE_ENOMEM, false, "out of memory");
	}
	mde_http_opts ho = {.connect_timeout_ms = f->o.connect_timeout_ms,
			    .timeout_ms = f->o.timeout_ms > 0
						  ? f->o.timeout_ms * 4
						  : 120000,
			    .max_body_bytes = (size_t)512 << 20};
	int rc = mde_http_multi_open(&a->multi, &ho, f->o.archive_parallel,
				     err);
	if (rc) {
		free(a);
		return rc;
	}
	f->ar = a;
	return 0;
}

void mde_ar_file_clear(struct mde_arfile *F)
{
	free(F->zip);
	F->zip = NULL;
	F->zlen = 0;
}

static void sha256_hex(const unsigned char *p, size_t n, char out[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int ml = 0;
	out[0] = '\0';
	if (!EVP_Digest(p, n, md, &ml, EVP_sha256(), NULL))
		return;
	for (unsigned i = 0; i < ml && i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

/* The hash of a CHECKSUM body: "<64 hex>  <name>". */
static bool parse_sum(const char *b, size_t n, char out[65])
{
	if (!b || n < 64)
		return false;
	for (int i = 0; i < 64; i++) {
		char c = b[i];
		if (c >= 'A' && c <= 'F')
			c = (char)(c - 'A' + 'a');
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return false;
		out[i] = c;
	}
	out[64] = '\0';
	return n == 64 || b[64] == ' ' || b[64] == '\t' || b[64] == '\n' ||
	       b[64] == '\r';
}

/* ---- zip -------------------------------------------------------------- */

static int zip_fail(zip_error_t *ze, mde_err *err, const char *what)
{
	int rc = mde_err_set(err, MDE_EPARSE, false, "zip: %s: %s", what,
			     zip_error_strerror(ze));
	zip_error_fini(ze);
	return rc;
}

int mde_ar_unzip(const unsigned char *zip, size_t len, char **csv,
		 size_t *csv_len, mde_err *err)
{
	zip_error_t ze;
	zip_error_init(&ze);
	*csv = NULL;
	zip_source_t *src = zip_source_buffer_create(zip, len, 0, &ze);
	if (!src)
		return zip_fail(&ze, err, "buffer");
	zip_t *z = zip_open_from_source(src, ZIP_RDONLY | ZIP_CHECKCONS, &ze);
	if (!z) {
		zip_source_free(src);
		return zip_fail(&ze, err, "open");
	}
	zip_error_fini(&ze);
	int rc = 0;
	zip_stat_t st;
	zip_file_t *zf = NULL;
	if (zip_get_num_entries(z, 0) < 1 || zip_stat_index(z, 0, 0, &st) ||
	    !(st.valid & ZIP_STAT_SIZE) || st.size > ((zip_uint64_t)1 << 31)) {
		rc = mde_err_set(err, MDE_EPARSE, false,
				 "zip: no readable entry");
		goto done;
	}
	*csv = malloc(st.size + 1);
	zf = zip_fopen_index(z, 0, 0);
	if (!*csv || !zf) {
		rc = mde_err_set(err, MDE_EPARSE, false, "zip: cannot open %s",
				 st.name ? st.name : "entry");
		goto done;
	}
	zip_int64_t got = zip_fread(zf, *csv, st.size);
	char extra;
	/* reading past the end makes libzip check the entry's CRC */
	if (got != (zip_int64_t)st.size || zip_fread(zf, &extra, 1) != 0) {
		rc = mde_err_set(err, MDE_EPARSE, false,
				 "zip: entry cut short or CRC mismatch");
		goto done;
	}
	(*csv)[st.size] = '\0';
	*csv_len = st.size;
done:
	if (zf && zip_fclose(zf) != 0 && !rc)
		rc = mde_err_set(err, MDE_EPARSE, false, "zip: bad entry");
	zip_discard(z);
	if (rc) {
		free(*csv);
		*csv = NULL;
	}
	return rc;
}

/* ---- the in-memory and folder caches ---------------------------------- */

static bool lru_find(struct mde_ar_cache *a, struct mde_arfile *F)
{
	for (int i = 0; i < LRU_N; i++) {
		struct lru *e = &a->lru[i];
		if (!e->zip || strcmp(e->path, F->path) != 0)
			continue;
		F->zip = malloc(e->zlen);
		if (!F->zip)
			return false;
		memcpy(F->zip, e->zip, e->zlen);
		F->zlen = e->zlen;
		memcpy(F->sum, e->sha, 65);
		e->stamp = ++a->clock;
		F->cached_zip = true;
		return F->lru_hit = true;
	}
	return false;
}

static bool lru_get(struct mde_ar_cache *a, struct mde_arfile *F)
{
	pthread_mutex_lock(&a->mu);
	bool hit = lru_find(a, F);
	pthread_mutex_unlock(&a->mu);
	return hit;
}

/* Keeps F, dropping the oldest until the cache fits (under a->mu). */
static void lru_store(struct mde_ar_cache *a, const struct mde_arfile *F)
{
	size_t total = F->zlen;
	for (int i = 0; i < LRU_N; i++) {
		if (a->lru[i].zip && strcmp(a->lru[i].path, F->path) == 0)
			return; /* another thread kept it meanwhile */
		total += a->lru[i].zlen;
	}
	while (total > LRU_BYTES) { /* drop the oldest until it fits */
		int old = -1;
		for (int i = 0; i < LRU_N; i++)
			if (a->lru[i].zip &&
			    (old < 0 || a->lru[i].stamp < a->lru[old].stamp))
				old = i;
		total -= a->lru[old].zlen;
		free(a->lru[old].zip);
		a->lru[old] = (struct lru){0};
	}
	int k = 0;
	for (int i = 0; i < LRU_N; i++)
		if (!a->lru[i].zip || a->lru[i].stamp < a->lru[k].stamp) {
			k = i;
			if (!a->lru[i].zip)
				break;
		}
	unsigned char *z = malloc(F->zlen);
	if (!z)
		return;
	free(a->lru[k].zip);
	memcpy(z, F->zip, F->zlen);
	a->lru[k] = (struct lru){.zip = z, .zlen = F->zlen,
				 .stamp = ++a->clock};
	snprintf(a->lru[k].path, sizeof a->lru[k].path, "%s", F->path);
	memcpy(a->lru[k].sha, F->sha, 65);
}

static void lru_put(struct mde_ar_cache *a, const struct mde_arfile *F)
{
	if (F->zlen > LRU_BYTES / 2)
		return;
	pthread_mutex_lock(&a->mu);
	lru_store(a, F);
	pthread_mutex_unlock(&a->mu);
}

/* ---- rows kept for the next chunk ------------------------------------ */

/* The slot of (path, from), or NULL (under a->mu). */
static struct rest *rest_find(struct mde_ar_cache *a, const char *path,
			      int64_t from)
{
	for (int i = 0; i < REST_N; i++)
		if (a->rest[i].used && a->rest[i].from == from &&
		    strcmp(a->rest[i].path, path) == 0)
			return &a->rest[i];
	return NULL;
}

/* A free slot, else the oldest marker, else the oldest rows, emptied
 * (under a->mu): rows waiting for their chunk outlive the markers. */
static struct rest *rest_slot(struct mde_ar_cache *a)
{
	int k = -1;
	for (int i = 0; i < REST_N; i++) {
		const struct rest *r = &a->rest[i];
		if (!r->used) {
			k = i;
			break;
		}
		bool marker = r->rows.n == 0, kmarker = k >= 0 &&
						      a->rest[k].rows.n == 0;
		if (k < 0 || (marker && !kmarker) ||
		    (marker == kmarker && r->stamp < a->rest[k].stamp))
			k = i;
	}
	struct rest *r = &a->rest[k];
	mde_candles_free(&r->rows);
	r->used = false;
	return r;
}

void mde_ar_rest_put(mde_fetcher *f, const struct mde_arfile *F,
		     int64_t from_ms, mde_candles *rows)
{
	mde_err e;
	if (rows->n == 0 || ar_init(f, &e))
		return;
	mde_candles_compact(rows); /* it waits a chunk: no spare room */
	struct mde_ar_cache *a = f->ar->lru;
	pthread_mutex_lock(&a->mu);
	struct rest *r = rest_find(a, F->path, from_ms);
	if (r) { /* that chunk read the file itself meanwhile */
		r->used = false;
		pthread_mutex_unlock(&a->mu);
		mde_candles_free(rows);
		return;
	}
	r = rest_slot(a);
	r->used = true;
	r->rows = *rows;
	mde_candles_init(rows);
	snprintf(r->path, sizeof r->path, "%s", F->path);
	r->from = from_ms;
	memcpy(r->sha, F->sha, sizeof r->sha);
	r->size = F->size;
	r->nrows = F->rows;
	r->stamp = ++a->clock;
	size_t n = r->rows.n;
	pthread_mutex_unlock(&a->mu);
	mde_debug("archive.rows_kept", "file=%s from=%" PRId64 " rows=%zu",
		  F->path, from_ms, n);
}

void mde_ar_rest_read(mde_fetcher *f, const struct mde_arfile *F)
{
	mde_err e;
	if (ar_init(f, &e))
		return;
	struct mde_ar_cache *a = f->ar->lru;
	mde_candles old;
	mde_candles_init(&old);
	pthread_mutex_lock(&a->mu);
	struct rest *r = rest_find(a, F->path, F->seg_from);
	if (r) { /* kept too late to be taken */
		old = r->rows;
		mde_candles_init(&r->rows);
		r->used = false;
	} else { /* the rows may still be kept: they are not to be */
		r = rest_slot(a);
		r->used = true;
		snprintf(r->path, sizeof r->path, "%s", F->path);
		r->from = F->seg_from;
		r->stamp = ++a->clock;
	}
	pthread_mutex_unlock(&a->mu);
	mde_candles_free(&old);
}

bool mde_ar_rest_take(mde_fetcher *f, struct mde_arfile *F,
		      mde_candles *out, mde_candles *after)
{
	mde_err e;
	if (ar_init(f, &e))
		return false;
	struct mde_ar_cache *a = f->ar->lru;
	pthread_mutex_lock(&a->mu);
	struct rest *r = rest_find(a, F->path, F->seg_from);
	bool hit = r && r->rows.n;
	if (hit) {
		mde_candles_free(out);
		*out = r->rows;
		mde_candles_init(&r->rows);
		r->used = false;
		memcpy(F->sha, r->sha, sizeof F->sha);
		F->size = r->size;
		F->rows = r->nrows;
		F->state = AR_OK;
	}
	pthread_mutex_unlock(&a->mu);
	if (hit) {
		(void)mde_ar_split_after(out, F->seg_to, after);
		mde_debug("archive.rows_taken", "file=%s from=%" PRId64
			  " rows=%zu", F->path, F->seg_from, out->n);
	}
	return hit;
}

bool mde_ar_split_after(mde_candles *c, int64_t t, mde_candles *after)
{
	size_t lo = 0, hi = c->n; /* c ascends: the first row at or past t */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (c->open_time_ms[mid] < t)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == c->n)
		return true;
	mde_candles_clear(after);
	bool kept;
	if (c->n - lo <= lo) { /* the smaller part is copied, the tail */
		kept = mde_candles_append_rows(after, c, lo, c->n) == 0;
		mde_candles_truncate(c, lo, c->text_len);
		return kept;
	}
	/* ... or the head: c becomes the tail, the head a table of its own */
	mde_candles head;
	mde_candles_init(&head);
	kept = mde_candles_append_rows(&head, c, 0, lo) == 0;
	if (!kept) {
		mde_candles_free(&head);
		mde_candles_truncate(c, lo, c->text_len);
		return false;
	}
	mde_candles_drop_head(c, lo);
	mde_candles_free(after);
	*after = *c;
	*c = head;
	return true;
}

static int cache_path(const mde_fetcher *f, const struct mde_arfile *F,
		      char *buf, size_t cap)
{
	int k = snprintf(buf, cap, "%s%s", f->o.archive_cache, F->path);
	return k > 0 && (size_t)k < cap ? 0 : -1;
}

static bool cache_read(const mde_fetcher *f, struct mde_arfile *F)
{
	char p[1024];
	char *buf;
	size_t len;
	if (!f->o.archive_cache || cache_path(f, F, p, sizeof p) ||
	    mde_read_file(p, 0, &buf, &len, NULL))
		return false;
	F->zip = (unsigned char *)buf;
	F->zlen = len;
	F->cached_zip = true;
	return true;
}

static int mkdirs(char *p)
{
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		int rc = mkdir(p, 0777);
		*s = '/';
		if (rc && errno != EEXIST)
			return -1;
	}
	return 0;
}

/* A verified zip into the folder: a temporary name, renamed when whole. */
static void cache_write(const mde_fetcher *f, const struct mde_arfile *F)
{
	char p[1024], tmp[1100];
	if (!f->o.archive_cache || cache_path(f, F, p, sizeof p) || mkdirs(p))
		return;
	snprintf(tmp, sizeof tmp, "%s.tmp.%ld", p, (long)getpid());
	FILE *o = fopen(tmp, "wb");
	bool ok = o && fwrite(F->zip, 1, F->zlen, o) == F->zlen;
	if (o && fclose(o) != 0)
		ok = false;
	if (!ok || rename(tmp, p) != 0) {
		unlink(tmp);
		mde_warn("archive.cache_write", "file=%s", p);
	}
}

/* ---- download rounds -------------------------------------------------- */

static void record(mde_fetcher *f, const struct mde_arfile *F, bool sum,
		   const mde_http_job *j, int attempt, int64_t at)
{
	char ep[300];
	snprintf(ep, sizeof ep, "%s%s", F->path, sum ? ".CHECKSUM" : "");
	if (j->rc && j->rc != MDE_ENOTFOUND)
		mde_warn("archive.request_failed", "file=%s attempt=%d "
			 "status=%d error=\"%s\"", ep, attempt,
			 j->resp.status, j->err.msg);
	if (!f->o.log_cb)
		return;
	mde_fetch_rec rec = {.source = "binance-archive", .endpoint = ep,
			     .symbol = F->sym, .params = "",
			     .http_status = j->resp.status,
			     .rows = 0, .bytes = j->resp.len,
			     .latency_ms = j->resp.latency_ms,
			     .attempt = attempt,
			     .error = j->rc ? j->err.msg : NULL,
			     .requested_at_ms = at};
	f->o.log_cb(f->o.log_ud, &rec);
}

static void missing(struct mde_arfile *F, int rc, const mde_err *e)
{
	F->state = AR_MISSING;
	F->rc = rc;
	F->err = *e;
	mde_ar_file_clear(F);
	mde_warn("archive.missing", "file=%s reason=\"%s\"", F->path,
		 e->msg);
}

static uint64_t path_hash(const char *p)
{
	uint64_t h = UINT64_C(1469598103934665603); /* FNV-1a */
	while (*p)
		h = (h ^ (unsigned char)*p++) * UINT64_C(1099511628211);
	return h;
}

static struct gone *gone_find(struct mde_ar_cache *c, const char *path,
			      uint64_t h)
{
	for (size_t k = 0; k < c->ngone; k++)
		if (c->gone[k].hash == h && strcmp(c->gone[k].path, path) == 0)
			return &c->gone[k];
	return NULL;
}

/* Remembers the files that ended missing (a chunk after this one, or
 * another series' thread, that needs the same file goes straight to REST
 * or its hole), or marks the files already known to be missing. */
static void gone_sync(struct mde_ar_cache *c, struct mde_arfile *files,
		      size_t n, bool mark)
{
	pthread_mutex_lock(&c->mu);
	for (size_t i = 0; i < n; i++) {
		struct mde_arfile *F = &files[i];
		if (mark ? F->state != AR_PENDING : F->state != AR_MISSING)
			continue;
		uint64_t h = path_hash(F->path);
		struct gone *g = gone_find(c, F->path, h);
		if (mark && g) {
			F->state = AR_MISSING;
			F->rc = g->rc;
			F->err = g->err;
		} else if (!mark && !g) {
			if (c->ngone == c->gone_cap) {
				size_t cap = c->gone_cap ? 2 * c->gone_cap : 64;
				void *q = realloc(c->gone, cap * sizeof *c->gone);
				if (!q)
					break;
				c->gone = q;
				c->gone_cap = cap;
			}
			g = &c->gone[c->ngone++];
			g->hash = h;
			snprintf(g->path, sizeof g->path, "%s", F->path);
			g->rc = F->rc;
			g->err = F->err;
		}
	}
	pthread_mutex_unlock(&c->mu);
}

/* One job's answer into its file. Returns the Retry-After to honour. */
static int64_t take(mde_fetcher *f, struct mde_arfile *F, bool sum,
		    mde_http_job *j)
{
	if (j->rc == MDE_ENOTFOUND) {
		missing(F, MDE_ENOTFOUND, &j->err);
		return 0;
	}
	if (j->rc) {
		if (!j->err.retryable || F->tries >= f->o.max_attempts)
			missing(F, j->rc, &j->err);
		return j->err.retry_after_ms;
	}
	if (sum) {
		if (!parse_sum(j->resp.body, j->resp.len, F->sum)) {
			mde_err e;
			mde_err_set(&e, MDE_EPARSE, false,
				    "%s.CHECKSUM is not a sha256 line",
				    F->path);
			if (++F->bad >= 2)
				missing(F, MDE_EPARSE, &e);
		}
		return 0;
	}
	free(F->zip);
	F->zip = (unsigned char *)j->resp.body;
	F->zlen = j->resp.len;
	F->cached_zip = false;
	j->resp.body = NULL;
	return 0;
}

/* A file with both its zip and its hash: verified, inflated, checked. */
static void verify(mde_fetcher *f, struct mde_arfile *F, bool downloaded,
		   ar_check_fn check, void *ud)
{
	mde_err e = {0};
	char *csv = NULL;
	size_t clen = 0;
	sha256_hex(F->zip, F->zlen, F->sha);
	int rc = strcmp(F->sha, F->sum) != 0
			 ? mde_err_set(&e, MDE_EPARSE, false,
				       "sha256 %.12s... is not the CHECKSUM's "
				       "%.12s...", F->sha, F->sum)
			 : mde_ar_unzip(F->zip, F->zlen, &csv, &clen, &e);
	if (!rc)
		rc = check(ud, F, csv, clen, &e);
	free(csv);
	if (!rc) {
		F->state = AR_OK;
		F->size = F->zlen;
		if (!F->lru_hit)
			lru_put(f->ar->lru, F);
		if (downloaded)
			cache_write(f, F);
		mde_ar_file_clear(F);
		return;
	}
	mde_ar_file_clear(F);
	if (!downloaded) {
		/* the cached copy is not the published file: download it */
		if (F->lru_hit)
			F->sum[0] = '\0'; /* the LRU's hash: ask the source */
		F->lru_hit = F->cached_zip = false;
		mde_info("archive.cache_stale", "file=%s reason=\"%s\"",
			 F->path, e.msg);
		return;
	}
	mde_warn("archive.bad_file", "file=%s attempt=%d reason=\"%s\"",
		 F->path, F->bad + 1, e.msg);
	F->sum[0] = '\0';
	if (++F->bad >= 2)
		missing(F, MDE_EPARSE, &e);
}

/* Queues the requests file F still needs; returns how many. */
static size_t queue(mde_fetcher *f, struct mde_arfile *F, mde_http_job *jobs,
		    struct mde_arfile **of, bool *is_sum, size_t k, char *urls,
		    size_t ucap)
{
	size_t add = 0;
	if (!F->cache_tried) {
		F->cache_tried = true;
		if (!lru_get(f->ar->lru, F))
			cache_read(f, F);
	}
	for (int s = 0; s < 2; s++) {
		bool sum = s == 1;
		if (sum ? F->sum[0] != '\0' : F->zip != NULL)
			continue;
		char *u = urls + (k + add) * ucap;
		snprintf(u, ucap, "%s%s%s", f->o.archive_url, F->path,
			 sum ? ".CHECKSUM" : "");
		jobs[k + add] = (mde_http_job){.url = u};
		of[k + add] = F;
		is_sum[k + add] = sum;
		add++;
	}
	return add;
}

/* Whether every file failed for the host's sake (not a 404). */
static void note_down(mde_fetcher *f, const struct mde_arfile *files, size_t n)
{
	size_t host = 0;
	for (size_t i = 0; i < n; i++)
		host += files[i].state == AR_MISSING &&
			files[i].rc == MDE_ENET &&
			(files[i].err.http_status == 0 ||
			 files[i].err.http_status >= 500 ||
			 files[i].err.http_status == 429);
	if (n > 0 && host == n && !f->ar->down) {
		f->ar->down = true;
		mde_error("archive.down", "url=%s files=%zu reason=\"%s\"",
			  f->o.archive_url, n, files[0].err.msg);
	}
}

int mde_ar_get(mde_fetcher *f, struct mde_arfile *files, size_t n,
	       ar_check_fn check, void *ud, mde_err *err)
{
	int rc = ar_init(f, err);
	if (rc)
		return rc;
	size_t pending = 0;
	for (size_t i = 0; i < n; i++)
		pending += files[i].state == AR_PENDING;
	if (pending == 0)
		return 0;
	const size_t ucap = 600;
	mde_http_job *jobs = calloc(2 * n + 1, sizeof *jobs);
	struct mde_arfile **of = calloc(2 * n + 1, sizeof *of);
	bool *is_sum = calloc(2 * n + 1, sizeof *is_sum);
	char *urls = malloc((2 * n + 1) * ucap);
	if (!jobs || !of || !is_sum || !urls) {
		rc = mde_err_set(err, MDE_ENOMEM, false, "out of memory");
		goto done;
	}
	gone_sync(f->ar->lru, files, n, true);
	for (size_t i = 0; i < n && f->ar->down; i++) {
		if (files[i].state != AR_PENDING)
			continue; /* kept from the chunk before */
		mde_err e;
		mde_err_set(&e, MDE_ENET, false, "the archive failed earlier "
			    "in this run");
		missing(&files[i], MDE_ENET, &e);
	}
	for (int round = 1;; round++) {
		size_t k = 0;
		for (size_t i = 0; i < n; i++)
			if (files[i].state == AR_PENDING)
				k += queue(f, &files[i], jobs, of, is_sum, k,
					   urls, ucap);
		for (size_t i = 0; i < n; i++) /* from the caches */
			if (files[i].state == AR_PENDING && files[i].zip &&
			    files[i].sum[0])
				verify(f, &files[i], false, check, ud);
		if (k == 0 && round > 1)
			break;
		int64_t at = mde_now_ms(), wait = 0;
		mde_http_get_all(f->ar->multi, jobs, k);
		for (size_t q = 0; q < k; q++) {
			struct mde_arfile *F = of[q];
			record(f, F, is_sum[q], &jobs[q], F->tries + 1, at);
			if (F->state == AR_PENDING) {
				int64_t w = take(f, F, is_sum[q], &jobs[q]);
				wait = w > wait ? w : wait;
			}
			mde_http_resp_free(&jobs[q].resp);
		}
		bool more = false;
		for (size_t i = 0; i < n; i++) {
			struct mde_arfile *F = &files[i];
			if (F->state != AR_PENDING)
				continue;
			F->tries++;
			if (F->zip && F->sum[0])
				verify(f, F, !F->cached_zip, check, ud);
			more = more || F->state == AR_PENDING;
		}
		if (!more)
			break;
		int64_t d = f->o.backoff_base_ms << (round < 6 ? round - 1 : 5);
		d = d > f->o.backoff_max_ms ? f->o.backoff_max_ms : d;
		d = wait > d ? wait : d;
		d = d > f->o.max_wait_ms ? f->o.max_wait_ms : d;
		f->st.waited_ms += d;
		mde_sleep_ms(d, NULL);
	}
	note_down(f, files, n);
	gone_sync(f->ar->lru, files, n, false);
done:
	free(jobs);
	free(of);
	free(is_sum);
	free(urls);
	return rc;
}
