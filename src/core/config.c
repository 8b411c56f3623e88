/* config.c - see config.h. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "candles.h"
#include "log.h"
#include "timeutil.h"

static int set_str(char **dst, const char *v)
{
	char *c = strdup(v ? v : "");
	if (!c)
		return MDE_ENOMEM;
	free(*dst);
	*dst = c;
	return 0;
}

int mde_int_parse(const char *s, long lo, long hi, long *out)
{
	if (!s || !*s)
		return MDE_EINVAL;
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || *end || v < lo || v > hi)
		return MDE_EINVAL;
	*out = v;
	return 0;
}

int mde_duration_parse(const char *s, int64_t *ms)
{
	if (!s || !isdigit((unsigned char)*s))
		return MDE_EINVAL;
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno || v <= 0)
		return MDE_EINVAL;
	int64_t unit;
	if (!*end)
		return MDE_EINVAL; /* a number needs its unit (CLI.md) */
	if (strcmp(end, "ms") == 0)
		unit = 1;
	else if (strcmp(end, "s") == 0)
		unit = 1000;
	else if (strcmp(end, "m") == 0)
		unit = MDE_MINUTE_MS;
	else if (strcmp(end, "h") == 0)
		unit = MDE_HOUR_MS;
	else if (strcmp(end, "d") == 0)
		unit = MDE_DAY_MS;
	else if (strcmp(end, "w") == 0)
		unit = 7 * MDE_DAY_MS;
	else
		return MDE_EINVAL;
	if (v > MDE_DURATION_MAX_MS / unit)
		return MDE_EINVAL;
	*ms = v * unit;
	return 0;
}

char *mde_duration_format(int64_t ms, char *buf, size_t len)
{
	static const struct {
		const char *unit;
		int64_t ms;
	} units[] = {{"w", 7 * MDE_DAY_MS}, {"d", MDE_DAY_MS},
		     {"h", MDE_HOUR_MS},    {"m", MDE_MINUTE_MS},
		     {"s", 1000},           {"ms", 1}};
	for (size_t i = 0; i < MDE_ARRAY_LEN(units); i++)
		if (ms > 0 && ms % units[i].ms == 0) {
			snprintf(buf, len, "%lld%s",
				 (long long)(ms / units[i].ms), units[i].unit);
			return buf;
		}
	snprintf(buf, len, "%lldms", (long long)ms);
	return buf;
}

int mde_config_defaults(mde_config *cfg)
{
	memset(cfg, 0, sizeof *cfg);
	cfg->db_connect_timeout_s = 5;
	cfg->db_max_retries = 5;
	cfg->http_connect_timeout_ms = 5000;
	cfg->http_timeout_ms = 30000;
	cfg->http_max_attempts = 5;
	cfg->http_backoff_ms = 500;
	cfg->http_max_body_bytes = 64L << 20;
	cfg->weight_budget = 2400;
	cfg->breaker_threshold = 5;
	cfg->breaker_cooldown_ms = 60000;
	cfg->concurrency = 8;
	cfg->writers = 2;
	cfg->log_format = -1;
	cfg->log_level = MDE_LOG_INFO;
	cfg->overlap = 24;
	cfg->chunk_ms = 30 * MDE_DAY_MS;
	snprintf(cfg->chunk_text, sizeof cfg->chunk_text, "30d");
	cfg->lease_s = 300;
	cfg->batch_rows = 20000;
	cfg->archive_parallel = 8;
	cfg->stream_batch_ms = 1000;
	cfg->stream_quiet_ms = 100;
	cfg->stream_silence_ms = 300000;
	cfg->stream_aux_every_ms = 300000;
	cfg->stream_aux_lag_ms = 3600000;
	cfg->stream_writers = 4;
	if (set_str(&cfg->archive, "auto") ||
	    set_str(&cfg->binance_fws_url, "wss://fstream.binance.com") ||
	    set_str(&cfg->binance_ws_url, "wss://stream.binance.com:9443") ||
	    set_str(&cfg->ws_path, "/stream") ||
	    set_str(&cfg->binance_url, "https://fapi.binance.com") ||
	    set_str(&cfg->binance_spot_url, "https://api.binance.com") ||
	    set_str(&cfg->yahoo_url, "https://query1.finance.yahoo.com") ||
	    set_str(&cfg->polygon_url, "https://api.polygon.io"))
		return MDE_ENOMEM;
	return 0;
}

static void universe_free(mde_universe *u)
{
	free(u->name);
	free(u->symbols);
	free(u->timeframe);
	free(u->source);
	free(u->asset_class);
	free(u->schedule);
	free(u->since);
	free(u->fallback);
}

void mde_config_free(mde_config *cfg)
{
	if (!cfg)
		return;
	free(cfg->config_path);
	free(cfg->db_url);
	free(cfg->binance_url);
	free(cfg->binance_spot_url);
	free(cfg->yahoo_url);
	free(cfg->polygon_url);
	free(cfg->polygon_key);
	free(cfg->archive);
	free(cfg->archive_url);
	free(cfg->archive_cache);
	free(cfg->binance_fws_url);
	free(cfg->binance_ws_url);
	free(cfg->ws_path);
	for (size_t i = 0; i < cfg->nuniverses; i++)
		universe_free(&cfg->universes[i]);
	free(cfg->universes);
	memset(cfg, 0, sizeof *cfg);
}

static mde_universe *universe_get(mde_config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->nuniverses; i++)
		if (strcmp(cfg->universes[i].name, name) == 0)
			return &cfg->universes[i];
	mde_universe *u = realloc(cfg->universes,
				  (cfg->nuniverses + 1) * sizeof *u);
	if (!u)
		return NULL;
	cfg->universes = u;
	u = &cfg->universes[cfg->nuniverses];
	memset(u, 0, sizeof *u);
	if (set_str(&u->name, name) || set_str(&u->timeframe, "1h") ||
	    set_str(&u->source, "binance") ||
	    set_str(&u->asset_class, "crypto") || set_str(&u->schedule, "") ||
	    set_str(&u->symbols, "") || set_str(&u->since, "") ||
	    set_str(&u->fallback, "")) {
		universe_free(u);
		return NULL;
	}
	cfg->nuniverses++;
	return u;
}

/* Section names "universe NAME", "universe.NAME" or "universe:NAME". */
static const char *universe_name(const char *section)
{
	if (strncmp(section, "universe", 8) != 0)
		return NULL;
	const char *p = section + 8;
	if (*p != ' ' && *p != '.' && *p != ':')
		return NULL;
	while (*p == ' ' || *p == '.' || *p == ':' || *p == '"')
		p++;
	return *p ? p : NULL;
}

typedef struct {
	const char *key;
	int *dst;
	long lo, hi;
} int_key;

static int set_universe(mde_config *cfg, const char *uname, const char *key,
			const char *value, mde_err *err)
{
	mde_universe *u = universe_get(cfg, uname);
	if (!u)
		return mde_err_set(err, MDE_ENOMEM, false, "out of memory");
	int64_t ms;
	int asset;
	if (strcmp(key, "symbols") == 0) {
		if (mde_symbols_check(value))
			return mde_err_set(err, MDE_EINVAL, false,
					   "bad symbol list \"%s\" (e.g. "
					   "BTCUSDT,ETHUSDT: A-Z 0-9 . - _ = ^ "
					   ":, comma separated)", value);
		return set_str(&u->symbols, value);
	}
	if (strcmp(key, "timeframe") == 0) {
		if (mde_tf_parse(value, &ms))
			return mde_err_set(err, MDE_EINVAL, false,
					   "bad timeframe \"%s\"", value);
		return set_str(&u->timeframe, value);
	}
	if (strcmp(key, "source") == 0) {
		if (*value && mde_source_check(value))
			return mde_err_set(err, MDE_EINVAL, false,
					   "source must be binance, "
					   "binance-spot, yahoo, polygon or "
					   "replay:DIR, not \"%s\"", value);
		return set_str(&u->source, value);
	}
	if (strcmp(key, "fallback") == 0) {
		if (*value && strcmp(value, "none") &&
		    strcmp(value, "binance-spot") && strcmp(value, "yahoo"))
			return mde_err_set(err, MDE_EINVAL, false,
					   "fallback must be binance-spot, "
					   "yahoo or none, not \"%s\"", value);
		return set_str(&u->fallback, value);
	}
	if (strcmp(key, "asset_class") == 0) {
		if (mde_asset_parse(value, &asset))
			return mde_err_set(err, MDE_EINVAL, false,
					   "asset_class must be crypto or "
					   "equity, not \"%s\"", value);
		return set_str(&u->asset_class, value);
	}
	if (strcmp(key, "schedule") == 0) {
		if (*value && strcmp(value, "hourly") && strcmp(value, "nightly"))
			return mde_err_set(err, MDE_EINVAL, false,
					   "schedule must be hourly or nightly, "
					   "not \"%s\"", value);
		return set_str(&u->schedule, value);
	}
	if (strcmp(key, "since") == 0) {
		if (*value && mde_time_arg_parse(value, &ms))
			return mde_err_set(err, MDE_EINVAL, false,
					   "bad time \"%s\"", value);
		return set_str(&u->since, value);
	}
	return mde_err_set(err, MDE_EINVAL, false, "unknown key \"%s\"", key);
}

int mde_config_set(mde_config *cfg, const char *section, const char *key,
		   const char *value, mde_err *err)
{
	const char *uname = universe_name(section);
	if (uname)
		return set_universe(cfg, uname, key, value, err);

	const struct {
		const char *section, *key;
		char **dst;
	} strs[] = {
		{"database", "url", &cfg->db_url},
		{"sources", "binance_url", &cfg->binance_url},
		{"sources", "binance_spot_url", &cfg->binance_spot_url},
		{"sources", "yahoo_url", &cfg->yahoo_url},
		{"sources", "polygon_url", &cfg->polygon_url},
		{"sources", "polygon_api_key", &cfg->polygon_key},
		{"archive", "url", &cfg->archive_url},
		{"archive", "cache_dir", &cfg->archive_cache},
		{"sources", "binance_fws_url", &cfg->binance_fws_url},
		{"sources", "binance_ws_url", &cfg->binance_ws_url},
		{"sources", "binance_ws_path", &cfg->ws_path},
	};
	for (size_t i = 0; i < MDE_ARRAY_LEN(strs); i++)
		if (!strcmp(section, strs[i].section) &&
		    !strcmp(key, strs[i].key))
			return set_str(strs[i].dst, value)
				       ? mde_err_set(err, MDE_ENOMEM, false,
						     "out of memory")
				       : 0;

	const struct {
		const char *section;
		int_key k;
	} ints[] = {
		{"database", {"connect_timeout", &cfg->db_connect_timeout_s, 1, 600}},
		{"database", {"max_retries", &cfg->db_max_retries, 0, 100}},
		{"http", {"connect_timeout_ms", &cfg->http_connect_timeout_ms, 1, 600000}},
		{"http", {"timeout_ms", &cfg->http_timeout_ms, 1, 3600000}},
		{"http", {"max_attempts", &cfg->http_max_attempts, 1, 100}},
		{"http", {"backoff_ms", &cfg->http_backoff_ms, 0, 600000}},
		{"http", {"weight_budget", &cfg->weight_budget, 1, 100000}},
		{"http", {"weight_window_ms", &cfg->weight_window_ms, 100, 3600000}},
		{"http", {"breaker_threshold", &cfg->breaker_threshold, 1, 1000}},
		{"http", {"breaker_cooldown_ms", &cfg->breaker_cooldown_ms, 0, 86400000}},
		{"http", {"concurrency", &cfg->concurrency, 1, 64}},
		{"run", {"overlap", &cfg->overlap, 0, 100000}},
		{"run", {"lease_seconds", &cfg->lease_s, 5, 86400}},
		{"run", {"batch_rows", &cfg->batch_rows, 1, 10000000}},
		{"run", {"writers", &cfg->writers, 1, 16}},
		{"archive", {"parallel", &cfg->archive_parallel, 1, 64}},
		{"stream", {"batch_ms", &cfg->stream_batch_ms, 1, 600000}},
		{"stream", {"quiet_ms", &cfg->stream_quiet_ms, 1, 600000}},
		{"stream", {"silence_ms", &cfg->stream_silence_ms, 100, 86400000}},
		{"stream", {"aux_every_ms", &cfg->stream_aux_every_ms, 100, 86400000}},
		{"stream", {"aux_lag_ms", &cfg->stream_aux_lag_ms, 0, 2000000000}},
		{"stream", {"writers", &cfg->stream_writers, 1, 16}},
	};
	for (size_t i = 0; i < MDE_ARRAY_LEN(ints); i++) {
		if (strcmp(section, ints[i].section) ||
		    strcmp(key, ints[i].k.key))
			continue;
		long v;
		if (mde_int_parse(value, ints[i].k.lo, ints[i].k.hi, &v))
			return mde_err_set(err, MDE_EINVAL, false,
					   "%s must be a whole number in "
					   "[%ld, %ld], not \"%s\"",
					   key, ints[i].k.lo, ints[i].k.hi,
					   value);
		*ints[i].k.dst = (int)v;
		return 0;
	}
	if (!strcmp(section, "http") && !strcmp(key, "max_body_bytes")) {
		long v;
		if (mde_int_parse(value, 1024, 1L << 34, &v))
			return mde_err_set(err, MDE_EINVAL, false,
					   "bad max_body_bytes \"%s\"", value);
		cfg->http_max_body_bytes = v;
		return 0;
	}
	if (!strcmp(section, "run") && !strcmp(key, "chunk")) {
		if (mde_duration_parse(value, &cfg->chunk_ms))
			return mde_err_set(err, MDE_EINVAL, false,
					   "bad chunk \"%s\" (a number with a "
					   "unit: 30m 12h 30d 2w; at most "
					   "36600d)", value);
		snprintf(cfg->chunk_text, sizeof cfg->chunk_text, "%s", value);
		return 0;
	}
	if (!strcmp(section, "archive") && !strcmp(key, "mode")) {
		if (strcmp(value, "auto") && strcmp(value, "only") &&
		    strcmp(value, "off"))
			return mde_err_set(err, MDE_EINVAL, false,
					   "archive mode must be auto, only or "
					   "off, not \"%s\"", value);
		return set_str(&cfg->archive, value)
			       ? mde_err_set(err, MDE_ENOMEM, false,
					     "out of memory")
			       : 0;
	}
	if (!strcmp(section, "log") && !strcmp(key, "format")) {
		if (strcmp(value, "auto") == 0) {
			cfg->log_format = -1;
			return 0;
		}
		if (mde_log_parse_format(value, &cfg->log_format))
			return mde_err_set(err, MDE_EINVAL, false,
					   "log format must be text, json or "
					   "auto, not \"%s\"", value);
		return 0;
	}
	if (!strcmp(section, "log") && !strcmp(key, "level")) {
		if (mde_log_parse_level(value, &cfg->log_level))
			return mde_err_set(err, MDE_EINVAL, false,
					   "log level must be debug, info, "
					   "warn or error, not \"%s\"", value);
		return 0;
	}
	return mde_err_set(err, MDE_EINVAL, false, "unknown key [%s] %s",
			   section, key);
}

/* Every key the file may hold, for "did you mean" (universe keys under
 * "universe"). */
static const char *const known_keys[] = {
	"database url", "database connect_timeout", "database max_retries",
	"sources binance_url", "sources binance_spot_url", "sources yahoo_url",
	"sources polygon_url", "sources polygon_api_key",
	"http connect_timeout_ms", "http timeout_ms", "http max_attempts",
	"http backoff_ms", "http max_body_bytes", "http weight_budget",
	"http breaker_threshold", "http breaker_cooldown_ms",
	"run overlap", "run chunk", "run lease_seconds", "run batch_rows",
	"log format", "log level",
	"universe symbols", "universe timeframe", "universe source",
	"universe asset_class", "universe schedule", "universe since",
};

/* Levenshtein distance of a and b, capped at 9. */
static int distance(const char *a, const char *b)
{
	size_t n = strlen(b);
	int row[64];
	if (n >= MDE_ARRAY_LEN(row) || strlen(a) >= 64)
		return 9;
	for (size_t j = 0; j <= n; j++)
		row[j] = (int)j;
	for (size_t i = 1; a[i - 1]; i++) {
		int diag = row[0];
		row[0] = (int)i;
		for (size_t j = 1; j <= n; j++) {
			int up = row[j];
			int sub = diag + (a[i - 1] != b[j - 1]);
			int del = row[j] + 1, ins = row[j - 1] + 1;
			row[j] = sub < del ? (sub < ins ? sub : ins)
					   : (del < ins ? del : ins);
			diag = up;
		}
	}
	return row[n] > 9 ? 9 : row[n];
}

/* The known key of section closest to key, or NULL when none is near. */
static const char *suggest(const char *section, const char *key)
{
	const char *sec = universe_name(section) ? "universe" : section;
	const char *best = NULL;
	int bd = 3;
	for (size_t i = 0; i < MDE_ARRAY_LEN(known_keys); i++) {
		size_t sl = strcspn(known_keys[i], " ");
		if (strlen(sec) != sl || strncmp(sec, known_keys[i], sl))
			continue;
		int d = distance(key, known_keys[i] + sl + 1);
		if (d < bd) {
			bd = d;
			best = known_keys[i] + sl + 1;
		}
	}
	return best;
}

typedef struct {
	mde_config *cfg;
	FILE *f;
	const char *path;
	int line;          /* of the line inih is handling */
	int nerrors, first_line;
	char msg[sizeof(((mde_err *)0)->msg)];
} ini_ctx;

/* inih's reader: fgets that counts lines, so errors name their own. */
static char *read_line(char *str, int num, void *stream)
{
	ini_ctx *c = stream;
	char *s = fgets(str, num, c->f);
	if (s)
		c->line++;
	return s;
}

static void add_error(ini_ctx *c, int line, const char *what)
{
	size_t used = strlen(c->msg);
	if (c->nerrors++ == 0)
		c->first_line = line;
	snprintf(c->msg + used, sizeof c->msg - used, "%s%s:%d: %s",
		 used ? "\n  " : "", c->path, line, what);
}

static int on_ini(void *user, const char *section, const char *name,
		  const char *value)
{
	ini_ctx *c = user;
	mde_err e = {0};
	if (mde_config_set(c->cfg, section, name, value, &e) == 0)
		return 1;
	const char *near = strstr(e.msg, "unknown key") ? suggest(section, name)
							: NULL;
	char what[sizeof e.msg + 64];
	snprintf(what, sizeof what, "%s%s%s%s", e.msg,
		 near ? " (did you mean " : "", near ? near : "",
		 near ? "?)" : "");
	add_error(c, c->line, what);
	return 1; /* go on: every bad line is reported */
}

int mde_config_load_file(mde_config *cfg, const char *path, mde_err *err)
{
	bool must_exist = true;
	if (!path) {
		path = getenv("MDENRICH_CONFIG");
		if (path && !*path)
			path = NULL;
	}
	if (!path) {
		path = "config/mdenrich.conf";
		must_exist = false;
	}
	FILE *f = fopen(path, "r");
	if (!f) {
		if (!must_exist && errno == ENOENT)
			return 0;
		return mde_err_set(err, MDE_EINVAL, false,
				   "cannot read config file %s: %s", path,
				   strerror(errno));
	}
	ini_ctx c = {.cfg = cfg, .f = f, .path = path};
	int line = ini_parse_stream(read_line, &c, on_ini, &c);
	fclose(f);
	if (line > 0 && (c.nerrors == 0 || line != c.first_line))
		add_error(&c, line, "not \"key = value\" nor \"[section]\" "
			  "(only the first such line is named)");
	if (line < 0 || c.nerrors)
		return mde_err_set(err, MDE_EINVAL, false, "%s",
				   line < 0 ? "cannot read the config file"
					    : c.msg);
	if (set_str(&cfg->config_path, path))
		return mde_err_set(err, MDE_ENOMEM, false, "out of memory");
	return 0;
}

int mde_config_load_env(mde_config *cfg, mde_err *err)
{
	const struct {
		const char *var, *section, *key;
	} env[] = {
		{"DATABASE_URL", "database", "url"},
		{"MDENRICH_DB_URL", "database", "url"}, /* wins over DATABASE_URL */
		{"MDENRICH_BINANCE_FAPI_URL", "sources", "binance_url"},
		{"MDENRICH_BINANCE_SPOT_URL", "sources", "binance_spot_url"},
		{"MDENRICH_BINANCE_FWS_URL", "sources", "binance_fws_url"},
		{"MDENRICH_BINANCE_WS_URL", "sources", "binance_ws_url"},
		{"MDENRICH_YAHOO_URL", "sources", "yahoo_url"},
		{"MDENRICH_POLYGON_URL", "sources", "polygon_url"},
		{"POLYGON_API_KEY", "sources", "polygon_api_key"},
		{"MDENRICH_ARCHIVE", "archive", "mode"},
		{"MDENRICH_BINANCE_ARCHIVE_URL", "archive", "url"},
		{"MDENRICH_ARCHIVE_CACHE", "archive", "cache_dir"},
		{"MDENRICH_LOG_FORMAT", "log", "format"},
		{"MDENRICH_LOG_LEVEL", "log", "level"},
	};
	for (size_t i = 0; i < MDE_ARRAY_LEN(env); i++) {
		const char *v = getenv(env[i].var);
		if (!v || !*v)
			continue;
		mde_err e = {0};
		if (mde_config_set(cfg, env[i].section, env[i].key, v, &e))
			return mde_err_set(err, MDE_EINVAL, false, "%s: %s",
					   env[i].var, e.msg);
	}
	return 0;
}

void mde_config_register_secrets(const mde_config *cfg)
{
	if (cfg->polygon_key)
		mde_log_add_secret(cfg->polygon_key);
	const char *pw = getenv("PGPASSWORD");
	if (pw)
		mde_log_add_secret(pw);
	if (!cfg->db_url || !*cfg->db_url)
		return;
	PQconninfoOption *opts = PQconninfoParse(cfg->db_url, NULL);
	for (PQconninfoOption *o = opts; o && o->keyword; o++)
		if (strcmp(o->keyword, "password") == 0 && o->val && *o->val)
			mde_log_add_secret(o->val);
	PQconninfoFree(opts);
}
