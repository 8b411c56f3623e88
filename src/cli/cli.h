/*
 * cli.h - the command line of docs/CLI.md, parsed with getopt_long. Parsing
 * only reads and checks arguments; it changes nothing. Pointers in mde_cli
 * point into argv and live as long as it does.
 */
#ifndef MDE_CLI_H
#define MDE_CLI_H

#include <stdio.h>

#include "mde.h"

enum mde_cmd {
	MDE_CMD_NONE,
	MDE_CMD_MIGRATE,
	MDE_CMD_RUN,
	MDE_CMD_BACKFILL,
	MDE_CMD_RESUME,
	MDE_CMD_WORKER,
	MDE_CMD_STATUS,
	MDE_CMD_QUALITY,
	MDE_CMD_COMPUTE,
	MDE_CMD_CONFIG,  /* print the effective configuration */
	MDE_CMD_JOBS,    /* every backfill job */
	MDE_CMD_CANCEL,  /* stop a job for good */
	MDE_CMD_PRUNE,   /* delete old log rows and finished jobs */
	MDE_CMD_IMPORT,  /* load local Binance kline files */
	MDE_CMD_SERVE,   /* the HTTP API and dashboard */
	MDE_CMD_STREAM,
	MDE_CMD_HELP,    /* --help printed; exit 0 */
	MDE_CMD_VERSION  /* --version printed; exit 0 */
};

typedef struct mde_cli {
	int cmd;
	const char *cmd_name;

	/* settings that override the config file and environment */
	const char *config_path;
	const char *db_url;
	const char *binance_url, *binance_spot_url, *yahoo_url, *polygon_url;
	const char *log_format, *log_level;
	const char *concurrency;   /* [http] concurrency, or NULL */
	const char *writers;       /* [run] writers, or NULL */

	/* run, backfill */
	const char *schedule;      /* "hourly" | "nightly" */
	const char *symbols;       /* comma separated, canonical */
	const char *symbols_given; /* as typed, when normalising changed it */
	const char *timeframe;
	int64_t period_ms;
	const char *source;        /* binance|binance-spot|yahoo|polygon|replay:DIR */
	const char *asset_class;
	int overlap;               /* -1 = from config */
	int64_t since_ms, until_ms;/* INT64_MIN = not given */
	int64_t from_ms, to_ms;
	int64_t chunk_ms;          /* 0 = from config */
	const char *archive;       /* auto|only|off, NULL = from config */
	const char *archive_url;

	/* resume, worker */
	int64_t job_id;            /* 0 = every unfinished job */
	long max_jobs;             /* 0 = no limit */
	bool idle_exit;

	/* status, quality */
	const char *format;        /* table|json|csv */
	const char *symbol;

	/* prune */
	int64_t older_than_ms;     /* 0 = not given */
	bool dry_run;
	/* import: the files and directories after the options */
	char **files;
	int nfiles;
	/* serve */
	const char *listen, *token_file, *cors_origin;
	int max_requests;          /* 0 = the server's default */

	/* stream */
	const char *ws_url;

	/* compute */
	const char *input, *output, *funding, *open_interest, *long_short,
		*liquidations, *inflow;

	/* storage of the normalised --symbols / --symbol */
	char symbols_buf[2048], symbol_buf[64];
	long days;                 /* --days N, 0 = not given */
	bool open_start;           /* --timerange -B: from the first candle */
	bool open_end;             /* --timerange A-: up to now */
} mde_cli;

/*
 * Parses argv. Returns 0 when a command is ready to run, or an exit code:
 * MDE_EXIT_USAGE after writing the problem to errf, MDE_EXIT_OK after
 * printing help or the version to out (cli->cmd says which).
 */
int mde_cli_parse(int argc, char **argv, mde_cli *cli, FILE *out,
		  FILE *errf);

/* mde_symbols_check and mde_source_check: config.h (the config file's
 * values pass the same checks). */

#endif
