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
#include "db.h"
#include "log.h"
#include "pipeline.h"
#include "timeutil.h"

typedef struct {
	const char *symbols, *timeframe, *source, *asset, *since;
} series_set;

/*
 * Candles a fallback served in the last 30 days are fetched again from the
 * primary source: the run starts at the earliest of them (they may lie
 * before the overlap). Not for a series whose chosen source is the
 * fallback itself.
 */
static int fallback_start(mde_pipeline *p, const char *symbol,
			  const char *timeframe, const char *source,
			  int64_t *start, mde_err *err)
{
	if (!mde_fetch_has_fallback(source))
		return 0;
	const char *v[] = {symbol, timeframe};
	int64_t t;
	int rc = mde_db_query_ms(
		mde_store_conn(p->store),
		"SELECT (extract(epoch FROM min(open_time)) * 1000)::int8 FROM "
		"market_data_v2 WHERE symbol = $1 AND timeframe = $2 AND "
		"validation_flags & 8 <> 0 AND open_time > now() - interval "
		"'30 days'",
		2, v, &t, err);
	if (!rc && t != INT64_MIN && t < *start) {
		mde_info("series.refetch", "symbol=%s from=%lld reason=\"candles "
			 "from a fallback source\"", symbol, (long long)t);
		*start = t;
	}
	return rc;
}

/*
 * The first stored candle of a series whose rows are not all at this
 * feature_version (FEATURES.md: a rerun recomputes rows with an older
 * version); INT64_MIN when they are.
 */
static int stale_start(mde_pipeline *p, const char *symbol,
		       const char *timeframe, int64_t *from, mde_err *err)
{
	char fv[16];
	snprintf(fv, sizeof fv, "%d", MDE_FEATURE_VERSION);
	const char *v[] = {symbol, timeframe, fv};
	return mde_db_query_ms(
		mde_store_conn(p->store),
		"SELECT (extract(epoch FROM first_open_time) * 1000)::int8 FROM "
		"enrichment_status WHERE symbol = $1 AND timeframe = $2 AND "
		"feature_version IS DISTINCT FROM $3::int4",
		3, v, from, err);
}

/*
 * Enriches j's range window by window (the config's chunk length), so that
 * a first run with a --since years back holds one window in memory, not
 * the whole history; each window reads the one before as its warm-up.
 */
static int run_windows(mde_pipeline *p, const mde_series_job *j,
		       mde_err *err)
{
	int64_t step = p->cfg->chunk_ms / j->period_ms * j->period_ms;
	if (step < j->period_ms)
		step = j->period_ms;
	mde_series_job w = *j;
	for (int64_t t = j->start_ms; t < j->end_ms; t += step) {
		w.start_ms = t;
		w.end_ms = j->end_ms - t > step ? t + step : j->end_ms;
		int rc = mde_pipeline_series(p, &w, err);
		if (rc)
			return rc;
		if (mde_stop_requested && w.end_ms < j->end_ms)
			return mde_err_set(err, MDE_EINTR, false,
					   "interrupted between windows");
	}
	return 0;
}

static int run_set(mde_pipeline *p, const mde_cli *cli, const series_set *set,
		   size_t *failed)
{
	int64_t P;
	int asset = MDE_CRYPTO;
	if (mde_tf_parse(set->timeframe, &P) ||
	    (set->asset && mde_asset_parse(set->asset, &asset)))
		return MDE_EXIT_USAGE;
	const char *source = set->source ? set->source
			     : asset == MDE_EQUITY ? "polygon" : "binance";
	int64_t since = INT64_MIN;
	if (cli->since_ms != INT64_MIN)
		since = cli->since_ms;
	else if (set->since && *set->since &&
		 mde_time_parse(set->since, &since))
		return MDE_EXIT_USAGE;
	int64_t now = mde_now_ms();
	int64_t end = cli->until_ms != INT64_MIN ? cli->until_ms
						 : mde_last_closed_end(now, P);

	char *list = strdup(set->symbols);
	if (!list)
		return MDE_EXIT_FATAL;
	int code = MDE_EXIT_OK;
	for (char *save = NULL, *sym = strtok_r(list, ",", &save); sym;
	     sym = strtok_r(NULL, ",", &save)) {
		if (mde_stop_requested) {
			code = MDE_EXIT_INTERRUPTED;
			break;
		}
		p->series_total++;
		mde_err err = {0};
		bool got = false;
		if (mde_series_lock(p, sym, set->timeframe, false, &got, &err)) {
			fprintf(stderr, "mdenrich run: %s: %s\n", sym, err.msg);
			code = MDE_EXIT_FATAL;
			break;
		}
		if (!got) {
			mde_info("series.busy", "symbol=%s timeframe=%s "
				 "reason=\"another run or worker holds it; "
				 "skipped\"", sym, set->timeframe);
			continue;
		}
		int64_t last;
		bool found;
		int rc = mde_store_last_time(p->store, sym, set->timeframe,
					     &last, &found, &err);
		int64_t start = 0;
		if (!rc && found) {
			start = last - (int64_t)p->cfg->overlap * P;
			if (since != INT64_MIN && cli->since_ms != INT64_MIN &&
			    since < start)
				start = since;
		} else if (!rc && since != INT64_MIN) {
			start = since;
		} else if (!rc) {
			rc = mde_err_set(&err, MDE_EINVAL, false,
					 "nothing stored yet for %s %s: give "
					 "--since", sym, set->timeframe);
		}
		int64_t stale = INT64_MIN;
		if (!rc && found)
			rc = fallback_start(p, sym, set->timeframe, source,
					    &start, &err);
		if (!rc && found)
			rc = stale_start(p, sym, set->timeframe, &stale, &err);
		if (!rc && asset == MDE_CRYPTO)
			start = mde_floor_div(start, P) * P;
		if (!rc && stale != INT64_MIN && stale < start) {
			/* Rows of an older feature version: recompute the
			 * stored history up to where the fetch starts. */
			mde_series_job r = {
				.symbol = sym, .timeframe = set->timeframe,
				.period_ms = P, .asset = asset,
				.source = source, .start_ms = stale,
				.end_ms = start, .stored_only = true,
			};
			mde_info("series.recompute", "symbol=%s timeframe=%s "
				 "from=%lld to=%lld reason=\"rows of another "
				 "feature_version\"", sym, set->timeframe,
				 (long long)stale, (long long)start);
			rc = run_windows(p, &r, &err);
		}
		if (!rc && start < end) {
			mde_series_job j = {
				.symbol = sym, .timeframe = set->timeframe,
				.period_ms = P, .asset = asset,
				.source = source, .start_ms = start,
				.end_ms = end,
			};
			mde_info("series.start", "symbol=%s timeframe=%s "
				 "source=%s from=%lld to=%lld", sym,
				 set->timeframe, source, (long long)start,
				 (long long)end);
			rc = run_windows(p, &j, &err);
			/* Lost the database mid-series: once it is back,
			 * enrich the series again (idempotent), once. */
			if (rc == MDE_EDB && err.retryable &&
			    mde_pipeline_recover(p, &err) == 0 &&
			    mde_series_lock(p, sym, set->timeframe, true, &got,
					    &err) == 0)
				rc = run_windows(p, &j, &err);
		}
		mde_pipeline_series_done(p, sym, set->timeframe, asset, source,
					 rc, &err);
		mde_series_unlock(p, sym, set->timeframe);
		if (rc == MDE_EINTR) {
			code = MDE_EXIT_INTERRUPTED;
			break;
		}
		if (rc) {
			(*failed)++;
			p->series_failed++;
			fprintf(stderr, "mdenrich run: %s %s failed: %s\n", sym,
				set->timeframe, err.msg);
		}
	}
	free(list);
	return code;
}

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
			series_set set = {u->symbols, u->timeframe,
					  cli->source ? cli->source : u->source,
					  u->asset_class, u->since};
			code = run_set(&p, cli, &set, &failed);
		}
	} else {
		series_set set = {cli->symbols, cli->timeframe, cli->source,
				  cli->asset_class, NULL};
		code = run_set(&p, cli, &set, &failed);
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
