/*
 * audit.h - what the stages report for the audit tables: the reasons a
 * candle is rejected (rejected_candles.reasons) and one fetch record per
 * request (enrichment_fetch_log). The validate and fetch stages produce
 * them, the store writes them; neither sees the other.
 */
#ifndef MDE_AUDIT_H
#define MDE_AUDIT_H

#include "mde.h"

/* Reasons a candle is rejected: bits of mde_reject.reasons. */
enum mde_reject_reason {
	MDE_RJ_MISSING = 1u << 0,       /* "missing_field": open, high, low,
					   close or volume is empty */
	MDE_RJ_NOT_FINITE = 1u << 1,    /* "not_finite": NaN or infinite */
	MDE_RJ_NONPOSITIVE = 1u << 2,   /* "nonpositive_price": o/h/l/c <= 0 */
	MDE_RJ_NEGATIVE_VOLUME = 1u << 3, /* "negative_volume": volume, quote
					   or taker volume < 0 */
	MDE_RJ_HIGH_LOW = 1u << 4,      /* "high_low": low > min(open, close)
					   or max(open, close) > high */
	MDE_RJ_MISALIGNED = 1u << 5,    /* "misaligned": crypto open_time not
					   a multiple of the period */
	MDE_RJ_NOT_CLOSED = 1u << 6,    /* "not_closed": open_time + P > now */
	MDE_RJ_TAKER_GT_VOLUME = 1u << 7, /* "taker_gt_volume" */
	MDE_RJ_TAKER_QUOTE_GT_QUOTE = 1u << 8, /* "taker_quote_gt_quote" */
	MDE_RJ_MALFORMED = 1u << 9,     /* "malformed": a field did not arrive
					   as the source's number (text in a
					   price, a wrong JSON type, trailing
					   text, an embedded NUL), or the row
					   has the wrong shape */
	MDE_RJ_NREASONS = 10
};

/* Name of one reason bit (e.g. "high_low"), "?" for anything else. */
const char *mde_reject_reason_name(uint32_t bit);
/* Writes the names of every bit of mask, comma separated, into buf
   (truncated to len); returns buf. */
char *mde_reject_reasons_str(uint32_t mask, char *buf, size_t len);

typedef struct mde_reject {
	uint32_t row;     /* index into the mde_candles validated */
	uint32_t reasons; /* enum mde_reject_reason bits, never 0 */
} mde_reject;


/* One request, as enrichment_fetch_log wants it. Pointers are valid only
 * during the callback. */
typedef struct mde_fetch_rec {
	const char *source;    /* "binance", "binance-spot", "yahoo", ... */
	const char *endpoint;  /* URL path ("/fapi/v1/klines") or replay file */
	const char *symbol;    /* as sent to the source */
	const char *params;    /* query string, secrets removed */
	int http_status;       /* 0 when no HTTP status was received */
	size_t rows;           /* rows in the response body */
	size_t bytes;          /* body bytes */
	int64_t latency_ms;
	int attempt;           /* 1 for the first try of a request */
	const char *error;     /* NULL on success */
	int64_t requested_at_ms; /* wall clock */
} mde_fetch_rec;

typedef void (*mde_fetch_log_fn)(void *ud, const mde_fetch_rec *rec);

/* One verified file of Binance's public archive that was used, as
 * archive_files wants it. Pointers are valid only during the callback. */
typedef struct mde_archive_rec {
	const char *url;       /* full URL of the .zip */
	const char *kind;      /* "klines", "fundingRate", "metrics" */
	const char *symbol;
	const char *interval;  /* "1h" for klines, "" otherwise */
	int64_t range_start_ms, range_end_ms; /* the month or day it covers */
	size_t size;           /* zip bytes */
	const char *sha256;    /* hex, as verified against .CHECKSUM */
	size_t rows;           /* data rows in its CSV */
} mde_archive_rec;

typedef void (*mde_archive_file_fn)(void *ud, const mde_archive_rec *rec);

#endif
