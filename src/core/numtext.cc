/*
 * numtext.cc - the C interface of numtext.h: the shortest text that
 * round-trips comes from Dragonbox (libfmt's dragonbox::to_decimal, the
 * digits and exponent only; the layout is ours), the parse from Clinger's
 * fast path for plain decimals and otherwise C++17 std::from_chars
 * (fast_float's algorithm with an exact fallback for the hard cases), all
 * correctly rounded and without the locale. Measured against
 * double-conversion, libstdc++'s to_chars and the 17-digit formatter in
 * docs/DECISIONS.md.
 */
#include "numtext.h"

#include <charconv>
#include <cmath>
#include <cstring>

#include <fmt/format.h>

namespace {

/* "00" "01" ... "99" */
constexpr char kPairs[] =
	"00010203040506070809101112131415161718192021222324252627282930313233"
	"34353637383940414243444546474849505152535455565758596061626364656667"
	"6869707172737475767778798081828384858687888990919293949596979899";

/* The 4 digits of x < 10^4, and the 8 of x < 10^8, leading zeros kept. */
inline void digits4(char *p, uint32_t x)
{
	std::memcpy(p, kPairs + 2 * (x / 100), 2);
	std::memcpy(p + 2, kPairs + 2 * (x % 100), 2);
}

inline void digits8(char *p, uint32_t x)
{
	digits4(p, x / 10000);
	digits4(p + 4, x % 10000);
}

/* Writes the digits of v (0 < v < 10^20) ending at end; returns their
 * first. Eight digits at a time in 32-bit arithmetic, whose halves do not
 * wait on each other. */
inline char *digits_before(char *end, uint64_t v)
{
	while (v >= 100000000) {
		end -= 8;
		digits8(end, static_cast<uint32_t>(v % 100000000));
		v /= 100000000;
	}
	uint32_t x = static_cast<uint32_t>(v);
	while (x >= 100) {
		end -= 2;
		std::memcpy(end, kPairs + 2 * (x % 100), 2);
		x /= 100;
	}
	if (x >= 10) {
		end -= 2;
		std::memcpy(end, kPairs + 2 * x, 2);
	} else {
		*--end = static_cast<char>('0' + x);
	}
	return end;
}

/*
 * Writes v (finite, > 0) at out as %g would place its shortest digits:
 * plain for a first digit of decimal exponent -4 <= x < 17, else
 * d.ddde-XX / d.ddde+XX (at least two exponent digits). Every copy is of a
 * fixed size, so that none is a call: bytes after the text, up to
 * MDE_NUM_TEXT_MAX, may be overwritten. Returns the length.
 */
int shortest_positive(char *out, double v)
{
	/* Dragonbox (fmt's): the shortest significand, trailing zeros
	 * removed, that reads back as v, the closest to v among those */
	auto dec = fmt::detail::dragonbox::to_decimal(v);
	char buf[48];
	char *d = digits_before(buf + 24, dec.significand); /* <= 17 */
	int n = static_cast<int>(buf + 24 - d);
	int x = dec.exponent + n - 1;
	char *o = out;
	if (x < -4 || x >= 17) {
		o[0] = d[0];
		o[1] = '.';
		std::memcpy(o + 2, d + 1, 16);
		o += n > 1 ? n + 1 : 1;
		*o++ = 'e';
		*o++ = x < 0 ? '-' : '+';
		unsigned ax = static_cast<unsigned>(x < 0 ? -x : x);
		if (ax >= 100)
			*o++ = static_cast<char>('0' + ax / 100);
		std::memcpy(o, kPairs + 2 * (ax % 100), 2);
		return static_cast<int>(o + 2 - out);
	}
	if (x < 0) { /* 0.000ddd */
		std::memcpy(o, "0.0000", 6);
		o += 1 - x;
		std::memcpy(o, d, 24);
		return static_cast<int>(o + n - out);
	}
	if (n <= x + 1) { /* ddd000 */
		std::memcpy(o, d, 24);
		std::memset(o + n, '0', 16);
		return x + 1;
	}
	/* ddd.ddd: at most 16 digits on either side */
	std::memcpy(o, d, 16);
	o[x + 1] = '.';
	std::memcpy(o + x + 2, d + x + 1, 16);
	return n + 1;
}

/* 10^0 .. 10^22, every one exact in a double */
constexpr double kPow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
			     1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
			     1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

/* Clinger's fast path for the common text [-]digits[.digits] of at most
 * 15 digits (a price, a volume): m, the digits read as one integer, is
 * below 10^15 < 2^53, so m and 10^k are exact doubles and the one division
 * m / 10^k is correctly rounded, so v is the double nearest to the text,
 * as from_chars would give. False (v untouched) for any other text, which
 * then goes to from_chars. */
inline bool fast_decimal(const char *p, const char *end, double *v)
{
	bool neg = p < end && *p == '-';
	p += neg;
	if (end - p > 16) /* more than 15 digits and a point */
		return false;
	const char *first = p;
	uint64_t m = 0;
	while (p < end && static_cast<unsigned>(*p - '0') < 10)
		m = m * 10 + static_cast<unsigned>(*p++ - '0');
	if (p == first)
		return false;
	int frac = 0;
	if (p < end && *p == '.') {
		const char *f = ++p;
		while (p < end && static_cast<unsigned>(*p - '0') < 10)
			m = m * 10 + static_cast<unsigned>(*p++ - '0');
		frac = static_cast<int>(p - f);
		if (frac == 0)
			return false;
	}
	if (p != end || (frac == 0 && end - first > 15))
		return false;
	double x = static_cast<double>(m) / kPow10[frac];
	*v = neg ? -x : x;
	return true;
}

} // namespace

extern "C" int mde_num_shortest(char *out, double v)
{
	if (!std::isfinite(v)) {
		const char *t = std::isnan(v) ? "nan" : v < 0 ? "-inf" : "inf";
		std::strcpy(out, t);
		return static_cast<int>(std::strlen(t));
	}
	bool neg = std::signbit(v);
	char *o = out + neg;
	out[0] = '-';
	int n;
	if (v == 0) {
		o[0] = '0';
		n = 1;
	} else {
		n = shortest_positive(o, neg ? -v : v);
	}
	o[n] = '\0';
	return n + neg;
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
	if (fast_decimal(p, end, &v)) {
		*out = v;
		return 0;
	}
	auto r = std::from_chars(p, end, v);
	if (r.ec != std::errc() || r.ptr != end || !std::isfinite(v))
		return -1;
	*out = v;
	return 0;
}
