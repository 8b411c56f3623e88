/*
 * candles.h - the data that flows between the stages.
 *
 *   clients / CSV  --mde_candles-->  validate  --mde_series-->  features
 *                                         \--> rejects            |
 *                                                           mde_frame
 *   store writes (mde_series + mde_candles text + mde_frame) rows.
 *
 * mde_candles: raw candles in arrival order, exactly as received. Every
 *   decimal keeps its source text (Binance sends strings: every digit is
 *   stored as sent) next to its parsed double. A field that was absent or
 *   empty is NULL: txt == MDE_NULL_TXT and val == NaN. A field whose text
 *   is "NaN" or "-1" is *not* NULL; validation rejects it.
 * mde_series: the valid candles of one series placed on its grid (crypto:
 *   one slot per period, gaps are slots with valid == 0 and NaN values;
 *   equity: one slot per trading bar, no gaps). All columns live in one
 *   64-byte aligned allocation; nothing is ever filled in.
 * mde_aux: an auxiliary time series (funding, open interest, ...), sorted
 *   by time, one value per time.
 * mde_frame: the 22 feature columns plus the row quality columns, aligned
 *   with an mde_series (out[i] belongs to slot i).
 */
#ifndef MDE_CANDLES_H
#define MDE_CANDLES_H

#include "mde.h"

enum mde_field {
	MDE_OPEN,
	MDE_HIGH,
	MDE_LOW,
	MDE_CLOSE,
	MDE_VOLUME,
	MDE_QUOTE_VOLUME,
	MDE_TAKER_BUY_BASE,
	MDE_TAKER_BUY_QUOTE,
	MDE_NFIELDS
};
/* Column names, in enum order ("open" ... "taker_buy_quote"). */
extern const char *const mde_field_names[MDE_NFIELDS];

enum mde_asset { MDE_CRYPTO = 0, MDE_EQUITY = 1 };
const char *mde_asset_name(enum mde_asset asset);
int mde_asset_parse(const char *s, int *asset) MDE_MUSTCHECK;

/* Where a candle came from; stored in market_data_v2.source. */
enum mde_origin {
	MDE_SRC_BINANCE = 0,
	MDE_SRC_BINANCE_SPOT,
	MDE_SRC_YAHOO,
	MDE_SRC_POLYGON,
	MDE_SRC_REPLAY,
	MDE_SRC_CSV,
	MDE_NSRC
};
const char *mde_origin_name(enum mde_origin origin);
/* enum mde_origin of a source name ("binance" ... "replay", and
 * "replay:DIR"), or -1. */
int mde_origin_parse(const char *name);
/*
 * The rank of a source for the same candle: 1 for a fallback (Binance
 * spot, Yahoo), 2 for a primary. A fallback never replaces a primary
 * candle (the store's SQL function mde_source_rank says the same).
 */
int mde_origin_rank(enum mde_origin origin);

#define MDE_NULL_TXT UINT32_MAX
#define MDE_NULL_TRADES INT64_C(-1)

typedef struct mde_candles {
	size_t n, cap;
	int64_t *open_time_ms;
	double *val[MDE_NFIELDS];   /* parsed value, NaN when NULL */
	uint32_t *txt[MDE_NFIELDS]; /* offset into text, or MDE_NULL_TXT */
	int64_t *trades;            /* MDE_NULL_TRADES when absent */
	uint8_t *origin;            /* enum mde_origin */
	uint8_t *malformed;         /* 1: a field did not arrive as a number
				       (its text is the raw value, its value
				       NaN): validation rejects the row */
	char *text;                 /* NUL-terminated strings, back to back */
	size_t text_len, text_cap;
} mde_candles;

/* One candle to append: decimal fields as text (NULL or "" = NULL field). */
typedef struct mde_candle_in {
	int64_t open_time_ms;
	const char *txt[MDE_NFIELDS];
	size_t len[MDE_NFIELDS]; /* 0 = strlen */
	int64_t trades;          /* MDE_NULL_TRADES when absent */
	int origin;
	bool lenient;            /* a text that is no complete number is kept
				    raw (value NaN) and the row marked
				    malformed, instead of an error */
	bool malformed;          /* the parser saw a wrong type or shape */
	bool no_text;            /* keep the values, not the texts: a field
				    given reads as "" (a caller that keeps
				    its source lines itself, like compute) */
} mde_candle_in;

/* Zeroed struct is an empty, valid table. */
void mde_candles_init(mde_candles *c);
/* Whether a and b hold the same rows: times, values (NaN equal to NaN),
 * texts, trades, origins and malformed marks. */
bool mde_candles_equal(const mde_candles *a, const mde_candles *b);
void mde_candles_free(mde_candles *c);
void mde_candles_clear(mde_candles *c);
int mde_candles_reserve(mde_candles *c, size_t n) MDE_MUSTCHECK;
/* Room for bytes of text in all (a parser that knows its input's size). */
int mde_candles_reserve_text(mde_candles *c, size_t bytes) MDE_MUSTCHECK;
/*
 * Appends one candle, parsing each decimal text with strtod. MDE_EPARSE
 * (and nothing appended) when a text is not a complete number ("12abc"),
 * unless in->lenient; "nan"/"inf" parse and are left for validation to
 * reject.
 */
int mde_candles_push(mde_candles *c, const mde_candle_in *in,
		     mde_err *err) MDE_MUSTCHECK;
/*
 * Appends a candle whose values came as JSON numbers (Yahoo, Polygon):
 * each finite value is stored with the shortest text that round-trips;
 * NaN in vals[f] means NULL.
 */
int mde_candles_push_num(mde_candles *c, int64_t open_time_ms,
			 const double vals[MDE_NFIELDS], int64_t trades,
			 enum mde_origin origin) MDE_MUSTCHECK;
/* The text of field f of row i, or NULL when the field is NULL. */
static inline const char *mde_candles_text(const mde_candles *c, size_t i,
					   int f)
{
	uint32_t o = c->txt[f][i];
	return o == MDE_NULL_TXT ? NULL : c->text + o;
}
/* Drops the rows appended after a mark (n, text_len) taken earlier: a
 * parser's page that failed leaves the table as it was. */
static inline void mde_candles_truncate(mde_candles *c, size_t n,
					size_t text_len)
{
	c->n = n;
	c->text_len = text_len;
}
/* Appends every row of src to dst (values, text, origin; no reparse). */
int mde_candles_append(mde_candles *dst, const mde_candles *src) MDE_MUSTCHECK;
/* The same for src's rows [from, to) (rows pushed in order, as every
 * parser does: their text is one stretch of src's). */
int mde_candles_append_rows(mde_candles *dst, const mde_candles *src,
			    size_t from, size_t to) MDE_MUSTCHECK;
/* Frees what the table holds beyond its rows: the text of dropped rows
 * and every array's room past n (a table kept for later). */
void mde_candles_compact(mde_candles *c);
/* Drops the first k rows (their text stays in the arena, unused). */
void mde_candles_drop_head(mde_candles *c, size_t k);
/* Appends row i of src to dst (all fields, text and origin). */
int mde_candles_copy_row(mde_candles *dst, const mde_candles *src,
			 size_t i) MDE_MUSTCHECK;
/*
 * Asks for transparent huge pages on a large block before its first touch:
 * one page fault per 2 MiB instead of per 4 KiB (a third of a cold run's
 * time on 1M candles). Advice only: failure changes nothing.
 */
void mde_advise_huge(void *p, size_t len);
/*
 * Parses s[0..len) whole as a decimal number (strtod, correctly rounded):
 * MDE_EPARSE for "", "12abc", leading blanks, hexadecimal or over 63
 * characters. "nan" and "inf" parse: validation rejects them as data.
 */
int mde_parse_decimal(const char *s, size_t len, double *out) MDE_MUSTCHECK;
/* Shortest "%.*g" text of a finite double that parses back to it. */
int mde_fmt_double(char *buf, size_t len, double v);

typedef struct mde_series {
	int64_t period_ms;
	enum mde_asset asset;
	size_t n, cap;       /* slots in use, slots allocated */
	int64_t *t;          /* open_time of the slot */
	uint8_t *valid;      /* 1 = a valid candle, 0 = gap */
	double *val[MDE_NFIELDS]; /* NaN for gaps and NULL fields */
	int64_t *trades;
	uint32_t *row;       /* row of the candle in the mde_candles it came
				from, UINT32_MAX for a gap */
	void *mem;           /* the block row and valid point into, and t,
				val and trades unless borrowed */
} mde_series;
/*
 * Borrowed columns: when the slots are consecutive rows of the candles,
 * placed without a gap (the common case), t, val and trades point into
 * those candles' own columns instead of a copy of them (mde_grid_place),
 * so the mde_candles a series was placed from must stay alive and
 * unchanged while the series is read. row and valid are always the
 * series' own.
 */

void mde_series_free(mde_series *s);
/* Makes room for n slots (contents after reallocation are preserved). */
int mde_series_reserve(mde_series *s, size_t n) MDE_MUSTCHECK;
/* Points every column back into the series' own block (mem, cap slots). */
void mde_series_own(mde_series *s);

typedef struct mde_aux {
	size_t n, cap;
	int64_t *t;          /* when the value was observed / became known */
	double *v;
} mde_aux;

void mde_aux_free(mde_aux *a);
int mde_aux_push(mde_aux *a, int64_t t, double v) MDE_MUSTCHECK;
/* Sorts by t, stably: observations of equal t keep their order (every
 * liquidation event counts). MDE_ENOMEM leaves a unchanged. */
int mde_aux_sort(mde_aux *a) MDE_MUSTCHECK;
/* Sorts by t and keeps, for equal t, the value pushed last. */
int mde_aux_normalize(mde_aux *a) MDE_MUSTCHECK;

enum mde_aux_kind {
	MDE_AUX_FUNDING,      /* fundingRate at fundingTime */
	MDE_AUX_OPEN_INTEREST,/* sumOpenInterest at timestamp */
	MDE_AUX_LONG_SHORT,   /* longShortRatio at timestamp */
	MDE_AUX_LIQUIDATIONS, /* events: qty at time (repeats allowed) */
	MDE_AUX_INFLOW,       /* exchange inflow at the time it was known */
	MDE_NAUX
};

/* Every auxiliary input of the feature engine for one series. */
typedef struct mde_auxset {
	mde_aux s[MDE_NAUX];
	bool configured[MDE_NAUX]; /* false: the feature is NULL throughout */
} mde_auxset;

void mde_auxset_free(mde_auxset *a);

enum mde_column {
#define MDE_COLUMN(e, name, type) MDE_COL_##e,
#include "columns.def"
#undef MDE_COLUMN
	MDE_NFEATURES
};
extern const char *const mde_column_names[MDE_NFEATURES];
extern const char *const mde_column_types[MDE_NFEATURES];
/* An int2 column (trend_direction, market_structure), else float8. */
static inline bool mde_column_int2(int k)
{
	return mde_column_types[k][0] == 'i';
}

#define MDE_FEATURE_VERSION 1
enum mde_vflag {
	MDE_VF_EXTREME = 1, /* abs(log_return) > 0.5 */
	MDE_VF_ZERO_VOLUME = 2,
	MDE_VF_AMENDED = 4, /* revision > 1 (set by the store) */
	MDE_VF_FALLBACK = 8 /* from a fallback source (set by the store) */
};

typedef struct mde_frame {
	size_t n, cap;
	double *col[MDE_NFEATURES]; /* NaN = NULL */
	int32_t *flags;             /* enum mde_vflag bits */
	double *quality;
	void *mem;
	/* the engine's working memory (run lengths, kernel scratch), kept
	   with the frame so that a frame reused for the next batch does not
	   take its page faults again */
	void *work;
	size_t work_cap;
} mde_frame;

void mde_frame_free(mde_frame *f);
int mde_frame_reserve(mde_frame *f, size_t n) MDE_MUSTCHECK;

#endif
