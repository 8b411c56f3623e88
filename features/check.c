/*
 * check.c - the debug check of the kernels' writes (engine.h): every
 * feature column starts as MDE_UNSET, a signalling NaN; a kernel must turn
 * every row of each column it claims in features.def into something else
 * and touch no other column. The engine calls these only in Debug and
 * sanitizer builds (MDE_CHECK_KERNELS); they are plain functions so that
 * tests can call them.
 */
#include "engine.h"

#include <stdio.h>
#include <string.h>

static uint64_t bits(double x)
{
	uint64_t u;
	memcpy(&u, &x, sizeof u);
	return u;
}

void mde_check_fill(double *col, size_t n)
{
	uint64_t u = MDE_UNSET_BITS;
	double x;
	memcpy(&x, &u, sizeof x);
	for (size_t i = 0; i < n; i++)
		col[i] = x;
}

size_t mde_check_find(const double *col, size_t n, bool unset)
{
	for (size_t i = 0; i < n; i++)
		if ((bits(col[i]) == MDE_UNSET_BITS) == unset)
			return i;
	return n;
}

/* Fletcher-style (a sum and a sum of sums: every bit and every position
   counts), adds only, so that the debug build pays ~1 cycle a row. */
uint64_t mde_check_hash(const double *col, size_t n)
{
	uint64_t a = 0, b = 0;
	for (size_t i = 0; i < n; i++) {
		a += bits(col[i]);
		b += a;
	}
	b *= UINT64_C(0x9e3779b97f4a7c15);
	return a ^ (b << 32 | b >> 32);
}

/* The kernel of reg[0..nreg) that claims column c first, or nreg. */
static size_t owner(const mde_kernel *reg, size_t nreg, int c)
{
	for (size_t k = 0; k < nreg; k++)
		for (size_t j = 0; j < reg[k].nout; j++)
			if (reg[k].out[j] == c)
				return k;
	return nreg;
}

int mde_check_kernel(const mde_kernel *reg, size_t nreg, size_t k,
		     double *const col[], size_t n,
		     uint64_t hash[MDE_NFEATURES], char *msg, size_t cap)
{
	const char *kn = reg[k].name;
	for (size_t j = 0; j < reg[k].nout; j++) {
		int c = reg[k].out[j];
		size_t o = owner(reg, nreg, c);
		if (o != k) {
			snprintf(msg, cap, "kernel %s claims column %s, "
				 "already claimed by kernel %s", kn,
				 mde_column_names[c], reg[o].name);
			return -1;
		}
	}
	for (int c = 0; c < MDE_NFEATURES; c++) {
		size_t o = owner(reg, nreg, c), i;
		const char *cn = mde_column_names[c];
		if (o < k && mde_check_hash(col[c], n) != hash[c]) {
			snprintf(msg, cap, "kernel %s overwrote column %s, "
				 "which belongs to kernel %s", kn, cn,
				 reg[o].name);
			return -1;
		}
		if (o == k) {
			if ((i = mde_check_find(col[c], n, true)) < n) {
				snprintf(msg, cap, "kernel %s did not write "
					 "row %zu of its column %s", kn, i, cn);
				return -1;
			}
			hash[c] = mde_check_hash(col[c], n);
		}
		if (o > k && (i = mde_check_find(col[c], n, false)) < n) {
			snprintf(msg, cap, "kernel %s wrote column %s (row "
				 "%zu), which %s%s", kn, cn, i,
				 o < nreg ? "belongs to kernel " :
					    "no kernel claims",
				 o < nreg ? reg[o].name : "");
			return -1;
		}
	}
	return 0;
}
