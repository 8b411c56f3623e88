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
#include "runs.h"
#include "timeutil.h"

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
	int64_t t;
	int rc = mde_store_first_fallback(p->store, symbol, timeframe, &t, err);
	if (!rc && t != INT64_MIN && t < *start) {
		mde_info("series.refetch", "symbol=%s from=%lld reason=\"candles "
			 "from a fallback source\"", symbol, (long long)t);
		*start = t;
	}
	return rc;
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

int mde_pipeline_run_set(mde_pipeline *p, const mde_series_set *set,
			 int64_t since_ms, int64_t until_ms, size_t *failed)
{
	int64_t P;
	int asset = MDE_CRYPTO;
	if (mde_tf_parse(set->timeframe, &P) ||
	    (set->asset && mde_asset_parse(set->asset, &asset)))
		return MDE_EXIT_USAGE;
	const char *source = set->source ? set->source
			     : asset == MDE_EQUITY ? "polygon" : "binance";
	int64_t since = INT64_MIN;
	if (since_ms != INT64_MIN)
		since = since_ms;
	else if (set->since && *set->since &&
		 mde_time_parse(set->since, &since))
		return MDE_EXIT_USAGE;
	int64_t now = mde_now_ms();
	int64_t end = until_ms != INT64_MIN ? until_ms
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
		if (mde_store_series_lock(p->store, sym, set->timeframe, false, &got, &err)) {
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
			if (since != INT64_MIN && since_ms != INT64_MIN &&
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
			rc = mde_store_first_stale(p->store, sym, set->timeframe,
						  &stale, &err);
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
			    mde_store_series_lock(p->store, sym, set->timeframe, true, &got,
					    &err) == 0)
				rc = run_windows(p, &j, &err);
		}
		mde_pipeline_series_done(p, sym, set->timeframe, asset, source,
					 rc, &err);
		mde_store_series_unlock(p->store, sym, set->timeframe);
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

