/*
 * cmd_run.c - `mdenrich run`: incremental enrichment of each series from
 * its last stored candle (minus the overlap that re-checks amendments) to
 * the last closed candle, for the series of the command line or of the
 * config file's universes of a schedule.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "log.h"
#include "pipeline.h"
#include "timeutil.h"

int mde_cmd_run(const mde_config *cfg, const mde_cli *cli)
{
	int kind = !cli->schedule ? MDE_RUN_MANUAL
		   : strcmp(cli->schedule, "hourly") == 0 ? MDE_RUN_HOURLY
							  : MDE_RUN_NIGHTLY;
	if (cli->schedule) {
		size_t n = 0;
		for (size_t i = 0; i < cfg->nuniverses; i++)
			n += strcmp(cfg->universes[i].schedule,
				    cli->schedule) == 0;
		if (n == 0) {
			fprintf(stderr, "mdenrich run: no [universe] of the "
				"config file has schedule = %s\n",
				cli->schedule);
			return MDE_EXIT_USAGE;
		}
	}
	mde_install_signal_handlers();
	mde_pipeline p;
	mde_err err = {0};
	char args[512];
	snprintf(args, sizeof args, "run %s%s %s %s",
		 cli->schedule ? "--schedule " : "",
		 cli->schedule ? cli->schedule : "",
		 cli->symbols ? cli->symbols : "",
		 cli->timeframe ? cli->timeframe : "");
	int code = mde_pipeline_open(&p, cfg, kind, args, &err);
	if (code) {
		fprintf(stderr, "mdenrich run: %s\n", err.msg);
		mde_pipeline_close(&p, code, err.msg);
		return code;
	}
	size_t failed = 0;
	if (cli->schedule) {
		for (size_t i = 0; i < cfg->nuniverses && !code; i++) {
			const mde_universe *u = &cfg->universes[i];
			if (strcmp(u->schedule, cli->schedule) != 0)
				continue;
			mde_series_set set = {
				u->symbols, u->timeframe,
				cli->source ? cli->source : u->source,
				u->asset_class, u->since,
				cli->source ? "none" : u->fallback};
			code = mde_pipeline_run_set(&p, &set, cli->since_ms,
						    cli->until_ms, &failed);
		}
	} else {
		mde_series_set set = {cli->symbols, cli->timeframe, cli->source,
				  cli->asset_class, NULL,
				  cli->source ? "none" : NULL};
		code = mde_pipeline_run_set(&p, &set, cli->since_ms,
						    cli->until_ms, &failed);
	}
	if (!code && failed)
		code = MDE_EXIT_PARTIAL;
	mde_info("run.done", "series=%zu failed=%zu fetched=%zu written=%zu "
		 "unchanged=%zu rejected=%zu corrections=%zu exit=%d",
		 p.series_total, p.series_failed, p.rows_fetched,
		 p.rows_written, p.rows_unchanged, p.rows_rejected,
		 p.corrections, code);
	mde_pipeline_close(&p, code, NULL);
	return code;
}
