/*
 * timeutil.h - times and timeframes. A time is int64_t milliseconds since
 * the Unix epoch, UTC, named *_ms. A timeframe is its length in ms.
 */
#ifndef MDE_TIMEUTIL_H
#define MDE_TIMEUTIL_H

#include <signal.h>

#include "mde.h"

#define MDE_MINUTE_MS INT64_C(60000)
#define MDE_HOUR_MS INT64_C(3600000)
#define MDE_DAY_MS INT64_C(86400000)

/* "1m 5m 15m 30m 1h 4h 1d" -> *period_ms. MDE_EINVAL for anything else. */
int mde_tf_parse(const char *s, int64_t *period_ms) MDE_MUSTCHECK;
/* The name of a supported timeframe, or NULL. */
const char *mde_tf_name(int64_t period_ms);

/*
 * The times mdenrich accepts: years 0000 to 9999 (ISO 8601's four-digit
 * years). Any sum of such a time and a duration (at most
 * MDE_DURATION_MAX_MS) or a warm-up of bars is far inside int64_t.
 */
#define MDE_TIME_MIN_MS INT64_C(-62167219200000)  /* 0000-01-01T00:00Z */
#define MDE_TIME_MAX_MS INT64_C(253402300799999)  /* 9999-12-31T23:59:59.999Z */
/* The longest duration (chunk, ...): 100 years of 366 days. */
#define MDE_DURATION_MAX_MS (INT64_C(36600) * MDE_DAY_MS)
/* The most periods one window of work (a run's window, a backfill chunk)
 * spans: memory follows the data, whatever the chunk (1m: 728 days). */
#define MDE_WINDOW_MAX_SLOTS (INT64_C(1) << 20)
/* The most chunks of one symbol a backfill job may have. */
#define MDE_JOB_MAX_CHUNKS INT64_C(100000)

/*
 * Parses TIME: milliseconds since the epoch (digits, optional sign), or
 * ISO 8601 UTC: "2024-01-01", "2024-01-01T13:00:00Z", "2024-01-01 13:00",
 * fractional seconds, and a "Z" or "+HH:MM"/"-HHMM" offset (no offset = UTC).
 * MDE_EINVAL for anything else and for a time outside [MDE_TIME_MIN_MS,
 * MDE_TIME_MAX_MS] (e.g. 19-digit milliseconds).
 */
int mde_time_parse(const char *s, int64_t *out_ms) MDE_MUSTCHECK;
/* Same as mde_time_parse on s[0..len). */
int mde_time_parse_n(const char *s, size_t len, int64_t *out_ms) MDE_MUSTCHECK;

/* Writes "2024-01-01T13:00:00Z" (".123Z" when ms != 0); buf >= 32 bytes. */
char *mde_time_format(int64_t ms, char *buf, size_t len);

/* Days since 1970-01-01 of a civil date, and back (proleptic Gregorian). */
int64_t mde_days_from_civil(int64_t y, unsigned m, unsigned d);
void mde_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d);

/* Floor division of t by p (p > 0), correct for negative t. */
static inline int64_t mde_floor_div(int64_t t, int64_t p)
{
	int64_t q = t / p;
	return (t % p != 0 && t < 0) ? q - 1 : q;
}

/*
 * Sleeps ms milliseconds, resuming after signals; returns early once
 * *stop (may be NULL) is set by a signal handler.
 */
void mde_sleep_ms(int64_t ms, const volatile sig_atomic_t *stop);

/* Wall clock, ms since the epoch. */
int64_t mde_now_ms(void);
/* Monotonic clock in ms and ns, for durations. */
int64_t mde_mono_ms(void);
int64_t mde_mono_ns(void);

#endif
