/*
 * cmd_backfill.c - `mdenrich backfill`, `resume` and `worker`: durable jobs
 * of chunks (jobs.h) run by one loop. backfill creates a job and runs it;
 * resume runs what is left of every unfinished job (or one); worker claims
 * chunks of any job until told to stop. Any number of them may run at once,
 * on any number of hosts, against one database.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "jobs.h"
#include "log.h"
#include "pipeline.h"
#include "runs.h"
#include "timeutil.h"

static int start(mde_pipeline *p, const mde_config *cfg, int kind,
		 const char *what)
{
	mde_install_signal_handlers();
	mde_err err = {0};
	int code = mde_pipeline_open(p, cfg, kind, what, &err);
	if (code) {
		fprintf(stderr, "mdenrich: %s\n", err.msg);
		mde_pipeline_close(p, code, err.msg);
	}
	return code;
}

static int finish(mde_pipeline *p, int code)
{
	mde_info("backfill.done", "chunks=%zu failed=%zu fetched=%zu "
		 "written=%zu unchanged=%zu rejected=%zu corrections=%zu "
		 "exit=%d", p->series_total, p->series_failed, p->rows_fetched,
		 p->rows_written, p->rows_unchanged, p->rows_rejected,
		 p->corrections, code);
	mde_pipeline_close(p, code, NULL);
	return code;
}

int mde_cmd_backfill(const mde_config *cfg, const mde_cli *cli)
{
	/* A --source is that source only; without it, the asset class's
	 * default plan (polygon+yahoo for equity). */
	char source[600], why[256];
	enum mde_asset a;
	if (mde_pipeline_sources(cli->source, cli->source ? "none" : NULL,
				 cli->asset_class, cli->symbols, source,
				 sizeof source, &a, why, sizeof why)) {
		fprintf(stderr, "mdenrich backfill: %s\n", why);
		return MDE_EXIT_USAGE;
	}
	const char *asset = mde_asset_name(a);
	if (a == MDE_EQUITY && strcmp(cli->timeframe, "1d") != 0) {
		fprintf(stderr, "mdenrich backfill: equity series are 1d "
			"only\n");
		return MDE_EXIT_USAGE;
	}
	mde_pipeline p;
	int code = start(&p, cfg, MDE_RUN_BACKFILL, "backfill");
	if (code)
		return code;
	int64_t job = 0;
	size_t nchunks = 0;
	mde_err err = {0};
	int rc, tries = 0;
	/* One transaction: after a lost connection it is simply tried again
	 * once the database is back. */
	while ((rc = mde_job_create(p.store, cli->symbols, cli->timeframe,
				    cli->period_ms, asset, source, cli->from_ms,
				    cli->to_ms, cfg->chunk_ms, p.run_id, &job,
				    &nchunks, &err)) &&
	       err.code == MDE_EDB && tries++ < 10 &&
	       mde_pipeline_recover(&p, &err) == 0)
		;
	if (rc) {
		fprintf(stderr, "mdenrich backfill: %s\n", err.msg);
		return finish(&p, err.code == MDE_EINVAL ? MDE_EXIT_USAGE
							 : MDE_EXIT_FATAL);
	}
	printf("%lld\n", (long long)job);
	fflush(stdout);
	mde_info("backfill.job", "job=%lld chunks=%zu symbols=%s", (long long)job,
		 nchunks, cli->symbols);
	return finish(&p, mde_pipeline_drain(&p, MDE_DRAIN_JOB, job, 0, true));
}

int mde_cmd_resume(const mde_config *cfg, const mde_cli *cli)
{
	mde_pipeline p;
	int code = start(&p, cfg, MDE_RUN_BACKFILL, "resume");
	if (code)
		return code;
	if (cli->job_id) {
		bool exists = false;
		mde_err err = {0};
		if (mde_store_job_exists(p.store, cli->job_id, &exists, &err)) {
			fprintf(stderr, "mdenrich resume: %s\n", err.msg);
			return finish(&p, MDE_EXIT_FATAL);
		}
		if (!exists) {
			fprintf(stderr, "mdenrich resume: no backfill job %lld\n",
				(long long)cli->job_id);
			return finish(&p, MDE_EXIT_USAGE);
		}
	}
	return finish(&p, mde_pipeline_drain(&p, MDE_DRAIN_JOB, cli->job_id, 0, true));
}

int mde_cmd_worker(const mde_config *cfg, const mde_cli *cli)
{
	mde_pipeline p;
	int code = start(&p, cfg, MDE_RUN_WORKER, "worker");
	if (code)
		return code;
	return finish(&p, mde_pipeline_drain(&p, MDE_DRAIN_WORKER, 0, cli->max_jobs,
				cli->idle_exit));
}
