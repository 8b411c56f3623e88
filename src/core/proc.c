/* proc.c - see proc.h: the stop flag and the jitter source. */
#include "proc.h"

#include <string.h>
#include <unistd.h>

#include "timeutil.h"

volatile sig_atomic_t mde_stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	mde_stop_requested = 1;
}

void mde_install_signal_handlers(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

/* One generator per thread (the stream's writers fetch side by side),
 * each seeded on its first use. */
static _Thread_local uint64_t rng_state;
static _Thread_local pid_t rng_pid;

/* splitmix64: spreads a seed of few distinct bits over the whole state. */
static uint64_t mix(uint64_t z)
{
	z += 0x9E3779B97F4A7C15ULL;
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}

uint64_t mde_rand64(void)
{
	pid_t pid = getpid();
	if (rng_pid != pid || !rng_state) {
		rng_pid = pid;
		rng_state = mix((uint64_t)pid << 32 ^ (uint64_t)mde_now_ms() ^
				mix((uint64_t)mde_mono_ns() ^
				    (uint64_t)(uintptr_t)&rng_state));
		if (!rng_state)
			rng_state = 1;
	}
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 2685821657736338717ULL;
}

int64_t mde_backoff_ms(int64_t base_ms, int64_t max_ms, int attempt)
{
	if (base_ms <= 0)
		base_ms = 1;
	if (max_ms > INT64_MAX / 2) /* d + d / 2 stays representable */
		max_ms = INT64_MAX / 2;
	if (base_ms > max_ms)
		base_ms = max_ms;
	if (max_ms < base_ms)
		max_ms = base_ms;
	int64_t d = base_ms;
	for (int k = 1; k < attempt && d < max_ms; k++)
		d = d > max_ms / 2 ? max_ms : d * 2;
	if (d > max_ms)
		d = max_ms;
	return d + (int64_t)(mde_rand64() % (uint64_t)(d / 2 + 1));
}
