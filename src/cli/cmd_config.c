/* cmd_config.c - `mdenrich config`: the effective settings, secrets masked. */
#include <stdio.h>

#include "commands.h"
#include "log.h"
#include "timeutil.h"

int mde_cmd_config(const mde_config *cfg, const mde_cli *cli)
{
	char buf[1024];
	printf("# effective configuration (file: %s)\n",
	       cfg->config_path ? cfg->config_path : "none");
	printf("[database]\nurl = %s\n", mde_redact(cfg->db_url, buf, sizeof buf));
	printf("connect_timeout = %d\nmax_retries = %d\n",
	       cfg->db_connect_timeout_s, cfg->db_max_retries);
	printf("\n[sources]\nbinance_url = %s\n",
	       mde_redact(cfg->binance_url, buf, sizeof buf));
	printf("binance_spot_url = %s\n",
	       mde_redact(cfg->binance_spot_url, buf, sizeof buf));
	printf("binance_fws_url = %s\nbinance_ws_url = %s\n"
	       "binance_ws_path = %s\n",
	       mde_redact(cfg->binance_fws_url, buf, sizeof buf),
	       cfg->binance_ws_url, cfg->ws_path);
	printf("yahoo_url = %s\n", mde_redact(cfg->yahoo_url, buf, sizeof buf));
	printf("polygon_url = %s\n",
	       mde_redact(cfg->polygon_url, buf, sizeof buf));
	printf("polygon_api_key = %s\n",
	       cfg->polygon_key && *cfg->polygon_key ? "***" : "");
	printf("\n[http]\nconnect_timeout_ms = %d\ntimeout_ms = %d\n"
	       "max_attempts = %d\nbackoff_ms = %d\nmax_body_bytes = %ld\n"
	       "weight_budget = %d\nbreaker_threshold = %d\n"
	       "breaker_cooldown_ms = %d\n",
	       cfg->http_connect_timeout_ms, cfg->http_timeout_ms,
	       cfg->http_max_attempts, cfg->http_backoff_ms,
	       cfg->http_max_body_bytes, cfg->weight_budget,
	       cfg->breaker_threshold, cfg->breaker_cooldown_ms);
	static const char *levels[] = {"debug", "info", "warn", "error"};
	printf("\n[log]\nformat = %s\nlevel = %s\n",
	       cfg->log_format < 0 ? "auto"
	       : cfg->log_format == MDE_LOG_TEXT ? "text" : "json",
	       levels[cfg->log_level & 3]);
	/* The chunk as written, unless a flag changed it since. */
	int64_t written = 0;
	char chunk[32];
	if (mde_duration_parse(cfg->chunk_text, &written) == 0 &&
	    written == cfg->chunk_ms)
		snprintf(chunk, sizeof chunk, "%s", cfg->chunk_text);
	else
		mde_duration_format(cfg->chunk_ms, chunk, sizeof chunk);
	printf("\n[run]\noverlap = %d\nchunk = %s\nlease_seconds = %d\n"
	       "batch_rows = %d\nwriters = %d\n",
	       cfg->overlap, chunk, cfg->lease_s, cfg->batch_rows,
	       cfg->writers);
	printf("\n[archive]\nmode = %s\nurl = %s\ncache_dir = %s\n"
	       "parallel = %d\n", cfg->archive ? cfg->archive : "auto",
	       cfg->archive_url ? mde_redact(cfg->archive_url, buf, sizeof buf)
				: "",
	       cfg->archive_cache ? cfg->archive_cache : "",
	       cfg->archive_parallel);
	printf("\n[stream]\nbatch_ms = %d\nquiet_ms = %d\nsilence_ms = %d\n"
	       "aux_every_ms = %d\naux_lag_ms = %d\nwriters = %d\n",
	       cfg->stream_batch_ms, cfg->stream_quiet_ms,
	       cfg->stream_silence_ms, cfg->stream_aux_every_ms,
	       cfg->stream_aux_lag_ms, cfg->stream_writers);
	for (size_t i = 0; i < cfg->nuniverses; i++) {
		const mde_universe *u = &cfg->universes[i];
		printf("\n[universe %s]\nsymbols = %s\ntimeframe = %s\n"
		       "source = %s\nasset_class = %s\nschedule = %s\n"
		       "since = %s\nfallback = %s\n",
		       u->name, u->symbols, u->timeframe, u->source,
		       u->asset_class, u->schedule, u->since, u->fallback);
	}
	return MDE_EXIT_OK;
}
