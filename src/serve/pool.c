/* pool.c - see pool.h. */
#include "pool.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api_queries.h"
#include "db.h"

struct mde_pool {
	mde_pool_opts o;
	char *url;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	PGconn **idle;
	int nidle;
	int nopen;   /* idle + lent + being opened */
};

int mde_pool_open(mde_pool **out, const mde_pool_opts *o, mde_err *err)
{
	mde_pool *p = calloc(1, sizeof *p);
	if (!p || !(p->idle = calloc((size_t)o->size, sizeof *p->idle)) ||
	    !(p->url = strdup(o->url ? o->url : ""))) {
		if (p)
			free(p->idle);
		free(p);
		return mde_err_set(err, MDE_ENOMEM, false, "out of memory");
	}
	p->o = *o;
	p->o.url = p->url;
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv, NULL);
	*out = p;
	return 0;
}

static PGconn *connect_one(mde_pool *p, mde_err *err)
{
	PGconn *c = NULL;
	if (mde_db_connect(&c, p->url, p->o.connect_timeout_s, err))
		return NULL;
	if (mde_api_session(c, p->o.statement_timeout_ms, err)) {
		PQfinish(c);
		return NULL;
	}
	return c;
}

PGconn *mde_pool_get(mde_pool *p, mde_err *err)
{
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += p->o.wait_ms / 1000;
	until.tv_nsec += (long)(p->o.wait_ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&p->mu);
	while (p->nidle == 0 && p->nopen >= p->o.size) {
		if (pthread_cond_timedwait(&p->cv, &p->mu, &until) ==
		    ETIMEDOUT) {
			pthread_mutex_unlock(&p->mu);
			mde_err_set(err, MDE_EDB, true, "every database "
				    "connection of the server is busy");
			return NULL;
		}
	}
	if (p->nidle > 0) {
		PGconn *c = p->idle[--p->nidle];
		pthread_mutex_unlock(&p->mu);
		return c;
	}
	p->nopen++;
	pthread_mutex_unlock(&p->mu);
	PGconn *c = connect_one(p, err);
	if (!c) {
		pthread_mutex_lock(&p->mu);
		p->nopen--;
		pthread_cond_signal(&p->cv);
		pthread_mutex_unlock(&p->mu);
	}
	return c;
}

void mde_pool_put(mde_pool *p, PGconn *c)
{
	if (!c)
		return;
	bool bad = PQstatus(c) != CONNECTION_OK ||
		   PQtransactionStatus(c) != PQTRANS_IDLE;
	if (bad)
		PQfinish(c);
	pthread_mutex_lock(&p->mu);
	if (bad)
		p->nopen--;
	else
		p->idle[p->nidle++] = c;
	pthread_cond_signal(&p->cv);
	pthread_mutex_unlock(&p->mu);
}

void mde_pool_close(mde_pool *p)
{
	if (!p)
		return;
	for (int i = 0; i < p->nidle; i++)
		PQfinish(p->idle[i]);
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->cv);
	free(p->idle);
	free(p->url);
	free(p);
}
