/*
 * config.h - every setting of mdenrich, resolved in docs/CLI.md's order:
 * built-in defaults < config file (INI, libinih) < environment < flags.
 * config/mdenrich.conf.example documents every key.
 *
 * Ownership: every string in mde_config is heap-owned by the struct and
 * freed by mde_config_free; setters copy their argument.
 */
#ifndef MDE_CONFIG_H
#define MDE_CONFIG_H

#include "mde.h"

/* A [universe NAME] section: a set of series run together on a schedule. */
typedef struct mde_universe {
	char *name;
	char *symbols;     /* comma separated */
	char *timeframe;   /* "1h" */
	char *source;      /* "binance", "yahoo", ... */
	char *asset_class; /* "crypto" | "equity" */
	char *schedule;    /* "hourly" | "nightly" | "" */
	char *since;       /* TIME of the first candle of a new series */
	char *fallback;    /* "binance-spot", "yahoo", "none", "" = the
			      asset class's default (CLI.md) */
} mde_universe;

typedef struct mde_config {
	char *config_path; /* the file that was read, or NULL */

	char *db_url;
	int db_connect_timeout_s;
	int db_max_retries;     /* attempts for a batch after transient errors */

	char *binance_url;
	char *binance_spot_url;
	char *yahoo_url;
	char *polygon_url;
	char *polygon_key;

	int http_connect_timeout_ms;
	int http_timeout_ms;
	int http_max_attempts;
	int http_backoff_ms;
	long http_max_body_bytes;
	int weight_budget;      /* Binance request weight per minute */
	int weight_window_ms;   /* its window; 0 = 60000 (tests shorten it) */
	int breaker_threshold;  /* consecutive failures that open a breaker */
	int breaker_cooldown_ms;
	int concurrency;        /* HTTP requests in flight at most */
	int writers;            /* series a backfill, resume or worker
				   enriches side by side, each on a
				   database connection of its own */

	int log_format;         /* enum mde_log_format, -1 = auto */
	int log_level;          /* enum mde_log_level */

	int overlap;            /* candles re-fetched by run */
	int64_t chunk_ms;       /* backfill chunk length */
	char chunk_text[24];    /* chunk as written ("30d") */
	int lease_s;            /* worker lease */
	int batch_rows;         /* rows per store transaction */

	char *archive;          /* "auto" "only" "off" (Binance archive) */
	char *archive_url;      /* NULL: the Binance URL when one is set,
				   else https://data.binance.vision */
	char *archive_cache;    /* folder of verified files, NULL = none */
	int archive_parallel;   /* files downloaded at once */
	/* stream (SOURCES.md §13) */
	char *binance_fws_url;  /* futures WebSocket base */
	char *binance_ws_url;   /* spot WebSocket base */
	char *ws_path;          /* combined stream path, "/stream" */
	int stream_batch_ms;    /* longest a batch stays open */
	int stream_quiet_ms;    /* a batch closes this long after its last
				   closed candle */
	int stream_silence_ms;  /* no message this long: reconnect */
	int stream_aux_every_ms;/* aux series refresh cadence */
	int stream_aux_lag_ms;  /* rows recomputed back this far on it */
	int stream_writers;     /* connections writing a batch side by side */

	mde_universe *universes;
	size_t nuniverses;
} mde_config;

/* Fills the built-in defaults. */
int mde_config_defaults(mde_config *cfg) MDE_MUSTCHECK;
/*
 * Reads the config file: `path` if not NULL (must exist), else
 * $MDENRICH_CONFIG (must exist), else config/mdenrich.conf when present.
 * Unknown sections or keys and bad values are errors naming the line.
 */
int mde_config_load_file(mde_config *cfg, const char *path,
			 mde_err *err) MDE_MUSTCHECK;
/* Applies the environment variables of docs/CLI.md. */
int mde_config_load_env(mde_config *cfg, mde_err *err) MDE_MUSTCHECK;
/* Sets one key of a section as the INI file would ("database", "url"). */
int mde_config_set(mde_config *cfg, const char *section, const char *key,
		   const char *value, mde_err *err) MDE_MUSTCHECK;
/* Registers the database password and API keys with the log masker. */
void mde_config_register_secrets(const mde_config *cfg);
void mde_config_free(mde_config *cfg);

/* Checks a comma separated symbol list: 1 to 32 characters of A-Z 0-9
 * . - _ = ^ : each (names.c). */
int mde_symbols_check(const char *list) MDE_MUSTCHECK;
/* Checks a source name: binance, binance-spot, yahoo, polygon, replay:DIR. */
int mde_source_check(const char *src) MDE_MUSTCHECK;

/* "30d", "12h", "90m", "2w", "45s", "500ms"; a number without a unit, or
 * one over MDE_DURATION_MAX_MS (timeutil.h), is MDE_EINVAL. */
int mde_duration_parse(const char *s, int64_t *ms) MDE_MUSTCHECK;
/* ms as a duration: the largest unit that divides it ("30d", "90m"). */
char *mde_duration_format(int64_t ms, char *buf, size_t len);
/* A whole number in [lo, hi]. */
int mde_int_parse(const char *s, long lo, long hi, long *out) MDE_MUSTCHECK;

#endif
