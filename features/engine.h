/*
 * engine.h - the feature engine: FEATURES.md's 22 columns and the row
 * quality columns, computed over one mde_series. (Not "features.h": with
 * features/ on the include path that name would shadow glibc's own.)
 *
 * Shape (STYLE.md "A feature kernel"): every kernel is a pure function over
 * the aligned columns of a series. out[i] belongs to slot i; rows before a
 * kernel's first defined value, gap slots and windows that touch a gap are
 * NaN (= NULL). Kernels allocate nothing, log nothing and keep no state;
 * the engine owns every buffer. features.def is the registry: one line per
 * kernel (or tight family of columns), run in its order, so a kernel may read
 * the columns written by the lines above it (volatility reads log_return,
 * trend reads the SMAs).
 *
 * Determinism: window features (means, standard deviations, max/min) are
 * computed from the window's own values in a fixed order, so the value of a
 * row never depends on where a chunk started: a chunked run gives the
 * whole-series value bit for bit. Only the Wilder recursions (ATR, RSI) carry
 * state across rows; their warm-up makes the seed's influence < 1e-30.
 */
#ifndef MDE_ENGINE_H
#define MDE_ENGINE_H

#include "candles.h"

/*
 * Extra bars a Wilder recursion (ATR, RSI) runs past its seed before its
 * values are trusted in a chunk: (13/14)^1000 ~ 6e-33, so a seed that is
 * wrong by a factor of 1e15 still moves the value by < 1e-17 relative.
 */
#define MDE_WILDER_WARMUP 1000

/* Scratch the engine gives each kernel: bytes per series slot. */
#define MDE_KERNEL_SCRATCH_PER_ROW sizeof(double)

/* Everything a kernel reads. All arrays have n elements and are aligned. */
typedef struct mde_kin {
	size_t n;
	int64_t period_ms;
	int asset;                /* enum mde_asset */
	const int64_t *t;         /* open_time of each slot */
	const uint8_t *valid;     /* 0 = gap */
	const uint32_t *run;      /* valid slots in a row ending at i, 0 = gap:
				     "the N bars ending at t" exist iff
				     run[i] >= N */
	const double *o, *h, *l, *c, *v, *tbb; /* NaN for gaps and NULLs */
	const mde_auxset *aux;    /* never NULL inside the engine */
	void *scratch;            /* n * MDE_KERNEL_SCRATCH_PER_ROW bytes,
				     64-byte aligned, contents undefined */
} mde_kin;

/*
 * Joins aux series kind to the candles as of each candle's end, with its
 * staleness limit (out[i] NaN when there is none; idx[i] the observation,
 * -1 then; idx may be NULL). False, and NaN throughout, for an equity or
 * when the series is not configured: the crypto-only features are NULL.
 */
bool mde_kin_asof(const mde_kin *in, int kind, double *out, int32_t *idx);

/* Writes every row of the kernel's columns (col[] = the frame's columns). */
typedef void (*mde_kernel_fn)(const mde_kin *in, double *const col[]);
/* Bars of history the kernel needs before a row (TA-Lib's lookback); for
   a recursive kernel the warm-up adds its unstable period. */
typedef size_t (*mde_kernel_len)(int64_t period_ms, int asset);

typedef struct mde_kernel {
	const char *name;
	mde_kernel_fn fn;
	mde_kernel_len start;  /* first defined row of a gap-free series */
	mde_kernel_len warmup; /* bars to load before t0 for chunked == whole */
} mde_kernel;

#define MDE_KERNEL(name)                                                  \
	void mde_k_##name(const mde_kin *in, double *const col[]);        \
	size_t mde_k_##name##_start(int64_t period_ms, int asset);        \
	size_t mde_k_##name##_warmup(int64_t period_ms, int asset);
#include "features.def"
#undef MDE_KERNEL

/* The registry, in features.def order. */
extern const mde_kernel mde_kernels[];
extern const size_t mde_nkernels;

/*
 * Computes the 22 feature columns, validation_flags (bits 1 and 2) and
 * quality_score for every slot of s into out (reserved here; out->n = s->n;
 * gap slots get NaN features, flags 0 and quality NaN). aux may be NULL (no
 * auxiliary series). Each mde_aux must be sorted by t (mde_aux_normalize);
 * the liquidation events sorted by t with repeats allowed (do not
 * normalize them: every event counts). Returns 0, MDE_ENOMEM, or MDE_EINVAL
 * (an aux series not sorted). out stays owned by the caller
 * (mde_frame_free), also on error.
 */
int mde_features_compute(mde_frame *out, const mde_series *s,
			 const mde_auxset *aux, mde_err *err) MDE_MUSTCHECK;

/* The same, adding each kernel's time (ns) to kernel_ns[k] (registry
   order, mde_nkernels entries) when kernel_ns is not NULL. */
int mde_features_compute_timed(mde_frame *out, const mde_series *s,
			       const mde_auxset *aux, int64_t *kernel_ns,
			       mde_err *err) MDE_MUSTCHECK;

/*
 * Bars (crypto: grid slots, i.e. warmup * period_ms of time; equity: stored
 * trading bars) of history to load before t0 so that computing
 * [t0 - warmup, end] gives, for the rows >= t0, the whole-series values
 * (window features bit for bit, ATR/RSI within 1e-15 relative).
 * E.g. 1440 for crypto 1m (return_1d), 1014 for 1h (ATR/RSI: 14 + 1000).
 */
size_t mde_features_warmup(int64_t period_ms, int asset);

/*
 * How far back an auxiliary series must be loaded for rows >= t0_ms:
 * every observation with t >= *since_ms, plus the *events_before
 * observations just before since_ms (funding: 89, so that the percentile of
 * the first event in range has its 90-event window; 0 for the others).
 * Funding: since = t0 - 24 h (staleness). Open interest: t0 - P - max(2P,
 * 2 h) (open_interest_change reads the previous bar). Long/short: t0 -
 * max(2P, 2 h). Liquidations: t0. Inflow: t0 - 2 days.
 */
void mde_features_aux_need(int kind, int64_t t0_ms, int64_t period_ms,
			   int64_t *since_ms, size_t *events_before);

/* Staleness limit of an as-of aux series (ms), 0 for liquidations. */
int64_t mde_features_staleness(int kind, int64_t period_ms);

/*
 * The naive twin of mde_features_compute (features/ref.c): every column
 * straight from FEATURES.md's wording, one row at a time, O(n * window),
 * with no shared helpers. For tests and the benchmark only.
 */
int mde_features_ref(mde_frame *out, const mde_series *s,
		     const mde_auxset *aux, mde_err *err) MDE_MUSTCHECK;

#endif
