/*
 * storeutil.h - helpers of the store and run tests: a market_data_v2 dump
 * compared value for value between two databases, and child processes of
 * the mdenrich binary that a test can kill.
 */
#ifndef MDE_STOREUTIL_H
#define MDE_STOREUTIL_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <sys/types.h>

/*
 * Compares market_data_v2 of two databases row by row: keys, source,
 * OHLCV text and integers exactly, float features within 1e-9 relative
 * (1e-12 absolute). Writes the first difference into why; true if equal.
 */
bool mde_tables_equal(PGconn *a, PGconn *b, char *why, size_t len);

/* Starts `mdenrich ARGS` (split on spaces, no quoting) with stdout and
 * stderr appended to logfile; returns its pid. */
pid_t mde_spawn(const char *logfile, const char *args);
/* Waits for pid; returns its exit code, or 128 + signal. */
int mde_wait(pid_t pid);

#endif
