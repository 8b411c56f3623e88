/*
 * fuzz.h - what every fuzz target of tests/fuzz shares: the libFuzzer
 * entry point, and a window that keeps every row a parser may produce
 * (realistic bounds, so that the window test itself is the real one).
 */
#ifndef MDE_FUZZ_H
#define MDE_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mde.h"
#include "timeutil.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* 1970 to 2100: every time an exchange sends, none that is absurd. */
#define FZ_WINDOW(P) {0, INT64_C(4102444800000), INT64_C(4102444800000), (P)}

/* Results are not the point: whatever a parser returns is fine. */
static inline void fz_ignore(int rc)
{
	(void)rc;
}

/* A NUL-terminated copy of the input (the parsers take (ptr, len), but
 * the C string functions of the targets need one). */
static inline char *fz_str(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	if (s) {
		memcpy(s, data, size);
		s[size] = '\0';
	}
	return s;
}

#endif
