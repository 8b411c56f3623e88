/* testutil.c - see testutil.h. */
#include "testutil.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

const char *mde_test_bin(void)
{
	const char *b = getenv("MDE_BIN");
	return b && *b ? b : "build/mdenrich";
}

static void slurp(const char *path, char *buf, size_t len)
{
	if (!buf || !len)
		return;
	buf[0] = '\0';
	FILE *f = fopen(path, "r");
	if (!f)
		return;
	size_t n = fread(buf, 1, len - 1, f);
	buf[n] = '\0';
	fclose(f);
}

int mde_test_sh(char *out, size_t outlen, char *errbuf, size_t errlen,
		const char *fmt, ...)
{
	char cmd[8192], ofile[] = "/tmp/mdetest-outXXXXXX",
			 efile[] = "/tmp/mdetest-errXXXXXX";
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof cmd, fmt, ap);
	va_end(ap);
	int ofd = mkstemp(ofile), efd = mkstemp(efile);
	if (ofd < 0 || efd < 0) {
		perror("mkstemp");
		exit(1);
	}
	close(ofd);
	close(efd);
	char full[8400];
	snprintf(full, sizeof full, "( %s ) >%s 2>%s", cmd, ofile, efile);
	int st = system(full);
	slurp(ofile, out, outlen);
	slurp(efile, errbuf, errlen);
	unlink(ofile);
	unlink(efile);
	if (st == -1)
		return -1;
	if (WIFSIGNALED(st))
		return 128 + WTERMSIG(st);
	return WEXITSTATUS(st);
}

static PGconn *admin(void)
{
	const char *url = getenv("MDE_TEST_DB_URL");
	if (!url || !*url) {
		fprintf(stderr, "MDE_TEST_DB_URL is not set: run the tests with "
				"scripts/test.sh, which starts a private "
				"PostgreSQL\n");
		exit(1);
	}
	return mde_testdb_connect(url);
}

PGconn *mde_testdb_connect(const char *conninfo)
{
	PGconn *c = PQconnectdb(conninfo);
	if (PQstatus(c) != CONNECTION_OK) {
		fprintf(stderr, "test database: %s", PQerrorMessage(c));
		exit(1);
	}
	PQclear(PQexec(c, "SET client_min_messages = warning"));
	return c;
}

static void exec_or_die(PGconn *c, const char *sql)
{
	PGresult *r = PQexec(c, sql);
	if (PQresultStatus(r) != PGRES_COMMAND_OK &&
	    PQresultStatus(r) != PGRES_TUPLES_OK) {
		fprintf(stderr, "%s: %s", sql, PQerrorMessage(c));
		exit(1);
	}
	PQclear(r);
}

/*
 * The database names of this build tree: name + a suffix from the build
 * directory, so that two suites (say the normal and the sanitizer build)
 * can run at once on one server without dropping each other's databases.
 */
static const char *db_name(const char *name)
{
	static char buf[64];
	const char *dir = getenv("MDE_BUILD_DIR");
	unsigned long h = 5381;
	for (const char *p = dir ? dir : ""; *p; p++)
		h = h * 33 + (unsigned char)*p;
	snprintf(buf, sizeof buf, "%.40s_%05lu", name, h % 100000);
	return buf;
}

void mde_testdb_create(const char *name, char *conninfo, size_t len)
{
	PGconn *c = admin();
	char sql[256];
	name = db_name(name);
	snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s WITH (FORCE)",
		 name);
	exec_or_die(c, sql);
	snprintf(sql, sizeof sql, "CREATE DATABASE %s", name);
	exec_or_die(c, sql);
	/* Same server and user as the admin URL, another database. */
	PQconninfoOption *opts = PQconninfo(c);
	size_t used = 0;
	conninfo[0] = '\0';
	for (PQconninfoOption *o = opts; o && o->keyword; o++) {
		if (!o->val || !*o->val || !strcmp(o->keyword, "dbname"))
			continue;
		if (strcmp(o->keyword, "host") && strcmp(o->keyword, "port") &&
		    strcmp(o->keyword, "user") &&
		    strcmp(o->keyword, "password") &&
		    strcmp(o->keyword, "hostaddr"))
			continue;
		used += (size_t)snprintf(conninfo + used, len - used,
					 "%s='%s' ", o->keyword, o->val);
	}
	snprintf(conninfo + used, len - used, "dbname='%s'", name);
	PQconninfoFree(opts);
	PQfinish(c);
}

void mde_testdb_drop(const char *name)
{
	PGconn *c = admin();
	char sql[256];
	name = db_name(name);
	snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s WITH (FORCE)",
		 name);
	exec_or_die(c, sql);
	PQfinish(c);
}

void mde_testdb_value(PGconn *c, const char *sql, char *out, size_t len)
{
	PGresult *r = PQexec(c, sql);
	if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) < 1) {
		fprintf(stderr, "%s: %s", sql, PQerrorMessage(c));
		exit(1);
	}
	snprintf(out, len, "%s", PQgetvalue(r, 0, 0));
	PQclear(r);
}

long long mde_testdb_count(PGconn *c, const char *sql)
{
	char buf[64];
	mde_testdb_value(c, sql, buf, sizeof buf);
	return atoll(buf);
}

int mde_test_rmtree(const char *dir)
{
	char cmd[1100];
	if (snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir) >= (int)sizeof cmd)
		return -1;
	return system(cmd) == 0 ? 0 : -1;
}
