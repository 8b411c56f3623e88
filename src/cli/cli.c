/*
 * cli.c - argument parsing for every subcommand of docs/CLI.md. Global flags
 * (--config, --db, the source URLs, --log-*) are accepted before or after
 * the subcommand. Every check that needs no database or network is done
 * here, so that a bad command line exits 2 having changed nothing.
 */
#include "cli.h"

#include <ctype.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <string.h>

#include "candles.h"
#include "config.h"
#include "log.h"
#include "symlist.h"
#include "timeutil.h"

enum {
	O_CONFIG = 1000, O_DB, O_BINANCE, O_BINANCE_SPOT, O_YAHOO, O_POLYGON,
	O_LOG_FORMAT, O_LOG_LEVEL, O_HELP, O_VERSION,
	O_SCHEDULE, O_SYMBOLS, O_TIMEFRAME, O_SINCE, O_UNTIL, O_SOURCE,
	O_OVERLAP, O_FROM, O_TO, O_CHUNK, O_JOB, O_MAX_JOBS, O_IDLE_EXIT,
	O_FORMAT, O_SYMBOL, O_ASSET, O_INPUT, O_OUTPUT, O_FUNDING, O_OI,
	O_LS, O_LIQ, O_INFLOW, O_TIMERANGE, O_DAYS, O_OLDER_THAN, O_DRY_RUN,
	O_ARCHIVE, O_ARCHIVE_URL, O_LISTEN, O_TOKEN_FILE, O_CORS, O_MAX_REQ,
	O_WS_URL, O_CONCURRENCY, O_WRITERS
};

#define GLOBAL_OPTS                                                   \
	{"config", required_argument, NULL, O_CONFIG},                \
	{"db", required_argument, NULL, O_DB},                        \
	{"binance-url", required_argument, NULL, O_BINANCE},          \
	{"binance-spot-url", required_argument, NULL, O_BINANCE_SPOT},\
	{"yahoo-url", required_argument, NULL, O_YAHOO},              \
	{"polygon-url", required_argument, NULL, O_POLYGON},          \
	{"archive-url", required_argument, NULL, O_ARCHIVE_URL},      \
	{"log-format", required_argument, NULL, O_LOG_FORMAT},        \
	{"log-level", required_argument, NULL, O_LOG_LEVEL},          \
	{"concurrency", required_argument, NULL, O_CONCURRENCY},      \
	{"writers", required_argument, NULL, O_WRITERS},              \
	{"help", no_argument, NULL, O_HELP},                          \
	{"version", no_argument, NULL, O_VERSION}

#define OPT(name, has, id) {name, has, NULL, id}
/* The Binance archive (run, backfill, resume, worker). */
#define ARCHIVE_OPTS OPT("archive", 1, O_ARCHIVE)
#define END {NULL, 0, NULL, 0}

static const struct option opts_global[] = {GLOBAL_OPTS, END};
static const struct option opts_none[] = {GLOBAL_OPTS, END};
static const struct option opts_run[] = {
	GLOBAL_OPTS, OPT("schedule", 1, O_SCHEDULE), OPT("symbols", 1, O_SYMBOLS),
	OPT("timeframe", 1, O_TIMEFRAME), OPT("since", 1, O_SINCE),
	OPT("until", 1, O_UNTIL), OPT("source", 1, O_SOURCE),
	OPT("overlap", 1, O_OVERLAP), OPT("asset-class", 1, O_ASSET),
	OPT("timerange", 1, O_TIMERANGE), OPT("days", 1, O_DAYS),
	ARCHIVE_OPTS, END};
static const struct option opts_backfill[] = {
	GLOBAL_OPTS, OPT("symbols", 1, O_SYMBOLS), OPT("timeframe", 1, O_TIMEFRAME),
	OPT("from", 1, O_FROM), OPT("to", 1, O_TO), OPT("source", 1, O_SOURCE),
	OPT("chunk", 1, O_CHUNK), OPT("asset-class", 1, O_ASSET),
	OPT("timerange", 1, O_TIMERANGE), OPT("days", 1, O_DAYS),
	ARCHIVE_OPTS, END};
static const struct option opts_resume[] = {GLOBAL_OPTS, OPT("job", 1, O_JOB),
					     ARCHIVE_OPTS, END};
static const struct option opts_prune[] = {
	GLOBAL_OPTS, OPT("older-than", 1, O_OLDER_THAN),
	OPT("dry-run", 0, O_DRY_RUN), END};
static const struct option opts_worker[] = {
	GLOBAL_OPTS, OPT("max-jobs", 1, O_MAX_JOBS),
	OPT("idle-exit", 0, O_IDLE_EXIT), ARCHIVE_OPTS, END};
static const struct option opts_status[] = {GLOBAL_OPTS,
					     OPT("format", 1, O_FORMAT), END};
static const struct option opts_quality[] = {
	GLOBAL_OPTS, OPT("symbol", 1, O_SYMBOL), OPT("timeframe", 1, O_TIMEFRAME),
	OPT("since", 1, O_SINCE), OPT("format", 1, O_FORMAT), END};
static const struct option opts_import[] = {
	GLOBAL_OPTS, OPT("symbol", 1, O_SYMBOL), OPT("timeframe", 1, O_TIMEFRAME),
	OPT("source", 1, O_SOURCE), END};
static const struct option opts_compute[] = {
	GLOBAL_OPTS, OPT("timeframe", 1, O_TIMEFRAME), OPT("asset-class", 1, O_ASSET),
	OPT("input", 1, O_INPUT), OPT("output", 1, O_OUTPUT),
	OPT("funding", 1, O_FUNDING), OPT("open-interest", 1, O_OI),
	OPT("long-short", 1, O_LS), OPT("liquidations", 1, O_LIQ),
	OPT("inflow", 1, O_INFLOW), END};

static const struct option opts_serve[] = {
	GLOBAL_OPTS, OPT("listen", 1, O_LISTEN),
	OPT("token-file", 1, O_TOKEN_FILE), OPT("cors-origin", 1, O_CORS),
	OPT("max-requests", 1, O_MAX_REQ), END};

static const struct option opts_stream[] = {
	GLOBAL_OPTS, OPT("symbols", 1, O_SYMBOLS), OPT("timeframe", 1, O_TIMEFRAME),
	OPT("source", 1, O_SOURCE), OPT("ws-url", 1, O_WS_URL), END};

static const char global_help[] =
	"Global options (before or after COMMAND):\n"
	"  --config FILE          INI config (else $MDENRICH_CONFIG, else\n"
	"                         config/mdenrich.conf; see\n"
	"                         config/mdenrich.conf.example)\n"
	"  --db URL               PostgreSQL URL (else $MDENRICH_DB_URL,\n"
	"                         $DATABASE_URL, PG*)\n"
	"  --binance-url URL      Binance USD-M futures base URL\n"
	"  --binance-spot-url URL Binance spot base URL\n"
	"  --yahoo-url URL        Yahoo chart base URL\n"
	"  --polygon-url URL      Polygon base URL (key from $POLYGON_API_KEY)\n"
	"  --archive-url URL      Binance public data archive base URL\n"
	"  --log-format text|json (default: text on a terminal, json otherwise)\n"
	"  --log-level debug|info|warn|error\n"
	"  --concurrency N        HTTP requests in flight at most (default 8)\n"
	"  --writers N            series backfill, resume and worker enrich\n"
	"                         side by side (default 2)\n"
	"  --help, --version\n";

/* The values shared by the commands that take symbols and times. */
#define SERIES_VALUES                                                   \
	"  LIST     symbols, comma separated: BTCUSDT,ETHUSDT (also btcusdt,\n" \
	"           BTC/USDT, \"BTCUSDT, ETHUSDT\")\n"                       \
	"  TF       timeframe: 1m 5m 15m 30m 1h 4h 1d (equity: 1d only), or\n" \
	"           a comma list: 1h,4h\n"                                 \
	"  TIME     2024-01-01, 2024-01-01T13:00:00Z, 2024-01-01T15:00+02:00,\n" \
	"           20240101, 20240101T1300 (UTC), or milliseconds since\n"  \
	"           1970 (at least 11 digits: 1704067200000)\n"
#define SEE_GLOBAL "Global options: `mdenrich --help`.\n"

static const struct command {
	const char *name;
	int cmd;
	const struct option *opts;
	const char *usage;
} commands[] = {
	{"migrate", MDE_CMD_MIGRATE, opts_none,
	 "mdenrich migrate\n"
	 "  Apply the missing migrations (recorded in schema_migrations).\n"
	 "  Safe to run any number of times and concurrently.\n\n"
	 "Example:\n  mdenrich --db postgresql://localhost/market migrate\n"},
	{"run", MDE_CMD_RUN, opts_run,
	 "mdenrich run --schedule hourly|nightly\n"
	 "mdenrich run --symbols LIST --timeframe TF [--since TIME] [--until TIME]\n"
	 "             [--timerange A-B] [--days N]\n"
	 "             [--source binance|binance-spot|yahoo|polygon|replay:DIR]\n"
	 "             [--overlap N] [--asset-class crypto|equity]\n"
	 "             [--archive auto|only|off] [--archive-url URL]\n"
	 "  Incremental enrichment of each series from its last stored candle\n"
	 "  (minus N overlap candles, default 24) to the last closed candle.\n"
	 "  A series with nothing stored starts at --since (inclusive);\n"
	 "  --until is exclusive. --timerange 20240101-20240301 is --since A\n"
	 "  --until B (either side may be left out); --days N is --since N\n"
	 "  days ago. --schedule runs the config file's [universe] sections\n"
	 "  of that schedule.\n\n"
	 SERIES_VALUES
	 "\nExamples:\n"
	 "  mdenrich run --symbols BTCUSDT,ETHUSDT --timeframe 1h --days 30\n"
	 "  mdenrich run --source replay:data/replay --symbols BTCUSDT \\\n"
	 "      --timeframe 1h --since 2026-05-01\n"
	 "  mdenrich --config /etc/mdenrich.conf run --schedule hourly\n"},
	{"backfill", MDE_CMD_BACKFILL, opts_backfill,
	 "mdenrich backfill --symbols LIST --timeframe TF --from TIME --to TIME\n"
	 "                  [--timerange A-B] [--days N] [--chunk DURATION]\n"
	 "                  [--source ...] [--asset-class crypto|equity]\n"
	 "                  [--archive auto|only|off] [--archive-url URL]\n"
	 "  Enrich a historical range as a durable job (prints the job id).\n"
	 "  --from is inclusive, --to exclusive. --timerange A-B is --from A\n"
	 "  --to B (20240101- = up to now, -20240301 = from 2017-08-17, the\n"
	 "  first Binance candle); --days N is --from N days ago to now.\n"
	 "  --chunk is a DURATION with its unit: 30m 12h 30d 2w (default 30d).\n"
	 "  Binance series take whole past UTC days from data.binance.vision\n"
	 "  (--archive auto, the default), REST for the rest; only: never\n"
	 "  REST; off: REST only.\n"
	 "  Interrupted (Ctrl-C, kill, power loss), `mdenrich resume` goes on.\n\n"
	 SERIES_VALUES
	 "\nExamples:\n"
	 "  mdenrich backfill --symbols BTCUSDT --timeframe 1h \\\n"
	 "      --timerange 20240101-20240301\n"
	 "  mdenrich backfill --symbols BTCUSDT,ETHUSDT --timeframe 4h \\\n"
	 "      --from 2023-01-01 --to 2024-01-01 --chunk 90d\n"},
	{"resume", MDE_CMD_RESUME, opts_resume,
	 "mdenrich resume [--job ID]\n"
	 "  Continue every unfinished backfill job, or one (ids: `mdenrich\n"
	 "  jobs`). Cancelled jobs are skipped.\n\n"
	 "Examples:\n  mdenrich resume\n  mdenrich resume --job 3\n"},
	{"worker", MDE_CMD_WORKER, opts_worker,
	 "mdenrich worker [--max-jobs N] [--idle-exit]\n"
	 "  Claim backfill chunks (each under a lease, never twice) and run\n"
	 "  them. --max-jobs stops after N chunks; --idle-exit stops when\n"
	 "  nothing is left to claim.\n\n"
	 "Examples:\n  mdenrich worker\n  mdenrich worker --idle-exit\n"},
	{"status", MDE_CMD_STATUS, opts_status,
	 "mdenrich status [--format table|json|csv]\n"
	 "  enrichment_status and backfill_state at a glance, worst first\n"
	 "  (csv: the series; `mdenrich jobs --format csv` for the jobs).\n\n"
	 "Examples:\n  mdenrich status\n  mdenrich status --format json\n"},
	{"jobs", MDE_CMD_JOBS, opts_status,
	 "mdenrich jobs [--format table|json|csv]\n"
	 "  Every backfill job with its chunks per state, progress and last\n"
	 "  error, newest first.\n\n"
	 "Examples:\n  mdenrich jobs\n  mdenrich jobs --format csv\n"},
	{"cancel", MDE_CMD_CANCEL, opts_resume,
	 "mdenrich cancel --job ID\n"
	 "  Stop a job for good: its pending and failed chunks become\n"
	 "  cancelled, a running chunk stops after its batch in flight;\n"
	 "  `resume` skips it. What was written stays.\n\n"
	 "Example:\n  mdenrich cancel --job 3\n"},
	{"prune", MDE_CMD_PRUNE, opts_prune,
	 "mdenrich prune --older-than DURATION [--dry-run]\n"
	 "  Delete enrichment_fetch_log, enrichment_compute_log and\n"
	 "  enrichment_runs rows, and finished or cancelled backfill jobs,\n"
	 "  older than DURATION (30m 12h 30d 2w). Never touches\n"
	 "  market_data_v2, data_corrections or rejected_candles. --dry-run\n"
	 "  counts what would go and deletes nothing.\n\n"
	 "Examples:\n  mdenrich prune --older-than 90d --dry-run\n"
	 "  mdenrich prune --older-than 90d\n"},
	{"quality", MDE_CMD_QUALITY, opts_quality,
	 "mdenrich quality [--symbol S] [--timeframe TF] [--since TIME]\n"
	 "                 [--format table|json|csv|html]\n"
	 "  The data_quality_metrics rows, worst first, of the days since\n"
	 "  --since (inclusive; default: the last 7 days); html: the\n"
	 "  dashboard's quality page as one self-contained file.\n\n"
	 "Examples:\n  mdenrich quality\n"
	 "  mdenrich quality --symbol BTCUSDT --since 2026-01-01 --format csv\n"
	 "  mdenrich quality --format html > quality.html\n"},
	{"serve", MDE_CMD_SERVE, opts_serve,
	 "mdenrich serve [--listen HOST:PORT] [--token-file FILE]\n"
	 "               [--cors-origin ORIGIN] [--max-requests N]\n"
	 "  The HTTP API and dashboard (docs/API.md), on 127.0.0.1:8787 by\n"
	 "  default. Reads need no token; POST needs Authorization: Bearer\n"
	 "  TOKEN (from --token-file, else $MDENRICH_API_TOKEN) and is refused\n"
	 "  when none is configured. No CORS header unless --cors-origin.\n"
	 "  --max-requests: requests in flight before 429 (default 64).\n"
	 "  Stops on SIGINT/SIGTERM once the requests in flight are done.\n\n"
	 "Examples:\n  mdenrich serve\n"
	 "  mdenrich serve --listen 0.0.0.0:8787 --token-file /etc/mdenrich/token\n"},
	{"config", MDE_CMD_CONFIG, opts_none,
	 "mdenrich config\n"
	 "  Print the effective configuration (defaults < file < environment <\n"
	 "  flags), with passwords and API keys masked.\n\n"
	 "Example:\n  mdenrich --config config/mdenrich.conf config\n"},
	{"import", MDE_CMD_IMPORT, opts_import,
	 "mdenrich import --symbol S --timeframe TF [--source binance|binance-spot]\n"
	 "                FILE|DIR...\n"
	 "  Load Binance kline files as the public archive ships them (.zip or\n"
	 "  .csv, header or none, ms or us times; a directory recursively)\n"
	 "  through validate -> compute -> store. Re-importing changes nothing.\n\n"
	 "Example:\n"
	 "  mdenrich import --symbol BTCUSDT --timeframe 1h \\\n"
	 "      BTCUSDT-1h-2024-01.zip BTCUSDT-1h-2024-02.zip\n"},
	{"stream", MDE_CMD_STREAM, opts_stream,
	 "mdenrich stream --symbols LIST --timeframe TF [--source binance|binance-spot]\n"
	 "                [--ws-url URL]\n"
	 "  Live enrichment from Binance's kline WebSocket streams: each candle\n"
	 "  is enriched when it closes; what a disconnect missed is repaired\n"
	 "  through REST. Runs until SIGINT/SIGTERM (exit 130).\n\n"
	 "Example:\n  mdenrich stream --symbols BTCUSDT,ETHUSDT --timeframe 1m\n"},
	{"compute", MDE_CMD_COMPUTE, opts_compute,
	 "mdenrich compute --timeframe TF [--asset-class crypto|equity]\n"
	 "                 [--input FILE.csv] [--output FILE.csv]\n"
	 "                 [--funding FILE.csv] [--open-interest FILE.csv]\n"
	 "                 [--long-short FILE.csv] [--liquidations FILE.csv]\n"
	 "                 [--inflow FILE.csv]\n"
	 "  No database, no network: candles as CSV in (stdin by default), the\n"
	 "  same rows with every feature column out (stdout by default).\n\n"
	 "Input columns (a header row, any order):\n"
	 "  open_time,open,high,low,close,volume      required\n"
	 "  quote_volume,trades,taker_buy_base,taker_buy_quote   optional\n"
	 "  open_time: milliseconds since 1970 or ISO 8601 UTC; an empty\n"
	 "  optional field is NULL.\n"
	 "  A Binance kline CSV as data.binance.vision ships it is read as\n"
	 "  is: 12 columns (open_time,open,high,low,close,volume,close_time,\n"
	 "  quote_volume,count,taker_buy_volume,taker_buy_quote_volume,\n"
	 "  ignore), with or without its header, ms or us times; data of\n"
	 "  another timeframe than TF is refused with one line saying so.\n"
	 "Output: the input columns, then the 22 feature columns of\n"
	 "  docs/FEATURES.md, then validation_flags,quality_score. Rows that\n"
	 "  fail validation go to stderr with their reasons.\n"
	 "Auxiliary files (times in ms or ISO 8601):\n"
	 "  --funding        funding_time,funding_rate\n"
	 "  --open-interest  timestamp,sum_open_interest\n"
	 "  --long-short     timestamp,long_short_ratio\n"
	 "  --liquidations   time,qty\n"
	 "  --inflow         timestamp,value\n"
	 "  TF: 1m 5m 15m 30m 1h 4h 1d\n\n"
	 "Example:\n"
	 "  mdenrich compute --timeframe 1h --input candles.csv \\\n"
	 "      --output features.csv\n"},
};

static void print_program_help(FILE *out)
{
	fprintf(out,
		"mdenrich %s - market-data feature enrichment into PostgreSQL\n\n"
		"Usage: mdenrich [global options] COMMAND [options]\n\n"
		"Commands:\n"
		"  migrate   apply database migrations\n"
		"  run       incremental enrichment (hourly/nightly or ad hoc)\n"
		"  backfill  enrich a historical range as a resumable job\n"
		"  resume    continue unfinished backfill jobs\n"
		"  worker    claim and run backfill chunks (any number of hosts)\n"
		"  jobs      list backfill jobs\n"
		"  cancel    stop a backfill job for good\n"
		"  status    series and backfill status\n"
		"  quality   data quality metrics, worst first\n"
		"  prune     delete old log rows and finished jobs\n"
		"  serve     HTTP API and dashboard\n"
		"  stream    live enrichment from Binance's WebSocket streams\n"
		"  compute   offline: CSV candles in, CSV features out\n"
		"  import    load Binance archive kline files (.zip/.csv)\n"
		"  config    print the effective configuration\n\n"
		"%s\n"
		"Times: --from/--since are inclusive, --to/--until exclusive; TIME\n"
		"is 2024-01-01, 2024-01-01T13:00:00Z, 20240101 or milliseconds.\n"
		"Durations carry a unit: 30m 12h 30d 2w.\n\n"
		"Examples:\n"
		"  mdenrich migrate\n"
		"  mdenrich run --symbols BTCUSDT --timeframe 1h --days 7\n"
		"  mdenrich backfill --symbols BTCUSDT --timeframe 1h "
		"--timerange 20240101-20240301\n"
		"  mdenrich status\n\n"
		"`mdenrich COMMAND --help` describes a command. Exit status: 0 done,\n"
		"1 fatal, 2 usage or configuration error, 3 some series failed,\n"
		"130 interrupted.\n",
		MDE_VERSION, global_help);
}

static int usage_error(FILE *errf, const char *cmd, const char *fmt, ...)
	MDE_PRINTF(3, 4);
static int usage_error(FILE *errf, const char *cmd, const char *fmt, ...)
{
	fprintf(errf, "mdenrich%s%s: ", cmd ? " " : "", cmd ? cmd : "");
	va_list ap;
	va_start(ap, fmt);
	vfprintf(errf, fmt, ap);
	va_end(ap);
	fprintf(errf, "\nTry `mdenrich%s%s --help`.\n", cmd ? " " : "",
		cmd ? cmd : "");
	return MDE_EXIT_USAGE;
}

/* The message for a TIME that does not parse, naming the accepted forms
 * (and both readings of an ambiguous bare number). */
static int bad_time(FILE *errf, const char *cmd, const char *flag,
		    const char *v)
{
	if (mde_time_arg_ambiguous(v))
		return usage_error(errf, cmd,
				   "%s: \"%s\" is ambiguous: a bare number is a "
				   "compact date of 8 digits (20260601 = "
				   "2026-06-01) or milliseconds since 1970 of at "
				   "least 11 digits (1780272000000)%s; write "
				   "2026-06-01 or the milliseconds",
				   flag, v, strlen(v) == 10
						    ? "; 10 digits look like "
						      "seconds: add 000"
						    : "");
	return usage_error(errf, cmd,
			   "%s: bad time \"%s\" (use 2024-01-01, "
			   "2024-01-01T13:00:00Z, 20240101, 20240101T1300 or "
			   "milliseconds such as 1704067200000; years 0000 to "
			   "9999)", flag, v);
}

static int parse_time_arg(FILE *errf, const char *cmd, const char *flag,
			  const char *v, int64_t *out)
{
	if (mde_time_arg_parse(v, out) == 0)
		return 0;
	return bad_time(errf, cmd, flag, v);
}

static int parse_duration_arg(FILE *errf, const char *cmd, const char *flag,
			      const char *v, int64_t *out)
{
	if (mde_duration_parse(v, out) == 0)
		return 0;
	size_t n = strlen(v);
	if (n && strspn(v, "0123456789") == n)
		return usage_error(errf, cmd,
				   "%s: \"%s\" has no unit; write %sd (days), "
				   "%sh, %sm (minutes) or %sw", flag, v, v, v,
				   v, v);
	return usage_error(errf, cmd, "%s: bad duration \"%s\" (a number "
			   "with a unit: 30m 12h 30d 2w; at most 36600d)", flag,
			   v);
}

/* --timerange A-B: the range flags of the command (run: since/until,
 * backfill: from/to). */
static int take_timerange(mde_cli *c, const char *arg, FILE *errf)
{
	int64_t a, b;
	if (mde_timerange_parse(arg, &a, &b))
		return usage_error(errf, c->cmd_name,
				   "--timerange: bad range \"%s\" (freqtrade's "
				   "form: 20240101-20240301, 20240101- up to "
				   "now, -20240301 from the first candle)", arg);
	bool run = c->cmd == MDE_CMD_RUN;
	if (a == INT64_MIN)
		c->open_start = true;
	else
		*(run ? &c->since_ms : &c->from_ms) = a;
	if (b != INT64_MIN)
		*(run ? &c->until_ms : &c->to_ms) = b;
	else
		c->open_end = true;
	return 0;
}

static int take_symbols(mde_cli *c, const char *arg, bool one, FILE *errf)
{
	mde_err e = {0};
	char *buf = one ? c->symbol_buf : c->symbols_buf;
	size_t cap = one ? sizeof c->symbol_buf : sizeof c->symbols_buf;
	if (mde_symlist_normalize(arg, buf, cap, &e))
		return usage_error(errf, c->cmd_name, "%s: bad symbol%s "
				   "\"%s\": %s (e.g. %s)",
				   one ? "--symbol" : "--symbols",
				   one ? "" : " list", arg, e.msg,
				   one ? "BTCUSDT" : "BTCUSDT,ETHUSDT");
	if (one && strchr(buf, ','))
		return usage_error(errf, c->cmd_name, "--symbol takes one "
				   "symbol, not \"%s\"", arg);
	if (one) {
		c->symbol = buf;
		return 0;
	}
	c->symbols = buf;
	c->symbols_given = strcmp(buf, arg) ? arg : NULL;
	return 0;
}

/* The formats of --format: table, csv, json (status, jobs, quality),
 * and html for quality. */
static int take_format(mde_cli *c, const char *arg, FILE *errf)
{
	bool html = c->cmd == MDE_CMD_QUALITY;
	if (strcmp(arg, "table") && strcmp(arg, "json") && strcmp(arg, "csv") &&
	    (!html || strcmp(arg, "html")))
		return usage_error(errf, c->cmd_name,
				   "--format must be table, csv%s or json, not "
				   "\"%s\"", html ? ", html" : "", arg);
	c->format = arg;
	return 0;
}

/* --timeframe: one, or a comma list for run and backfill (1h,4h); the
 * period is the first one's. */
static int take_timeframes(mde_cli *c, const char *arg, FILE *errf)
{
	bool list = c->cmd == MDE_CMD_RUN || c->cmd == MDE_CMD_BACKFILL;
	int64_t P = 0;
	for (const char *p = arg;;) {
		size_t n = strcspn(p, ",");
		char tf[8];
		int64_t q;
		if (n == 0 || n >= sizeof tf ||
		    (snprintf(tf, sizeof tf, "%.*s", (int)n, p),
		     mde_tf_parse(tf, &q)))
			return usage_error(errf, c->cmd_name,
					   "bad timeframe \"%s\" (one of 1m 5m "
					   "15m 30m 1h 4h 1d%s)", arg,
					   list ? ", or a comma list: 1h,4h"
						: "");
		if (!P)
			P = q;
		if (!p[n])
			break;
		if (!list)
			return usage_error(errf, c->cmd_name, "--timeframe "
					   "takes one timeframe here, not "
					   "\"%s\"", arg);
		p += n + 1;
	}
	c->period_ms = P;
	c->timeframe = arg;
	return 0;
}

static int print_help(const char *cmd, FILE *out)
{
	for (size_t i = 0; i < MDE_ARRAY_LEN(commands); i++)
		if (cmd && strcmp(commands[i].name, cmd) == 0) {
			fprintf(out, "Usage: %s\n%s", commands[i].usage,
				SEE_GLOBAL);
			return MDE_EXIT_OK;
		}
	print_program_help(out);
	return MDE_EXIT_OK;
}

/* Handles one option; returns 0 or an exit code. */
static int take(mde_cli *c, int id, const char *arg, FILE *out, FILE *errf)
{
	const char *cmd = c->cmd_name;
	long v;
	int fmt;
	switch (id) {
	case O_CONFIG: c->config_path = arg; break;
	case O_DB: c->db_url = arg; break;
	case O_BINANCE: c->binance_url = arg; break;
	case O_BINANCE_SPOT: c->binance_spot_url = arg; break;
	case O_YAHOO: c->yahoo_url = arg; break;
	case O_POLYGON: c->polygon_url = arg; break;
	case O_LOG_FORMAT:
		if (mde_log_parse_format(arg, &fmt))
			return usage_error(errf, cmd,
					   "--log-format must be text or json, "
					   "not \"%s\"", arg);
		c->log_format = arg;
		break;
	case O_LOG_LEVEL:
		if (mde_log_parse_level(arg, &fmt))
			return usage_error(errf, cmd,
					   "--log-level must be debug, info, "
					   "warn or error, not \"%s\"", arg);
		c->log_level = arg;
		break;
	case O_CONCURRENCY:
		if (mde_int_parse(arg, 1, 64, &v))
			return usage_error(errf, cmd, "--concurrency must be a "
					   "number of requests in [1, 64], not "
					   "\"%s\"", arg);
		c->concurrency = arg;
		break;
	case O_WRITERS:
		if (mde_int_parse(arg, 1, 16, &v))
			return usage_error(errf, cmd, "--writers must be a "
					   "number of series in [1, 16], not "
					   "\"%s\"", arg);
		c->writers = arg;
		break;
	case O_SCHEDULE:
		if (strcmp(arg, "hourly") && strcmp(arg, "nightly"))
			return usage_error(errf, cmd,
					   "--schedule must be hourly or "
					   "nightly, not \"%s\"", arg);
		c->schedule = arg;
		break;
	case O_SYMBOLS: return take_symbols(c, arg, false, errf);
	case O_SYMBOL: return take_symbols(c, arg, true, errf);
	case O_TIMEFRAME: return take_timeframes(c, arg, errf);
	case O_SOURCE:
		if (mde_source_check(arg))
			return usage_error(errf, cmd,
					   "--source must be binance, "
					   "binance-spot, yahoo, polygon or "
					   "replay:DIR, not \"%s\"", arg);
		c->source = arg;
		break;
	case O_WS_URL:
		if (strncmp(arg, "ws://", 5) && strncmp(arg, "wss://", 6))
			return usage_error(errf, cmd, "--ws-url must start "
					   "with ws:// or wss://, not \"%s\"",
					   arg);
		c->ws_url = arg;
		break;
	case O_ASSET:
		if (strcmp(arg, "crypto") && strcmp(arg, "equity"))
			return usage_error(errf, cmd,
					   "--asset-class must be crypto or "
					   "equity, not \"%s\"", arg);
		c->asset_class = arg;
		break;
	case O_OVERLAP:
		if (mde_int_parse(arg, 0, 1000000, &v))
			return usage_error(errf, cmd, "--overlap must be a "
					   "number of candles >= 0, not \"%s\"",
					   arg);
		c->overlap = (int)v;
		break;
	case O_SINCE: return parse_time_arg(errf, cmd, "--since", arg, &c->since_ms);
	case O_UNTIL: return parse_time_arg(errf, cmd, "--until", arg, &c->until_ms);
	case O_FROM: return parse_time_arg(errf, cmd, "--from", arg, &c->from_ms);
	case O_TO: return parse_time_arg(errf, cmd, "--to", arg, &c->to_ms);
	case O_CHUNK:
		return parse_duration_arg(errf, cmd, "--chunk", arg, &c->chunk_ms);
	case O_OLDER_THAN:
		return parse_duration_arg(errf, cmd, "--older-than", arg,
					  &c->older_than_ms);
	case O_DRY_RUN: c->dry_run = true; break;
	case O_TIMERANGE: return take_timerange(c, arg, errf);
	case O_DAYS:
		if (mde_int_parse(arg, 1, 100000, &v))
			return usage_error(errf, cmd, "--days must be a whole "
					   "number of days >= 1, not \"%s\"", arg);
		c->days = v;
		break;
	case O_JOB:
		if (mde_int_parse(arg, 1, LONG_MAX, &v))
			return usage_error(errf, cmd, "--job: bad job id \"%s\"",
					   arg);
		c->job_id = v;
		break;
	case O_MAX_JOBS:
		if (mde_int_parse(arg, 1, 1000000000, &v))
			return usage_error(errf, cmd, "--max-jobs must be a "
					   "positive number, not \"%s\"", arg);
		c->max_jobs = v;
		break;
	case O_IDLE_EXIT: c->idle_exit = true; break;
	case O_FORMAT: return take_format(c, arg, errf);
	case O_ARCHIVE:
		if (strcmp(arg, "auto") && strcmp(arg, "only") &&
		    strcmp(arg, "off"))
			return usage_error(errf, cmd, "--archive must be auto, "
					   "only or off, not \"%s\"", arg);
		c->archive = arg;
		break;
	case O_ARCHIVE_URL: c->archive_url = arg; break;
	case O_LISTEN: c->listen = arg; break;
	case O_TOKEN_FILE: c->token_file = arg; break;
	case O_CORS: c->cors_origin = arg; break;
	case O_MAX_REQ:
		if (mde_int_parse(arg, 1, 100000, &v))
			return usage_error(errf, cmd, "--max-requests must be a "
					   "positive number, not \"%s\"", arg);
		c->max_requests = (int)v;
		break;
	case O_INPUT: c->input = arg; break;
	case O_OUTPUT: c->output = arg; break;
	case O_FUNDING: c->funding = arg; break;
	case O_OI: c->open_interest = arg; break;
	case O_LS: c->long_short = arg; break;
	case O_LIQ: c->liquidations = arg; break;
	case O_INFLOW: c->inflow = arg; break;
	case O_HELP:
		c->cmd = MDE_CMD_HELP;
		return print_help(cmd, out);
	case O_VERSION:
		c->cmd = MDE_CMD_VERSION;
		fprintf(out, "mdenrich %s (features v%d)\n", MDE_VERSION,
			MDE_FEATURE_VERSION);
		return MDE_EXIT_OK;
	default:
		return MDE_EXIT_USAGE;
	}
	return 0;
}

/* Reports getopt's complaint about argv[optind - 1] in our own words. */
static int bad_option(FILE *errf, const char *cmd, int ch, char **argv)
{
	const char *arg = argv[optind - 1];
	if (ch == ':')
		return usage_error(errf, cmd, "option %s needs a value", arg);
	return usage_error(errf, cmd, "unknown option %s", arg);
}

/* Binance's first candle (spot BTCUSDT, 2017-08-17): where a range open
 * at its start begins. */
#define FIRST_CRYPTO_MS INT64_C(1502928000000)

/*
 * Resolves --days and the open sides of --timerange into the start (*start,
 * --since or --from) and, for a backfill, the end (*end, --to) of the
 * range: the last closed candle's end when open.
 */
static int resolve_range(mde_cli *c, int64_t *start, int64_t *end,
			 FILE *errf)
{
	const char *cmd = c->cmd_name;
	int64_t P = c->period_ms > 0 ? c->period_ms : MDE_DAY_MS;
	int64_t now = mde_now_ms();
	bool equity = (c->asset_class && !strcmp(c->asset_class, "equity")) ||
		      (c->source && (!strcmp(c->source, "yahoo") ||
				     !strcmp(c->source, "polygon")));
	if (c->days && (c->open_start || *start != INT64_MIN))
		return usage_error(errf, cmd, "%s", "--days is a start: give "
				   "it, or --timerange/--from/--since, not "
				   "both");
	if (c->days)
		*start = mde_floor_div(now - c->days * MDE_DAY_MS, P) * P;
	if (c->open_start && equity)
		return usage_error(errf, cmd, "%s", "--timerange -B: an equity "
				   "series needs its start (e.g. "
				   "20200101-20240101)");
	if (c->open_start)
		*start = FIRST_CRYPTO_MS;
	if (end && *end == INT64_MIN && (c->open_end || c->days))
		*end = mde_floor_div(now, P) * P;
	return 0;
}

static int check_required(mde_cli *c, FILE *errf)
{
	const char *cmd = c->cmd_name;
	int rc;
	if (c->cmd == MDE_CMD_RUN &&
	    (rc = resolve_range(c, &c->since_ms, NULL, errf)))
		return rc;
	if (c->cmd == MDE_CMD_BACKFILL &&
	    (rc = resolve_range(c, &c->from_ms, &c->to_ms, errf)))
		return rc;
	switch (c->cmd) {
	case MDE_CMD_RUN:
		if (c->schedule && (c->symbols || c->timeframe))
			return usage_error(errf, cmd, "%s", "--schedule takes "
					   "the series from the config file; do "
					   "not combine it with --symbols or "
					   "--timeframe");
		if (!c->schedule && (!c->symbols || !c->timeframe))
			return usage_error(errf, cmd, "%s", "give --schedule, "
					   "or --symbols and --timeframe");
		if (c->since_ms != INT64_MIN && c->until_ms != INT64_MIN &&
		    c->since_ms >= c->until_ms)
			return usage_error(errf, cmd, "%s",
					   "--since must be before --until");
		break;
	case MDE_CMD_BACKFILL:
		if (!c->symbols || !c->timeframe || c->from_ms == INT64_MIN ||
		    c->to_ms == INT64_MIN)
			return usage_error(errf, cmd, "%s", "--symbols, "
					   "--timeframe and a range are required: "
					   "--from and --to, --timerange "
					   "20240101-20240301, or --days N");
		if (c->from_ms >= c->to_ms)
			return usage_error(errf, cmd, "%s",
					   "--from must be before --to");
		break;
	case MDE_CMD_CANCEL:
		if (!c->job_id)
			return usage_error(errf, cmd, "%s", "--job is required "
					   "(ids: `mdenrich jobs`)");
		break;
	case MDE_CMD_PRUNE:
		if (!c->older_than_ms)
			return usage_error(errf, cmd, "%s", "--older-than is "
					   "required (e.g. --older-than 90d)");
		break;
	case MDE_CMD_IMPORT:
		if (!c->symbol || !c->timeframe || c->nfiles == 0)
			return usage_error(errf, cmd, "%s", "--symbol, "
					   "--timeframe and at least one FILE "
					   "or DIR are required");
		if (c->source && strcmp(c->source, "binance") &&
		    strcmp(c->source, "binance-spot"))
			return usage_error(errf, cmd, "%s", "--source must be "
					   "binance or binance-spot");
		break;
	case MDE_CMD_STREAM:
		if (!c->symbols || !c->timeframe)
			return usage_error(errf, cmd, "%s", "--symbols and "
					   "--timeframe are required");
		break;
	case MDE_CMD_COMPUTE:
		if (!c->timeframe)
			return usage_error(errf, cmd, "%s",
					   "--timeframe is required");
		break;
	}
	if (c->asset_class && c->timeframe && !strcmp(c->asset_class, "equity") &&
	    strspn(c->timeframe, "1d,") != strlen(c->timeframe))
		return usage_error(errf, cmd, "%s", "equity series are 1d only");
	return 0;
}

int mde_cli_parse(int argc, char **argv, mde_cli *c, FILE *out, FILE *errf)
{
	memset(c, 0, sizeof *c);
	c->overlap = -1;
	c->since_ms = c->until_ms = c->from_ms = c->to_ms = INT64_MIN;
	opterr = 0;
	optind = 0; /* full reinitialisation of getopt (glibc) */

	/* Global options before the subcommand. */
	int ch, rc;
	while ((ch = getopt_long(argc, argv, "+:", opts_global, NULL)) != -1) {
		if (ch == '?' || ch == ':')
			return bad_option(errf, NULL, ch, argv);
		if ((rc = take(c, ch, optarg, out, errf)) != 0 ||
		    c->cmd == MDE_CMD_HELP || c->cmd == MDE_CMD_VERSION)
			return rc;
	}
	if (optind >= argc) {
		print_program_help(errf);
		return MDE_EXIT_USAGE;
	}
	const char *name = argv[optind];
	const struct command *command = NULL;
	for (size_t i = 0; i < MDE_ARRAY_LEN(commands); i++)
		if (strcmp(commands[i].name, name) == 0)
			command = &commands[i];
	if (!command) {
		if (strcmp(name, "help") == 0) {
			c->cmd = MDE_CMD_HELP;
			return print_help(optind + 1 < argc ? argv[optind + 1]
							    : NULL, out);
		}
		return usage_error(errf, NULL, "unknown command \"%s\"", name);
	}
	c->cmd = command->cmd;
	c->cmd_name = command->name;

	/* The subcommand's own options (and the global ones again). */
	int sub_argc = argc - optind;
	char **sub_argv = argv + optind;
	optind = 0;
	while ((ch = getopt_long(sub_argc, sub_argv, "+:", command->opts,
				 NULL)) != -1) {
		if (ch == '?' || ch == ':')
			return bad_option(errf, c->cmd_name, ch, sub_argv);
		if ((rc = take(c, ch, optarg, out, errf)) != 0 ||
		    c->cmd == MDE_CMD_HELP || c->cmd == MDE_CMD_VERSION)
			return rc;
	}
	if (optind < sub_argc && c->cmd == MDE_CMD_IMPORT) {
		c->files = sub_argv + optind;
		c->nfiles = sub_argc - optind;
	} else if (optind < sub_argc) {
		return usage_error(errf, c->cmd_name, "unexpected argument "
				   "\"%s\"", sub_argv[optind]);
	}
	return check_required(c, errf);
}
