/*
 * prefetch.c - the fetch threads of prefetch.h. Announced fetches are
 * items in announcement order; each thread takes the first waiting one
 * (while fewer than `ahead` are running or unclaimed), fetches it with its
 * own fetcher into the item, and wakes the pipeline. Only this file's
 * mutex guards the items; the fetchers share the host budgets in gate.c.
 */
#include "prefetch.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#ifdef __linux__
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

#include "log.h"
#include "stages.h"

enum pf_state { PF_QUEUED, PF_RUNNING, PF_DONE, PF_GONE };

/* Pages a part of a cut fetch has at least, and the most parts. */
#define PF_PART_PAGES 4
#define PF_MAX_PARTS 16

struct pf_item {
	mde_pf_req rq;
	mde_pf_req whole;        /* a part's whole fetch (nparts > 1) */
	int part, nparts;        /* a part of a fetch cut at page bounds */
	enum pf_state state;
	bool dropped;            /* running (or joining) when a later item
				    was taken */
	bool joining, joined;    /* part 0: a fetch thread is joining the
				    parts into it, has joined them */
	struct pf_item *head;    /* a part's part 0 */
	mde_pf_result res;
	mde_fetch_logbuf log;
};

struct pf_thread {
	mde_prefetch *pf;
	mde_fetcher *f;
	pthread_t th;
	bool started;
};

struct mde_prefetch {
	pthread_mutex_t mu;
	pthread_cond_t work, done;
	struct pf_item **items;
	size_t n, first;         /* items before first are gone */
	size_t items_bytes;      /* room of items */
	size_t busy, ahead;      /* running or unclaimed, and their limit */
	int idle;                /* threads started and not fetching: they
				    take the first waiting item once they
				    run */
	bool stop;
	mde_fetch_logbuf orphans; /* records of dropped fetches */
	int nthreads;
	struct pf_thread *t;
};

void mde_pf_result_free(mde_pf_result *r)
{
	mde_candles_free(&r->candles);
	mde_aux_free(&r->aux);
	for (size_t k = 0; k < r->nper; k++)
		mde_aux_free(&r->per[k]);
	free(r->per);
	r->per = NULL;
	r->nper = 0;
}

void mde_pf_fetch(mde_fetcher *f, const mde_pf_req *q, mde_pf_result *r)
{
	r->to_ms = q->to_ms;
	if (q->kind == MDE_PF_CANDLES) {
		r->rc = mde_fetch_candles(f, q->source, q->asset, q->symbol,
					  q->period_ms, q->from_ms, q->to_ms,
					  &r->candles, &r->err);
		/* it waits for its chunk: without the room pages and files
		 * left (a chunk's text grows by doubling) */
		mde_candles_compact(&r->candles);
	} else if (q->kind == MDE_PF_FUNDING_ALL) {
		r->per = calloc(q->nsymbols ? q->nsymbols : 1, sizeof *r->per);
		r->nper = r->per ? q->nsymbols : 0;
		r->rc = !r->per ? mde_err_set(&r->err, MDE_ENOMEM, false,
					      "out of memory")
			: mde_fetch_funding_all(f, q->symbols, q->nsymbols,
						q->from_ms, q->to_ms, r->per,
						&r->err);
	} else
		r->rc = mde_fetch_aux(f, q->source, q->kind, q->symbol,
				      q->period_ms, q->from_ms, q->to_ms,
				      &r->aux, &r->hole_end_ms, &r->err);
}

static void fetch_item(mde_fetcher *f, struct pf_item *it)
{
	mde_fetcher_set_log(f, mde_fetch_logbuf_add, &it->log);
	mde_pf_fetch(f, &it->rq, &it->res);
	mde_fetcher_set_log(f, NULL, NULL);
}

/* The first waiting item (the funding of all symbols before any), if
 * the bound lets one start. */
static struct pf_item *next_item(mde_prefetch *pf)
{
	if (pf->busy >= pf->ahead || mde_stop_requested)
		return NULL; /* stopping: what is queued is not needed */
	struct pf_item *first = NULL;
	for (size_t i = pf->first; i < pf->n; i++) {
		struct pf_item *it = pf->items[i];
		if (it->state != PF_QUEUED)
			continue;
		if (it->rq.kind == MDE_PF_FUNDING_ALL)
			return it; /* announced last, needed by the first */
		if (!first)
			first = it;
	}
	return first;
}

/* Frees a dropped item's data; its log records wait for the next take. */
static void drop(mde_prefetch *pf, struct pf_item *it)
{
	if (it->state == PF_RUNNING || (it->head && it->head->joining)) {
		it->dropped = true; /* freed by the thread when it is done */
		return;
	}
	if (it->state == PF_DONE)
		pf->busy--;
	mde_fetch_logbuf_take(&pf->orphans, &it->log);
	mde_pf_result_free(&it->res);
	it->state = PF_GONE;
}

/*
 * The parts of a cut fetch appended into out (part 0's result), in order,
 * as one fetch would have ended: up to the first part that failed (its
 * rows and its error), nothing of the parts after it, whose results are
 * freed.
 */
static void join_into(mde_pf_result *out, struct pf_item *const *parts,
		      int np)
{
	size_t rows = out->candles.n, text = out->candles.text_len;
	for (int i = 0; i < np; i++) {
		rows += parts[i]->res.candles.n;
		text += parts[i]->res.candles.text_len;
	}
	/* room for all at once: growing by doubling would copy the first
	 * part's columns again and again */
	if (!out->rc && (mde_candles_reserve(&out->candles, rows) ||
			 mde_candles_reserve_text(&out->candles, text)))
		out->rc = mde_err_set(&out->err, MDE_ENOMEM, false,
				      "out of memory");
	for (int i = 0; i < np; i++) {
		mde_pf_result *r = &parts[i]->res;
		if (!out->rc) {
			if (mde_candles_append(&out->candles, &r->candles))
				out->rc = mde_err_set(&out->err, MDE_ENOMEM,
						      false, "out of memory");
			else if (r->rc) {
				out->rc = r->rc;
				out->err = r->err;
			}
		}
		mde_pf_result_free(r);
		*r = (mde_pf_result){0};
	}
}

/*
 * When it was the last of its fetch's parts to be done, the thread joins
 * them into part 0 (with the mutex released), so that the pipeline takes
 * one result at once instead of appending the parts while it waits.
 */
static void join_if_last(mde_prefetch *pf, struct pf_item *it)
{
	struct pf_item *head = it->head, *parts[PF_MAX_PARTS];
	if (!head || head->joining || head->joined)
		return;
	size_t k = pf->first;
	while (k < pf->n && pf->items[k] != head)
		k++;
	if (k + (size_t)head->nparts > pf->n)
		return;
	for (int i = 0; i < head->nparts; i++) {
		parts[i] = pf->items[k + (size_t)i];
		if (parts[i]->state != PF_DONE || parts[i]->dropped)
			return;
	}
	head->joining = true;
	pthread_mutex_unlock(&pf->mu);
	join_into(&head->res, parts + 1, head->nparts - 1);
	pthread_mutex_lock(&pf->mu);
	head->joining = false;
	head->joined = true;
	for (int i = 0; i < head->nparts; i++)
		if (parts[i]->dropped) /* dropped while it was joining */
			drop(pf, parts[i]);
}

/* How much lower a fetch thread's CPU priority is than the pipeline's:
 * on a machine the database shares, what is fetched ahead waits for the
 * writer and the server (the path every batch takes), never the other
 * way round; when the writer waits for a fetch, nothing else runs. */
#define PF_NICE 5

static void *thread_main(void *arg)
{
	struct pf_thread *t = arg;
	mde_prefetch *pf = t->pf;
#ifdef __linux__
	/* Linux: a thread's own nice value (PRIO_PROCESS with its tid) */
	(void)setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), PF_NICE);
#endif
	pthread_mutex_lock(&pf->mu);
	while (!pf->stop) {
		struct pf_item *it = next_item(pf);
		if (!it) {
			pthread_cond_wait(&pf->work, &pf->mu);
			continue;
		}
		it->state = PF_RUNNING;
		pf->busy++;
		pf->idle--;
		pthread_mutex_unlock(&pf->mu);
		fetch_item(t->f, it);
		pthread_mutex_lock(&pf->mu);
		pf->idle++;
		it->state = PF_DONE;
		if (it->dropped) {
			drop(pf, it);
			pthread_cond_broadcast(&pf->work);
		} else {
			join_if_last(pf, it);
		}
		pthread_cond_broadcast(&pf->done);
	}
	pthread_mutex_unlock(&pf->mu);
	return NULL;
}

int mde_pf_open(mde_pipeline *p, int nthreads, size_t ahead, mde_err *err)
{
	mde_prefetch *pf = calloc(1, sizeof *pf);
	if (!pf || !(pf->t = calloc((size_t)nthreads, sizeof *pf->t))) {
		free(pf);
		return mde_err_set(err, MDE_ENOMEM, false, "out of memory");
	}
	pthread_mutex_init(&pf->mu, NULL);
	pthread_cond_init(&pf->work, NULL);
	pthread_cond_init(&pf->done, NULL);
	pf->ahead = ahead > 0 ? ahead : 1;
	p->pf = pf;
	for (int i = 0; i < nthreads; i++) {
		struct pf_thread *t = &pf->t[i];
		t->pf = pf;
		int rc = mde_fetcher_open_child(&t->f, p->fetcher, err);
		pthread_mutex_lock(&pf->mu);
		pf->idle++; /* before it runs: a take may count on it */
		pthread_mutex_unlock(&pf->mu);
		if (!rc && pthread_create(&t->th, NULL, thread_main, t))
			rc = mde_err_set(err, MDE_ENOMEM, false,
					 "cannot start a fetch thread");
		if (rc) {
			mde_fetcher_close(t->f);
			t->f = NULL;
			mde_pf_close(p);
			return rc;
		}
		t->started = true;
		pf->nthreads = i + 1;
	}
	mde_debug("prefetch.start", "threads=%d ahead=%zu", nthreads, ahead);
	return 0;
}

void mde_pf_close(mde_pipeline *p)
{
	mde_prefetch *pf = p->pf;
	if (!pf)
		return;
	pthread_mutex_lock(&pf->mu);
	pf->stop = true;
	pthread_cond_broadcast(&pf->work);
	pthread_mutex_unlock(&pf->mu);
	for (int i = 0; i < pf->nthreads; i++) {
		if (pf->t[i].started)
			pthread_join(pf->t[i].th, NULL);
		mde_fetcher_close(pf->t[i].f);
	}
	for (size_t i = pf->first; i < pf->n; i++) { /* before: freed */
		struct pf_item *it = pf->items[i];
		mde_fetch_logbuf_take(&pf->orphans, &it->log);
		mde_fetch_logbuf_free(&it->log);
		mde_pf_result_free(&it->res);
		free(it);
	}
	mde_fetch_logbuf_take(&p->logbuf, &pf->orphans);
	mde_fetch_logbuf_free(&pf->orphans);
	free(pf->items);
	free(pf->t);
	pthread_cond_destroy(&pf->work);
	pthread_cond_destroy(&pf->done);
	pthread_mutex_destroy(&pf->mu);
	free(pf);
	p->pf = NULL;
}

/*
 * How many parts rq is fetched in, and their span: candles the fetcher
 * reads page by page from REST are cut at page bounds (every part but the
 * last a whole number of full pages: the same requests as one fetch), so
 * that the threads fetch one chunk side by side, the first chunk of a
 * backfill too; at least PF_PART_PAGES pages a part, one per thread.
 */
static int parts_of(const mde_pipeline *p, const mde_pf_req *rq,
		    int64_t *span)
{
	int64_t page;
	if (rq->kind != MDE_PF_CANDLES || p->pf->nthreads < 2 ||
	    rq->to_ms <= rq->from_ms ||
	    !mde_fetch_rest_pages(p->fetcher, rq->source, rq->asset,
				  rq->period_ms, &page))
		return 1;
	int64_t pages = (rq->to_ms - rq->from_ms + page - 1) / page;
	int64_t n = pages / PF_PART_PAGES;
	if (n > p->pf->nthreads)
		n = p->pf->nthreads;
	if (n > PF_MAX_PARTS)
		n = PF_MAX_PARTS;
	if (n < 2)
		return 1;
	int64_t per = (pages + n - 1) / n;
	*span = per * page;
	return (int)((pages + per - 1) / per);
}

int mde_pf_add(mde_pipeline *p, const mde_pf_req *rq)
{
	mde_prefetch *pf = p->pf;
	if (!pf)
		return 0;
	int64_t span = 0;
	int np = parts_of(p, rq, &span);
	struct pf_item *it[PF_MAX_PARTS];
	for (int k = 0; k < np; k++) {
		if (!(it[k] = calloc(1, sizeof *it[k]))) {
			while (k--)
				free(it[k]);
			return MDE_ENOMEM;
		}
		it[k]->rq = *rq;
		if (np > 1) {
			it[k]->whole = *rq;
			it[k]->part = k;
			it[k]->nparts = np;
			it[k]->head = it[0];
			it[k]->rq.from_ms = rq->from_ms + k * span;
			if (k + 1 < np)
				it[k]->rq.to_ms = it[k]->rq.from_ms + span;
		}
	}
	pthread_mutex_lock(&pf->mu);
	if (mde_grow_bytes((void **)&pf->items, &pf->items_bytes,
			   (pf->n + (size_t)np) * sizeof *pf->items,
			   64 * sizeof *pf->items)) {
		pthread_mutex_unlock(&pf->mu);
		for (int k = 0; k < np; k++)
			free(it[k]);
		return MDE_ENOMEM;
	}
	/* a cut fetch's parts stay next to each other, in order */
	for (int k = 0; k < np; k++)
		pf->items[pf->n++] = it[k];
	pthread_cond_broadcast(&pf->work);
	pthread_mutex_unlock(&pf->mu);
	return 0;
}

static bool same(const mde_pf_req *a, const mde_pf_req *b, bool cover)
{
	return a->kind == b->kind && a->asset == b->asset &&
	       a->period_ms == b->period_ms && a->from_ms == b->from_ms &&
	       (cover ? a->to_ms >= b->to_ms : a->to_ms == b->to_ms) &&
	       strcmp(a->symbol, b->symbol) == 0 &&
	       strcmp(a->source, b->source) == 0;
}

/* The item rq asks for: a whole fetch, or the first part of a cut one. */
static bool matches(const struct pf_item *it, const mde_pf_req *rq,
		    bool cover)
{
	if (it->nparts > 1)
		return it->part == 0 && same(&it->whole, rq, cover);
	return same(&it->rq, rq, cover);
}

/* Waits until the parts [k, k + np) are done, and joined when a thread
 * is joining them; false when stopping leaves one that no thread will
 * start. */
static bool wait_parts(mde_prefetch *pf, size_t k, int np)
{
	for (int i = 0; i < np; i++) {
		struct pf_item *it = pf->items[k + (size_t)i];
		while (it->state != PF_DONE || (it->head && it->head->joining)) {
			if (it->state == PF_QUEUED &&
			    (mde_stop_requested || pf->stop))
				return false;
			struct timespec ts;
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_nsec += 100 * 1000000L;
			if (ts.tv_nsec >= 1000000000L) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000L;
			}
			pthread_cond_timedwait(&pf->done, &pf->mu, &ts);
		}
	}
	return true;
}

/*
 * The parts of a cut fetch as one result, in order, as one fetch would
 * have ended: up to the first part that failed (its rows and its error),
 * nothing of the parts after it.
 */
static void join_parts(mde_prefetch *pf, size_t k, int np,
		       mde_pf_result *out)
{
	struct pf_item *first = pf->items[k];
	if (np > 1 && !first->joined)
		join_into(&first->res, pf->items + k + 1, np - 1);
	*out = first->res;
	memset(&first->res, 0, sizeof first->res);
	out->to_ms = np > 1 ? first->whole.to_ms : first->rq.to_ms;
}

bool mde_pf_take(mde_pipeline *p, const mde_pf_req *rq, bool cover,
		 mde_pf_result *out)
{
	mde_prefetch *pf = p->pf;
	if (!pf)
		return false;
	pthread_mutex_lock(&pf->mu);
	size_t k = pf->first;
	while (k < pf->n && (pf->items[k]->state == PF_GONE ||
			     pf->items[k]->dropped ||
			     !matches(pf->items[k], rq, cover)))
		k++;
	if (k == pf->n) {
		pthread_mutex_unlock(&pf->mu);
		return false;
	}
	/* what was announced before it will not be asked for; but the
	 * funding of all symbols is announced after the series it serves,
	 * and asked for by whichever series needs it first */
	for (size_t i = pf->first; i < k && rq->kind != MDE_PF_FUNDING_ALL;
	     i++)
		if (pf->items[i]->state != PF_GONE &&
		    pf->items[i]->rq.kind != MDE_PF_FUNDING_ALL)
			drop(pf, pf->items[i]);
	struct pf_item *it = pf->items[k];
	int np = it->nparts > 1 ? it->nparts : 1;
	pthread_cond_broadcast(&pf->work);
	/* not started yet, but a thread is free to start it now (the
	 * first waiting item): wait for that thread rather than fetch it
	 * on another connection */
	bool starts = pf->idle > 0 && pf->busy < pf->ahead;
	if ((it->state == PF_QUEUED && !starts) ||
	    !wait_parts(pf, k, np)) {
		/* no thread took it yet and none is free (or none will:
		 * stopping): the caller fetches it itself, as fast */
		for (int i = 0; i < np; i++)
			drop(pf, pf->items[k + (size_t)i]);
		pthread_cond_broadcast(&pf->work);
		pthread_mutex_unlock(&pf->mu);
		return false;
	}
	join_parts(pf, k, np, out);
	mde_fetch_logbuf_take(&p->logbuf, &pf->orphans);
	for (int i = 0; i < np; i++) {
		struct pf_item *q = pf->items[k + (size_t)i];
		mde_fetch_logbuf_take(&p->logbuf, &q->log);
		q->state = PF_GONE;
		pf->busy--;
	}
	while (pf->first < pf->n && pf->items[pf->first]->state == PF_GONE) {
		mde_fetch_logbuf_free(&pf->items[pf->first]->log);
		free(pf->items[pf->first]);
		pf->items[pf->first++] = NULL;
	}
	pthread_cond_broadcast(&pf->work);
	pthread_mutex_unlock(&pf->mu);
	return true;
}

bool mde_pf_has_funding(mde_pipeline *p, const char *symbol, int64_t to_ms)
{
	mde_prefetch *pf = p->pf;
	bool has = false;
	if (!pf)
		return false;
	pthread_mutex_lock(&pf->mu);
	for (size_t i = pf->first; i < pf->n && !has; i++) {
		const struct pf_item *it = pf->items[i];
		has = it->state != PF_GONE && !it->dropped &&
		      it->rq.kind == MDE_AUX_FUNDING &&
		      it->rq.to_ms >= to_ms &&
		      strcmp(it->rq.symbol, symbol) == 0;
	}
	pthread_mutex_unlock(&pf->mu);
	return has;
}

static void req_init(mde_pf_req *rq, int kind, const mde_series_job *j,
		     const char *source, int64_t period_ms, int64_t from,
		     int64_t to)
{
	*rq = (mde_pf_req){.kind = kind, .asset = j->asset,
			   .period_ms = period_ms, .from_ms = from,
			   .to_ms = to};
	snprintf(rq->symbol, sizeof rq->symbol, "%s", j->symbol);
	snprintf(rq->source, sizeof rq->source, "%s", source);
}

int mde_pf_add_series(mde_pipeline *p, const mde_series_job *j)
{
	if (!p->pf || j->stored_only)
		return 0;
	mde_pf_req rq;
	req_init(&rq, MDE_PF_CANDLES, j, j->source, j->period_ms, j->start_ms,
		 j->end_ms);
	int rc = mde_pf_add(p, &rq);
	if (rc || j->asset != MDE_CRYPTO)
		return rc;
	int64_t aux_ms, since, from;
	mde_pl_aux_period(j->period_ms, &aux_ms);
	const char *src = mde_pl_aux_source(j->source);
	for (int k = 0; k < 3 && !rc; k++) {
		mde_pl_aux_from(j, k, j->start_ms, &since, &from);
		int kind = mde_pl_aux_kinds[k];
		if (kind != MDE_AUX_FUNDING) {
			req_init(&rq, kind, j, src, aux_ms, from, j->end_ms);
			rc = mde_pf_add(p, &rq);
		} else if (!mde_pl_share_has(p, j->symbol) &&
			   !mde_pl_funding_memo_covers(p, j->symbol, from,
						       j->end_ms) &&
			   !mde_pf_has_funding(p, j->symbol, j->end_ms)) {
			/* one fetch serves the chunks of a year (aux.c) */
			req_init(&rq, kind, j, src, 0, from,
				 mde_pl_funding_until(from, j->end_ms));
			rc = mde_pf_add(p, &rq);
		}
	}
	return rc;
}
