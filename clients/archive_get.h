/*
 * archive_get.h - internal to archive.c: getting verified archive files.
 * A file is usable only once the SHA-256 of its zip equals its .CHECKSUM,
 * its single CSV inflates from memory (libzip, no unzip to disk) and the
 * caller's check (its parser) accepts it. Files of one group download at
 * once (curl multi, at most opts.archive_parallel); 429/503 and transport
 * errors are retried with backoff and Retry-After like the API; a file
 * that fails verification or parsing is retried once, then missing.
 */
#ifndef MDE_ARCHIVE_GET_H
#define MDE_ARCHIVE_GET_H

#include "archive.h"

enum ar_state { AR_PENDING, AR_OK, AR_MISSING };

struct mde_arfile {
	int kind;            /* enum mde_ar_kind */
	char path[256];      /* "/data/futures/um/monthly/klines/..." */
	const char *sym;     /* for the fetch log */
	int64_t from, to;    /* the month or day the file covers */
	int64_t seg_from, seg_to; /* the part of it the caller wants */
	int state;
	mde_err err;         /* why it is missing */
	int rc;              /* MDE_ENOTFOUND for a 404 */
	/* while getting it */
	unsigned char *zip;
	size_t zlen;
	char sum[65];        /* from .CHECKSUM */
	char sha[65];        /* of zip */
	bool cache_tried, lru_hit, cached_zip; /* zip from a cache */
	int bad, tries;
	size_t rows;         /* set by the check */
	size_t size;         /* zip bytes, once verified */
	void *res;           /* the caller's parse target */
};

/* Parses a verified file's CSV into F->res (setting F->rows); nonzero
 * rejects the file (retried once). */
typedef int (*ar_check_fn)(void *ud, struct mde_arfile *F, const char *csv,
			   size_t len, mde_err *err);

/* Gets files[0..n), then each is AR_OK (checked) or AR_MISSING. */
int mde_ar_get(mde_fetcher *f, struct mde_arfile *files, size_t n,
	       ar_check_fn check, void *ud, mde_err *err) MDE_MUSTCHECK;
/*
 * Rows parsed beyond a chunk's window. A chunk whose range ends inside a
 * file (a 30-day chunk ends inside a month) parses the whole file anyway;
 * the rows from from_ms on (its window's end) are kept, moved from rows,
 * for the chunk that follows, which then takes them instead of getting,
 * inflating and parsing the same month again. The cache is the family's
 * (every writer of the run), a few files at most, the oldest dropped.
 */
void mde_ar_rest_put(mde_fetcher *f, const struct mde_arfile *F,
		     int64_t from_ms, mde_candles *rows);
/* F is being read from the archive (or a cache of zips) for its window:
 * rows of it kept for that window, now or later, are not needed (a fetch
 * ahead ran beside the one that would have kept them). */
void mde_ar_rest_read(mde_fetcher *f, const struct mde_arfile *F);
/* F's rows kept from F->seg_from on: moved into out (F is then AR_OK with
 * the file's sha, size and rows), those from F->seg_to on split off into
 * after; false when none were kept. */
bool mde_ar_rest_take(mde_fetcher *f, struct mde_arfile *F,
		      mde_candles *out, mde_candles *after);
/* Moves the rows of c (ascending) from open time t on to after; false
 * when there was no memory for them (they are dropped from c all the
 * same). */
bool mde_ar_split_after(mde_candles *c, int64_t t, mde_candles *after);
/* Frees what mde_ar_get left in a file (not res). */
void mde_ar_file_clear(struct mde_arfile *F);
/* Whether the archive host failed as a whole earlier in this run. */
bool mde_ar_down(const mde_fetcher *f);

/* Inflates the single CSV of a zip held in memory into *csv (owned). */
int mde_ar_unzip(const unsigned char *zip, size_t len, char **csv,
		 size_t *csv_len, mde_err *err) MDE_MUSTCHECK;

#endif
