/*
 * numtext.cc - the C interface of numtext.h over the C++17 <charconv> of
 * GCC's libstdc++: std::to_chars gives the shortest text that round-trips
 * (Ryu), std::from_chars parses correctly rounded (fast_float's
 * algorithm, an exact fallback for the hard cases), both without the
 * locale. Measured against double-conversion and the 17-digit formatter
 * they replace in docs/DECISIONS.md.
 */
#include "numtext.h"

#include <charconv>
#include <cmath>
#include <cstring>

namespace {

/* Rewrites to_chars's shortest scientific text s[0..n) ("-1.2345e+03")
 * as plain digits ("-1234.5") when its exponent is in [-4, 17), as %g
 * would place them; else keeps it. Returns the new length. */
int plain(char *s, int n)
{
	char *e = static_cast<char *>(std::memchr(s, 'e', n));
	if (!e)
		return n;
	int x = 0; /* "e+05": the text is not terminated */
	for (char *c = e + 2; c < s + n; c++)
		x = x * 10 + (*c - '0');
	if (e[1] == '-')
		x = -x;
	if (x < -4 || x >= 17)
		return n;
	char dig[20];
	int nd = 0, neg = s[0] == '-';
	for (char *c = s + neg; c < e; c++)
		if (*c != '.')
			dig[nd++] = *c;
	char *o = s + neg;
	if (x < 0) {
		*o++ = '0';
		*o++ = '.';
		for (int i = 0; i < -x - 1; i++)
			*o++ = '0';
		std::memcpy(o, dig, nd);
		o += nd;
	} else if (nd <= x + 1) {
		std::memcpy(o, dig, nd);
		o += nd;
		for (int i = nd; i <= x; i++)
			*o++ = '0';
	} else {
		std::memcpy(o, dig, x + 1);
		o += x + 1;
		*o++ = '.';
		std::memcpy(o, dig + x + 1, nd - x - 1);
		o += nd - x - 1;
	}
	return static_cast<int>(o - s);
}

} // namespace

extern "C" int mde_num_shortest(char *out, double v)
{
	if (!std::isfinite(v)) {
		const char *t = std::isnan(v) ? "nan" : v < 0 ? "-inf" : "inf";
		std::strcpy(out, t);
		return static_cast<int>(std::strlen(t));
	}
	auto r = std::to_chars(out, out + MDE_NUM_TEXT_MAX - 1, v,
			       std::chars_format::scientific);
	int n = plain(out, static_cast<int>(r.ptr - out));
	out[n] = '\0';
	return n;
}

extern "C" int mde_num_parse(const char *s, size_t len, double *out)
{
	const char *p = s, *end = s + len;
	if (p < end && *p == '+') { /* strtod takes it; from_chars not */
		p++;
		if (p < end && *p == '-')
			return -1;
	}
	if (p == end || *p == '+')
		return -1;
	double v;
	auto r = std::from_chars(p, end, v);
	if (r.ec != std::errc() || r.ptr != end || !std::isfinite(v))
		return -1;
	*out = v;
	return 0;
}
