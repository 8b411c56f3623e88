/*
 * testutil.h - helpers shared by the test programs: run the mdenrich
 * binary (or any shell command) capturing its output and exit status, and
 * give each test program a fresh database of its own on the real server
 * that scripts/test.sh started (MDE_TEST_DB_URL).
 */
#ifndef MDE_TESTUTIL_H
#define MDE_TESTUTIL_H

#include <libpq-fe.h>
#include <stddef.h>

/* The binary under test: $MDE_BIN, else build/mdenrich. */
const char *mde_test_bin(void);
/* Removes the folder dir and all below it (a test's scratch folder): 0, or
 * -1 when it could not. */
int mde_test_rmtree(const char *dir);

/*
 * Runs `sh -c CMD` (printf-style), stdout and stderr captured into out and
 * errbuf (either may be NULL; truncated to their size). Returns the exit
 * status, or 128 + signal number.
 */
int mde_test_sh(char *out, size_t outlen, char *errbuf, size_t errlen,
		const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/*
 * Drops and creates database `name` on the test server and writes a libpq
 * conninfo for it into conninfo. Aborts the test program (exit 1) with a
 * message when MDE_TEST_DB_URL is not set: database tests never skip.
 */
void mde_testdb_create(const char *name, char *conninfo, size_t len);
void mde_testdb_drop(const char *name);
/* Connects or aborts. */
PGconn *mde_testdb_connect(const char *conninfo);
/* Runs a query returning one value; copies it into out ("" for NULL). */
void mde_testdb_value(PGconn *c, const char *sql, char *out, size_t len);
long long mde_testdb_count(PGconn *c, const char *sql);

#endif
