/*
 * archive.h - internal to the fetch stage: Binance's public data archive
 * (data.binance.vision, shared spec SOURCES.md §8, docs/SOURCES.md).
 *   archive.c      which files cover a range, their download (several at
 *                  once), SHA-256 check against the .CHECKSUM file, the
 *                  zip read from memory, the optional cache folder, and
 *                  the split of a range between archive and REST
 *   archive_csv.c  the funding and metrics CSVs (klines: core klinecsv.h)
 */
#ifndef MDE_ARCHIVE_H
#define MDE_ARCHIVE_H

#include "fetch.h"
#include "klinecsv.h"

/* What an archive file holds. */
enum mde_ar_kind { MDE_AR_KLINES, MDE_AR_FUNDING, MDE_AR_METRICS };

/* ---- archive_csv.c -------------------------------------------------- */

/* Funding CSV (calc_time,funding_interval_hours,last_funding_rate; a
 * header or none): the rows of [start, end), appended unsorted. */
int mde_ar_parse_funding(const char *buf, size_t len, int64_t start_ms,
			 int64_t end_ms, mde_aux *out, size_t *rows,
			 mde_err *err) MDE_MUSTCHECK;
/*
 * Metrics CSV (create_time,symbol,sum_open_interest,...): the rows of
 * [start, end) whose time is a multiple of period_ms, for aux kind
 * (MDE_AUX_OPEN_INTEREST = sum_open_interest, MDE_AUX_LONG_SHORT =
 * count_long_short_ratio, MDE_AUX_TAKER = sum_taker_long_short_vol_ratio);
 * an empty field is no observation. Appended unsorted.
 */
int mde_ar_parse_metrics(const char *buf, size_t len, int kind,
			 int64_t period_ms, int64_t start_ms, int64_t end_ms,
			 mde_aux *out, size_t *rows,
			 mde_err *err) MDE_MUSTCHECK;

/* ---- archive.c ------------------------------------------------------ */

/* The archive state of a fetcher (created on first use). */
void mde_archive_free(struct mde_archive *a);
/* Frees the zips a fetcher family kept (mde_fetch_shared.arc). */
void mde_ar_cache_free(struct mde_ar_cache *c);

/*
 * Candles of [*cursor, end) for origin (futures or spot): whole UTC days
 * before today from the archive (monthly files for past months, daily
 * files in the current month), the rest, and every file the archive
 * cannot give (404, bad after one retry), from REST — in mode "only"
 * a missing file is an error and nothing is asked of REST. *cursor ends
 * where the delivered rows end (on error: where the caller may go on
 * with another source).
 */
int mde_archive_candles(mde_fetcher *f, int origin, const char *sym,
			int64_t P, int64_t *cursor, int64_t end,
			mde_candles *out, mde_err *err) MDE_MUSTCHECK;
/*
 * Aux series kind of [start, end) from the archive where it has files
 * (funding: monthly; open interest, long/short, taker: daily metrics),
 * REST (mde_fetch_aux_rest) for the rest. *hole_end as mde_fetch_aux.
 */
int mde_archive_aux(mde_fetcher *f, int kind, const char *sym, int64_t P,
		    int64_t start, int64_t end, mde_aux *out,
		    int64_t *hole_end, mde_err *err) MDE_MUSTCHECK;

/*
 * A local archive file (.zip, or its .csv) for import: the kline rows of
 * a zip's single CSV, or of a CSV file, through the same reader.
 */
int mde_archive_read_local(const char *path, int origin, mde_candles *out,
			   mde_kline_csv_info *info, size_t *bytes,
			   mde_err *err) MDE_MUSTCHECK;

#endif
