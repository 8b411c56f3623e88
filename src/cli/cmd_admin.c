/*
 * cmd_admin.c - `mdenrich cancel` (stop a backfill job for good) and
 * `mdenrich prune` (delete the log rows and finished jobs older than a
 * duration). The SQL is the store's (admin.h).
 */
#include <inttypes.h>
#include <stdio.h>

#include "admin.h"
#include "commands.h"
#include "report.h"

int mde_cmd_cancel(const mde_config *cfg, const mde_cli *cli)
{
	PGconn *c = NULL;
	int code = mde_report_connect(&c, cfg, "cancel");
	if (code != MDE_EXIT_OK)
		return code;
	mde_cancel_counts n = {0};
	mde_err err = {0};
	long long id = (long long)cli->job_id;
	if (mde_store_job_cancel(c, cli->job_id, &n, &err)) {
		fprintf(stderr, "mdenrich cancel: %s\n", err.msg);
		code = MDE_EXIT_FATAL;
	} else if (!n.exists) {
		fprintf(stderr, "mdenrich cancel: no backfill job %lld "
			"(`mdenrich jobs` lists them)\n", id);
		code = MDE_EXIT_USAGE;
	} else if (n.cancelled + n.running == 0) {
		printf("job %lld: nothing left to cancel (%zu chunk(s) done "
		       "or cancelled before)\n", id, n.done);
	} else {
		printf("job %lld cancelled: %zu chunk(s) will not run%s; %zu "
		       "done chunk(s) keep what they wrote; `mdenrich resume` "
		       "skips this job\n", id, n.cancelled + n.running,
		       n.running ? ", a running one stops after its batch in "
				   "flight" : "", n.done);
	}
	PQfinish(c);
	return code;
}

int mde_cmd_prune(const mde_config *cfg, const mde_cli *cli)
{
	PGconn *c = NULL;
	int code = mde_report_connect(&c, cfg, "prune");
	if (code != MDE_EXIT_OK)
		return code;
	long long counts[MDE_PRUNE_NKINDS] = {0};
	mde_err err = {0};
	if (mde_store_prune(c, cli->older_than_ms, cli->dry_run, counts,
			    &err)) {
		fprintf(stderr, "mdenrich prune: %s (nothing deleted)\n",
			err.msg);
		PQfinish(c);
		return MDE_EXIT_FATAL;
	}
	long long total = 0;
	for (int k = 0; k < MDE_PRUNE_NKINDS; k++) {
		printf("%-24s %lld %s\n", mde_prune_names[k], counts[k],
		       k == MDE_PRUNE_JOBS ? "finished or cancelled job(s)"
					   : "row(s)");
		total += counts[k];
	}
	if (cli->dry_run)
		printf("dry run: %lld would be deleted; nothing was\n", total);
	else if (total == 0)
		printf("nothing older than that: nothing changed\n");
	else
		printf("deleted %lld; market_data_v2, data_corrections and "
		       "rejected_candles untouched\n", total);
	PQfinish(c);
	return MDE_EXIT_OK;
}
