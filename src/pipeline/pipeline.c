/* pipeline.c - see pipeline.h. */
#include "pipeline.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "db.h"
#include "engine.h"
#include "log.h"
#include "migrate.h"
#include "quality.h"
#include "timeutil.h"
#include "validate.h"

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

static bool is_replay(const char *source)
{
	return mde_fetch_source_origin(source) == MDE_SRC_REPLAY;
}

/* Exponential backoff with jitter for the k-th retry (k >= 1). */
static int64_t backoff_ms(int k)
{
	return (INT64_C(250) << (k - 1 < 10 ? k - 1 : 10)) + rand() % 250;
}

/* The error says the connection itself is gone (class 08, or the server
 * shutting down, 57P0x): only then reconnect. */
static bool connection_lost(const mde_err *e)
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
	};
	if ((rc = mde_fetcher_open(&p->fetcher, &o, err)))
		return MDE_EXIT_FATAL;

	char pid[16];
	snprintf(pid, sizeof pid, "%d", (int)getpid());
	const char *v[] = {kind_name(kind), p->host, pid, args};
	PGresult *r = NULL;
	if ((rc = mde_db_params(mde_store_conn(p->store),
				"INSERT INTO enrichment_runs (kind, host, pid, "
				"args) VALUES ($1, $2, $3, $4) RETURNING run_id",
				4, v, PGRES_TUPLES_OK, &r, err)))
		return MDE_EXIT_FATAL;
	p->run_id = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
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
		char n[7][24], run[24];
		size_t vals[7] = {p->series_total, p->series_failed,
				  p->rows_fetched, p->rows_written,
				  p->rows_unchanged, p->rows_rejected,
				  p->corrections};
		for (int i = 0; i < 7; i++)
			snprintf(n[i], sizeof n[i], "%zu", vals[i]);
		snprintf(run, sizeof run, "%lld", (long long)p->run_id);
		const char *v[] = {run, status, n[0], n[1], n[2], n[3], n[4],
				   n[5], n[6], error};
		static const char sql[] =
			"UPDATE enrichment_runs SET finished_at = now(), status "
			"= $2, series_total = $3, series_failed = $4, "
			"rows_fetched = $5, rows_written = $6, rows_unchanged "
			"= $7, rows_rejected = $8, corrections = $9, error = "
			"$10 WHERE run_id = $1";
		mde_err e = {0};
		if (mde_db_params(mde_store_conn(p->store), sql, 10, v,
				  PGRES_COMMAND_OK, NULL, &e) &&
		    connection_lost(&e) &&
		    mde_store_reconnect(p->store, &e) == 0 &&
		    mde_db_params(mde_store_conn(p->store), sql, 10, v,
				  PGRES_COMMAND_OK, NULL, &e))
			mde_warn("run.record", "error=\"%s\"", e.msg);
	}
	mde_log_set_context(NULL);
	for (size_t i = 0; i < p->nfunding; i++)
		mde_aux_free(&p->funding[i].data);
	free(p->funding);
	mde_fetcher_close(p->fetcher);
	mde_store_close(p->store);
	mde_fetch_logbuf_free(&p->logbuf);
	memset(p, 0, sizeof *p);
}

int mde_pipeline_recover(mde_pipeline *p, mde_err *err)
{
	/* Only a lost connection or a server going away: a serialization
	 * failure or deadlock was already retried batch by batch. */
	if (!connection_lost(err))
		return err->code ? err->code : MDE_EDB;
	for (int a = 1; a <= p->cfg->db_max_retries + 1; a++) {
		int64_t delay = backoff_ms(a);
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

/* ---- locks ------------------------------------------------------------ */

/* Namespace of the two-key advisory locks: "mde" in ASCII. */
#define LOCK_NS "7169125"

int mde_series_lock(mde_pipeline *p, const char *symbol,
		    const char *timeframe, bool wait, bool *got, mde_err *err)
{
	char key[96];
	snprintf(key, sizeof key, "%s/%s", symbol, timeframe);
	const char *v[] = {key};
	PGconn *c = mde_store_conn(p->store);
	PGresult *r = PQexecParams(
		c,
		wait ? "SELECT pg_advisory_lock(" LOCK_NS ", hashtext($1)), true"
		     : "SELECT pg_try_advisory_lock(" LOCK_NS ", hashtext($1))",
		1, NULL, v, NULL, NULL, 0);
	int rc = mde_db_check(c, r, PGRES_TUPLES_OK, err);
	if (!rc)
		*got = strcmp(PQgetvalue(r, 0, wait ? 1 : 0), "t") == 0;
	PQclear(r);
	return rc;
}

void mde_series_unlock(mde_pipeline *p, const char *symbol,
		       const char *timeframe)
{
	char key[96];
	snprintf(key, sizeof key, "%s/%s", symbol, timeframe);
	const char *v[] = {key};
	PQclear(PQexecParams(mde_store_conn(p->store),
			     "SELECT pg_advisory_unlock(" LOCK_NS
			     ", hashtext($1))",
			     1, NULL, v, NULL, NULL, 0));
}

/* ---- one series ------------------------------------------------------- */

/* The /futures/data period for a timeframe (1m has none: use 5m). */
static const char *aux_period(int64_t period_ms, int64_t *aux_ms)
{
	if (period_ms < 5 * MDE_MINUTE_MS) {
		*aux_ms = 5 * MDE_MINUTE_MS;
		return "5m";
	}
	*aux_ms = period_ms;
	return mde_tf_name(period_ms);
}

typedef struct work {
	mde_candles fetched;   /* as the source sent them */
	mde_candles merged;    /* stored history, then the valid fetched */
	mde_validation val;
	mde_series series;
	mde_frame frame;
	mde_auxset aux;        /* stored + fetched, for the features */
	mde_aux fetched_aux[3];/* funding, OI, long/short to keep */
	mde_day_dups *dups;
	size_t ndups;
	struct {
		const char *kind;
		int64_t start_ms, end_ms;
	} holes[3];
	size_t nholes;
} work;

static void work_free(work *w)
{
	mde_candles_free(&w->fetched);
	mde_candles_free(&w->merged);
	mde_validation_free(&w->val);
	mde_series_free(&w->series);
	mde_frame_free(&w->frame);
	mde_auxset_free(&w->aux);
	for (int k = 0; k < 3; k++)
		mde_aux_free(&w->fetched_aux[k]);
	free(w->dups);
}

/*
 * Funding events of [from, to) for a symbol: from this run's memo when an
 * earlier fetch covered the range, else fetched up to a year ahead (one
 * page holds 1000 events, 333 days at 8 h) and remembered.
 */
static int fetch_funding(mde_pipeline *p, const char *src, const char *symbol,
			 int64_t from, int64_t to, mde_aux *out,
			 int64_t *hole_end, mde_err *err)
{
	struct mde_funding_memo *m = NULL;
	for (size_t i = 0; i < p->nfunding; i++)
		if (strcmp(p->funding[i].symbol, symbol) == 0)
			m = &p->funding[i];
	if (!m || m->from_ms > from || m->to_ms < to) {
		int64_t ahead = from + 366 * MDE_DAY_MS, now = mde_now_ms();
		int64_t until = to > ahead ? to : ahead < now ? ahead : now;
		if (until < to)
			until = to;
		mde_aux got = {0};
		int rc = mde_fetch_aux(p->fetcher, src, MDE_AUX_FUNDING, symbol,
				       0, from, until, &got, hole_end, err);
		if (rc) {
			mde_aux_free(&got);
			return rc;
		}
		if (!m) {
			void *q = realloc(p->funding,
					  (p->nfunding + 1) * sizeof *p->funding);
			if (!q) {
				mde_aux_free(&got);
				return mde_err_set(err, MDE_ENOMEM, false,
						   "out of memory");
			}
			p->funding = q;
			m = &p->funding[p->nfunding++];
			memset(m, 0, sizeof *m);
			snprintf(m->symbol, sizeof m->symbol, "%s", symbol);
		}
		mde_aux_free(&m->data);
		m->data = got;
		m->from_ms = from;
		m->to_ms = until;
	}
	for (size_t i = 0; i < m->data.n; i++)
		if (m->data.t[i] >= from && m->data.t[i] < to &&
		    mde_aux_push(out, m->data.t[i], m->data.v[i]))
			return mde_err_set(err, MDE_ENOMEM, false,
					   "out of memory");
	return 0;
}

/* Fetches the aux series of a crypto series and merges them with what the
 * database kept. An aux source that fails is logged and counted; its
 * features stay NULL where nothing is stored. */
static int load_aux(mde_pipeline *p, const mde_series_job *j, work *w,
		    int64_t t0_ms, int64_t until_ms, bool *aux_failed,
		    mde_err *err)
{
	static const int kinds[3] = {MDE_AUX_FUNDING, MDE_AUX_OPEN_INTEREST,
				     MDE_AUX_LONG_SHORT};
	static const char *names[3] = {"funding", "open_interest",
				       "long_short"};
	int64_t aux_ms;
	const char *period = aux_period(j->period_ms, &aux_ms);
	/* Aux series come from the futures API even for a spot series. */
	const char *src = is_replay(j->source) ? j->source : "binance";
	for (int k = 0; k < 3; k++) {
		int kind = kinds[k];
		int64_t since;
		size_t before;
		mde_features_aux_need(kind, t0_ms, j->period_ms, &since,
				      &before);
		/* Fetch far enough back that the first candles are not NULL
		 * for lack of history the exchange has (FEATURES.md). */
		int64_t fetch_from = kind == MDE_AUX_FUNDING
					     ? since - 31 * MDE_DAY_MS
					     : since;
		int64_t hole_end = fetch_from;
		mde_err e = {0};
		int rc = j->stored_only ? 0
			 : kind == MDE_AUX_FUNDING
				 ? fetch_funding(p, src, j->symbol, fetch_from,
						 j->end_ms, &w->fetched_aux[k],
						 &hole_end, &e)
				 : mde_fetch_aux(p->fetcher, src, kind,
						 j->symbol, aux_ms, fetch_from,
						 j->end_ms, &w->fetched_aux[k],
						 &hole_end, &e);
		if (rc == MDE_ENOTFOUND) {
			/* The source has no such series for this symbol (a
			 * spot-only pair): its features are NULL. */
			mde_info("aux.none", "symbol=%s kind=%s detail=\"%s\"",
				 j->symbol, names[k], e.msg);
			w->fetched_aux[k].n = 0;
		} else if (rc) {
			*aux_failed = true;
			mde_warn("aux.failed", "symbol=%s kind=%s error=\"%s\"",
				 j->symbol, names[k], e.msg);
			w->fetched_aux[k].n = 0;
		}
		mde_aux *a = &w->aux.s[kind];
		/* Stored observations up to the last slot computed: the
		 * recomputed rows after the range need theirs too. */
		if ((rc = mde_store_load_aux(p->store, kind, j->symbol, period,
					     since, before, until_ms, a, err)))
			return rc;
		/* The part the source no longer serves is a hole only where
		 * earlier runs kept nothing of it. */
		size_t kept = 0;
		for (size_t i = 0; i < a->n; i++)
			kept += a->t[i] >= fetch_from && a->t[i] < hole_end;
		if (!rc && hole_end > fetch_from && kept == 0) {
			w->holes[w->nholes].kind = names[k];
			w->holes[w->nholes].start_ms = fetch_from;
			w->holes[w->nholes].end_ms = hole_end;
			w->nholes++;
			mde_warn("aux.hole", "symbol=%s kind=%s from=%lld "
				 "until=%lld reason=\"older than the source "
				 "serves, and not kept by an earlier run\"",
				 j->symbol, names[k], (long long)fetch_from,
				 (long long)hole_end);
		}
		/* The features see stored and fetched; the store is given
		 * only what it does not already hold with that value. */
		mde_aux *got = &w->fetched_aux[k];
		size_t n = 0, s = 0, nstored = a->n;
		for (size_t i = 0; i < got->n; i++) {
			if (mde_aux_push(a, got->t[i], got->v[i]))
				return mde_err_set(err, MDE_ENOMEM, false,
						   "out of memory");
			while (s < nstored && a->t[s] < got->t[i])
				s++;
			if (s < nstored && a->t[s] == got->t[i] &&
			    a->v[s] == got->v[i])
				continue;
			got->t[n] = got->t[i];
			got->v[n++] = got->v[i];
		}
		got->n = n;
		if (mde_aux_normalize(a))
			return mde_err_set(err, MDE_ENOMEM, false,
					   "out of memory");
		w->aux.configured[kind] = true;
	}
	return 0;
}

/* Duplicates of the fetch per UTC day, for the quality metrics. */
static int count_dups(work *w)
{
	for (size_t k = 0; k < w->val.ndups; k++) {
		int64_t day = mde_floor_div(
			w->fetched.open_time_ms[w->val.dups[k]], MDE_DAY_MS) *
			MDE_DAY_MS;
		size_t i = 0;
		while (i < w->ndups && w->dups[i].day_ms != day)
			i++;
		if (i == w->ndups) {
			void *q = realloc(w->dups, (w->ndups + 1) *
							   sizeof *w->dups);
			if (!q)
				return MDE_ENOMEM;
			w->dups = q;
			w->dups[w->ndups].day_ms = day;
			w->dups[w->ndups].count = 0;
			w->ndups++;
		}
		w->dups[i].count++;
	}
	return 0;
}

/* Appends the valid fetched candles after the stored ones, unless a stored
 * candle of the same time came from a better source. */
static int merge(work *w, size_t nstored, mde_err *err)
{
	const mde_series *vs = &w->val.series;
	size_t k = 0; /* walks the stored rows, ascending */
	for (size_t i = 0; i < vs->n; i++) {
		if (!vs->valid[i])
			continue;
		uint32_t row = vs->row[i];
		int64_t t = w->fetched.open_time_ms[row];
		while (k < nstored && w->merged.open_time_ms[k] < t)
			k++;
		if (k < nstored && w->merged.open_time_ms[k] == t &&
		    mde_origin_rank(w->merged.origin[k]) >
			    mde_origin_rank(w->fetched.origin[row]))
			continue;
		if (mde_candles_copy_row(&w->merged, &w->fetched, row))
			return mde_err_set(err, MDE_ENOMEM, false,
					   "out of memory");
	}
	return 0;
}

static void progress(mde_pipeline *p, size_t rows)
{
	p->progress_done += rows;
	if (!p->progress)
		return;
	int64_t now = mde_mono_ms();
	if (now - p->progress_last_ms < 2000 &&
	    p->progress_done < p->progress_total)
		return;
	p->progress_last_ms = now;
	double secs = (double)(now - p->progress_started_ms) / 1000.0;
	double rate = secs > 0 ? (double)p->progress_done / secs : 0;
	double left = p->progress_total > p->progress_done
			      ? (double)(p->progress_total - p->progress_done)
			      : 0;
	long eta = rate > 0 ? (long)(left / rate) : -1;
	if (isatty(STDERR_FILENO)) {
		fprintf(stderr, "\r%zu/%zu candles  %.0f/s  ETA %ld:%02ld   ",
			p->progress_done, p->progress_total, rate,
			eta >= 0 ? eta / 60 : 0, eta >= 0 ? eta % 60 : 0);
		if (p->progress_done >= p->progress_total)
			fputc('\n', stderr);
		fflush(stderr);
	} else {
		mde_info("backfill.progress", "candles=%zu total=%zu rate=%.0f "
			 "eta_s=%ld elapsed_s=%.0f", p->progress_done,
			 p->progress_total, rate, eta, secs);
	}
}

/* Writes one batch, retrying transient errors with backoff. */
static int write_batch(mde_pipeline *p, const mde_series_job *j,
		       mde_store_batch *b, mde_err *err)
{
	int attempts = p->cfg->db_max_retries + 1;
	bool relock = false; /* the connection, and the lock, were lost */
	for (int a = 1;; a++) {
		mde_store_result res;
		bool got;
		int rc = relock ? mde_store_reconnect(p->store, err) : 0;
		if (!rc && relock)
			rc = mde_series_lock(p, j->symbol, j->timeframe, true,
					     &got, err);
		/* Only with the series lock ours again may the batch go. */
		relock = rc != 0;
		if (!rc)
			rc = mde_store_write(p->store, b, &res, err);
		if (!rc) {
			p->rows_written += res.inserted + res.updated;
			p->series_inserted += res.inserted;
			p->rows_unchanged += res.unchanged;
			p->rows_rejected += res.rejects;
			p->corrections += res.corrections;
			mde_debug("store.batch", "symbol=%s inserted=%zu "
				  "updated=%zu unchanged=%zu corrections=%zu",
				  j->symbol, res.inserted, res.updated,
				  res.unchanged, res.corrections);
			return 0;
		}
		if (!err->retryable || a >= attempts)
			return rc;
		int64_t delay = backoff_ms(a);
		mde_warn("store.retry", "symbol=%s attempt=%d delay_ms=%lld "
			 "sqlstate=%s error=\"%s\"", j->symbol, a,
			 (long long)delay, err->sqlstate, err->msg);
		mde_sleep_ms(delay, &mde_stop_requested);
		/* A serialization failure or deadlock leaves the connection,
		 * and the series lock it holds, as they were: try again. A
		 * lost connection took the lock with it. */
		relock = relock || connection_lost(err);
	}
}

int mde_pipeline_series(mde_pipeline *p, const mde_series_job *j,
			mde_err *err)
{
	work w;
	memset(&w, 0, sizeof w);
	int64_t P = j->period_ms, now = mde_now_ms();
	size_t warm = mde_features_warmup(P, j->asset);
	bool crypto = j->asset == MDE_CRYPTO, aux_failed = false;
	int rc;

	/* Fetch. A failed fetch may still have delivered earlier pages:
	 * those are enriched and stored, and the series then fails. */
	mde_err ferr = {0};
	int frc = j->stored_only
			  ? 0
			  : mde_fetch_candles(p->fetcher, j->source, j->asset,
					      j->symbol, P, j->start_ms,
					      j->end_ms, &w.fetched, &ferr);
	p->rows_fetched += w.fetched.n;
	int64_t end = j->end_ms;
	if (frc) {
		mde_warn("fetch.failed", "symbol=%s error=\"%s\" rows=%zu",
			 j->symbol, ferr.msg, w.fetched.n);
		end = j->start_ms;
		for (size_t i = 0; i < w.fetched.n; i++)
			if (w.fetched.open_time_ms[i] + P > end)
				end = w.fetched.open_time_ms[i] + P;
	}

	/* Validate what was fetched. */
	if ((rc = mde_validate(&w.val, &w.fetched, P, j->asset, now, err)) ||
	    (rc = count_dups(&w) ? mde_err_set(err, MDE_ENOMEM, false,
					       "out of memory") : 0))
		goto done;

	/* Stored history: the warm-up before start, the range itself, and a
	 * warm-up after end (a prepend recomputes what depends on it). */
	int64_t after = crypto ? (int64_t)warm * P
			       : (int64_t)warm * 2 * MDE_DAY_MS + 30 * MDE_DAY_MS;
	if ((rc = mde_store_load_candles(p->store, j->symbol, j->timeframe,
					 crypto ? j->start_ms - (int64_t)warm * P
						: j->start_ms,
					 end + after, crypto ? 0 : warm,
					 &w.merged, err)))
		goto done;
	size_t nstored = w.merged.n;
	if ((rc = merge(&w, nstored, err)))
		goto done;

	/* Place on the grid and compute. */
	uint32_t *rows = malloc((w.merged.n + 1) * sizeof *rows);
	if (!rows) {
		rc = mde_err_set(err, MDE_ENOMEM, false, "out of memory");
		goto done;
	}
	for (size_t i = 0; i < w.merged.n; i++)
		rows[i] = (uint32_t)i;
	rc = mde_grid_place(&w.series, &w.merged, rows, w.merged.n, P,
			    j->asset, err);
	free(rows);
	if (rc)
		goto done;
	int64_t until = w.series.n ? w.series.t[w.series.n - 1] + P : end;
	if (until < j->end_ms)
		until = j->end_ms;
	if (crypto &&
	    (rc = load_aux(p, j, &w, j->start_ms, until, &aux_failed, err)))
		goto done;
	/* Rows written without an aux series the source does have would keep
	 * NULL features: write nothing, the next run or resume retries.
	 * Unless the primary source is down and a fallback served candles:
	 * those are written (flag 8) and redone by the next run that reaches
	 * the primary (cmd_run.c starts at the earliest fallback candle). */
	bool fallback = false;
	for (size_t i = 0; i < w.fetched.n && !fallback; i++)
		fallback = mde_fetch_has_fallback(j->source) &&
			   mde_origin_rank(w.fetched.origin[i]) == 1;
	if (aux_failed && !fallback) {
		rc = mde_err_set(err, MDE_ENET, true,
				 "an auxiliary series could not be fetched "
				 "(see the log); nothing was written");
		goto done;
	}
	int64_t t0 = mde_mono_ms();
	if ((rc = mde_features_compute(&w.frame, &w.series, &w.aux, err)))
		goto done;
	int64_t compute_ms = mde_mono_ms() - t0;

	/* Write from start on, batch by batch. */
	const mde_series *s = &w.series;
	size_t i0 = 0;
	while (i0 < s->n && s->t[i0] < j->start_ms)
		i0++;
	int64_t aux_ms;
	mde_store_batch b = {
		.symbol = j->symbol,
		.timeframe = j->timeframe,
		.period_ms = P,
		.asset = j->asset,
		.run_id = p->run_id,
		.series = s,
		.frame = &w.frame,
		.candles = &w.merged,
		.rej_candles = &w.fetched,
		.rejects = w.val.rejects,
		.nrejects = w.val.nrejects,
		.funding = &w.fetched_aux[0],
		.open_interest = &w.fetched_aux[1],
		.long_short = &w.fetched_aux[2],
		.aux_period = aux_period(P, &aux_ms),
		.aux_source = is_replay(j->source) ? "replay" : "binance",
		.fetch_log = &p->logbuf,
		.rows_in = s->n,
		.job_id = j->job_id,
		.chunk_no = j->chunk_no,
		.lease_owner = p->owner,
		.lease_s = p->cfg->lease_s,
		.dups = w.dups,
		.ndups = w.ndups,
		.now_ms = now,
	};
	for (size_t h = 0; h < w.nholes; h++) {
		b.holes[h].kind = w.holes[h].kind;
		b.holes[h].start_ms = w.holes[h].start_ms;
		b.holes[h].end_ms = w.holes[h].end_ms;
	}
	b.nholes = w.nholes;
	size_t per = (size_t)(p->cfg->batch_rows > 0 ? p->cfg->batch_rows
						     : 5000);
	bool first = true;
	do {
		size_t i1 = i0, nvalid = 0;
		while (i1 < s->n && nvalid < per) {
			nvalid += s->valid[i1];
			i1++;
		}
		bool last = i1 >= s->n;
		b.slot_from = i0;
		b.slot_to = i1;
		if (!first) {
			b.nrejects = 0;
			b.funding = b.open_interest = b.long_short = NULL;
			b.nholes = 0;
		}
		b.compute_ms = last ? compute_ms : -1;
		/* The cursor covers the fetched range only: the recomputed
		 * rows after it are not part of this chunk. */
		int64_t upto = i1 > i0 ? s->t[i1 - 1] : j->start_ms - P;
		b.cursor_ms = last ? end - P : (upto < end - P ? upto : end - P);
		b.chunk_done = last && !frc;
		int64_t qfrom = i1 > i0 ? s->t[i0] : j->start_ms;
		int64_t qto = i1 > i0 ? s->t[i1 - 1] + P : j->start_ms;
		b.qual_from_ms = mde_floor_div(qfrom, MDE_DAY_MS) * MDE_DAY_MS;
		b.qual_to_ms = qto > qfrom ? (mde_floor_div(qto - 1, MDE_DAY_MS)
					      + 1) * MDE_DAY_MS
					   : b.qual_from_ms;
		size_t written0 = p->rows_written, unchanged0 = p->rows_unchanged;
		if ((rc = write_batch(p, j, &b, err)))
			goto done;
		b.written_before += p->rows_written - written0;
		b.unchanged_before += p->rows_unchanged - unchanged0;
		progress(p, nvalid);
		first = false;
		i0 = i1;
		if (mde_stop_requested && i0 < s->n) {
			rc = mde_err_set(err, MDE_EINTR, false,
					 "interrupted after a committed batch");
			goto done;
		}
	} while (i0 < s->n);

	if (frc) {
		*err = ferr;
		rc = frc;
	} else if (aux_failed) {
		rc = mde_err_set(err, MDE_ENET, true,
				 "the primary source failed: candles stored "
				 "from the fallback without their auxiliary "
				 "series; the next run replaces them");
	}
done:
	work_free(&w);
	return rc;
}

void mde_pipeline_series_done(mde_pipeline *p, const char *symbol,
			      const char *timeframe, int asset,
			      const char *source, int rc, const mde_err *err)
{
	mde_err fe = {0};
	if (mde_store_flush_fetch_log(p->store, p->run_id, &p->logbuf, &fe))
		mde_warn("fetch_log.failed", "symbol=%s error=\"%s\"", symbol,
			 fe.msg);
	const char *status = rc == 0 ? "ok"
			     : rc == MDE_EINTR ? "interrupted" : "failed";
	const char *src = is_replay(source) ? "replay" : source;
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
