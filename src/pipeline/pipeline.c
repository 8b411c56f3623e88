/* pipeline.c - see pipeline.h: the pipeline object, signals, recovery. */
#include "stages.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "migrate.h"
#include "quality.h"
#include "runs.h"
#include "timeutil.h"

volatile sig_atomic_t mde_stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	mde_stop_requested = 1;
}

void mde_install_signal_handlers(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

int64_t mde_last_closed_end(int64_t now_ms, int64_t period_ms)
{
	return mde_floor_div(now_ms, period_ms) * period_ms;
}

int64_t mde_pl_backoff_ms(int k)
{
	return (INT64_C(250) << (k - 1 < 10 ? k - 1 : 10)) + rand() % 250;
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
 * The archive's base URL: the configured one; else, when the Binance URL
 * points somewhere else than Binance (a mirror, a test server), that host,
 * so that a private setup never reaches out to the public archive; else
 * data.binance.vision (the fetcher's default).
 */
static const char *archive_url(const mde_config *cfg)
{
	if (cfg->archive_url && *cfg->archive_url)
		return cfg->archive_url;
	if (cfg->binance_url &&
	    strcmp(cfg->binance_url, "https://fapi.binance.com") != 0)
		return cfg->binance_url;
	return NULL;
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
		.breaker_threshold = cfg->breaker_threshold,
		.breaker_cooldown_ms = cfg->breaker_cooldown_ms,
		.log_cb = mde_fetch_logbuf_add,
		.log_ud = &p->logbuf,
		.archive = mde_archive_mode_parse(cfg->archive ? cfg->archive
							       : "auto"),
		.archive_url = archive_url(cfg),
		.archive_cache = cfg->archive_cache,
		.archive_parallel = cfg->archive_parallel,
		.archive_cb = mde_archive_buf_add,
		.archive_ud = &p->arbuf,
	};
	if (o.archive < 0)
		o.archive = MDE_ARCHIVE_AUTO;
	if ((rc = mde_fetcher_open(&p->fetcher, &o, err)))
		return MDE_EXIT_FATAL;

	if (mde_store_run_begin(p->store, kind_name(kind), p->host,
				(int)getpid(), args, &p->run_id, err))
		return MDE_EXIT_FATAL;
	char ctx[64];
	snprintf(ctx, sizeof ctx, "run=%lld", (long long)p->run_id);
	mde_log_set_context(ctx);
	return 0;
}

void mde_pipeline_close(mde_pipeline *p, int exit_code, const char *error)
{
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
		if (mde_store_run_end(p->store, p->run_id, status, &t, error,
				      &e) &&
		    mde_pl_connection_lost(&e) &&
		    mde_store_reconnect(p->store, &e) == 0 &&
		    mde_store_run_end(p->store, p->run_id, status, &t, error,
				      &e))
			mde_warn("run.record", "error=\"%s\"", e.msg);
	}
	mde_log_set_context(NULL);
	for (size_t i = 0; i < p->nfunding; i++)
		mde_aux_free(&p->funding[i].data);
	free(p->funding);
	mde_fetcher_close(p->fetcher);
	mde_store_close(p->store);
	mde_fetch_logbuf_free(&p->logbuf);
	mde_archive_buf_free(&p->arbuf);
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
	const char *src = mde_fetch_source_origin(source) == MDE_SRC_REPLAY
				  ? "replay"
				  : source;
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
}
