/* storeutil.c - see storeutil.h. */
#include "storeutil.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "candles.h"
#include "testutil.h"

static PGresult *dump(PGconn *c)
{
	char sql[4096] = "SELECT symbol, timeframe, (extract(epoch FROM "
			 "open_time) * 1000)::int8, asset_class, source, open, "
			 "high, low, close, volume, quote_volume, "
			 "taker_buy_base, taker_buy_quote, trades, "
			 "validation_flags, quality_score, feature_version, "
			 "revision";
	for (int k = 0; k < MDE_NFEATURES; k++) {
		strcat(sql, ", ");
		strcat(sql, mde_column_names[k]);
	}
	strcat(sql, " FROM market_data_v2 ORDER BY symbol, timeframe, "
		    "open_time");
	PGresult *r = PQexec(c, sql);
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		fprintf(stderr, "dump: %s", PQerrorMessage(c));
		exit(1);
	}
	return r;
}

static bool close_enough(const char *x, const char *y)
{
	double a = strtod(x, NULL), b = strtod(y, NULL);
	double d = fabs(a - b), m = fmax(fabs(a), fabs(b));
	return d <= 1e-9 * m || d <= 1e-12;
}

bool mde_tables_equal(PGconn *ca, PGconn *cb, char *why, size_t len)
{
	PGresult *a = dump(ca), *b = dump(cb);
	bool eq = true;
	if (PQntuples(a) != PQntuples(b)) {
		snprintf(why, len, "%d rows vs %d rows", PQntuples(a),
			 PQntuples(b));
		eq = false;
		goto done;
	}
	int nf = PQnfields(a), first_float = 15; /* quality_score on */
	for (int i = 0; i < PQntuples(a) && eq; i++) {
		for (int f = 0; f < nf; f++) {
			bool na = PQgetisnull(a, i, f), nb = PQgetisnull(b, i, f);
			const char *x = PQgetvalue(a, i, f),
				   *y = PQgetvalue(b, i, f);
			bool same = na == nb &&
				    (na || strcmp(x, y) == 0 ||
				     (f >= first_float && f != 16 && f != 17 &&
				      close_enough(x, y)));
			if (!same) {
				snprintf(why, len, "%s %s t=%s column %s: "
					 "\"%s\" vs \"%s\"",
					 PQgetvalue(a, i, 0),
					 PQgetvalue(a, i, 1),
					 PQgetvalue(a, i, 2), PQfname(a, f),
					 na ? "NULL" : x, nb ? "NULL" : y);
				eq = false;
				break;
			}
		}
	}
done:
	PQclear(a);
	PQclear(b);
	return eq;
}

pid_t mde_spawn(const char *logfile, const char *args)
{
	char *copy = strdup(args);
	char *argv[64];
	int n = 0;
	argv[n++] = (char *)mde_test_bin();
	for (char *save = NULL, *t = strtok_r(copy, " ", &save); t && n < 63;
	     t = strtok_r(NULL, " ", &save))
		argv[n++] = t;
	argv[n] = NULL;
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		int fd = open(logfile, O_WRONLY | O_CREAT | O_APPEND, 0644);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execv(argv[0], argv);
		_exit(127);
	}
	free(copy);
	return pid;
}

int mde_wait(pid_t pid)
{
	int st = 0;
	while (waitpid(pid, &st, 0) < 0)
		;
	return WIFSIGNALED(st) ? 128 + WTERMSIG(st) : WEXITSTATUS(st);
}

char mde_cli_out[65536], mde_cli_err[65536];

int mde_cli(const char *conf, const char *db, const char *args)
{
	return mde_test_sh(mde_cli_out, sizeof mde_cli_out, mde_cli_err,
			   sizeof mde_cli_err,
			   "%s --config %s --db \"%s\" --log-format json %s",
			   mde_test_bin(), conf, db, args);
}

void mde_cli_must(const char *conf, const char *db, const char *args)
{
	int rc = mde_cli(conf, db, args);
	if (rc != 0)
		fail_msg("mdenrich %s: exit %d\n%s", args, rc, mde_cli_err);
}

PGconn *mde_fresh_db(const char *conf, const char *name, char *db,
		     size_t len)
{
	mde_testdb_create(name, db, len);
	mde_cli_must(conf, db, "migrate");
	return mde_testdb_connect(db);
}
