/* pipeline.c - see pipeline.h: the pipeline object, signals, recovery. */
#include "stages.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "prefetch.h"
#include "migrate.h"
#include "quality.h"
#include "runs.h"
#include "timeutil.h"

int64_t mde_last_closed_end(int64_t now_ms, int64_t period_ms)
{
	return mde_floor_div(now_ms, period_ms) * period_ms;
}

int64_t mde_pl_backoff_ms(int k)
{
	return mde_backoff_ms(250, INT64_C(250) << 10, k);
}

bool mde_pl_connection_lost(const mde_err *e)
{
	return e->code == MDE_EDB && (strncmp(e->sqlstate, "08", 2) == 0 ||
				      strncmp(e->sqlstate, "57P", 3) == 0);
}

static const char *kind_name(int kind)
{
	static const char *n[] = {"hourly", "nightly", "manual", "backfill",
				  "worker"};
	return n[kind];
}

/*
 * The archive's mode and base URL: the configured URL; else, when the
 * Binance URL points somewhere else than Binance (a mirror, a test
 * server), no archive at all, so that a private setup never reaches out
 * to the public archive; else data.binance.vision (the fetcher's default).
 */
static int archive_mode(const mde_config *cfg, const char **url)
{
	int mode = mde_archive_mode_parse(cfg->archive ? cfg->archive
						       : "auto");
	*url = cfg->archive_url && *cfg->archive_url ? cfg->archive_url : NULL;
	if (mode < 0)
		mode = MDE_ARCHIVE_AUTO;
	if (!*url && cfg->binance_url &&
	    strcmp(cfg->binance_url, "https://fapi.binance.com") != 0)
		mode = MDE_ARCHIVE_OFF;
	return mode;
}

static int open_fetcher(mde_pipeline *p, mde_err *err)
{
	const mde_config *cfg = p->cfg;
	mde_fetch_opts o = {
		.binance_url = cfg->binance_url,
		.binance_spot_url = cfg->binance_spot_url,
		.yahoo_url = cfg->yahoo_url,
		.polygon_url = cfg->polygon_url,
		.polygon_key = cfg->polygon_key,
		.connect_timeout_ms = cfg->http_connect_timeout_ms,
		.timeout_ms = cfg->http_timeout_ms,
		.max_body_bytes = (size_t)cfg->http_max_body_bytes,
		.max_attempts = cfg->http_max_attempts,
		.backoff_base_ms = cfg->http_backoff_ms,
		.weight_budget_per_min = cfg->weight_budget,
		.weight_window_ms = cfg->weight_window_ms,
		.breaker_threshold = cfg->breaker_threshold,
		.breaker_cooldown_ms = cfg->breaker_cooldown_ms,
		.max_in_flight = cfg->concurrency,
		.log_cb = mde_fetch_logbuf_add,
		.log_ud = &p->logbuf,
		.archive_cache = cfg->archive_cache,
		.archive_parallel = cfg->archive_parallel,
		.archive_cb = mde_archive_buf_add,
		.archive_ud = &p->arbuf,
	};
	o.archive = archive_mode(cfg, &o.archive_url);
	return mde_fetcher_open(&p->fetcher, &o, err);
}

/* What every clone shares with p: the config, the run, the lease owner;
 * and a database connection of its own. */
static int clone_base(mde_pipeline *q, const mde_pipeline *p, mde_err *err)
{
	memset(q, 0, sizeof *q);
	q->cfg = p->cfg;
	q->run_id = p->run_id;
	memcpy(q->host, p->host, sizeof q->host);
	memcpy(q->owner, p->owner, sizeof q->owner);
	return mde_store_open(&q->store, p->cfg->db_url,
			      p->cfg->db_connect_timeout_s, err);
}

int mde_pipeline_clone(mde_pipeline *q, const mde_pipeline *p, mde_err *err)
{
	if (clone_base(q, p, err) || open_fetcher(q, err))
		return MDE_EXIT_FATAL;
	return 0;
}

int mde_pipeline_clone_fetching(mde_pipeline *q, mde_pipeline *p,
				mde_err *err)
{
	if (clone_base(q, p, err) ||
	    mde_fetcher_open_child(&q->fetcher, p->fetcher, err))
		return MDE_EXIT_FATAL;
	mde_fetcher_set_log(q->fetcher, mde_fetch_logbuf_add, &q->logbuf);
	mde_fetcher_set_archive_log(q->fetcher, mde_archive_buf_add, &q->arbuf);
	return 0;
}

void mde_pipeline_clone_close(mde_pipeline *q, mde_pipeline *into)
{
	into->series_total += q->series_total;
	into->series_failed += q->series_failed;
	into->series_skipped += q->series_skipped;
	if (q->failed_names[0]) {
		size_t w = strlen(into->failed_names);
		snprintf(into->failed_names + w, sizeof into->failed_names - w,
			 "%s%s", w ? ", " : "", q->failed_names);
	}
	into->rows_fetched += q->rows_fetched;
	into->rows_written += q->rows_written;
	into->rows_unchanged += q->rows_unchanged;
	into->rows_rejected += q->rows_rejected;
	into->corrections += q->corrections;
	mde_pl_notes_flush(q); /* the writer's aux-hole summary */
	for (size_t i = 0; i < q->nfunding; i++)
		mde_aux_free(&q->funding[i].data);
	free(q->funding);
	mde_fetcher_close(q->fetcher);
	mde_store_close(q->store);
	mde_fetch_logbuf_free(&q->logbuf);
	mde_archive_buf_free(&q->arbuf);
	mde_pl_reuse_free(q);
	memset(q, 0, sizeof *q);
}

int mde_pipeline_open(mde_pipeline *p, const mde_config *cfg, int kind,
		      const char *args, mde_err *err)
{
	memset(p, 0, sizeof *p);
	p->cfg = cfg;
	if (gethostname(p->host, sizeof p->host - 1) != 0 || !p->host[0])
		snprintf(p->host, sizeof p->host, "localhost");
	snprintf(p->owner, sizeof p->owner, "%s:%d", p->host, (int)getpid());

	int rc = mde_store_open(&p->store, cfg->db_url,
				cfg->db_connect_timeout_s, err);
	if (rc)
		return MDE_EXIT_FATAL;
	if ((rc = mde_migrate_check(mde_store_conn(p->store), err)))
		return MDE_EXIT_FATAL;

	if ((rc = open_fetcher(p, err)))
		return MDE_EXIT_FATAL;

	/* Housekeeping: a failure here does not stop the run. */
	size_t stale = 0;
	mde_err re = {0};
	if (mde_store_runs_reap(p->store, p->host, (int)getpid(), &stale, &re))
		mde_warn("run.stale_failed", "error=\"%s\"", re.msg);
	/* The run's record: a connection lost on the way (a server restart)
	 * is reconnected like any other, then the record is tried again. */
	for (int tries = 0;; tries++) {
		if (!mde_store_run_begin(p->store, kind_name(kind), p->host,
					 (int)getpid(), args, &p->run_id, err))
			break;
		if (tries >= 10 || mde_pipeline_recover(p, err))
			return MDE_EXIT_FATAL;
	}
	char ctx[64];
	snprintf(ctx, sizeof ctx, "run=%lld", (long long)p->run_id);
	mde_log_set_context(ctx);
	return 0;
}

void mde_pipeline_note_failed(mde_pipeline *p, const char *symbol,
			      const char *timeframe)
{
	size_t w = strlen(p->failed_names);
	if (w + 1 >= sizeof p->failed_names)
		return;
	int k = snprintf(p->failed_names + w, sizeof p->failed_names - w,
			 "%s%s %s", w ? ", " : "", symbol, timeframe);
	if (k < 0 || (size_t)k >= sizeof p->failed_names - w)
		snprintf(p->failed_names + sizeof p->failed_names - 5, 5,
			 "...");
}

void mde_pipeline_say_done(mde_pipeline *p, const char *cmd, int code)
{
	mde_pl_notes_flush(p);
	mde_log_progress_end();
	if (code == MDE_EXIT_INTERRUPTED || code == MDE_EXIT_FATAL)
		return; /* said where it happened */
	if (p->series_failed) {
		fprintf(stderr, "mdenrich %s: %zu series failed: %s; the "
			"others are committed (`mdenrich status` says why)\n",
			cmd, p->series_failed,
			p->failed_names[0] ? p->failed_names : "see the log");
		return;
	}
	size_t changed = p->rows_written;
	if (changed == 0 && p->corrections == 0 && p->rows_rejected == 0) {
		fprintf(stderr, "mdenrich %s: nothing changed (%zu candles "
			"fetched, all already stored as they are)\n", cmd,
			p->rows_fetched);
		return;
	}
	fprintf(stderr, "mdenrich %s: %zu candles written", cmd, changed);
	if (p->corrections)
		fprintf(stderr, ", %zu amended by the source", p->corrections);
	if (p->rows_unchanged)
		fprintf(stderr, ", %zu unchanged", p->rows_unchanged);
	if (p->rows_rejected)
		fprintf(stderr, ", %zu rejected (`mdenrich quality`)",
			p->rows_rejected);
	fputs("\n", stderr);
}

void mde_pipeline_close(mde_pipeline *p, int exit_code, const char *error)
{
	mde_pl_notes_flush(p);
	if (p->store && p->run_id) {
		const char *status = exit_code == MDE_EXIT_OK ? "ok"
				     : exit_code == MDE_EXIT_PARTIAL ? "partial"
				     : exit_code == MDE_EXIT_INTERRUPTED
					     ? "interrupted"
					     : "failed";
		mde_run_totals t = {p->series_total, p->series_failed,
				    p->rows_fetched, p->rows_written,
				    p->rows_unchanged, p->rows_rejected,
				    p->corrections};
		mde_err e = {0};
		char note[320];
		if (!error && p->series_skipped) {
			snprintf(note, sizeof note, "skipped, held by another "
				 "process: %s", p->skipped);
			error = note;
		}
		if (mde_store_run_end(p->store, p->run_id, status, &t, error,
				      &e) &&
		    mde_pl_connection_lost(&e) &&
		    mde_store_reconnect(p->store, &e) == 0 &&
		    mde_store_run_end(p->store, p->run_id, status, &t, error,
				      &e))
			mde_warn("run.record", "error=\"%s\"", e.msg);
	}
	mde_pf_close(p); /* left open by an error path: before its parent */
	mde_pl_share_free(p);
	if (p->fetcher) {
		mde_fetch_stats st;
		mde_fetch_get_stats(p->fetcher, &st);
		size_t req = 0, retries = 0;
		for (int i = 0; i < MDE_NSRC; i++) {
			req += st.src[i].requests;
			retries += st.src[i].retries;
		}
		mde_info("fetch.stats", "requests=%zu retries=%zu "
			 "max_in_flight=%d weight=%lld spot_weight=%lld "
			 "waited_ms=%lld", req, retries, st.max_inflight,
			 (long long)st.src[MDE_SRC_BINANCE].weight_sent,
			 (long long)st.src[MDE_SRC_BINANCE_SPOT].weight_sent,
			 (long long)st.waited_ms);
	}
	mde_log_set_context(NULL);
	for (size_t i = 0; i < p->nfunding; i++)
		mde_aux_free(&p->funding[i].data);
	free(p->funding);
	mde_fetcher_close(p->fetcher);
	mde_store_close(p->store);
	mde_fetch_logbuf_free(&p->logbuf);
	mde_archive_buf_free(&p->arbuf);
	mde_pl_reuse_free(p);
	memset(p, 0, sizeof *p);
}

int mde_pipeline_recover(mde_pipeline *p, mde_err *err)
{
	/* Only a lost connection or a server going away: a serialization
	 * failure or deadlock was already retried batch by batch. */
	if (!mde_pl_connection_lost(err))
		return err->code ? err->code : MDE_EDB;
	for (int a = 1; a <= p->cfg->db_max_retries + 1; a++) {
		int64_t delay = mde_pl_backoff_ms(a);
		mde_warn("db.reconnect", "attempt=%d delay_ms=%lld error=\"%s\"",
			 a, (long long)delay, err->msg);
		mde_sleep_ms(delay, &mde_stop_requested);
		if (mde_stop_requested)
			break;
		mde_err e = {0};
		if (mde_store_reconnect(p->store, &e) == 0)
			return 0;
		*err = e;
	}
	return err->code ? err->code : MDE_EDB;
}

void mde_pipeline_heartbeat(mde_pipeline *p)
{
	int64_t now = mde_mono_ms();
	/* Not inside a group: the run's row would stay locked by one
	 * writer's transaction until its commit (the stream beats between
	 * its batches). */
	if (!p->run_id || p->grouped ||
	    (p->heartbeat_ms && now - p->heartbeat_ms < 60000))
		return;
	p->heartbeat_ms = now;
	mde_err e = {0};
	if (mde_store_run_heartbeat(p->store, p->run_id, &e))
		mde_warn("run.heartbeat", "error=\"%s\"", e.msg);
}

void mde_pipeline_series_done(mde_pipeline *p, const char *symbol,
			      const char *timeframe, enum mde_asset asset,
			      const char *source, int rc, const mde_err *err)
{
	mde_err fe = {0};
	if (mde_store_flush_fetch_log(p->store, p->run_id, &p->logbuf, &fe))
		mde_warn("fetchlog.failed", "symbol=%s error=\"%s\"", symbol,
			 fe.msg);
	const char *status = rc == 0 ? "ok"
			     : rc == MDE_EINTR ? "interrupted" : "failed";
	/* the instrument's source: the primary of the plan */
	int origin = mde_fetch_source_origin(source);
	const char *src = origin >= 0 ? mde_origin_name(origin) : source;
	mde_err e = {0};
	for (int attempt = 0; attempt < 2; attempt++) {
		if (mde_status_refresh(mde_store_conn(p->store), symbol,
				       timeframe, asset, src, p->run_id,
				       (int64_t)p->series_inserted, rc == 0,
				       status,
				       rc ? err->msg : NULL, &e) == 0)
			break;
		if (!e.retryable || mde_store_reconnect(p->store, &e)) {
			mde_warn("status.failed", "symbol=%s error=\"%s\"",
				 symbol, e.msg);
			break;
		}
	}
	p->series_inserted = 0;
	mde_pipeline_heartbeat(p);
}
