/*
 * cmd_import.c - `mdenrich import` (CLI.md): local Binance kline files
 * through the same validate -> compute -> store path as a backfill
 * (pipeline/import.c). Recorded as a manual run.
 */
#include <stdio.h>

#include "commands.h"
#include "log.h"
#include "pipeline.h"

int mde_cmd_import(const mde_config *cfg, const mde_cli *cli)
{
	mde_install_signal_handlers();
	mde_pipeline p;
	mde_err err = {0};
	int code = mde_pipeline_open(&p, cfg, MDE_RUN_MANUAL, "import", &err);
	if (code) {
		fprintf(stderr, "mdenrich import: %s\n", err.msg);
		mde_pipeline_close(&p, code, err.msg);
		return code;
	}
	code = mde_pipeline_import(&p, cli->symbol, cli->timeframe,
				   cli->period_ms,
				   cli->source ? cli->source : "binance",
				   cli->files, (size_t)cli->nfiles);
	mde_info("import.done", "symbol=%s timeframe=%s written=%zu "
		 "unchanged=%zu rejected=%zu exit=%d", cli->symbol,
		 cli->timeframe, p.rows_written, p.rows_unchanged,
		 p.rows_rejected, code);
	mde_pipeline_close(&p, code, NULL);
	return code;
}
