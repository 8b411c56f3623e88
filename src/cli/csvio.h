/*
 * csvio.h - the CSV files of the compute command (docs/CLI.md): reading candles
 * and auxiliary series, and a buffered writer for the enriched output.
 *
 * Reading works on a whole file in memory: rows keep pointers (offsets)
 * into that buffer, so the compute command can echo every input row
 * verbatim. Lines end in LF or CRLF; a UTF-8 BOM is skipped; blank lines
 * are skipped; a field may be quoted ("..."; "" inside is a quote).
 */
#ifndef MDE_CSVIO_H
#define MDE_CSVIO_H

#include <stdio.h>

#include "candles.h"

/* Candles read from a CSV buffer. Owns c and the arrays, not the buffer. */
typedef struct mde_csv_candles {
	mde_candles c;        /* row i = i-th data row of the file; a
				 header-named file's fields keep no text
				 (they read as ""): the line is the text */
	size_t *off;          /* row i's text: buf + off[i], len[i] bytes */
	uint32_t *len;        /* (without the line end) */
	uint32_t *line;       /* row i's 1-based line number in the file */
	size_t header_off;    /* the header line's text */
	uint32_t header_len;
	const char *header_txt; /* when not NULL, the header (a headerless
				   Binance file gets the archive's) */
	int64_t period_ms;    /* a Binance kline file's own timeframe
				 (close_time - open_time + 1), else 0 */
} mde_csv_candles;

/*
 * Parses candles from buf: header open_time,open,high,low,close,volume
 * (required) and quote_volume,trades,taker_buy_base,taker_buy_quote
 * (optional), in any order. open_time is ms since the epoch or ISO 8601;
 * an empty field is NULL (a NULL price or volume is for validation to
 * reject). MDE_EPARSE with "line N: ..." in err for an unknown or
 * repeated header column, a missing required column, a row with the wrong
 * number of fields, an unparsable time or number; MDE_ENOMEM.
 * A Binance kline CSV as the public archive ships it (12 columns, header
 * or none, times in ms or µs; klinecsv.h) is read too, with period_ms set
 * from its close times. out is
 * zeroed first; free it with mde_csv_candles_free (also after an error).
 */
int mde_csv_read_candles(mde_csv_candles *out, const char *buf, size_t len,
			 mde_err *err) MDE_MUSTCHECK;
void mde_csv_candles_free(mde_csv_candles *cc);

/*
 * Appends to out the (time, value) rows of an auxiliary file whose header
 * has the columns tcol and vcol (others are ignored). Times as open_time;
 * values must be numbers. MDE_EPARSE ("line N: ...") or MDE_ENOMEM. The
 * rows are appended in file order, not sorted.
 */
int mde_csv_read_aux(mde_aux *out, const char *buf, size_t len,
		     const char *tcol, const char *vcol,
		     mde_err *err) MDE_MUSTCHECK;

/* A buffered writer: formats into a 1 MiB buffer, writes it when full. */
typedef struct mde_csv_writer {
	FILE *f;
	char *buf;
	size_t n, cap;
	bool failed;          /* a write failed (see errno) */
} mde_csv_writer;

int mde_csv_writer_init(mde_csv_writer *w, FILE *f) MDE_MUSTCHECK;
/* Flushes and frees the buffer (not the FILE). Returns 0 or MDE_EIO. */
int mde_csv_writer_close(mde_csv_writer *w) MDE_MUSTCHECK;
void mde_csv_put(mde_csv_writer *w, const char *s, size_t len);
static inline void mde_csv_putc(mde_csv_writer *w, char ch)
{
	if (w->n == w->cap)
		mde_csv_put(w, &ch, 1);
	else
		w->buf[w->n++] = ch;
}
/*
 * Room for need bytes at the buffer's end, written before or grown into:
 * the caller formats into it in place and hands the end of what it wrote
 * to mde_csv_commit. NULL when the buffer cannot grow (out of memory).
 */
char *mde_csv_room(mde_csv_writer *w, size_t need) MDE_MUSTCHECK;
static inline void mde_csv_commit(mde_csv_writer *w, const char *end)
{
	w->n = (size_t)(end - w->buf);
}

#endif
