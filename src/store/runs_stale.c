/* runs_stale.c - stale enrichment_runs rows (runs.h). */
#include "runs.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "log.h"

/* Whether a run of (host, pid) seen from this_host can still be alive. */
static bool may_be_alive(const char *host, const char *pid_text,
			 const char *this_host, int self_pid, bool silent)
{
	if (strcmp(host, this_host) != 0)
		return !silent;
	long pid = strtol(pid_text, NULL, 10);
	if (pid <= 0)
		return !silent;
	if (pid == self_pid)
		return true;
	return kill((pid_t)pid, 0) == 0 || errno != ESRCH;
}

static int mark(PGconn *c, const char *run, const char *why, mde_err *err)
{
	const char *v[] = {run, why};
	return mde_db_params(c,
			     "UPDATE enrichment_runs SET status = "
			     "'interrupted', finished_at = now(), error = $2 "
			     "WHERE run_id = $1 AND status = 'running'",
			     2, v, PGRES_COMMAND_OK, NULL, err);
}

int mde_store_runs_reap(mde_store *s, const char *host, int self_pid,
			size_t *n, mde_err *err)
{
	*n = 0;
	PGconn *c = mde_store_conn(s);
	char stale[16];
	snprintf(stale, sizeof stale, "%d", MDE_RUN_STALE_S);
	const char *v[] = {stale};
	PGresult *r = NULL;
	int rc = mde_db_params(
		c,
		"SELECT run_id, coalesce(host, ''), coalesce(pid, 0), "
		"coalesce(heartbeat_at, started_at) < now() - make_interval("
		"secs => $1::int) FROM enrichment_runs WHERE status = "
		"'running'",
		1, v, PGRES_TUPLES_OK, &r, err);
	if (rc)
		return rc;
	for (int i = 0; i < PQntuples(r) && !rc; i++) {
		const char *run = PQgetvalue(r, i, 0), *h = PQgetvalue(r, i, 1),
			   *pid = PQgetvalue(r, i, 2);
		bool silent = strcmp(PQgetvalue(r, i, 3), "t") == 0;
		if (may_be_alive(h, pid, host, self_pid, silent))
			continue;
		char why[320];
		snprintf(why, sizeof why,
			 "process %.128s:%s ended without finishing the run (%s)",
			 h, pid, strcmp(h, host) == 0 ? "no such process"
						      : "no heartbeat");
		if ((rc = mark(c, run, why, err)))
			break;
		mde_warn("run.stale", "stale_run=%s host=%s pid=%s status="
			 "interrupted", run, h, pid);
		(*n)++;
	}
	PQclear(r);
	return rc;
}

int mde_store_run_heartbeat(mde_store *s, int64_t run_id, mde_err *err)
{
	char run[24];
	snprintf(run, sizeof run, "%lld", (long long)run_id);
	const char *v[] = {run};
	return mde_db_params(mde_store_conn(s),
			     "UPDATE enrichment_runs SET heartbeat_at = now() "
			     "WHERE run_id = $1",
			     1, v, PGRES_COMMAND_OK, NULL, err);
}
