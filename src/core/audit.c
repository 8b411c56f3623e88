/*
 * audit.c - the names of the reject reasons, as rejected_candles.reasons
 * and the logs spell them.
 */
#include "audit.h"

#include <stdio.h>

static const char *const reason_names[MDE_RJ_NREASONS] = {
	"missing_field",   "not_finite", "nonpositive_price",
	"negative_volume", "high_low",   "misaligned",
	"not_closed",      "taker_gt_volume", "taker_quote_gt_quote",
	"malformed",
};

const char *mde_reject_reason_name(uint32_t bit)
{
	for (int k = 0; k < MDE_RJ_NREASONS; k++)
		if (bit == (1u << k))
			return reason_names[k];
	return "?";
}

char *mde_reject_reasons_str(uint32_t mask, char *buf, size_t len)
{
	size_t o = 0;
	if (len)
		buf[0] = '\0';
	for (int k = 0; k < MDE_RJ_NREASONS && len; k++) {
		if (!(mask & (1u << k)))
			continue;
		int w = snprintf(buf + o, len - o, "%s%s", o ? "," : "",
				 reason_names[k]);
		if (w < 0 || (size_t)w >= len - o)
			break;
		o += (size_t)w;
	}
	return buf;
}

