/*
 * archive.c - the split of a range between Binance's public archive and
 * the REST API (archive.h, docs/SOURCES.md "Archive and REST"):
 *
 *   [start ........................ today 00:00 UTC ..... end)
 *    monthly files (past months) | daily files (this month) | REST
 *
 * Files are got in groups of opts.archive_parallel (archive_get.c); each
 * file's rows are used only once it is verified, in time order with the
 * REST parts, so the table handed to the pipeline is the one REST would
 * have given. A missing file (404, or bad after one retry) falls back to
 * REST in mode auto, and is an error in mode only.
 */
#include "archive_get.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "klinecsv.h"
#include "log.h"

int mde_archive_mode_parse(const char *s)
{
	if (!s)
		return -1;
	if (strcmp(s, "auto") == 0)
		return MDE_ARCHIVE_AUTO;
	if (strcmp(s, "only") == 0)
		return MDE_ARCHIVE_ONLY;
	if (strcmp(s, "off") == 0)
		return MDE_ARCHIVE_OFF;
	return -1;
}

static const char *kind_name(int kind)
{
	return kind == MDE_AR_KLINES    ? "klines"
	       : kind == MDE_AR_FUNDING ? "fundingRate"
					: "metrics";
}

/* First ms of the UTC month holding t, and of the month after it. */
static int64_t month_start(int64_t t, int next)
{
	int64_t y;
	unsigned m, d;
	mde_civil_from_days(mde_floor_div(t, MDE_DAY_MS), &y, &m, &d);
	if (next && ++m > 12) {
		m = 1;
		y++;
	}
	return mde_days_from_civil(y, m, 1) * MDE_DAY_MS;
}

/* The file's path: /data/{spot|futures/um}/{monthly|daily}/{kind}/... */
static int file_path(struct mde_arfile *F, bool spot, const char *sym,
		     const char *iv, bool monthly)
{
	int64_t y;
	unsigned m, d;
	char date[16], ivdir[16] = "", ivname[16] = "";
	mde_civil_from_days(mde_floor_div(F->from, MDE_DAY_MS), &y, &m, &d);
	if (monthly)
		snprintf(date, sizeof date, "%04d-%02u", (int)y, m);
	else
		snprintf(date, sizeof date, "%04d-%02u-%02u", (int)y, m, d);
	if (F->kind == MDE_AR_KLINES) {
		snprintf(ivdir, sizeof ivdir, "/%s", iv);
		snprintf(ivname, sizeof ivname, "%s", iv);
	} else {
		snprintf(ivname, sizeof ivname, "%s", kind_name(F->kind));
	}
	int k = snprintf(F->path, sizeof F->path,
			 "/data/%s/%s/%s/%s%s/%s-%s-%s.zip",
			 spot ? "spot" : "futures/um",
			 monthly ? "monthly" : "daily", kind_name(F->kind), sym,
			 ivdir, sym, ivname, date);
	return k > 0 && (size_t)k < sizeof F->path ? 0 : MDE_EINVAL;
}

/*
 * The files covering [start, end) (end <= today 00:00): whole past months
 * from monthly files (klines, funding), days of the current month (and
 * every metrics day) from daily files; funding has no daily files.
 */
static int plan(int kind, bool spot, const char *sym, const char *iv,
		int64_t start, int64_t end, int64_t today,
		struct mde_arfile **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	size_t cap = 0;
	int64_t this_month = month_start(today, 0);
	for (int64_t t = start; t < end;) {
		bool monthly = kind != MDE_AR_METRICS &&
			       month_start(t, 1) <= this_month;
		if (kind == MDE_AR_FUNDING && !monthly)
			break;
		int64_t day = mde_floor_div(t, MDE_DAY_MS) * MDE_DAY_MS;
		int64_t from = monthly ? month_start(t, 0) : day;
		int64_t to = monthly ? month_start(t, 1) : from + MDE_DAY_MS;
		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			struct mde_arfile *q = realloc(*out, cap * sizeof *q);
			if (!q)
				return MDE_ENOMEM;
			*out = q;
		}
		struct mde_arfile *F = &(*out)[(*n)++];
		*F = (struct mde_arfile){
			.kind = kind, .from = from, .to = to, .sym = sym};
		F->seg_from = t;
		F->seg_to = to < end ? to : end;
		if (file_path(F, spot, sym, iv, monthly))
			return MDE_EINVAL;
		t = F->seg_to;
	}
	return 0;
}

static void files_free(struct mde_arfile *files, size_t n)
{
	for (size_t i = 0; i < n; i++)
		mde_ar_file_clear(&files[i]);
	free(files);
}

/* The archive_files record of a verified file. */
static void note_file(mde_fetcher *f, const struct mde_arfile *F,
		      const char *iv)
{
	if (!f->o.archive_cb)
		return;
	char url[900];
	snprintf(url, sizeof url, "%s%s", f->o.archive_url, F->path);
	mde_archive_rec rec = {.url = url, .kind = kind_name(F->kind),
			       .symbol = F->sym, .interval = iv ? iv : "",
			       .range_start_ms = F->from,
			       .range_end_ms = F->to, .size = F->size,
			       .sha256 = F->sha, .rows = F->rows};
	f->o.archive_cb(f->o.archive_ud, &rec);
}

static int64_t today_of(const mde_fetcher *f)
{
	return mde_floor_div(mde_fetch_now(f), MDE_DAY_MS) * MDE_DAY_MS;
}

static int group_size(const mde_fetcher *f)
{
	return f->o.archive_parallel > 0 ? f->o.archive_parallel : 8;
}

/* ---- klines ----------------------------------------------------------- */

struct kres {
	mde_fetcher *f;
	struct mde_arfile *files; /* the group */
	mde_candles *res;     /* one table per file */
	mde_candles *after;   /* its rows past the window, for the next chunk */
	int origin;
	int64_t P;
};

/* A file's rows of the window; when the window ends inside the file, the
 * rest of it too, into after (mde_ar_rest_put): the next chunk starts
 * there and would otherwise get, inflate and parse the file again. The
 * file is read here, not taken from the chunk before: rows of it that
 * chunk may still keep for this window are not needed. */
static int check_klines(void *ud, struct mde_arfile *F, const char *csv,
			size_t len, mde_err *err)
{
	struct kres *k = ud;
	mde_candles *c = &k->res[F - k->files];
	mde_candles *after = &k->after[F - k->files];
	mde_kline_csv_info info;
	mde_ar_rest_read(k->f, F);
	mde_candles_clear(after);
	int64_t to = F->seg_to < F->to ? F->to : F->seg_to;
	int rc = mde_kline_csv_parse(csv, len, k->origin, F->seg_from, to, c,
				     &info, err);
	if (!rc && to > F->seg_to)
		(void)mde_ar_split_after(c, F->seg_to, after);
	if (!rc && info.rows && info.period_ms != k->P) {
		mde_candles_clear(c);
		return mde_err_set(err, MDE_EPARSE, false,
				   "candles of %" PRId64 " ms, not %" PRId64,
				   info.period_ms, k->P);
	}
	F->rows = info.rows;
	return rc;
}

/* A file the archive could not give: REST (auto) or an error (only). */
static int kline_gap(mde_fetcher *f, int origin, const char *sym, int64_t P,
		     const struct mde_arfile *F, int64_t *cursor,
		     mde_candles *out, mde_err *err)
{
	if (f->o.archive == MDE_ARCHIVE_ONLY)
		return mde_err_set(err, F->rc == MDE_ENOTFOUND ? MDE_ENOTFOUND
							       : MDE_ENET,
				   false, "archive file %s: %s (--archive only "
				   "never asks REST)", F->path, F->err.msg);
	mde_info("archive.rest", "symbol=%s file=%s from=%" PRId64
		 " to=%" PRId64 " reason=\"%s\"", sym, F->path, F->seg_from,
		 F->seg_to, F->err.msg);
	int rc = mde_fetch_klines_rest(f, origin, sym, P, cursor, F->seg_to,
				       out, err);
	if (!rc)
		*cursor = F->seg_to;
	return rc;
}

/* One group of files: got at once, used in order. */
static int kline_group(mde_fetcher *f, int origin, const char *sym, int64_t P,
		       struct mde_arfile *files, size_t m, int64_t *cursor,
		       mde_candles *out, mde_err *err)
{
	struct kres k = {.f = f, .files = files, .origin = origin, .P = P};
	k.res = calloc(m, sizeof *k.res);
	k.after = calloc(m, sizeof *k.after);
	if (!k.res || !k.after) {
		free(k.res);
		free(k.after);
		return mde_err_set(err, MDE_ENOMEM, false, "out of memory");
	}
	for (size_t i = 0; i < m; i++) /* the chunk before kept them */
		(void)mde_ar_rest_take(f, &files[i], &k.res[i], &k.after[i]);
	int rc = mde_ar_get(f, files, m, check_klines, &k, err);
	for (size_t i = 0; i < m && !rc; i++) {
		struct mde_arfile *F = &files[i];
		if (F->state != AR_OK) {
			rc = kline_gap(f, origin, sym, P, F, cursor, out, err);
			continue;
		}
		if (k.after[i].n)
			mde_ar_rest_put(f, F, F->seg_to, &k.after[i]);
		note_file(f, F, mde_binance_interval(P));
		if (out->n == 0) { /* the first rows: taken, not copied */
			mde_candles t = *out;
			*out = k.res[i];
			k.res[i] = t;
		} else if (mde_candles_append(out, &k.res[i])) {
			rc = mde_err_set(err, MDE_ENOMEM, false,
					 "out of memory");
		}
		*cursor = F->seg_to;
	}
	for (size_t i = 0; i < m; i++) {
		mde_candles_free(&k.res[i]);
		mde_candles_free(&k.after[i]);
	}
	free(k.res);
	free(k.after);
	return rc;
}

int mde_archive_candles(mde_fetcher *f, int origin, const char *sym,
			int64_t P, int64_t *cursor, int64_t end,
			mde_candles *out, mde_err *err)
{
	int64_t today = today_of(f), aend = end < today ? end : today;
	struct mde_arfile *files = NULL;
	size_t n = 0;
	int rc = 0;
	if (*cursor < aend &&
	    plan(MDE_AR_KLINES, origin == MDE_SRC_BINANCE_SPOT, sym,
		 mde_binance_interval(P), *cursor, aend, today, &files, &n))
		rc = mde_err_set(err, MDE_ENOMEM, false, "cannot plan files");
	size_t g = (size_t)group_size(f);
	for (size_t i = 0; i < n && !rc; i += g)
		rc = kline_group(f, origin, sym, P, files + i,
				 n - i < g ? n - i : g, cursor, out, err);
	files_free(files, n);
	if (rc || *cursor >= end)
		return rc;
	if (f->o.archive == MDE_ARCHIVE_ONLY) {
		mde_info("archive.only_tail", "symbol=%s from=%" PRId64
			 " to=%" PRId64 " reason=\"not in the archive yet; "
			 "--archive only never asks REST\"", sym, *cursor, end);
		return 0;
	}
	return mde_fetch_klines_rest(f, origin, sym, P, cursor, end, out, err);
}

/* ---- funding and metrics ---------------------------------------------- */

struct ares {
	struct mde_arfile *files;
	mde_aux *res;
	int kind;
	int64_t P;
};

static int check_aux(void *ud, struct mde_arfile *F, const char *csv,
		     size_t len, mde_err *err)
{
	struct ares *a = ud;
	mde_aux *o = &a->res[F - a->files];
	o->n = 0;
	if (a->kind == MDE_AUX_FUNDING)
		return mde_ar_parse_funding(csv, len, F->seg_from, F->seg_to,
					    o, &F->rows, err);
	return mde_ar_parse_metrics(csv, len, a->kind, a->P, F->seg_from,
				    F->seg_to, o, &F->rows, err);
}

/* Where the aux rows of a range stand: the hole at its start. */
struct auxwalk {
	int64_t *hole_end;
	bool prefix;          /* nothing served yet since the start */
};

/* A part [a, b) that nothing could serve from a on (to h). */
static void aux_hole(struct auxwalk *w, const char *sym, int64_t a,
		     int64_t h, int64_t b)
{
	if (h <= a) {
		w->prefix = false;
		return;
	}
	if (w->prefix && *w->hole_end == a) {
		*w->hole_end = h;
		w->prefix = h >= b;
		return;
	}
	w->prefix = false;
	mde_warn("archive.hole", "symbol=%s from=%" PRId64 " until=%" PRId64
		 " reason=\"neither the archive nor REST serves it\"", sym, a,
		 h);
}

/* REST for [a, b) unless mode only (then the part is a hole). */
static int aux_rest(mde_fetcher *f, int kind, const char *sym, int64_t P,
		    int64_t a, int64_t b, bool unserved_is_hole, mde_aux *out,
		    struct auxwalk *w, mde_err *err)
{
	int64_t h = a;
	if (f->o.archive == MDE_ARCHIVE_ONLY) {
		if (unserved_is_hole)
			aux_hole(w, sym, a, b, b);
		return 0;
	}
	int rc = mde_fetch_aux_rest(f, kind, sym, P, a, b, out, &h, err);
	if (!rc)
		aux_hole(w, sym, a, h, b);
	return rc;
}

static int aux_group(mde_fetcher *f, int kind, const char *sym, int64_t P,
		     struct mde_arfile *files, size_t m, mde_aux *out,
		     struct auxwalk *w, mde_err *err)
{
	struct ares a = {.files = files, .kind = kind, .P = P};
	a.res = calloc(m, sizeof *a.res);
	if (!a.res)
		return mde_err_set(err, MDE_ENOMEM, false, "out of memory");
	int rc = mde_ar_get(f, files, m, check_aux, &a, err);
	for (size_t i = 0; i < m && !rc; i++) {
		struct mde_arfile *F = &files[i];
		if (F->state != AR_OK) {
			rc = aux_rest(f, kind, sym, P, F->seg_from, F->seg_to,
				      true, out, w, err);
			continue;
		}
		note_file(f, F, "");
		w->prefix = false;
		for (size_t r = 0; r < a.res[i].n && !rc; r++)
			if (mde_aux_push(out, a.res[i].t[r], a.res[i].v[r]))
				rc = mde_err_set(err, MDE_ENOMEM, false,
						 "out of memory");
	}
	for (size_t i = 0; i < m; i++)
		mde_aux_free(&a.res[i]);
	free(a.res);
	return rc;
}

int mde_archive_aux(mde_fetcher *f, int kind, const char *sym, int64_t P,
		    int64_t start, int64_t end, mde_aux *out,
		    int64_t *hole_end, mde_err *err)
{
	int64_t today = today_of(f), aend = end < today ? end : today;
	struct auxwalk w = {.hole_end = hole_end, .prefix = true};
	struct mde_arfile *files = NULL;
	size_t n = 0;
	int rc = 0;
	*hole_end = start;
	if (start < aend &&
	    plan(kind == MDE_AUX_FUNDING ? MDE_AR_FUNDING : MDE_AR_METRICS,
		 false, sym, NULL, start, aend, today, &files, &n))
		rc = mde_err_set(err, MDE_ENOMEM, false, "cannot plan files");
	size_t g = (size_t)group_size(f);
	for (size_t i = 0; i < n && !rc; i += g)
		rc = aux_group(f, kind, sym, P, files + i,
			       n - i < g ? n - i : g, out, &w, err);
	int64_t covered = n ? files[n - 1].seg_to : start;
	files_free(files, n);
	if (!rc && covered < end)
		rc = aux_rest(f, kind, sym, P, covered, end, false, out, &w,
			      err);
	if (!rc && mde_aux_normalize(out))
		rc = mde_err_set(err, MDE_ENOMEM, false, "out of memory");
	return rc;
}

/* ---- files a user has ------------------------------------------------- */

static bool ends_with(const char *s, const char *suf)
{
	size_t n = strlen(s), k = strlen(suf);
	return n >= k && strcmp(s + n - k, suf) == 0;
}

int mde_archive_read_local(const char *path, int origin, mde_candles *out,
			   mde_kline_csv_info *info, size_t *bytes,
			   mde_err *err)
{
	char *buf = NULL, *csv = NULL;
	size_t len = 0, clen = 0;
	int rc = mde_read_file(path, (size_t)1 << 31, &buf, &len, err);
	if (rc)
		return rc;
	*bytes = len;
	bool zip = ends_with(path, ".zip") || ends_with(path, ".ZIP");
	if (zip && (rc = mde_ar_unzip((unsigned char *)buf, len, &csv, &clen,
				      err))) {
		free(buf);
		return rc;
	}
	const char *text = zip ? csv : buf;
	size_t tl = zip ? clen : len;
	if (!mde_kline_csv_sniff(text, tl))
		rc = mde_err_set(err, MDE_EPARSE, false,
				 "%s is not a Binance kline CSV (12 fields: "
				 "open_time,open,high,low,close,volume,"
				 "close_time,...)", path);
	else
		rc = mde_kline_csv_parse(text, tl, origin, INT64_MIN,
					 INT64_MAX, out, info, err);
	free(buf);
	free(csv);
	return rc;
}

int mde_fetch_read_file(const char *path, int origin, mde_candles *out,
			int64_t *period_ms, size_t *bytes, mde_err *err)
{
	mde_kline_csv_info info;
	int rc = mde_archive_read_local(path, origin, out, &info, bytes, err);
	*period_ms = rc ? 0 : info.period_ms;
	return rc;
}
