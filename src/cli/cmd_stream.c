/*
 * cmd_stream.c - `mdenrich stream`: live enrichment from Binance's kline
 * WebSocket streams (src/pipeline/stream.h) until SIGINT/SIGTERM.
 */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "log.h"
#include "stream.h"

int mde_cmd_stream(const mde_config *cfg, const mde_cli *cli)
{
	bool spot = cli->source && strcmp(cli->source, "binance-spot") == 0;
	if (cli->source && !spot && strcmp(cli->source, "binance") != 0) {
		fprintf(stderr, "mdenrich stream: --source must be binance or "
			"binance-spot (the streams are Binance's)\n");
		return MDE_EXIT_USAGE;
	}
	mde_stream_opts o = {
		.symbols = cli->symbols,
		.timeframe = cli->timeframe,
		.source = spot ? "binance-spot" : "binance",
		.ws_url = cli->ws_url ? cli->ws_url
			  : spot ? cfg->binance_ws_url : cfg->binance_fws_url,
		.ws_path = cfg->ws_path,
		.batch_ms = cfg->stream_batch_ms,
		.quiet_ms = cfg->stream_quiet_ms,
		.silence_ms = cfg->stream_silence_ms,
		.aux_every_ms = cfg->stream_aux_every_ms,
		.aux_lag_ms = cfg->stream_aux_lag_ms,
		.writers = cfg->stream_writers,
	};
	mde_install_signal_handlers();
	mde_pipeline p;
	mde_err err = {0};
	char args[1024];
	snprintf(args, sizeof args, "stream %s %s %s", o.symbols, o.timeframe,
		 o.source);
	int code = mde_pipeline_open(&p, cfg, MDE_RUN_MANUAL, args, &err);
	if (code) {
		fprintf(stderr, "mdenrich stream: %s\n", err.msg);
		mde_pipeline_close(&p, code, err.msg);
		return code;
	}
	code = mde_pipeline_stream(&p, &o);
	mde_info("stream.exit", "written=%zu unchanged=%zu rejected=%zu "
		 "corrections=%zu exit=%d", p.rows_written, p.rows_unchanged,
		 p.rows_rejected, p.corrections, code);
	mde_pipeline_close(&p, code, NULL);
	return code;
}
