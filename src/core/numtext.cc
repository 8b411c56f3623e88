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
	/* the exponent is the end: e+XX, e-XX or e+XXX */
	char *e = s[n - 4] == 'e' ? s + n - 4 : s + n - 5;
	int x = (e[2] - '0') * 10 + (e[3] - '0');
	if (e + 4 < s + n || x >= 17)
		return n;
	if (e[1] == '-') {
		if (x > 4)
			return n;
		x = -x;
	}
	char *d = s + (s[0] == '-'); /* first digit; d[1] is '.' or 'e' */
	int nf = e - d > 1 ? static_cast<int>(e - d - 2) : 0; /* fraction */
	if (x < 0) {
		/* d.fff -> 0.000dfff: shift right by 1 - x */
		int sh = 1 - x;
		std::memmove(d + sh + 1, d + 2, nf);
		d[sh] = d[0];
		d[0] = '0';
		d[1] = '.';
		std::memset(d + 2, '0', sh - 2);
		return static_cast<int>(d + sh + 1 + nf - s);
	}
	if (nf <= x) {
		/* d.fff -> dfff000 */
		std::memmove(d + 1, d + 2, nf);
		std::memset(d + 1 + nf, '0', x - nf);
		return static_cast<int>(d + 1 + x - s);
	}
	/* d.ffffff -> dfff.fff */
	std::memmove(d + 1, d + 2, x);
	d[1 + x] = '.';
	return static_cast<int>(d + 2 + nf - s);
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

extern "C" int mde_num_int(char *out, int64_t v)
{
	auto r = std::to_chars(out, out + MDE_INT_TEXT_MAX - 1, v);
	*r.ptr = '\0';
	return (int)(r.ptr - out);
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
