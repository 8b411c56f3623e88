/*
 * jsonutil.c - strict readers for the numbers sources send. cJSON keeps
 * numbers as doubles, which is exact for millisecond times (< 2^53); a
 * decimal that arrives as a string is parsed from the string, whole, so
 * "12abc" or "" is an error and not 12 or 0.
 */
#include "clients.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void mde_page_reset(mde_page *pg)
{
	memset(pg, 0, sizeof *pg);
	pg->first_ms = INT64_MIN;
	pg->last_ms = INT64_MIN;
}

void mde_page_time(mde_page *pg, int64_t t)
{
	if (pg->first_ms == INT64_MIN)
		pg->first_ms = t;
	if (t > pg->last_ms)
		pg->last_ms = t;
}

int mde_json_int(const cJSON *j, int64_t *out)
{
	if (cJSON_IsNumber(j)) {
		double d = j->valuedouble;
		if (!isfinite(d) || d != floor(d) || fabs(d) > 9007199254740992.0)
			return MDE_EPARSE;
		*out = (int64_t)d;
		return 0;
	}
	if (cJSON_IsString(j) && j->valuestring) {
		const char *s = j->valuestring;
		size_t n = strlen(s);
		if (n == 0 || n > 18)
			return MDE_EPARSE;
		int64_t x = 0;
		for (size_t i = 0; i < n; i++) {
			if (s[i] < '0' || s[i] > '9')
				return MDE_EPARSE;
			x = x * 10 + (s[i] - '0');
		}
		*out = x;
		return 0;
	}
	return MDE_EPARSE;
}

int mde_json_decstr(const cJSON *j, double *out)
{
	double v;
	if (!cJSON_IsString(j) || !j->valuestring ||
	    mde_parse_decimal(j->valuestring, strlen(j->valuestring), &v) ||
	    !isfinite(v))
		return MDE_EPARSE;
	*out = v;
	return 0;
}

int mde_json_num(const cJSON *j, double *out)
{
	if (cJSON_IsNumber(j)) {
		if (!isfinite(j->valuedouble))
			return MDE_EPARSE;
		*out = j->valuedouble;
		return 0;
	}
	return mde_json_decstr(j, out);
}

int mde_json_parse(const char *body, size_t len, cJSON **out, mde_err *err)
{
	*out = NULL;
	if (!body || len == 0)
		return mde_err_set(err, MDE_EPARSE, true, "empty body");
	const char *end = NULL;
	cJSON *j = cJSON_ParseWithLengthOpts(body, len, &end, 0);
	if (!j) {
		size_t at = end && end >= body ? (size_t)(end - body) : 0;
		char head[24];
		size_t k = 0;
		for (size_t i = 0; i < len && k + 1 < sizeof head; i++)
			head[k++] = (body[i] >= 32 && body[i] < 127) ? body[i]
								      : '?';
		head[k] = '\0';
		return mde_err_set(err, MDE_EPARSE, true,
				   "response is not JSON (error at byte %zu of "
				   "%zu, starts \"%s\")",
				   at, len, head);
	}
	*out = j;
	return 0;
}
