/*
 * klinecsv.h - THE reader of Binance's kline CSV, the layout of the public
 * data archive (data.binance.vision) and of files users keep from it: the
 * 12 REST kline fields per line (open_time, open, high, low, close,
 * volume, close_time, quote_volume, count, taker_buy_volume,
 * taker_buy_quote_volume, ignore), with every quirk of the archive:
 *   - a first line that is not numeric is a header (newer futures files
 *     have one, older futures and spot files do not);
 *   - times above 10^14 are microseconds (spot from 2025): divided by 1000;
 *   - LF or CRLF line ends, a UTF-8 BOM, blank lines;
 *   - an empty decimal field is NULL (validation decides about it);
 *   - rows may be unsorted and a time may repeat: the rows come out
 *     ascending, one per open time, the last one of the file kept.
 * Decimal text is kept exactly as in the file (the same strings REST
 * sends). Used by the archive source (clients/archive.c), `import` and
 * the compute command's reader (src/cli/csvio.c). No I/O.
 */
#ifndef MDE_KLINECSV_H
#define MDE_KLINECSV_H

#include "candles.h"

typedef struct mde_kline_csv_info {
	size_t rows;        /* data lines in the file */
	size_t kept;        /* rows appended (in the window, deduplicated) */
	size_t repeats;     /* lines whose open time came again later */
	bool header;        /* the first line was a header */
	bool micros;        /* times were in microseconds */
	int64_t period_ms;  /* close_time - open_time + 1 of the first row */
	int64_t first_ms, last_ms; /* smallest, largest open time; INT64_MIN */
} mde_kline_csv_info;

void mde_kline_csv_info_init(mde_kline_csv_info *info);

/*
 * Whether buf looks like a Binance kline CSV: its header names open_time
 * (or openTime) and close_time in the archive's order, or its first line
 * is 12 comma-separated fields starting with an integer.
 */
bool mde_kline_csv_sniff(const char *buf, size_t len);

/*
 * Appends the rows of buf with open time in [start_ms, end_ms) to out,
 * ascending, one per time (the file's last), with origin. Any bad line
 * (wrong field count, a time or count that is not an integer, a decimal
 * that is not a number) rejects the whole file: MDE_EPARSE "line N: ..."
 * and out is left exactly as it was. info may be NULL.
 */
int mde_kline_csv_parse(const char *buf, size_t len, int origin,
			int64_t start_ms, int64_t end_ms, mde_candles *out,
			mde_kline_csv_info *info, mde_err *err) MDE_MUSTCHECK;

/* ---- the line loop the archive's CSV readers share ------------------ */

struct mde_csv_line;
/*
 * Appends one data line of a kline CSV to out as it is (no sorting, no
 * window), updating info (rows, period of the first row, first/last,
 * micros). For readers that keep the file's order (compute's echo).
 */
int mde_kline_csv_line(const struct mde_csv_line *ln, int origin,
		       mde_candles *out, mde_kline_csv_info *info,
		       mde_err *err) MDE_MUSTCHECK;
/* The archive's kline header, for files that have none. */
extern const char mde_kline_csv_header[];

#define MDE_CSV_MAXF 16

typedef struct mde_csv_line {
	const char *f[MDE_CSV_MAXF]; /* field starts */
	size_t len[MDE_CSV_MAXF];
	int nf;                      /* fields (more than MAXF: MAXF + 1) */
	size_t lineno;               /* 1-based */
} mde_csv_line;

/* Splits the next non-blank line at *pos (advanced past it): false at
 * the end of buf. Skips a BOM, strips CR. No quoting (Binance uses none). */
bool mde_csv_next(const char *buf, size_t len, size_t *pos,
		  mde_csv_line *ln);
/* A field holding only digits (optionally '-'): its value. */
bool mde_csv_int(const char *s, size_t len, int64_t *out);
/* The first line is a header when its first field is not a number. */
bool mde_csv_is_header(const mde_csv_line *ln);
/* ms from an archive time: µs above 10^14 are divided by 1000. */
static inline int64_t mde_csv_ms(int64_t t, bool *micros)
{
	if (t > INT64_C(100000000000000) || t < -INT64_C(100000000000000)) {
		if (micros)
			*micros = true;
		return t / 1000;
	}
	return t;
}

#endif
