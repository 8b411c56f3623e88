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

/* stdout and stderr of the last mde_cli() / mde_cli_must(). */
extern char mde_cli_out[65536], mde_cli_err[65536];

/* Runs `mdenrich --config CONF --db DB --log-format json ARGS`; returns
 * its exit code, output in mde_cli_out / mde_cli_err. */
int mde_cli(const char *conf, const char *db, const char *args);
/* The same; fails the test (with stderr) when the exit code is not 0. */
void mde_cli_must(const char *conf, const char *db, const char *args);
/* A fresh database `name` (see mde_testdb_create), migrated with the
 * binary; db receives its conninfo. */
PGconn *mde_fresh_db(const char *conf, const char *name, char *db,
		     size_t len);

/* Starts `mdenrich ARGS` (split on spaces, no quoting) with stdout and
 * stderr appended to logfile; returns its pid. */
pid_t mde_spawn(const char *logfile, const char *args);
/* Waits for pid; returns its exit code, or 128 + signal. */
int mde_wait(pid_t pid);

#endif
