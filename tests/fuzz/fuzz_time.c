/* fuzz_time.c - times (ms or ISO 8601), durations and timeframes. */
#include "fuzz.h"

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int64_t t = 0;
	if (mde_time_parse_n((const char *)data, size, &t) == 0) {
		if (t < MDE_TIME_MIN_MS || t > MDE_TIME_MAX_MS)
			abort(); /* the promise of timeutil.h */
		char buf[40];
		mde_time_format(t, buf, sizeof buf);
		int64_t back = 0;
		if (mde_time_parse(buf, &back) != 0 || back != t)
			abort(); /* formatted times parse back */
	}
	char *s = fz_str(data, size);
	if (!s)
		return 0;
	int64_t d = 0;
	if (mde_duration_parse(s, &d) == 0 &&
	    (d <= 0 || d > MDE_DURATION_MAX_MS))
		abort();
	fz_ignore(mde_tf_parse(s, &d));
	free(s);
	return 0;
}
