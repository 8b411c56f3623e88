/*
 * archive_files.h - the archive_files table (SCHEMA.md): every file of
 * Binance's public archive a run used, with its URL, range, size, SHA-256
 * and rows. The fetch stage reports each verified file
 * (mde_archive_file_fn); the buffer keeps copies until the pipeline hands
 * them to the store after the series.
 */
#ifndef MDE_ARCHIVE_FILES_H
#define MDE_ARCHIVE_FILES_H

#include "audit.h"
#include "store.h"

typedef struct mde_archive_buf {
	struct mde_archive_row {
		char *url, *kind, *symbol, *interval, *sha256;
		int64_t from_ms, to_ms;
		int64_t size, rows;
	} *rows;
	size_t n, cap;
} mde_archive_buf;

/* An mde_archive_file_fn: appends a copy of rec to the buffer ud. */
void mde_archive_buf_add(void *ud, const mde_archive_rec *rec);
void mde_archive_buf_free(mde_archive_buf *b);

/*
 * Upserts the buffered files (and empties the buffer). A file already
 * recorded with another sha256 is a re-publication: counted in
 * *republished, its old hash kept in previous_sha256.
 */
int mde_store_archive_files(mde_store *s, int64_t run_id, mde_archive_buf *b,
			    size_t *republished, mde_err *err) MDE_MUSTCHECK;

#endif
