/*
 * run.c - the planning of an incremental run (pipeline.h): each series of
 * a set from its last stored candle (minus the overlap that re-checks
 * amendments, and back to any fallback candle) to the last closed candle,
 * after recomputing rows of an older feature_version.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "pipeline.h"
#include "prefetch.h"
#include "runs.h"
#include "stages.h"
#include "timeutil.h"

/*
 * Candles a fallback served in the last 30 days are fetched again from the
 * primary source: the run starts at the earliest of them (they may lie
 * before the overlap). Not for a series whose chosen source is the
 * fallback itself. Whether the plan allows a fallback or not: a primary
 * named alone replaces what an earlier opted-in run stored.
 */
static int fallback_start(mde_pipeline *p, const char *symbol,
			  const char *timeframe, const char *source,
			  int64_t *start, mde_err *err)
{
	if (!mde_fetch_replaces_fallback(source))
		return 0;
	int64_t t;
	int rc = mde_store_first_fallback(p->store, symbol, timeframe, &t, err);
	if (!rc && t != INT64_MIN && t < *start) {
		mde_info("series.refetch", "symbol=%s from=%lld reason=\"candles "
			 "from a fallback source\"", symbol, (long long)t);
		*start = t;
	}
	return rc;
}

/* The length of the windows a run enriches a series in. */
static int64_t window_ms(const mde_pipeline *p, int64_t period_ms)
{
	int64_t step = p->cfg->chunk_ms / period_ms * period_ms;
	if (step < period_ms)
		step = period_ms;
	if (step > MDE_WINDOW_MAX_SLOTS * period_ms)
		step = MDE_WINDOW_MAX_SLOTS * period_ms;
	return step;
}

/*
 * Enriches j's range window by window (the config's chunk length), so that
 * a first run with a --since years back holds one window in memory, not
 * the whole history; each window reads the one before as its warm-up.
 */
static int run_windows(mde_pipeline *p, const mde_series_job *j,
		       mde_err *err)
{
	int64_t step = window_ms(p, j->period_ms);
	mde_series_job w = *j;
	for (int64_t t = j->start_ms; t < j->end_ms; t += step) {
		w.start_ms = t;
		w.end_ms = j->end_ms - t > step ? t + step : j->end_ms;
		int rc = mde_pipeline_series(p, &w, err);
		if (rc)
			return rc;
		mde_pipeline_heartbeat(p);
		if (mde_stop_requested && w.end_ms < j->end_ms)
			return mde_err_set(err, MDE_EINTR, false,
					   "interrupted between windows");
	}
	return 0;
}

/* One series of a set, as resolved from the set and the command line. */
typedef struct plan {
	const char *symbol, *timeframe, *source;
	int64_t period_ms;
	enum mde_asset asset;
	int64_t since;     /* the set's or the command line's, or INT64_MIN */
	bool since_forced; /* --since given: may reach before the overlap */
	int64_t end;
} plan;

/*
 * Where the fetch of a series starts (*start), and where rows of an older
 * feature version start (*stale, INT64_MIN = none).
 */
static int plan_start(mde_pipeline *p, const plan *pl, int64_t *start,
		      int64_t *stale, mde_err *err)
{
	int64_t last, P = pl->period_ms;
	bool found;
	*stale = INT64_MIN;
	int rc = mde_store_last_time(p->store, pl->symbol, pl->timeframe,
				     &last, &found, err);
	if (rc)
		return rc;
	if (!found && pl->since == INT64_MIN)
		return mde_err_set(err, MDE_EINVAL, false,
				   "nothing stored yet for %s %s: give --since",
				   pl->symbol, pl->timeframe);
	*start = pl->since;
	if (found) {
		*start = last - (int64_t)p->cfg->overlap * P;
		if (pl->since_forced && pl->since < *start)
			*start = pl->since;
		if ((rc = fallback_start(p, pl->symbol, pl->timeframe,
					 pl->source, start, err)) ||
		    (rc = mde_store_first_stale(p->store, pl->symbol,
						pl->timeframe, stale, err)))
			return rc;
	}
	if (pl->asset == MDE_CRYPTO)
		*start = mde_floor_div(*start, P) * P;
	return 0;
}

/* Enriches one series (its lock held): a recompute of stale rows, then
 * the fetch from start to the end. */
static int enrich(mde_pipeline *p, const plan *pl, mde_err *err)
{
	int64_t start = 0, stale = INT64_MIN;
	int rc = plan_start(p, pl, &start, &stale, err);
	mde_series_job j = {
		.symbol = pl->symbol, .timeframe = pl->timeframe,
		.period_ms = pl->period_ms, .asset = pl->asset,
		.source = pl->source, .start_ms = stale, .end_ms = start,
		.stored_only = true,
	};
	if (!rc && stale != INT64_MIN && stale < start) {
		/* Rows of an older feature version: recompute the stored
		 * history up to where the fetch starts. */
		mde_info("series.recompute", "symbol=%s timeframe=%s from=%lld "
			 "to=%lld reason=\"rows of another feature_version\"",
			 pl->symbol, pl->timeframe, (long long)stale,
			 (long long)start);
		rc = run_windows(p, &j, err);
	}
	if (rc || start >= pl->end)
		return rc;
	j.start_ms = start;
	j.end_ms = pl->end;
	j.stored_only = false;
	mde_info("series.start", "symbol=%s timeframe=%s source=%s from=%lld "
		 "to=%lld", pl->symbol, pl->timeframe, pl->source,
		 (long long)start, (long long)pl->end);
	rc = run_windows(p, &j, err);
	/* Lost the database mid-series: once it is back, enrich the series
	 * again (idempotent), once. */
	bool got;
	if (rc == MDE_EDB && err->retryable &&
	    mde_pipeline_recover(p, err) == 0 &&
	    mde_store_series_lock(p->store, pl->symbol, pl->timeframe, true,
				  &got, err) == 0)
		rc = run_windows(p, &j, err);
	return rc;
}

/* Resolves the set's timeframe, asset class, source plan (into src),
 * since and end. */
static int plan_set(const mde_series_set *set, int64_t since_ms,
		    int64_t until_ms, plan *pl, char *src, size_t cap)
{
	enum mde_asset asset = MDE_CRYPTO;
	char why[256];
	memset(pl, 0, sizeof *pl);
	if (mde_tf_parse(set->timeframe, &pl->period_ms))
		return MDE_EXIT_USAGE;
	if (mde_pipeline_sources(set->source, set->fallback, set->asset,
				 set->symbols, src, cap, &asset, why,
				 sizeof why)) {
		fprintf(stderr, "mdenrich run: %s\n", why);
		return MDE_EXIT_USAGE;
	}
	if (asset == MDE_EQUITY && pl->period_ms != MDE_DAY_MS) {
		fprintf(stderr, "mdenrich run: equity series are 1d only\n");
		return MDE_EXIT_USAGE;
	}
	pl->asset = asset;
	pl->timeframe = set->timeframe;
	pl->source = src;
	pl->since = since_ms;
	pl->since_forced = since_ms != INT64_MIN;
	if (!pl->since_forced && set->since && *set->since &&
	    mde_time_arg_parse(set->since, &pl->since))
		return MDE_EXIT_USAGE;
	pl->end = until_ms != INT64_MIN
			  ? until_ms
			  : mde_last_closed_end(mde_now_ms(), pl->period_ms);
	return 0;
}

/*
 * Announces the first fetch window of every series of the set to the
 * fetch threads (prefetch.h), planned as enrich() will plan it once the
 * series is locked; a series whose plan differs by then (another run
 * stored candles meanwhile) simply fetches again. Nothing is announced
 * for a series that cannot be planned (its error comes in enrich()).
 */
static void announce(mde_pipeline *p, const plan *set_plan, char *list)
{
	plan pl = *set_plan;
	size_t n = 1;
	for (const char *c = list; *c; c++)
		n += *c == ',';
	/* the funding of all symbols at once from the exchange (Binance's,
	 * not a replay folder's) */
	if (pl.asset == MDE_CRYPTO &&
	    strcmp(mde_pl_aux_source(pl.source), "binance") == 0)
		mde_pl_share_begin(p, list, n);
	int64_t step = window_ms(p, pl.period_ms);
	/* item k of the list is the store's k-th (empty items too) */
	char *next = list;
	for (size_t k = 0; next; k++) {
		char *sym = next, *comma = strchr(next, ',');
		next = comma ? comma + 1 : NULL;
		if (comma)
			*comma = '\0';
		if (!*sym)
			continue;
		pl.symbol = sym;
		int64_t start, stale, since, from;
		mde_err err = {0};
		if (plan_start(p, &pl, &start, &stale, &err) || start >= pl.end)
			continue;
		mde_series_job j = {
			.symbol = sym, .timeframe = pl.timeframe,
			.period_ms = pl.period_ms, .asset = pl.asset,
			.source = pl.source, .start_ms = start,
			.end_ms = pl.end - start > step ? start + step : pl.end,
		};
		mde_pl_aux_from(&j, 0, start, &since, &from);
		mde_pl_share_add(p, k, sym, from,
				 mde_pl_funding_until(from, j.end_ms));
		if (mde_pf_add_series(p, &j))
			break; /* out of memory: the rest fetch when needed */
	}
	mde_pl_share_end(p);
}

/* Starts the fetch threads for a set of more than one series (one at
 * --concurrency 1: the next series is fetched while one is written). */
static void prefetch_open(mde_pipeline *p, const plan *pl,
			  const char *symbols)
{
	int n = p->cfg->concurrency < 1 ? 1 : p->cfg->concurrency;
	if (!strchr(symbols, ','))
		return;
	char *list = strdup(symbols);
	mde_err err = {0};
	if (!list || mde_pf_open(p, n, (size_t)n * 4, &err)) {
		mde_warn("prefetch.failed", "error=\"%s\"", list ? err.msg
							  : "out of memory");
		free(list);
		return;
	}
	announce(p, pl, list);
	free(list);
}

/* Stops the fetch threads; the fetch-log records of what they fetched
 * for nothing (a series skipped) are written too. */
static void prefetch_close(mde_pipeline *p)
{
	if (!p->pf)
		return;
	mde_pf_close(p);
	mde_pl_share_free(p);
	mde_err fe = {0};
	if (mde_store_flush_fetch_log(p->store, p->run_id, &p->logbuf, &fe))
		mde_warn("fetchlog.failed", "error=\"%s\"", fe.msg);
}

int mde_pipeline_run_set(mde_pipeline *p, const mde_series_set *set,
			 int64_t since_ms, int64_t until_ms, size_t *failed)
{
	plan pl;
	char src[600];
	if (plan_set(set, since_ms, until_ms, &pl, src, sizeof src))
		return MDE_EXIT_USAGE;
	char *list = strdup(set->symbols);
	if (!list)
		return MDE_EXIT_FATAL;
	prefetch_open(p, &pl, set->symbols);
	int code = MDE_EXIT_OK;
	for (char *save = NULL, *sym = strtok_r(list, ",", &save); sym;
	     sym = strtok_r(NULL, ",", &save)) {
		if (mde_stop_requested) {
			code = MDE_EXIT_INTERRUPTED;
			break;
		}
		p->series_total++;
		pl.symbol = sym;
		mde_err err = {0};
		bool got = false;
		if (mde_store_series_lock(p->store, sym, pl.timeframe, false,
					  &got, &err)) {
			fprintf(stderr, "mdenrich run: %s: %s\n", sym, err.msg);
			code = MDE_EXIT_FATAL;
			break;
		}
		if (!got) {
			mde_info("series.busy", "symbol=%s timeframe=%s "
				 "reason=\"another run or worker holds it; "
				 "skipped\"", sym, pl.timeframe);
			size_t n = strlen(p->skipped);
			snprintf(p->skipped + n, sizeof p->skipped - n, "%s%s %s",
				 n ? ", " : "", sym, pl.timeframe);
			p->series_skipped++;
			continue;
		}
		int rc = enrich(p, &pl, &err);
		mde_pipeline_series_done(p, sym, pl.timeframe, pl.asset,
					 pl.source, rc, &err);
		mde_store_series_unlock(p->store, sym, pl.timeframe);
		if (rc == MDE_EINTR) {
			code = MDE_EXIT_INTERRUPTED;
			break;
		}
		if (rc) {
			(*failed)++;
			p->series_failed++;
			mde_pipeline_note_failed(p, sym, pl.timeframe);
			fprintf(stderr, "mdenrich run: %s %s failed: %s\n", sym,
				pl.timeframe, err.msg);
		}
	}
	prefetch_close(p);
	free(list);
	return code;
}
