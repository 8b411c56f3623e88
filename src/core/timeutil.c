/*
 * timeutil.c - timeframe names and an ISO 8601 parser small enough to read
 * in one sitting. Civil-date arithmetic is Howard Hinnant's days_from_civil,
 * which needs no time zone database and is exact for every date we meet.
 */
#include "timeutil.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static const struct {
	const char *name;
	int64_t ms;
} timeframes[] = {
	{"1m", MDE_MINUTE_MS},       {"5m", 5 * MDE_MINUTE_MS},
	{"15m", 15 * MDE_MINUTE_MS}, {"30m", 30 * MDE_MINUTE_MS},
	{"1h", MDE_HOUR_MS},         {"4h", 4 * MDE_HOUR_MS},
	{"1d", MDE_DAY_MS},
};

int mde_tf_parse(const char *s, int64_t *period_ms)
{
	for (size_t i = 0; s && i < MDE_ARRAY_LEN(timeframes); i++) {
		if (strcmp(s, timeframes[i].name) == 0) {
			*period_ms = timeframes[i].ms;
			return 0;
		}
	}
	return MDE_EINVAL;
}

const char *mde_tf_name(int64_t period_ms)
{
	for (size_t i = 0; i < MDE_ARRAY_LEN(timeframes); i++)
		if (timeframes[i].ms == period_ms)
			return timeframes[i].name;
	return NULL;
}

int64_t mde_days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

void mde_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int64_t)yoe + era * 400 + (*m <= 2);
}

/* Reads exactly n digits at *p into *out. */
static int digits(const char **p, const char *end, int n, int *out)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (*p >= end || !isdigit((unsigned char)**p))
			return -1;
		v = v * 10 + (**p - '0');
		(*p)++;
	}
	*out = v;
	return 0;
}

static bool all_digits(const char *s, const char *end)
{
	if (s < end && (*s == '-' || *s == '+'))
		s++;
	if (s >= end)
		return false;
	for (; s < end; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	return true;
}

int mde_time_parse_n(const char *s, size_t len, int64_t *out_ms)
{
	const char *p = s, *end = s + len;
	while (p < end && isspace((unsigned char)*p))
		p++;
	while (end > p && isspace((unsigned char)end[-1]))
		end--;
	if (p >= end)
		return MDE_EINVAL;

	if (all_digits(p, end)) {
		/* Digit by digit: no overflow, whatever the length. */
		bool neg = *p == '-';
		int64_t v = 0;
		for (const char *q = p + (*p == '-' || *p == '+'); q < end;
		     q++) {
			v = v * 10 + (*q - '0');
			if (v > MDE_TIME_MAX_MS + 1)
				return MDE_EINVAL;
		}
		v = neg ? -v : v;
		if (v < MDE_TIME_MIN_MS || v > MDE_TIME_MAX_MS)
			return MDE_EINVAL;
		*out_ms = v;
		return 0;
	}

	int y, mo, d, hh = 0, mi = 0, ss = 0;
	int64_t frac_ms = 0, off_min = 0;
	if (digits(&p, end, 4, &y) || p >= end || *p++ != '-' ||
	    digits(&p, end, 2, &mo) || p >= end || *p++ != '-' ||
	    digits(&p, end, 2, &d))
		return MDE_EINVAL;
	if (mo < 1 || mo > 12 || d < 1 || d > 31)
		return MDE_EINVAL;
	if (p < end && (*p == 'T' || *p == 't' || *p == ' ')) {
		p++;
		if (digits(&p, end, 2, &hh) || p >= end || *p++ != ':' ||
		    digits(&p, end, 2, &mi))
			return MDE_EINVAL;
		if (p < end && *p == ':') {
			p++;
			if (digits(&p, end, 2, &ss))
				return MDE_EINVAL;
			if (p < end && (*p == '.' || *p == ',')) {
				p++;
				int nd = 0;
				int64_t scale = 100;
				while (p < end && isdigit((unsigned char)*p)) {
					frac_ms += (*p - '0') * scale;
					scale /= 10;
					p++;
					nd++;
				}
				if (nd == 0)
					return MDE_EINVAL;
			}
		}
		if (hh > 23 || mi > 59 || ss > 60)
			return MDE_EINVAL;
		if (p < end && (*p == 'Z' || *p == 'z')) {
			p++;
		} else if (p < end && (*p == '+' || *p == '-')) {
			int sign = *p++ == '-' ? -1 : 1, oh, om = 0;
			if (digits(&p, end, 2, &oh))
				return MDE_EINVAL;
			if (p < end && *p == ':')
				p++;
			if (p < end && digits(&p, end, 2, &om))
				return MDE_EINVAL;
			if (oh > 23 || om > 59)
				return MDE_EINVAL;
			off_min = sign * (oh * 60 + om);
		}
	}
	if (p != end)
		return MDE_EINVAL;
	/* Reject dates such as 2023-02-30 that do not exist. */
	int64_t days = mde_days_from_civil(y, (unsigned)mo, (unsigned)d);
	int64_t cy;
	unsigned cm, cd;
	mde_civil_from_days(days, &cy, &cm, &cd);
	if (cy != y || (int)cm != mo || (int)cd != d)
		return MDE_EINVAL;
	int64_t t = days * MDE_DAY_MS + hh * MDE_HOUR_MS + mi * MDE_MINUTE_MS +
		    ss * INT64_C(1000) + frac_ms - off_min * MDE_MINUTE_MS;
	if (t < MDE_TIME_MIN_MS || t > MDE_TIME_MAX_MS)
		return MDE_EINVAL;
	*out_ms = t;
	return 0;
}

int mde_time_parse(const char *s, int64_t *out_ms)
{
	if (!s)
		return MDE_EINVAL;
	return mde_time_parse_n(s, strlen(s), out_ms);
}

char *mde_time_format(int64_t ms, char *buf, size_t len)
{
	int64_t days = mde_floor_div(ms, MDE_DAY_MS);
	int64_t rem = ms - days * MDE_DAY_MS;
	int64_t y;
	unsigned m, d;
	mde_civil_from_days(days, &y, &m, &d);
	int hh = (int)(rem / MDE_HOUR_MS), mi = (int)(rem / MDE_MINUTE_MS % 60),
	    ss = (int)(rem / 1000 % 60), frac = (int)(rem % 1000);
	if (frac)
		snprintf(buf, len, "%04lld-%02u-%02uT%02d:%02d:%02d.%03dZ",
			 (long long)y, m, d, hh, mi, ss, frac);
	else
		snprintf(buf, len, "%04lld-%02u-%02uT%02d:%02d:%02dZ",
			 (long long)y, m, d, hh, mi, ss);
	return buf;
}

/*
 * In slices of at most 100 ms: a signal that lands between the check of
 * *stop and nanosleep() delays the wake-up by one slice, not the whole
 * wait.
 */
void mde_sleep_ms(int64_t ms, const volatile sig_atomic_t *stop)
{
	int64_t end = mde_mono_ms() + (ms > 0 ? ms : 0);
	for (;;) {
		if (stop && *stop)
			return;
		int64_t left = end - mde_mono_ms();
		if (left <= 0)
			return;
		if (left > 100)
			left = 100;
		struct timespec ts = {0, (long)left * 1000000L};
		nanosleep(&ts, NULL);
	}
}

int64_t mde_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t mde_mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t mde_mono_ms(void)
{
	return mde_mono_ns() / 1000000;
}
