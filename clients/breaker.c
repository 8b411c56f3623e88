/*
 * breaker.c - a circuit breaker per source. Closed: requests flow and
 * consecutive failures are counted; at threshold it opens. Open: nothing
 * is sent until cooldown_ms has passed; then half-open lets exactly one
 * trial request through: success closes it, failure opens it again for
 * another cool-down. Times are monotonic ms.
 */
#include "clients.h"

void mde_breaker_init(mde_breaker *b, int threshold, int64_t cooldown_ms)
{
	*b = (mde_breaker){.state = MDE_BRK_CLOSED,
			   .threshold = threshold > 0 ? threshold : 5,
			   .cooldown_ms = cooldown_ms > 0 ? cooldown_ms : 60000};
}

bool mde_breaker_allow(mde_breaker *b, int64_t mono_ms)
{
	switch (b->state) {
	case MDE_BRK_CLOSED:
		return true;
	case MDE_BRK_OPEN:
		if (mono_ms - b->opened_ms < b->cooldown_ms)
			return false;
		b->state = MDE_BRK_HALF_OPEN;
		b->trial = true;
		return true;
	default: /* half-open: one trial at a time */
		if (b->trial)
			return false;
		b->trial = true;
		return true;
	}
}

void mde_breaker_success(mde_breaker *b)
{
	b->state = MDE_BRK_CLOSED;
	b->fails = 0;
	b->trial = false;
}

void mde_breaker_failure(mde_breaker *b, int64_t mono_ms)
{
	b->fails++;
	if (b->state == MDE_BRK_HALF_OPEN || b->fails >= b->threshold) {
		if (b->state != MDE_BRK_OPEN)
			b->opens++;
		b->state = MDE_BRK_OPEN;
		b->opened_ms = mono_ms;
		b->trial = false;
	}
}

const char *mde_breaker_state_name(int state)
{
	return state == MDE_BRK_OPEN	  ? "open"
	       : state == MDE_BRK_HALF_OPEN ? "half-open"
					    : "closed";
}
