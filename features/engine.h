/*
 * engine.h - the feature engine: FEATURES.md's 22 columns and the row
 * quality columns, computed over one mde_series. (Not "features.h": with
 * features/ on the include path that name would shadow glibc's own.)
 *
 * Shape (docs/FEATURES.md "The kernel registry"): every kernel is a pure function over
 * the aligned columns of a series. out[i] belongs to slot i; rows before a
 * kernel's first defined value, gap slots and windows that touch a gap are
 * NaN (= NULL). Kernels allocate nothing, log nothing and keep no state;
 * the engine owns every buffer. features.def is the registry, declared as
 * data: one row per kernel (or tight family of columns) naming the kernel
 * and the columns it writes, run in its order, so a kernel may read the
 * columns written by the rows above it (volatility reads log_return, trend
 * reads the SMAs). The column mapping, the build-time check that every
 * column has exactly one writer, the debug check of each kernel's writes
 * and the link to each kernel's reference twin all come from that table.
 *
 * Start and warm-up are derived from each kernel file's named window
 * constants (a window of N bars: start N - 1; Wilder: its period, plus
 * MDE_WILDER_WARMUP for the warm-up), never written as bare numbers.
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

/* Events in the window of funding_rate_percentile (funding.c). */
#define MDE_FUNDING_WINDOW 90

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
	const double *const *col; /* the frame's columns (enum mde_column),
				     read-only; only those of the kernels
				     above in features.def hold values */
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

/* Most columns one features.def row may claim. */
#define MDE_KERNEL_MAX_OUT 4

/*
 * MDE_EACH(f, k, a, b, ...) expands to f(k, 0, a) f(k, 1, b) ...: one step
 * per column of a features.def row (up to MDE_KERNEL_MAX_OUT; a row of 5
 * to 8 fails to build: "'MDE_COL_row_has_more_columns_than_
 * MDE_KERNEL_MAX_OUT' undeclared").
 */
#define MDE_NARGS_(_1, _2, _3, _4, _5, _6, _7, _8, n, ...) n
#define MDE_NARGS(...)                                                    \
	MDE_NARGS_(__VA_ARGS__, too_many_columns, too_many_columns,        \
		   too_many_columns, too_many_columns, 4, 3, 2, 1, 0)
#define MDE_CAT_(a, b) a##b
#define MDE_CAT(a, b) MDE_CAT_(a, b)
#define MDE_EACH(f, k, ...)                                               \
	MDE_CAT(MDE_EACH_, MDE_NARGS(__VA_ARGS__))(f, k, __VA_ARGS__)
#define MDE_EACH_1(f, k, a) f(k, 0, a)
#define MDE_EACH_2(f, k, a, b) f(k, 0, a) f(k, 1, b)
#define MDE_EACH_3(f, k, a, b, c) f(k, 0, a) f(k, 1, b) f(k, 2, c)
#define MDE_EACH_4(f, k, a, b, c, d)                                      \
	f(k, 0, a) f(k, 1, b) f(k, 2, c) f(k, 3, d)
#define MDE_EACH_too_many_columns(f, k, ...)                              \
	f(k, 0, row_has_more_columns_than_MDE_KERNEL_MAX_OUT)

/*
 * Writes every row of the kernel's columns and nothing else: out[j] is the
 * j-th column of its features.def row, named out[MDE_OUT(name, COLUMN)]
 * (a column the row does not claim does not compile).
 */
typedef void (*mde_kernel_fn)(const mde_kin *in, double *const out[]);
/* Bars of history the kernel needs before a row (TA-Lib's lookback); for
   a recursive kernel the warm-up adds its unstable period. */
typedef size_t (*mde_kernel_len)(int64_t period_ms, int asset);
/* The kernel's naive twin (features/ref.c): the same columns, same out[],
   from the series alone, every row (gap slots NaN). */
typedef void (*mde_kernel_ref)(const mde_series *s, const mde_auxset *aux,
			       double *const out[]);

typedef struct mde_kernel {
	const char *name;
	mde_kernel_fn fn;
	mde_kernel_len start;  /* first defined row of a gap-free series */
	mde_kernel_len warmup; /* bars to load before t0 for chunked == whole */
	mde_kernel_ref ref;    /* mde_ref_<name> */
	size_t nout;           /* columns claimed, 1..MDE_KERNEL_MAX_OUT */
	int out[MDE_KERNEL_MAX_OUT]; /* enum mde_column, features.def order */
} mde_kernel;

/* out[] index of column COLUMN (columns.def suffix) in kernel name, and
   the number of columns of kernel name. */
#define MDE_OUT(name, col) mde_out_##name##_##col
#define MDE_NOUT(name) mde_nout_##name
#define MDE_OUT_ENUM_(nm, j, col) MDE_OUT(nm, col) = j,

#define MDE_KERNEL(name, ...)                                             \
	enum {                                                            \
		MDE_EACH(MDE_OUT_ENUM_, name, __VA_ARGS__)                \
		MDE_NOUT(name)                                            \
	};                                                                \
	void mde_k_##name(const mde_kin *in, double *const out[]);        \
	size_t mde_k_##name##_start(int64_t period_ms, int asset);        \
	size_t mde_k_##name##_warmup(int64_t period_ms, int asset);       \
	void mde_ref_##name(const mde_series *s, const mde_auxset *aux,   \
			    double *const out[]);
#include "features.def"
#undef MDE_KERNEL

/* The registry, in features.def order. */
extern const mde_kernel mde_kernels[];
extern const size_t mde_nkernels;

/*
 * The debug check of the kernels' writes (features/check.c). In Debug and
 * sanitizer builds (MDE_CHECK_KERNELS, set by CMakeLists.txt) the
 * engine first fills every feature column with MDE_UNSET, a signalling NaN
 * that no kernel produces (NAN and every arithmetic NaN are quiet). Before
 * a kernel runs its columns must still be all MDE_UNSET (else a kernel
 * above wrote a column it does not claim); after it, none of them may be
 * (a row it did not write); after the last kernel every column must be as
 * its own kernel left it (else a kernel below overwrote it). When one of
 * these fails the engine replays the registry from a fresh fill with
 * mde_check_kernel after every kernel, which names the kernel and the
 * column, prints it and aborts. Elsewhere none of it is compiled.
 */
#define MDE_UNSET_BITS UINT64_C(0x7ff4d00dfeed0001)

/* Fills col[0..n) with MDE_UNSET. */
void mde_check_fill(double *col, size_t n);
/* The first row of col[0..n) that is MDE_UNSET (unset true) or is not
   (unset false), or n when there is none. */
size_t mde_check_find(const double *col, size_t n, bool unset);
/* A hash of the bits of col[0..n). */
uint64_t mde_check_hash(const double *col, size_t n);
/*
 * Checks col[] (the frame's columns, n rows) right after kernel k of
 * reg[0..nreg) ran on a frame filled with MDE_UNSET: the columns of the
 * kernels before k still hash to hash[column] (their value right after
 * their kernel), those of k have no MDE_UNSET row (their hashes are then
 * stored into hash[]), and those of the kernels after k are all MDE_UNSET.
 * Returns 0, or -1 with a message naming the kernel, the column and the
 * row in msg (cap bytes).
 */
int mde_check_kernel(const mde_kernel *reg, size_t nreg, size_t k,
		     double *const col[], size_t n,
		     uint64_t hash[MDE_NFEATURES], char *msg, size_t cap);

/*
 * mde_features_compute with registry reg[0..nreg) instead of mde_kernels
 * (tests: a faulty registry must be caught by the debug check).
 */
int mde_features_compute_reg(mde_frame *out, const mde_series *s,
			     const mde_auxset *aux, const mde_kernel *reg,
			     size_t nreg, int64_t *kernel_ns,
			     mde_err *err) MDE_MUSTCHECK;

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
 * The naive twin of mde_features_compute (features/ref.c): each kernel's
 * twin (the registry's ref) in registry order, every column straight from
 * docs/FEATURES.md's wording, one row at a time, O(n * window), with no
 * shared helpers. For tests and the benchmark only.
 */
int mde_features_ref(mde_frame *out, const mde_series *s,
		     const mde_auxset *aux, mde_err *err) MDE_MUSTCHECK;

#endif
