/*
 * proc.h - what one process shares across its stages: the stop flag that
 * SIGINT/SIGTERM set, and the one jitter source of every retry backoff.
 *
 * Every wait in mdenrich (HTTP backoff, Retry-After, the weight budget,
 * lease polling, database reconnects) sleeps with mde_sleep_ms(ms,
 * &mde_stop_requested), so a stop request wakes it at once; the caller then
 * finishes or drops the work in flight and returns MDE_EINTR.
 *
 * The jitter generator is seeded per process (pid, wall and monotonic
 * clocks), and again in a child after fork(), so that processes started
 * together do not retry in lockstep.
 */
#ifndef MDE_PROC_H
#define MDE_PROC_H

#include <signal.h>

#include "mde.h"

/* Set by SIGINT/SIGTERM once mde_install_signal_handlers() ran. */
extern volatile sig_atomic_t mde_stop_requested;
void mde_install_signal_handlers(void);

/* A pseudo-random 64-bit value (xorshift64*, seeded per process). */
uint64_t mde_rand64(void);

/*
 * The wait before retry number `attempt` (1 = the first retry): base_ms
 * doubled per earlier attempt, at most max_ms, plus a jitter drawn
 * uniformly from [0, half of that]. Never overflows.
 */
int64_t mde_backoff_ms(int64_t base_ms, int64_t max_ms, int attempt);

#endif
