/*
 * csvio.c - CSV reading and writing for the compute command (csvio.h).
 * Lines are found with memchr, fields split in place; nothing is copied
 * except into the mde_candles text arena.
 */
#include "csvio.h"
#include "klinecsv.h"
#include "timeutil.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define MAX_FIELDS 64

typedef struct fld {
	const char *p;
	size_t n;
} fld;

/* The next line at *pos: [*ls, *le) without its end; false at the end. */
static bool next_line(const char *buf, size_t len, size_t *pos, size_t *ls,
		      size_t *le)
{
	if (*pos >= len)
		return false;
	const char *nl = memchr(buf + *pos, '\n', len - *pos);
	size_t e = nl ? (size_t)(nl - buf) : len;
	*ls = *pos;
	*le = e;
	if (*le > *ls && buf[*le - 1] == '\r')
		(*le)--;
	*pos = nl ? e + 1 : len;
	return true;
}

static bool blank(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t')
			return false;
	return true;
}

/* Splits a line into fields (quotes removed, spaces around trimmed).
   Returns the number of fields, or -1 for too many / an open quote. */
static int split(const char *s, size_t n, fld *f, int max)
{
	int k = 0;
	size_t i = 0;
	for (;;) {
		if (k == max)
			return -1;
		while (i < n && (s[i] == ' ' || s[i] == '\t'))
			i++;
		size_t a = i, b;
		if (i < n && s[i] == '"') {
			a = ++i;
			for (;;) {
				if (i >= n)
					return -1;
				if (s[i] == '"') {
					if (i + 1 < n && s[i + 1] == '"') {
						i += 2;
						continue;
					}
					break;
				}
				i++;
			}
			b = i++;
			while (i < n && s[i] != ',')
				i++;
		} else {
			while (i < n && s[i] != ',')
				i++;
			b = i;
			while (b > a && (s[b - 1] == ' ' || s[b - 1] == '\t'))
				b--;
		}
		f[k].p = s + a;
		f[k].n = b - a;
		k++;
		if (i >= n)
			return k;
		i++; /* the comma */
	}
}

static bool field_is(const fld *f, const char *name)
{
	return strlen(name) == f->n && memcmp(f->p, name, f->n) == 0;
}

void mde_csv_candles_free(mde_csv_candles *cc)
{
	if (!cc)
		return;
	mde_candles_free(&cc->c);
	free(cc->off);
	free(cc->len);
	free(cc->line);
	memset(cc, 0, sizeof *cc);
}

static int grow_rows(mde_csv_candles *cc, size_t need, size_t *cap)
{
	if (need <= *cap)
		return 0;
	size_t nc = *cap ? *cap * 2 : 1024;
	if (nc < need)
		nc = need;
	size_t *off = realloc(cc->off, nc * sizeof *off);
	if (!off)
		return MDE_ENOMEM;
	cc->off = off;
	uint32_t *ln = realloc(cc->len, nc * sizeof *ln);
	if (!ln)
		return MDE_ENOMEM;
	cc->len = ln;
	uint32_t *li = realloc(cc->line, nc * sizeof *li);
	if (!li)
		return MDE_ENOMEM;
	cc->line = li;
	*cap = nc;
	return 0;
}

/* Keeps where the row just appended to cc->c came from: the text
 * [ls, le) of the input, at line. */
static int keep_line(mde_csv_candles *cc, size_t *cap, size_t ls, size_t le,
		     uint32_t line, mde_err *err)
{
	if (grow_rows(cc, cc->c.n, cap))
		return mde_err_set(err, MDE_ENOMEM, false, "out of memory");
	size_t i = cc->c.n - 1;
	cc->off[i] = ls;
	cc->len[i] = (uint32_t)(le - ls);
	cc->line[i] = line;
	return 0;
}

/* Strict integer (optional sign, digits). */
static bool parse_int(const fld *f, int64_t *out)
{
	size_t i = 0;
	bool neg = false;
	if (f->n && (f->p[0] == '-' || f->p[0] == '+'))
		neg = f->p[i++] == '-';
	if (i >= f->n || f->n - i > 18)
		return false;
	int64_t v = 0;
	for (; i < f->n; i++) {
		if (f->p[i] < '0' || f->p[i] > '9')
			return false;
		v = v * 10 + (f->p[i] - '0');
	}
	*out = neg ? -v : v;
	return true;
}

/* Skips a UTF-8 byte order mark. */
static size_t bom(const char *buf, size_t len)
{
	return len >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;
}

/*
 * The next non-blank line, split into f: its number of fields, 0 at the end
 * of the input, -1 for a line that does not split (an open quote, too many
 * fields). *line counts every line read; [*ls, *le) is the line's text.
 */
static int next_fields(const char *buf, size_t len, size_t *pos,
		       uint32_t *line, fld *f, size_t *ls, size_t *le)
{
	while (next_line(buf, len, pos, ls, le)) {
		(*line)++;
		if (!blank(buf + *ls, *le - *ls))
			return split(buf + *ls, *le - *ls, f, MAX_FIELDS);
	}
	return 0;
}

/* A data line must have the header's number of fields. */
static int check_count(int nf, int ncol, uint32_t line, mde_err *err)
{
	if (nf == ncol)
		return 0;
	return mde_err_set(err, MDE_EPARSE, false,
			   "line %u: %d fields, the header has %d", line,
			   nf < 0 ? MAX_FIELDS : nf, ncol);
}

enum { COL_TIME = -1, COL_TRADES = -2, COL_NONE = -3 };

/* A Binance kline CSV (klinecsv.h), rows in file order for the echo. */
static int read_binance(mde_csv_candles *out, const char *buf, size_t len,
			size_t pos, size_t *cap, mde_err *err)
{
	mde_csv_line ln = {0};
	mde_kline_csv_info info;
	mde_kline_csv_info_init(&info);
	bool first = true;
	out->header_txt = mde_kline_csv_header;
	out->header_len = (uint32_t)strlen(mde_kline_csv_header);
	while (mde_csv_next(buf, len, &pos, &ln)) {
		int last = ln.nf > MDE_CSV_MAXF ? MDE_CSV_MAXF - 1 : ln.nf - 1;
		size_t ls = (size_t)(ln.f[0] - buf);
		size_t le = (size_t)(ln.f[last] - buf) + ln.len[last];
		if (first && mde_csv_is_header(&ln)) {
			out->header_txt = NULL;
			out->header_off = ls;
			out->header_len = (uint32_t)(le - ls);
			first = false;
			continue;
		}
		first = false;
		int rc = mde_kline_csv_line(&ln, MDE_SRC_CSV, &out->c, &info,
					    err);
		if (rc || (rc = keep_line(out, cap, ls, le,
					  (uint32_t)ln.lineno, err)))
			return rc;
	}
	out->period_ms = info.period_ms;
	return 0;
}

/* The lines of buf (an upper bound of its rows). */
static size_t count_lines(const char *p, size_t n)
{
	size_t k = 1;
	for (const char *e = p + n; (p = memchr(p, '\n', (size_t)(e - p)));
	     p++)
		k++;
	return k;
}

/* Room for every row of the file at once: growing by doubling would copy
 * the columns and touch their pages twice. */
static int reserve_rows(mde_csv_candles *out, size_t *cap, const char *buf,
			size_t len, mde_err *err)
{
	size_t rows = count_lines(buf, len);
	if (mde_candles_reserve(&out->c, rows) || grow_rows(out, rows, cap))
		return mde_err_set(err, MDE_ENOMEM, false, "out of memory");
	return 0;
}

int mde_csv_read_candles(mde_csv_candles *out, const char *buf, size_t len,
			 mde_err *err)
{
	memset(out, 0, sizeof *out);
	mde_candles_init(&out->c);
	size_t pos = bom(buf, len), ls, le, cap = 0;
	int rc = reserve_rows(out, &cap, buf + pos, len - pos, err);
	if (rc)
		return rc;
	if (mde_kline_csv_sniff(buf + pos, len - pos))
		return read_binance(out, buf, len, pos, &cap, err);
	uint32_t line = 0;
	fld f[MAX_FIELDS];
	int map[MAX_FIELDS];
	int ncol = next_fields(buf, len, &pos, &line, f, &ls, &le);
	if (ncol < 0)
		return mde_err_set(err, MDE_EPARSE, false,
				   "line %u: bad header", line);
	if (ncol == 0)
		return mde_err_set(err, MDE_EPARSE, false,
				   "line %u: no header (empty input)", line + 1);
	out->header_off = ls;
	out->header_len = (uint32_t)(le - ls);
	bool seen[MDE_NFIELDS + 2] = {false};
	for (int k = 0; k < ncol; k++) {
		map[k] = COL_NONE;
		if (field_is(&f[k], "open_time"))
			map[k] = COL_TIME;
		else if (field_is(&f[k], "trades"))
			map[k] = COL_TRADES;
		for (int j = 0; j < MDE_NFIELDS; j++)
			if (field_is(&f[k], mde_field_names[j]))
				map[k] = j;
		if (map[k] == COL_NONE)
			return mde_err_set(err, MDE_EPARSE, false,
					   "line %u: unknown column \"%.*s\"",
					   line, (int)(f[k].n > 40 ? 40 : f[k].n),
					   f[k].p);
		int s = map[k] + 2;
		if (seen[s])
			return mde_err_set(err, MDE_EPARSE, false,
					   "line %u: column \"%.*s\" repeated",
					   line, (int)f[k].n, f[k].p);
		seen[s] = true;
	}
	static const char *const req[] = {"open_time", "open", "high", "low",
					  "close", "volume"};
	static const int req_col[] = {COL_TIME, MDE_OPEN, MDE_HIGH, MDE_LOW,
				      MDE_CLOSE, MDE_VOLUME};
	for (size_t k = 0; k < MDE_ARRAY_LEN(req); k++)
		if (!seen[req_col[k] + 2])
			return mde_err_set(err, MDE_EPARSE, false,
					   "line %u: required column %s missing",
					   line, req[k]);
	int nf;
	while ((nf = next_fields(buf, len, &pos, &line, f, &ls, &le)) != 0) {
		if (check_count(nf, ncol, line, err))
			return MDE_EPARSE;
		mde_candle_in in = {.trades = MDE_NULL_TRADES,
				    .origin = MDE_SRC_CSV,
				    .no_text = true};
		for (int k = 0; k < ncol; k++) {
			if (map[k] == COL_TIME) {
				if (mde_time_parse_n(f[k].p, f[k].n,
						     &in.open_time_ms))
					return mde_err_set(
						err, MDE_EPARSE, false,
						"line %u: bad open_time \"%.*s\"",
						line,
						(int)(f[k].n > 40 ? 40 : f[k].n),
						f[k].p);
			} else if (map[k] == COL_TRADES) {
				if (f[k].n && !parse_int(&f[k], &in.trades))
					return mde_err_set(
						err, MDE_EPARSE, false,
						"line %u: trades is not an "
						"integer: \"%.*s\"", line,
						(int)(f[k].n > 40 ? 40 : f[k].n),
						f[k].p);
			} else if (f[k].n) {
				in.txt[map[k]] = f[k].p;
				in.len[map[k]] = f[k].n;
			}
		}
		mde_err e2 = {0};
		rc = mde_candles_push(&out->c, &in, &e2);
		if (rc)
			return mde_err_set(err, rc, false, "line %u: %s", line,
					   e2.msg);
		if ((rc = keep_line(out, &cap, ls, le, line, err)))
			return rc;
	}
	return 0;
}

int mde_csv_read_aux(mde_aux *out, const char *buf, size_t len,
		     const char *tcol, const char *vcol, mde_err *err)
{
	size_t pos = bom(buf, len), ls, le;
	uint32_t line = 0;
	fld f[MAX_FIELDS];
	int ti = -1, vi = -1;
	int ncol = next_fields(buf, len, &pos, &line, f, &ls, &le);
	if (ncol < 0)
		return mde_err_set(err, MDE_EPARSE, false,
				   "line %u: bad header", line);
	for (int k = 0; k < ncol; k++) {
		if (field_is(&f[k], tcol))
			ti = k;
		if (field_is(&f[k], vcol))
			vi = k;
	}
	if (ti < 0 || vi < 0)
		return mde_err_set(err, MDE_EPARSE, false,
				   "line %u: the header needs %s,%s",
				   line ? line : 1, tcol, vcol);
	int nf;
	while ((nf = next_fields(buf, len, &pos, &line, f, &ls, &le)) != 0) {
		if (check_count(nf, ncol, line, err))
			return MDE_EPARSE;
		int64_t t;
		if (mde_time_parse_n(f[ti].p, f[ti].n, &t))
			return mde_err_set(err, MDE_EPARSE, false,
					   "line %u: bad %s \"%.*s\"", line,
					   tcol,
					   (int)(f[ti].n > 40 ? 40 : f[ti].n),
					   f[ti].p);
		double v;
		if (mde_parse_decimal(f[vi].p, f[vi].n, &v))
			return mde_err_set(err, MDE_EPARSE, false,
					   "line %u: %s is not a number", line,
					   vcol);
		if (mde_aux_push(out, t, v))
			return mde_err_set(err, MDE_ENOMEM, false,
					   "out of memory");
	}
	return 0;
}

int mde_csv_writer_init(mde_csv_writer *w, FILE *f)
{
	memset(w, 0, sizeof *w);
	w->f = f;
	w->cap = 1 << 20;
	w->buf = malloc(w->cap);
	return w->buf ? 0 : MDE_ENOMEM;
}

static void flush(mde_csv_writer *w)
{
	if (w->n && !w->failed && fwrite(w->buf, 1, w->n, w->f) != w->n)
		w->failed = true;
	w->n = 0;
}

int mde_csv_writer_close(mde_csv_writer *w)
{
	if (!w->buf)
		return 0;
	flush(w);
	if (fflush(w->f) != 0)
		w->failed = true;
	free(w->buf);
	w->buf = NULL;
	return w->failed ? MDE_EIO : 0;
}

char *mde_csv_room(mde_csv_writer *w, size_t need)
{
	if (w->cap - w->n >= need)
		return w->buf + w->n;
	flush(w);
	if (need > w->cap) {
		char *b = realloc(w->buf, need);
		if (!b)
			return NULL;
		w->buf = b;
		w->cap = need;
	}
	return w->buf;
}

void mde_csv_put(mde_csv_writer *w, const char *s, size_t len)
{
	while (len) {
		if (w->n == w->cap)
			flush(w);
		size_t k = w->cap - w->n < len ? w->cap - w->n : len;
		memcpy(w->buf + w->n, s, k);
		w->n += k;
		s += k;
		len -= k;
	}
}
