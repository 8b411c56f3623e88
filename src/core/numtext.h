/*
 * numtext.h - exact, fast decimal text of doubles (numtext.cc, a thin C
 * wrapper over C++17 <charconv>): the shortest text that parses back to
 * the same double, and a correctly rounded parse.
 */
#ifndef MDE_NUMTEXT_H
#define MDE_NUMTEXT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Room for any text of mde_num_shortest, with its '\0', and for the
 * fixed-size copies it makes past the text (at most 24 bytes long). */
#define MDE_NUM_TEXT_MAX 48

/*
 * Writes the shortest decimal text of v that parses back to v (bit for
 * bit; "-0" for negative zero) into out (MDE_NUM_TEXT_MAX bytes, which
 * it may all overwrite) and returns its length. Plain digits for
 * 1e-4 <= |v| < 1e17, else d.ddde-XX / d.ddde+XX; "inf", "-inf", "nan"
 * for the non-finite.
 */
int mde_num_shortest(char *out, double v);

/* Room for any integer of mde_num_int, with its '\0'. */
#define MDE_INT_TEXT_MAX 24

/* Writes the decimal text of v into out (MDE_INT_TEXT_MAX bytes, NUL
 * terminated) and returns its length. */
int mde_num_int(char *out, int64_t v);

/*
 * Parses s[0..len) whole as a decimal number, correctly rounded (the
 * double nearest to the decimal, ties to even, as strtod): 0, or -1 when
 * the text is not one complete finite decimal ("", "12abc", " 1",
 * hexadecimal, "1e999"). The words nan, inf and infinity are -1 as well:
 * the caller decides about them.
 */
int mde_num_parse(const char *s, size_t len, double *out);

#ifdef __cplusplus
}
#endif

#endif
