/*
 * klinecsv.c - Binance's kline CSV (klinecsv.h): a line splitter, then
 * every line parsed into a scratch table, then the rows copied out in
 * time order with repeats resolved (the last line of a time wins).
 */
#include "klinecsv.h"

#include <stdlib.h>
#include <string.h>

bool mde_csv_next(const char *buf, size_t len, size_t *pos, mde_csv_line *ln)
{
	size_t p = *pos;
	if (p == 0 && len >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0)
		p = 3;
	for (;;) {
		if (p >= len)
			return false;
		size_t e = p;
		while (e < len && buf[e] != '\n')
			e++;
		size_t end = e;
		if (end > p && buf[end - 1] == '\r')
			end--;
		ln->lineno++;
		*pos = e < len ? e + 1 : e;
		if (end == p) {
			p = *pos;
			continue; /* blank line */
		}
		ln->nf = 0;
		size_t s = p;
		for (size_t i = p; i <= end; i++) {
			if (i < end && buf[i] != ',')
				continue;
			if (ln->nf < MDE_CSV_MAXF) {
				ln->f[ln->nf] = buf + s;
				ln->len[ln->nf] = i - s;
			}
			ln->nf++;
			s = i + 1;
		}
		if (ln->nf > MDE_CSV_MAXF)
			ln->nf = MDE_CSV_MAXF + 1;
		return true;
	}
}

bool mde_csv_int(const char *s, size_t len, int64_t *out)
{
	size_t i = 0;
	bool neg = len > 0 && s[0] == '-';
	if (neg)
		i = 1;
	if (len == i || len - i > 18)
		return false;
	int64_t x = 0;
	for (; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		x = x * 10 + (s[i] - '0');
	}
	*out = neg ? -x : x;
	return true;
}

bool mde_csv_is_header(const mde_csv_line *ln)
{
	int64_t t;
	return ln->nf > 0 && !mde_csv_int(ln->f[0], ln->len[0], &t);
}

void mde_kline_csv_info_init(mde_kline_csv_info *info)
{
	memset(info, 0, sizeof *info);
	info->first_ms = info->last_ms = INT64_MIN;
}

static bool same(const char *f, size_t n, const char *s)
{
	return n == strlen(s) && memcmp(f, s, n) == 0;
}

static bool field_is(const mde_csv_line *ln, int i, const char *a,
		     const char *b)
{
	return i < ln->nf && (same(ln->f[i], ln->len[i], a) ||
			      same(ln->f[i], ln->len[i], b));
}

bool mde_kline_csv_sniff(const char *buf, size_t len)
{
	size_t pos = 0;
	mde_csv_line ln = {0};
	if (!mde_csv_next(buf, len, &pos, &ln))
		return false;
	if (mde_csv_is_header(&ln))
		return ln.nf == 12 &&
		       field_is(&ln, 0, "open_time", "openTime") &&
		       field_is(&ln, 6, "close_time", "closeTime");
	int64_t t;
	return ln.nf == 12 && mde_csv_int(ln.f[0], ln.len[0], &t);
}

/* Decimal columns of each mde_field. */
static const int kcol[MDE_NFIELDS] = {1, 2, 3, 4, 5, 7, 9, 10};

const char mde_kline_csv_header[] =
	"open_time,open,high,low,close,volume,close_time,quote_volume,count,"
	"taker_buy_volume,taker_buy_quote_volume,ignore";

int mde_kline_csv_line(const mde_csv_line *ln, int origin, mde_candles *tmp,
		       mde_kline_csv_info *info, mde_err *err)
{
	int64_t ot, ct, trades;
	if (ln->nf != 12)
		return mde_err_set(err, MDE_EPARSE, false,
				   "line %zu: %d fields, a kline has 12",
				   ln->lineno, ln->nf);
	if (!mde_csv_int(ln->f[0], ln->len[0], &ot) ||
	    !mde_csv_int(ln->f[6], ln->len[6], &ct))
		return mde_err_set(err, MDE_EPARSE, false,
				   "line %zu: open or close time is not an "
				   "integer", ln->lineno);
	ot = mde_csv_ms(ot, &info->micros);
	ct = mde_csv_ms(ct, &info->micros);
	mde_candle_in in = {.open_time_ms = ot, .origin = origin,
			    .trades = MDE_NULL_TRADES};
	if (ln->len[8] && !mde_csv_int(ln->f[8], ln->len[8], &trades))
		return mde_err_set(err, MDE_EPARSE, false,
				   "line %zu: count is not an integer",
				   ln->lineno);
	if (ln->len[8])
		in.trades = trades;
	for (int f = 0; f < MDE_NFIELDS; f++) {
		in.txt[f] = ln->len[kcol[f]] ? ln->f[kcol[f]] : NULL;
		in.len[f] = ln->len[kcol[f]];
	}
	mde_err e2;
	if (mde_candles_push(tmp, &in, &e2))
		return mde_err_set(err, e2.code, false, "line %zu: %s",
				   ln->lineno, e2.msg);
	if (info->rows == 0)
		info->period_ms = ct - ot + 1;
	info->rows++;
	if (info->first_ms == INT64_MIN || ot < info->first_ms)
		info->first_ms = ot;
	if (ot > info->last_ms)
		info->last_ms = ot;
	return 0;
}

struct key {
	int64_t t;
	uint32_t i;
};

static int by_time(const void *a, const void *b)
{
	const struct key *x = a, *y = b;
	if (x->t != y->t)
		return x->t < y->t ? -1 : 1;
	return x->i < y->i ? -1 : x->i > y->i; /* file order within a time */
}

/* Copies tmp's rows in [start, end) out, ascending, the last of a time. */
static int copy_sorted(const mde_candles *tmp, int64_t start, int64_t end,
		       mde_candles *out, mde_kline_csv_info *info)
{
	struct key *ix = malloc((tmp->n + 1) * sizeof *ix);
	if (!ix)
		return MDE_ENOMEM;
	bool sorted = true;
	for (size_t i = 0; i < tmp->n; i++) {
		ix[i] = (struct key){tmp->open_time_ms[i], (uint32_t)i};
		if (i && ix[i].t <= ix[i - 1].t)
			sorted = false;
	}
	if (!sorted)
		qsort(ix, tmp->n, sizeof *ix, by_time);
	int rc = 0;
	for (size_t k = 0; k < tmp->n && !rc; k++) {
		int64_t t = ix[k].t;
		if (k + 1 < tmp->n && ix[k + 1].t == t) {
			info->repeats++;
			continue;
		}
		if (t < start || t >= end)
			continue;
		rc = mde_candles_copy_row(out, tmp, ix[k].i);
		info->kept += rc == 0;
	}
	free(ix);
	return rc ? MDE_ENOMEM : 0;
}

/* Whether the open times (first fields) strictly increase: then the rows
 * can go to out directly, in one pass. A header line is skipped. *lines
 * receives the number of lines (the rows' room). */
static bool ascending(const char *buf, size_t len, size_t *lines)
{
	size_t p = len >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;
	int64_t last = INT64_MIN;
	bool first = true, ok = true;
	*lines = 1;
	while (p < len) {
		const char *nl = memchr(buf + p, '\n', len - p);
		size_t e = nl ? (size_t)(nl - buf) : len;
		const char *c = memchr(buf + p, ',', e - p);
		size_t fl = c ? (size_t)(c - buf) - p : e - p;
		int64_t t;
		if (fl && buf[p + fl - 1] == '\r')
			fl--;
		if (e > p && !mde_csv_int(buf + p, fl, &t)) {
			if (!first)
				ok = false; /* a bad line: the slow path
					       reports it */
		} else if (e > p) {
			if (t <= last)
				ok = false;
			last = t;
		}
		*lines += nl != NULL;
		first = false;
		p = e + 1;
	}
	return ok;
}

/* The lines of buf into out (rows of [start, end) only), in file order. */
static int parse_lines(const char *buf, size_t len, int origin,
		       int64_t start, int64_t end, bool filter,
		       mde_candles *out, mde_kline_csv_info *info,
		       mde_err *err)
{
	size_t pos = 0;
	mde_csv_line ln = {0};
	bool first = true;
	int rc = 0;
	while (!rc && mde_csv_next(buf, len, &pos, &ln)) {
		if (first && mde_csv_is_header(&ln)) {
			info->header = true;
			first = false;
			continue;
		}
		first = false;
		size_t n0 = out->n, t0 = out->text_len;
		rc = mde_kline_csv_line(&ln, origin, out, info, err);
		if (!rc && filter && (out->open_time_ms[n0] < start ||
				      out->open_time_ms[n0] >= end))
			mde_candles_truncate(out, n0, t0);
		else if (!rc && filter)
			info->kept++;
	}
	return rc;
}

int mde_kline_csv_parse(const char *buf, size_t len, int origin,
			int64_t start_ms, int64_t end_ms, mde_candles *out,
			mde_kline_csv_info *info, mde_err *err)
{
	mde_kline_csv_info local;
	if (!info)
		info = &local;
	mde_kline_csv_info_init(info);
	size_t n0 = out->n, t0 = out->text_len;
	int rc;
	/* Room for the file's rows (its lines), or for the window's when it
	 * is shorter (no timeframe is under 1m), and for their text (a row's
	 * is its line less two times, two integers and 11 commas, at least
	 * 24 bytes): reserved once, not grown by doubling. */
	size_t lines;
	bool asc = ascending(buf, len, &lines);
	size_t rows = lines;
	uint64_t span = (uint64_t)end_ms - (uint64_t)start_ms; /* no overflow */
	if (end_ms > start_ms && span / 60000 + 1 < rows)
		rows = (size_t)(span / 60000 + 1);
	if (mde_candles_reserve(out, out->n + rows) ||
	    mde_candles_reserve_text(out, out->text_len +
					      rows * (len / lines > 40
							      ? len / lines - 24
							      : 16)))
		return mde_err_set(err, MDE_ENOMEM, false, "out of memory");
	if (asc) {
		/* the usual file: one pass, straight into out */
		rc = parse_lines(buf, len, origin, start_ms, end_ms, true, out,
				 info, err);
	} else {
		mde_candles tmp;
		mde_candles_init(&tmp);
		rc = parse_lines(buf, len, origin, 0, 0, false, &tmp, info,
				 err);
		if (!rc && copy_sorted(&tmp, start_ms, end_ms, out, info))
			rc = mde_err_set(err, MDE_ENOMEM, false,
					 "out of memory");
		mde_candles_free(&tmp);
	}
	if (rc) {
		mde_candles_truncate(out, n0, t0);
		info->kept = 0;
	}
	return rc;
}
