/*
 * engine.c - runs the kernel registry (features.def) over one series and
 * fills the row quality columns.
 *
 * The engine owns the only allocation of a computation besides the frame:
 * one 64-byte aligned block with the run lengths and the kernels' scratch.
 * Kernels run in registry order, one after the other, on the whole series
 * (column at a time keeps each loop simple and vectorizable), each given
 * exactly the columns its features.def row claims. In Debug and sanitizer
 * builds (MDE_CHECK_KERNELS) each kernel's writes are checked (engine.h, features/check.c).
 */
#include "engine.h"
#include "timeutil.h"
#include "window.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MDE_COLUMN_ID_(nm, j, col) MDE_COL_##col,
const mde_kernel mde_kernels[] = {
#define MDE_KERNEL(nm, ...)                                               \
	{#nm, mde_k_##nm, mde_k_##nm##_start, mde_k_##nm##_warmup,        \
	 mde_ref_##nm, MDE_NOUT(nm),                                      \
	 {MDE_EACH(MDE_COLUMN_ID_, nm, __VA_ARGS__)}},
#include "features.def"
#undef MDE_KERNEL
};
const size_t mde_nkernels = MDE_ARRAY_LEN(mde_kernels);

/*
 * Build-time check of features.def against columns.def: one enumerator
 * per claim, so a column claimed twice is a "redeclaration of enumerator
 * 'mde_claim_X'", a column claimed by no row makes "'mde_claim_X'
 * undeclared" below, and the count must come out at MDE_NFEATURES.
 */
enum mde_claim {
#define MDE_CLAIM_(nm, j, col) mde_claim_##col,
#define MDE_KERNEL(nm, ...) MDE_EACH(MDE_CLAIM_, nm, __VA_ARGS__)
#include "features.def"
#undef MDE_KERNEL
	mde_nclaims
};
#define MDE_COLUMN(e, name, type)                                         \
	_Static_assert(mde_claim_##e >= 0, "columns.def column " #e        \
		       " needs a kernel row in features.def");
#include "columns.def"
#undef MDE_COLUMN
_Static_assert((int)mde_nclaims == (int)MDE_NFEATURES,
	       "features.def must claim each column of columns.def once");

int64_t mde_features_staleness(int kind, int64_t period_ms)
{
	switch (kind) {
	case MDE_AUX_FUNDING:
		return 24 * MDE_HOUR_MS;
	case MDE_AUX_OPEN_INTEREST:
	case MDE_AUX_LONG_SHORT:
		return mde_max64(2 * period_ms, 2 * MDE_HOUR_MS);
	case MDE_AUX_INFLOW:
		return 2 * MDE_DAY_MS;
	}
	return 0;
}

void mde_features_aux_need(int kind, int64_t t0_ms, int64_t period_ms,
			   int64_t *since_ms, size_t *events_before)
{
	int64_t lim = mde_features_staleness(kind, period_ms);
	*events_before = kind == MDE_AUX_FUNDING ? MDE_FUNDING_WINDOW - 1 : 0;
	*since_ms = t0_ms - lim;
	if (kind == MDE_AUX_OPEN_INTEREST)
		*since_ms -= period_ms;
}

size_t mde_features_warmup(int64_t period_ms, int asset)
{
	size_t w = 0;
	for (size_t k = 0; k < mde_nkernels; k++) {
		size_t x = mde_kernels[k].warmup(period_ms, asset);
		if (x > w)
			w = x;
	}
	return w;
}

bool mde_kin_asof(const mde_kin *in, int kind, double *out, int32_t *idx)
{
	const mde_aux *a = &in->aux->s[kind];
	if (in->asset != MDE_CRYPTO || !in->aux->configured[kind]) {
		for (size_t i = 0; i < in->n; i++)
			out[i] = NAN;
		return false;
	}
	mde_win_asof(in->t, in->valid, in->n, in->period_ms, a->t, a->v, a->n,
		     mde_features_staleness(kind, in->period_ms), out, idx);
	return true;
}

static bool aux_sorted(const mde_aux *a, bool strict)
{
	for (size_t i = 1; i < a->n; i++)
		if (a->t[i] < a->t[i - 1] || (strict && a->t[i] == a->t[i - 1]))
			return false;
	return true;
}

/* Bits 1 and 2 of validation_flags and quality_score. */
static void quality(const mde_series *s, mde_frame *out)
{
	const double *lr = out->col[MDE_COL_LOG_RETURN];
	for (size_t i = 0; i < s->n; i++) {
		if (!s->valid[i]) {
			out->flags[i] = 0;
			out->quality[i] = NAN;
			continue;
		}
		int32_t f = 0;
		double q = 1.0;
		if (fabs(lr[i]) > 0.5) { /* false for NaN */
			f |= MDE_VF_EXTREME;
			q -= 0.5;
		}
		if (s->val[MDE_VOLUME][i] == 0.0) {
			f |= MDE_VF_ZERO_VOLUME;
			q -= 0.25;
		}
		out->flags[i] = f;
		out->quality[i] = q < 0.0 ? 0.0 : q;
	}
}

/* Runs kernel kern with its own columns of col[] (its features.def row). */
static void run_kernel(const mde_kernel *kern, const mde_kin *in,
		       double *const col[])
{
	double *o[MDE_KERNEL_MAX_OUT];
	for (size_t j = 0; j < kern->nout; j++)
		o[j] = col[kern->out[j]];
	kern->fn(in, o);
}

/*
 * The debug check (engine.h). The fast path costs three passes over each
 * column (still unset before its kernel, no row unset after it and its
 * hash, the hash again at the end) and names the kernel only when it
 * left a row unset; any failure replays the registry with the full
 * mde_check_kernel after every kernel (kernels are pure, so the replay
 * fails at the same place) to name the culprit and the column. Without
 * MDE_CHECK_KERNELS the debug_* functions are empty and inline away.
 */
#ifdef MDE_CHECK_KERNELS
static void debug_fill(double *const col[], size_t n)
{
	for (int c = 0; c < MDE_NFEATURES; c++)
		mde_check_fill(col[c], n);
}

static bool debug_before(const mde_kernel *kern, double *const col[],
			 size_t n)
{
	for (size_t j = 0; j < kern->nout; j++)
		if (mde_check_find(col[kern->out[j]], n, false) < n)
			return true; /* written before its kernel ran */
	return false;
}

static bool debug_after(const mde_kernel *kern, double *const col[],
			size_t n, uint64_t hash[MDE_NFEATURES])
{
	for (size_t j = 0; j < kern->nout; j++) {
		int c = kern->out[j];
		if (mde_check_find(col[c], n, true) < n)
			return true; /* a row left unset */
		hash[c] = mde_check_hash(col[c], n);
	}
	return false;
}

static bool debug_end(const mde_kernel *reg, size_t nreg,
		      double *const col[], size_t n,
		      const uint64_t hash[MDE_NFEATURES])
{
	bool claimed[MDE_NFEATURES] = {false};
	for (size_t k = 0; k < nreg; k++)
		for (size_t j = 0; j < reg[k].nout; j++)
			claimed[reg[k].out[j]] = true;
	for (int c = 0; c < MDE_NFEATURES; c++)
		if (claimed[c] ? mde_check_hash(col[c], n) != hash[c] :
				 mde_check_find(col[c], n, false) < n)
			return true; /* overwritten later, or never claimed */
	return false;
}

static void debug_replay(const mde_kernel *reg, size_t nreg,
			 const mde_kin *in, double *const col[], size_t n,
			 const char *where)
{
	uint64_t hash[MDE_NFEATURES] = {0};
	char msg[256];
	debug_fill(col, n);
	for (size_t k = 0; k < nreg; k++) {
		run_kernel(&reg[k], in, col);
		if (mde_check_kernel(reg, nreg, k, col, n, hash, msg,
				     sizeof msg)) {
			fprintf(stderr, "mdenrich: features.def check failed: "
				"%s\n", msg);
			abort();
		}
	}
	fprintf(stderr, "mdenrich: features.def check failed %s a kernel "
		"but not on replay: a kernel is not a pure function\n", where);
	abort();
}
#else
static inline void debug_fill(double *const col[], size_t n)
{
}

static inline bool debug_before(const mde_kernel *kern,
				double *const col[], size_t n)
{
	return false;
}

static inline bool debug_after(const mde_kernel *kern, double *const col[],
			       size_t n, uint64_t hash[MDE_NFEATURES])
{
	return false;
}

static inline bool debug_end(const mde_kernel *reg, size_t nreg,
			     double *const col[], size_t n,
			     const uint64_t hash[MDE_NFEATURES])
{
	return false;
}

static inline void debug_replay(const mde_kernel *reg, size_t nreg,
				const mde_kin *in, double *const col[],
				size_t n, const char *where)
{
}
#endif

int mde_features_compute(mde_frame *out, const mde_series *s,
			 const mde_auxset *aux, mde_err *err)
{
	return mde_features_compute_timed(out, s, aux, NULL, err);
}

int mde_features_compute_timed(mde_frame *out, const mde_series *s,
			       const mde_auxset *aux, int64_t *kernel_ns,
			       mde_err *err)
{
	return mde_features_compute_reg(out, s, aux, mde_kernels, mde_nkernels,
					kernel_ns, err);
}

int mde_features_compute_reg(mde_frame *out, const mde_series *s,
			     const mde_auxset *aux, const mde_kernel *reg,
			     size_t nreg, int64_t *kernel_ns, mde_err *err)
{
	static const mde_auxset none;
	uint64_t hash[MDE_NFEATURES] = {0};
	int rc = 0;
	size_t n = s->n;
	if (!aux)
		aux = &none;
	for (int k = 0; k < MDE_NAUX; k++) {
		if (aux->configured[k] &&
		    !aux_sorted(&aux->s[k], k != MDE_AUX_LIQUIDATIONS)) {
			rc = mde_err_set(err, MDE_EINVAL, false,
					 "auxiliary series %d is not sorted by "
					 "time", k);
			goto done;
		}
	}
	if (mde_frame_reserve(out, n ? n : 1)) {
		rc = mde_err_set(err, MDE_ENOMEM, false, "out of memory");
		goto done;
	}
	out->n = n;
	if (n == 0)
		goto done;
	/* the frame's block: 23 doubles and an int per row */
	mde_advise_huge(out->mem, out->cap * (MDE_NFEATURES + 1) * sizeof(double));
	size_t run_bytes = (n * sizeof(uint32_t) + 63) & ~(size_t)63;
	size_t scratch_bytes = n * MDE_KERNEL_SCRATCH_PER_ROW;
	size_t work_bytes = run_bytes + ((scratch_bytes + 63) & ~(size_t)63);
	if (out->work_cap < work_bytes) {
		/* aligned for the kernels' vector loads: not realloc's */
		void *w = aligned_alloc(64, work_bytes);
		if (!w) {
			rc = mde_err_set(err, MDE_ENOMEM, false,
					 "out of memory");
			goto done;
		}
		mde_advise_huge(w, work_bytes);
		free(out->work);
		out->work = w;
		out->work_cap = work_bytes;
	}
	void *mem = out->work;
	uint32_t *run = mem;
	mde_win_runs(s->valid, n, run);
	mde_kin in = {
		.n = n,
		.period_ms = s->period_ms,
		.asset = s->asset,
		.t = s->t,
		.valid = s->valid,
		.run = run,
		.o = s->val[MDE_OPEN],
		.h = s->val[MDE_HIGH],
		.l = s->val[MDE_LOW],
		.c = s->val[MDE_CLOSE],
		.v = s->val[MDE_VOLUME],
		.tbb = s->val[MDE_TAKER_BUY_BASE],
		.col = (const double *const *)out->col,
		.aux = aux,
		.scratch = (char *)mem + run_bytes,
	};
	debug_fill(out->col, n);
	for (size_t k = 0; k < nreg; k++) {
		if (debug_before(&reg[k], out->col, n))
			debug_replay(reg, nreg, &in, out->col, n, "before");
		int64_t t0 = kernel_ns ? mde_mono_ns() : 0;
		run_kernel(&reg[k], &in, out->col);
		if (kernel_ns)
			kernel_ns[k] += mde_mono_ns() - t0;
		if (debug_after(&reg[k], out->col, n, hash))
			debug_replay(reg, nreg, &in, out->col, n, "after");
	}
	if (debug_end(reg, nreg, out->col, n, hash))
		debug_replay(reg, nreg, &in, out->col, n, "after the last");
	quality(s, out);
done:
	return rc;
}
