/*
 * fetch_series.c - candles and aux series for a range: pagination per
 * source (docs/SOURCES.md), the 30-day clamp of /futures/data with its
 * reported hole, and, where the plan allows one (plan.c), fallback to the
 * next source for the rest of a range (futures -> spot klines, Polygon ->
 * Yahoo). Each page goes through
 * mde_fetch_request (fetch.c), which owns the retry policy.
 */
#include "archive.h"
#include "fetch.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "log.h"

/* ---- candles --------------------------------------------------------- */

struct kctx {
	mde_fetcher *f;
	int kind;             /* 0 binance klines, 1 yahoo, 2 polygon */
	int origin;
	mde_window w;
	bool mid;             /* earlier pages of this range had rows */
	mde_candles *out;
};

static int parse_candles(void *ctx, const mde_http_resp *r, int attempt,
			 mde_page *pg, mde_err *err)
{
	struct kctx *k = ctx;
	int rc;
	if (k->kind == 0)
		rc = mde_binance_parse_klines(r->body, r->len, k->origin, &k->w,
					      k->out, pg, err);
	else if (k->kind == 1)
		rc = mde_yahoo_parse_chart(r->body, r->len, k->origin, &k->w,
					   k->out, pg, err);
	else
		rc = mde_polygon_parse_aggs(r->body, r->len, k->origin, &k->w,
					    k->out, pg, err);
	if (rc)
		return rc;
	/* An empty page where closed candles should exist, after earlier
	 * pages had data: a glitch worth another try; on the last attempt
	 * we accept it as the end of the data (a delisted symbol). */
	int64_t lim = k->w.end_ms < k->w.now_ms ? k->w.end_ms : k->w.now_ms;
	if (k->kind == 0 && pg->rows == 0 && k->mid &&
	    k->w.start_ms + k->w.period_ms <= lim &&
	    attempt < k->f->o.max_attempts)
		return mde_err_set(err, MDE_EPARSE, true,
				   "empty page in the middle of the range "
				   "(at %" PRId64 ")", k->w.start_ms);
	return 0;
}

static int klines(mde_fetcher *f, enum mde_origin origin, const char *sym,
		  int64_t P,
		  int64_t *cursor, int64_t end, mde_candles *out, mde_err *err)
{
	bool spot = origin == MDE_SRC_BINANCE_SPOT;
	int limit;
	char url[1024];
	struct kctx k = {.f = f, .kind = 0, .origin = origin, .out = out};
	struct mde_fetch_req q = {.h = &f->h[origin],
				  .url = url,
				  .symbol = sym,
				  .parse = parse_candles,
				  .ctx = &k};
	int64_t now = mde_fetch_now(f);
	while (*cursor < end) {
		/* sized to the candles still needed (weight tiers) */
		limit = mde_binance_klines_limit(spot, (end - *cursor + P - 1) / P);
		q.weight = spot ? MDE_BINANCE_SPOT_KLINES_WEIGHT
				: mde_binance_klines_weight(limit);
		if (mde_binance_klines_url(url, sizeof url, f->h[origin].base,
					   spot, sym, P, *cursor, end - 1,
					   limit))
			return mde_err_set(err, MDE_EINVAL, false,
					   "cannot build klines URL for %s", sym);
		k.w = (mde_window){*cursor, end, now, P};
		int rc = mde_fetch_request(f, &q, err);
		if (rc)
			return rc;
		if (q.pg.rows == 0)
			break;
		k.mid = true;
		int64_t next = q.pg.last_ms + P;
		if (next <= *cursor)
			return mde_err_set(err, MDE_EPARSE, false,
					   "klines page did not advance past "
					   "%" PRId64, *cursor);
		*cursor = next;
		if (q.pg.rows + q.pg.dropped < (size_t)limit)
			break;
	}
	return 0;
}

int mde_fetch_klines_rest(mde_fetcher *f, int origin, const char *sym,
			  int64_t P, int64_t *cursor, int64_t end,
			  mde_candles *out, mde_err *err)
{
	return klines(f, origin, sym, P, cursor, end, out, err);
}

bool mde_fetch_rest_pages(const mde_fetcher *f, const char *source,
			  enum mde_asset asset, int64_t period_ms,
			  int64_t *page_ms)
{
	int origin, fb;
	if (f->o.archive != MDE_ARCHIVE_OFF || period_ms <= 0 ||
	    mde_fetch_plan(source, asset, &origin, &fb) ||
	    (origin != MDE_SRC_BINANCE && origin != MDE_SRC_BINANCE_SPOT))
		return false;
	*page_ms = (int64_t)mde_binance_klines_limit(
			   origin == MDE_SRC_BINANCE_SPOT, INT64_MAX) *
		   period_ms;
	return true;
}

/* Binance klines: the archive first unless it is off. */
static int binance(mde_fetcher *f, int origin, const char *sym, int64_t P,
		   int64_t *cursor, int64_t end, mde_candles *out,
		   mde_err *err)
{
	if (f->o.archive == MDE_ARCHIVE_OFF)
		return klines(f, origin, sym, P, cursor, end, out, err);
	return mde_archive_candles(f, origin, sym, P, cursor, end, out, err);
}

static int yahoo(mde_fetcher *f, const char *sym, enum mde_asset asset,
		 int64_t P,
		 int64_t *cursor, int64_t end, mde_candles *out, mde_err *err)
{
	char ysym[64], url[1024];
	if (mde_symbol_for(ysym, sizeof ysym, sym, asset, MDE_SRC_YAHOO))
		return mde_err_set(err, MDE_ENOTFOUND, false,
				   "%s has no Yahoo symbol", sym);
	if (mde_yahoo_chart_url(url, sizeof url, f->h[MDE_SRC_YAHOO].base,
				ysym, P, *cursor, end))
		return mde_err_set(err, MDE_EINVAL, false,
				   "Yahoo has no %" PRId64 " ms bars", P);
	struct kctx k = {.f = f, .kind = 1, .origin = MDE_SRC_YAHOO,
			 .out = out, .w = {*cursor, end, mde_fetch_now(f), P}};
	struct mde_fetch_req q = {.h = &f->h[MDE_SRC_YAHOO],
				  .url = url,
				  .symbol = ysym,
				  .parse = parse_candles,
				  .ctx = &k};
	int rc = mde_fetch_request(f, &q, err);
	if (rc == 0)
		*cursor = end;
	return rc;
}

static int polygon(mde_fetcher *f, const char *sym, enum mde_asset asset,
		   int64_t P,
		   int64_t *cursor, int64_t end, mde_candles *out,
		   mde_err *err)
{
	char psym[64], url[2048];
	struct mde_fetch_host *h = &f->h[MDE_SRC_POLYGON];
	if (!f->polygon_key)
		return mde_err_set(err, MDE_EINVAL, false,
				   "no Polygon key configured");
	if (mde_symbol_for(psym, sizeof psym, sym, asset, MDE_SRC_POLYGON))
		return mde_err_set(err, MDE_ENOTFOUND, false,
				   "%s has no Polygon symbol", sym);
	if (mde_polygon_aggs_url(url, sizeof url, h->base, psym, P, *cursor,
				 end))
		return mde_err_set(err, MDE_EINVAL, false,
				   "Polygon has no %" PRId64 " ms bars", P);
	struct kctx k = {.f = f, .kind = 2, .origin = MDE_SRC_POLYGON,
			 .out = out, .w = {*cursor, end, mde_fetch_now(f), P}};
	struct mde_fetch_req q = {.h = h,
				  .url = url,
				  .symbol = psym,
				  .auth = true,
				  .parse = parse_candles,
				  .ctx = &k};
	for (int pages = 0;; pages++) {
		size_t n0 = out->n;
		int rc = mde_fetch_request(f, &q, err);
		if (rc)
			return rc;
		if (out->n > n0)
			*cursor = out->open_time_ms[out->n - 1] + P;
		if (!q.pg.has_next)
			break;
		/* the key goes only to the host it was configured for */
		size_t bl = strlen(h->base);
		if (strncmp(q.pg.next_url, h->base, bl) != 0 ||
		    (q.pg.next_url[bl] != '/' && q.pg.next_url[bl] != '\0'))
			return mde_err_set(err, MDE_EPARSE, false,
					   "next_url points to another host");
		if (pages > 10000)
			return mde_err_set(err, MDE_EPARSE, false,
					   "next_url loop");
		snprintf(url, sizeof url, "%s", q.pg.next_url);
	}
	*cursor = end;
	return 0;
}

/* The fetch-log record of one replay file read. */
static void record_replay(mde_fetcher *f, const mde_replay_info *info,
			  const char *sym, int64_t at_ms, int64_t t0_mono,
			  int rc, const mde_err *err)
{
	f->st.src[MDE_SRC_REPLAY].requests++;
	f->st.src[MDE_SRC_REPLAY].rows += info->rows;
	if (!f->o.log_cb)
		return;
	mde_fetch_rec rec = {.source = "replay", .endpoint = info->file,
			     .symbol = sym, .params = "", .rows = info->rows,
			     .bytes = info->bytes,
			     .latency_ms = mde_mono_ms() - t0_mono,
			     .attempt = 1, .error = rc ? err->msg : NULL,
			     .requested_at_ms = at_ms};
	f->o.log_cb(f->o.log_ud, &rec);
}

static size_t replay_cap(const mde_fetcher *f)
{
	return f->o.max_body_bytes ? f->o.max_body_bytes : (size_t)256 << 20;
}

static int replay_candles(mde_fetcher *f, const char *dir, const char *sym,
			  int64_t P, int64_t start, int64_t end,
			  mde_candles *out, mde_err *err)
{
	mde_replay_info info;
	mde_window w = {start, end, mde_fetch_now(f), P};
	int64_t at = mde_now_ms(), t0 = mde_mono_ms();
	int rc = mde_replay_candles(dir, sym, &w, replay_cap(f), out, &info,
				    err);
	record_replay(f, &info, sym, at, t0, rc, err);
	return rc;
}

/* The candles of [*cursor, end) from one source (not replay). */
static int from_source(mde_fetcher *f, int origin, enum mde_asset asset,
		       const char *symbol, int64_t P, int64_t *cursor,
		       int64_t end, mde_candles *out, mde_err *err)
{
	char ssym[64];
	switch (origin) {
	case MDE_SRC_BINANCE:
	case MDE_SRC_BINANCE_SPOT:
		if (!mde_binance_interval(P))
			return mde_err_set(err, MDE_EINVAL, false,
					   "Binance has no %" PRId64 " ms klines",
					   P);
		if (mde_symbol_for(ssym, sizeof ssym, symbol, asset, origin))
			return mde_err_set(err, MDE_ENOTFOUND, false,
					   "%s has no spot twin", symbol);
		return binance(f, origin, ssym, P, cursor, end, out, err);
	case MDE_SRC_POLYGON:
		return polygon(f, symbol, asset, P, cursor, end, out, err);
	case MDE_SRC_YAHOO:
		return yahoo(f, symbol, asset, P, cursor, end, out, err);
	}
	return mde_err_set(err, MDE_EINVAL, false, "unknown source");
}

int mde_fetch_candles(mde_fetcher *f, const char *source, enum mde_asset asset,
		      const char *symbol, int64_t period_ms, int64_t start_ms,
		      int64_t end_ms, mde_candles *out, mde_err *err)
{
	mde_err local;
	if (!err)
		err = &local;
	mde_err_clear(err);
	if (!symbol || !*symbol || period_ms <= 0 || end_ms < start_ms)
		return mde_err_set(err, MDE_EINVAL, false, "bad fetch request");
	int origin, fb;
	if (mde_fetch_plan(source, asset, &origin, &fb))
		return mde_err_set(err, MDE_EINVAL, false,
				   "unknown source \"%.40s\"", source);
	if (start_ms == end_ms)
		return 0;
	if (origin == MDE_SRC_REPLAY) {
		const char *dir = mde_fetch_replay_dir(f, source);
		if (!dir)
			return mde_err_set(err, MDE_EINVAL, false,
					   "replay source without a directory");
		return replay_candles(f, dir, symbol, period_ms, start_ms,
				      end_ms, out, err);
	}
	int64_t cursor = start_ms;
	int rc = from_source(f, origin, asset, symbol, period_ms, &cursor,
			     end_ms, out, err);
	if (rc == 0 || rc == MDE_EINTR || fb < 0)
		return rc;
	/* --archive only: the archive and nothing else */
	if (f->o.archive == MDE_ARCHIVE_ONLY && origin <= MDE_SRC_BINANCE_SPOT)
		return rc;
	/* The plan allows a fallback: it serves the rest of the range. */
	char ssym[64];
	if (fb == MDE_SRC_BINANCE_SPOT &&
	    mde_symbol_for(ssym, sizeof ssym, symbol, asset, fb))
		return rc; /* no spot twin: keep the futures error */
	if (origin != MDE_SRC_POLYGON || f->polygon_key) {
		mde_warn("fetch.fallback",
			 "symbol=%s from=%s to=%s cursor=%" PRId64 " reason=%s",
			 symbol, mde_origin_name(origin), mde_origin_name(fb),
			 cursor, mde_rc_name(rc));
		f->st.fallbacks++;
	}
	mde_err_clear(err);
	return from_source(f, fb, asset, symbol, period_ms, &cursor, end_ms,
			   out, err);
}

/* ---- auxiliary series ------------------------------------------------ */

struct actx {
	int kind;
	mde_window w;
	int64_t after;
	mde_aux *out;
};

static int parse_aux(void *ctx, const mde_http_resp *r, int attempt,
		     mde_page *pg, mde_err *err)
{
	struct actx *a = ctx;
	if (a->kind == MDE_AUX_FUNDING)
		return mde_binance_parse_funding(r->body, r->len, &a->w, a->out,
						 pg, err);
	return mde_binance_parse_futdata(r->body, r->len, a->kind, &a->w,
					 a->after, a->out, pg, err);
}

/*
 * The funding pages of sym (NULL: of all symbols) over [start, end), into
 * *w's window and q's parser: the next page starts 1 ms after the last
 * row's time, or for all symbols at that time again (symbols share a
 * funding time to the millisecond, the parser skips each one's repeat),
 * so a page that ends inside a time loses nothing.
 */
static int funding_pages(mde_fetcher *f, struct mde_fetch_req *q,
			 const char *sym, int64_t start, int64_t end,
			 mde_window *w, mde_err *err)
{
	char url[1024];
	q->h = &f->h[MDE_SRC_BINANCE];
	q->url = url;
	q->symbol = sym;
	q->weight = 1;
	q->lim = LIM_FUNDING;
	int64_t cursor = start;
	while (cursor < end) {
		if (mde_binance_funding_url(url, sizeof url, q->h->base, sym,
					    cursor, end - 1,
					    MDE_BINANCE_FUNDING_LIMIT))
			return mde_err_set(err, MDE_EINVAL, false,
					   "cannot build funding URL");
		*w = (mde_window){cursor, end, 0, 0};
		int rc = mde_fetch_request(f, q, err);
		if (rc)
			return rc;
		if (q->pg.rows < MDE_BINANCE_FUNDING_LIMIT)
			break;
		int64_t next = sym ? q->pg.last_ms + 1 : q->pg.last_ms;
		if (next <= cursor)
			return mde_err_set(err, MDE_EPARSE, false,
					   "funding page did not advance (%d "
					   "rows at one time)",
					   MDE_BINANCE_FUNDING_LIMIT);
		cursor = next;
	}
	return 0;
}

static int funding(mde_fetcher *f, const char *sym, int64_t start,
		   int64_t end, mde_aux *out, mde_err *err)
{
	struct actx a = {.kind = MDE_AUX_FUNDING, .out = out};
	struct mde_fetch_req q = {.parse = parse_aux, .ctx = &a};
	return funding_pages(f, &q, sym, start, end, &a.w, err);
}

struct fctx {
	mde_window w;
	const char *const *symbols;
	size_t n;
	mde_aux *out;
};

static int parse_funding_all(void *ctx, const mde_http_resp *r, int attempt,
			     mde_page *pg, mde_err *err)
{
	(void)attempt;
	struct fctx *a = ctx;
	return mde_binance_parse_funding_all(r->body, r->len, &a->w,
					     a->symbols, a->n, a->out, pg, err);
}

int mde_fetch_funding_all(mde_fetcher *f, const char *const *symbols,
			  size_t nsymbols, int64_t start_ms, int64_t end_ms,
			  mde_aux *out, mde_err *err)
{
	mde_err local;
	if (!err)
		err = &local;
	mde_err_clear(err);
	for (size_t k = 1; k < nsymbols; k++)
		if (strcmp(symbols[k - 1], symbols[k]) >= 0)
			return mde_err_set(err, MDE_EINVAL, false,
					   "symbols not sorted");
	if (f->o.archive == MDE_ARCHIVE_ONLY)
		return mde_err_set(err, MDE_ENOTFOUND, false,
				   "--archive only: no REST funding");
	struct fctx a = {.symbols = symbols, .n = nsymbols, .out = out};
	struct mde_fetch_req q = {.parse = parse_funding_all, .ctx = &a};
	return funding_pages(f, &q, NULL, start_ms, end_ms, &a.w, err);
}

static int futdata(mde_fetcher *f, int kind, const char *sym, int64_t P,
		   int64_t start, int64_t end, mde_aux *out, mde_err *err)
{
	char url[1024];
	const int64_t limit = MDE_BINANCE_FUTDATA_LIMIT;
	struct actx a = {.kind = kind, .out = out, .after = INT64_MIN};
	struct mde_fetch_req q = {.h = &f->h[MDE_SRC_BINANCE],
				  .url = url,
				  .symbol = sym,
				  .weight = 0,
				  .lim = LIM_FUTDATA,
				  .parse = parse_aux,
				  .ctx = &a};
	int64_t now = mde_fetch_now(f), ws = start;
	while (ws < end && ws <= now) {
		int64_t we = ws + P * limit - 1; /* 500 slots, both inclusive */
		if (we > end - 1)
			we = end - 1;
		if (mde_binance_futdata_url(url, sizeof url, q.h->base, kind,
					    sym, P, ws, we, (int)limit))
			return mde_err_set(err, MDE_EINVAL, false,
					   "no /futures/data period for %" PRId64
					   " ms", P);
		a.w = (mde_window){start, end, now, P};
		int rc = mde_fetch_request(f, &q, err);
		if (rc)
			return rc;
		if (out->n)
			a.after = out->t[out->n - 1];
		/* a full page that stops before the window's last slot may
		 * have been cut short (unaligned stamps): resume after it */
		if (q.pg.rows >= (size_t)limit && q.pg.last_ms >= ws &&
		    q.pg.last_ms < we - P + 1)
			ws = q.pg.last_ms + 1;
		else
			ws = we + 1;
	}
	return 0;
}

int mde_fetch_aux(mde_fetcher *f, const char *source, int kind,
		  const char *symbol, int64_t period_ms, int64_t start_ms,
		  int64_t end_ms, mde_aux *out, int64_t *unfetchable_until_ms,
		  mde_err *err)
{
	mde_err local;
	if (!err)
		err = &local;
	mde_err_clear(err);
	if (unfetchable_until_ms)
		*unfetchable_until_ms = start_ms;
	if (kind == MDE_AUX_LIQUIDATIONS || kind == MDE_AUX_INFLOW)
		return mde_err_set(err, MDE_ENOTFOUND, false,
				   "no REST source for this aux series");
	if (kind < 0 || kind > MDE_AUX_TAKER || !symbol || end_ms < start_ms)
		return mde_err_set(err, MDE_EINVAL, false, "bad aux request");
	int origin = mde_fetch_source_origin(source ? source : "binance");
	if (source && strcmp(source, "auto") == 0)
		origin = MDE_SRC_BINANCE;
	if (origin == MDE_SRC_REPLAY) {
		const char *dir = mde_fetch_replay_dir(f, source);
		if (!dir)
			return mde_err_set(err, MDE_EINVAL, false,
					   "replay source without a directory");
		mde_replay_info info;
		mde_window w = {start_ms, end_ms, mde_fetch_now(f), period_ms};
		int64_t at = mde_now_ms(), t0 = mde_mono_ms();
		int rc = mde_replay_aux(dir, kind, symbol, period_ms, &w,
					replay_cap(f), out, &info, err);
		record_replay(f, &info, symbol, at, t0, rc, err);
		return rc;
	}
	if (origin != MDE_SRC_BINANCE && origin != MDE_SRC_BINANCE_SPOT)
		return mde_err_set(err, MDE_ENOTFOUND, false,
				   "%s has no aux series", source);
	if (start_ms == end_ms)
		return 0;
	if (kind != MDE_AUX_FUNDING && period_ms <= 0)
		return mde_err_set(err, MDE_EINVAL, false, "bad period");
	int64_t hole = start_ms;
	int rc = f->o.archive == MDE_ARCHIVE_OFF
			 ? mde_fetch_aux_rest(f, kind, symbol, period_ms,
					      start_ms, end_ms, out, &hole, err)
			 : mde_archive_aux(f, kind, symbol, period_ms, start_ms,
					   end_ms, out, &hole, err);
	if (unfetchable_until_ms)
		*unfetchable_until_ms = hole;
	return rc;
}

int mde_fetch_aux_rest(mde_fetcher *f, int kind, const char *symbol,
		       int64_t period_ms, int64_t start_ms, int64_t end_ms,
		       mde_aux *out, int64_t *unfetchable_until_ms,
		       mde_err *err)
{
	*unfetchable_until_ms = start_ms;
	if (start_ms >= end_ms)
		return 0;
	if (kind == MDE_AUX_FUNDING)
		return funding(f, symbol, start_ms, end_ms, out, err);
	/* Binance refuses a startTime older than ~30 days: start at the
	 * first period boundary a minute inside the window. */
	int64_t oldest = mde_fetch_now(f) - MDE_BINANCE_FUTDATA_DAYS * MDE_DAY_MS +
			 MDE_MINUTE_MS;
	oldest = -mde_floor_div(-oldest, period_ms) * period_ms;
	int64_t start = start_ms;
	if (start < oldest) {
		start = oldest < end_ms ? oldest : end_ms;
		/* counted here; logged by the caller, which knows whether
		 * an earlier run kept that range */
		f->st.holes++;
		f->st.hole_ms += start - start_ms;
	}
	*unfetchable_until_ms = start;
	if (start >= end_ms)
		return 0;
	return futdata(f, kind, symbol, period_ms, start, end_ms, out, err);
}
