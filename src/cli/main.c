/*
 * main.c - parse the command line, resolve the configuration in docs/CLI.md's
 * order (defaults < file < environment < flags), set up logging and run one
 * subcommand. The only place that exits the process.
 */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "config.h"
#include "log.h"

/* Applies the flags that override the config file and the environment. */
static int apply_flags(mde_config *cfg, const mde_cli *cli, mde_err *err)
{
	const struct {
		const char *v, *section, *key;
	} flags[] = {
		{cli->db_url, "database", "url"},
		{cli->binance_url, "sources", "binance_url"},
		{cli->binance_spot_url, "sources", "binance_spot_url"},
		{cli->yahoo_url, "sources", "yahoo_url"},
		{cli->polygon_url, "sources", "polygon_url"},
		{cli->archive, "archive", "mode"},
		{cli->archive_url, "archive", "url"},
		{cli->log_format, "log", "format"},
		{cli->log_level, "log", "level"},
		{cli->concurrency, "http", "concurrency"},
		{cli->writers, "run", "writers"},
	};
	for (size_t i = 0; i < MDE_ARRAY_LEN(flags); i++)
		if (flags[i].v) {
			int rc = mde_config_set(cfg, flags[i].section,
						flags[i].key, flags[i].v, err);
			if (rc)
				return rc;
		}
	if (cli->overlap >= 0)
		cfg->overlap = cli->overlap;
	if (cli->chunk_ms > 0)
		cfg->chunk_ms = cli->chunk_ms;
	return 0;
}

/*
 * Overwrites the --db value in argv once the configuration holds its own
 * copy: the process title (ps, /proc/PID/cmdline) then shows no password.
 */
static void scrub_db_arg(int argc, char **argv, mde_cli *cli)
{
	char *v = (char *)cli->db_url;
	for (int i = 0; v && i < argc; i++) {
		size_t n = strlen(argv[i]);
		if (v >= argv[i] && v <= argv[i] + n) {
			memset(v, '*', strlen(v));
			break;
		}
	}
	cli->db_url = NULL;
}

static int dispatch(const mde_config *cfg, const mde_cli *cli)
{
	switch (cli->cmd) {
	case MDE_CMD_MIGRATE: return mde_cmd_migrate(cfg, cli);
	case MDE_CMD_COMPUTE: return mde_cmd_compute(cfg, cli);
	case MDE_CMD_RUN: return mde_cmd_run(cfg, cli);
	case MDE_CMD_BACKFILL: return mde_cmd_backfill(cfg, cli);
	case MDE_CMD_RESUME: return mde_cmd_resume(cfg, cli);
	case MDE_CMD_WORKER: return mde_cmd_worker(cfg, cli);
	case MDE_CMD_STATUS: return mde_cmd_status(cfg, cli);
	case MDE_CMD_QUALITY: return mde_cmd_quality(cfg, cli);
	case MDE_CMD_CONFIG: return mde_cmd_config(cfg, cli);
	case MDE_CMD_JOBS: return mde_cmd_jobs(cfg, cli);
	case MDE_CMD_CANCEL: return mde_cmd_cancel(cfg, cli);
	case MDE_CMD_PRUNE: return mde_cmd_prune(cfg, cli);
	case MDE_CMD_IMPORT: return mde_cmd_import(cfg, cli);
	case MDE_CMD_SERVE: return mde_cmd_serve(cfg, cli);
	case MDE_CMD_STREAM: return mde_cmd_stream(cfg, cli);
	}
	return MDE_EXIT_USAGE;
}

int main(int argc, char **argv)
{
	mde_cli cli;
	int code = mde_cli_parse(argc, argv, &cli, stdout, stderr);
	if (code != 0 || cli.cmd == MDE_CMD_HELP || cli.cmd == MDE_CMD_VERSION)
		exit(code);
	/* Blocks of 256 KiB and more (a 30-day chunk's columns, a month's
	 * candles) get pages of their own and give them back when freed.
	 * glibc's default raises this bound after each such free, and then
	 * keeps what fetch threads and writers free in their arenas: a
	 * 5-symbol 3-month backfill peaked at 230 MB instead of 147 with
	 * 1 MiB, and a 5-symbol year at 126-147 MB with 1 MiB against
	 * 108-114 MB with 256 KiB (docs/DECISIONS.md). `compute`, one
	 * thread, keeps the default: it reuses what it frees. */
	if (cli.cmd != MDE_CMD_COMPUTE)
		mallopt(M_MMAP_THRESHOLD, 256 << 10);

	mde_config cfg;
	mde_err err = {0};
	if (mde_config_defaults(&cfg) ||
	    mde_config_load_file(&cfg, cli.config_path, &err) ||
	    mde_config_load_env(&cfg, &err) || apply_flags(&cfg, &cli, &err)) {
		fprintf(stderr, "mdenrich %s: configuration error: %s\n",
			cli.cmd_name, err.msg[0] ? err.msg : "out of memory");
		mde_config_free(&cfg);
		exit(MDE_EXIT_USAGE);
	}
	scrub_db_arg(argc, argv, &cli);
	mde_config_register_secrets(&cfg);
	mde_log_setup(stderr, cfg.log_format);
	mde_log_level = cfg.log_level;
	if (cli.symbols_given)
		mde_info("symbols.normalized", "given=\"%s\" symbols=%s",
			 cli.symbols_given, cli.symbols);

	code = dispatch(&cfg, &cli);
	mde_config_free(&cfg);
	mde_log_clear_secrets();
	exit(code);
}
