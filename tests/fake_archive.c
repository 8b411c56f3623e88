/*
 * fake_archive.c - the public data archive of the fake exchange
 * (fake_exchange.h, "the public data archive"): Binance's layout and file
 * names, zips built in memory with libzip from the rows the REST side
 * serves (so both paths carry the same text), CHECKSUM files in
 * `sha256sum` format, and per-file faults (fxa_set).
 */
#include "fake_exchange.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <zip.h>

#include "source.h"
#include "timeutil.h"

struct rule {
	const fx *x;
	char prefix[200];
	unsigned flags;
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

/* Zips already built, for the data version they were built from: the
 * real archive is static files, so the fake should not spend a second
 * per request rebuilding a month. */
struct built {
	const fx *x;
	char path[200];   /* the zip's path */
	unsigned flags;
	uint64_t version;
	char *zip;
	size_t len;
	char sha[65];     /* of zip, hashed once (a .CHECKSUM is static too) */
};
static struct built built[256];
static size_t nbuilt, built_next;
static struct rule rules[64];
static size_t nrules, nrequests;

void fxa_set(fx *x, const char *prefix, unsigned flags)
{
	pthread_mutex_lock(&mu);
	if (nrules < MDE_ARRAY_LEN(rules)) {
		rules[nrules].x = x;
		snprintf(rules[nrules].prefix, sizeof rules[nrules].prefix,
			 "%s", prefix);
		rules[nrules++].flags = flags;
	}
	pthread_mutex_unlock(&mu);
}

void fxa_clear(fx *x)
{
	pthread_mutex_lock(&mu);
	size_t k = 0;
	for (size_t i = 0; i < nrules; i++)
		if (rules[i].x != x)
			rules[k++] = rules[i];
	nrules = k;
	nrequests = 0;
	for (size_t i = 0; i < nbuilt; i++)
		if (built[i].x == x) {
			free(built[i].zip);
			built[i] = (struct built){0};
		}
	pthread_mutex_unlock(&mu);
}

size_t fxa_requests(fx *x)
{
	pthread_mutex_lock(&mu);
	size_t n = nrequests;
	pthread_mutex_unlock(&mu);
	return n;
}

static unsigned flags_of(const fx *x, const char *path)
{
	unsigned f = 0;
	pthread_mutex_lock(&mu);
	nrequests++;
	for (size_t i = 0; i < nrules; i++)
		if (rules[i].x == x &&
		    strncmp(path, rules[i].prefix, strlen(rules[i].prefix)) == 0)
			f = rules[i].flags;
	pthread_mutex_unlock(&mu);
	return f;
}

/* ---- what a path names -------------------------------------------------- */

struct file {
	bool spot, monthly;
	char kind[16];       /* klines fundingRate metrics */
	char sym[32];
	int64_t period;      /* klines */
	int64_t from, to;
	bool checksum;
	char name[96];       /* SYM-...zip */
};

static bool parse_date(const char *s, bool monthly, int64_t *from,
		       int64_t *to)
{
	int y, m, d = 1;
	if (monthly ? sscanf(s, "%4d-%2d", &y, &m) != 2
		    : sscanf(s, "%4d-%2d-%2d", &y, &m, &d) != 3)
		return false;
	*from = mde_days_from_civil(y, (unsigned)m, (unsigned)d) * MDE_DAY_MS;
	if (!monthly) {
		*to = *from + MDE_DAY_MS;
		return true;
	}
	if (++m > 12) {
		m = 1;
		y++;
	}
	*to = mde_days_from_civil(y, (unsigned)m, 1) * MDE_DAY_MS;
	return true;
}

static bool parse_path(const char *url, struct file *F)
{
	char tmp[300], *seg[10];
	int n = 0;
	snprintf(tmp, sizeof tmp, "%s", url);
	for (char *save = NULL, *t = strtok_r(tmp, "/", &save); t && n < 10;
	     t = strtok_r(NULL, "/", &save))
		seg[n++] = t;
	memset(F, 0, sizeof *F);
	int i = 1; /* after "data" */
	if (n < 6 || strcmp(seg[0], "data"))
		return false;
	F->spot = strcmp(seg[i], "spot") == 0;
	i += F->spot ? 1 : 2; /* spot | futures/um */
	F->monthly = strcmp(seg[i++], "monthly") == 0;
	snprintf(F->kind, sizeof F->kind, "%s", seg[i++]);
	snprintf(F->sym, sizeof F->sym, "%s", seg[i++]);
	if (strcmp(F->kind, "klines") == 0 &&
	    (i >= n || mde_tf_parse(seg[i++], &F->period)))
		return false;
	if (i != n - 1)
		return false;
	const char *name = seg[i];
	size_t L = strlen(name);
	F->checksum = L > 9 && strcmp(name + L - 9, ".CHECKSUM") == 0;
	snprintf(F->name, sizeof F->name, "%.*s", (int)(F->checksum ? L - 9 : L),
		 name);
	const char *date = F->name + strlen(F->name) - (F->monthly ? 11 : 14);
	return date > F->name && parse_date(date, F->monthly, &F->from, &F->to);
}

/* ---- CSV bodies ----------------------------------------------------------- */

struct kctx {
	fx_buf *b;
	unsigned flags;
	int64_t period;
	bool micros_from_2025;
	const char *eol;
};

static void kline_line(void *ud, int64_t t, const char *const *f,
		       int64_t trades)
{
	struct kctx *k = ud;
	int64_t m = (k->flags & FXA_MICROS) ||
				(k->micros_from_2025 && t >= 1735689600000)
			    ? 1000
			    : 1;
	fx_buf_add(k->b, "%lld,%s,%s,%s,%s,%s,%lld,%s,%lld,%s,%s,0%s",
	    (long long)(t * m), f[MDE_OPEN], f[MDE_HIGH], f[MDE_LOW],
	    f[MDE_CLOSE], f[MDE_VOLUME], (long long)((t + k->period) * m - 1),
	    f[MDE_QUOTE_VOLUME], (long long)trades, f[MDE_TAKER_BUY_BASE],
	    f[MDE_TAKER_BUY_QUOTE], k->eol);
}

/* Reverses the lines after the header and repeats the (new) first data
 * line with another close before its real line: unsorted, repeated. */
static void shuffle(fx_buf *b, size_t body_at)
{
	size_t nl = 0;
	for (size_t i = body_at; i < b->n; i++)
		nl += b->p[i] == '\n';
	if (nl < 2)
		return;
	char **ln = calloc(nl, sizeof *ln);
	size_t k = 0, s = body_at;
	for (size_t i = body_at; i < b->n; i++)
		if (b->p[i] == '\n') {
			ln[k++] = strndup(b->p + s, i + 1 - s);
			s = i + 1;
		}
	b->n = body_at;
	/* a wrong copy of the last candle first: the real one comes later */
	char *w = strdup(ln[nl - 1]), *c = w;
	for (int commas = 0; *c && commas < 4; c++)
		commas += *c == ',';
	if (*c)
		*c = *c == '9' ? '1' : '9';
	fx_buf_add(b, "%s", w);
	free(w);
	for (size_t i = nl; i-- > 0;) {
		fx_buf_add(b, "%s", ln[i]);
		free(ln[i]);
	}
	free(ln);
}

static bool klines_csv(fx *x, const struct file *F, unsigned flags,
		       fx_buf *b)
{
	const char *eol = flags & FXA_CRLF ? "\r\n" : "\n";
	bool header = flags & FXA_HEADER ||
		      (!F->spot && !(flags & FXA_NOHEADER));
	if (header)
		fx_buf_add(b, "open_time,open,high,low,close,volume,close_time,"
		       "quote_volume,count,taker_buy_volume,"
		       "taker_buy_quote_volume,ignore%s", eol);
	size_t body_at = b->n;
	struct kctx k = {b, flags, F->period, F->spot, eol};
	if (fx_each_kline(x, F->spot ? FX_SPOT : FX_FUTURES, F->sym, F->period,
			  F->from, F->to, kline_line, &k) ||
	    b->n == body_at)
		return false;
	if (flags & FXA_SHUFFLE)
		shuffle(b, body_at);
	return true;
}

static void funding_line(void *ud, int64_t t, const char *v)
{
	fx_buf_add(ud, "%lld,8,%s\n", (long long)t, v);
}

static bool funding_csv(fx *x, const struct file *F, fx_buf *b)
{
	fx_buf_add(b, "calc_time,funding_interval_hours,last_funding_rate\n");
	size_t at = b->n;
	fx_each_aux(x, MDE_AUX_FUNDING, F->sym, F->from, F->to, funding_line,
		    b);
	return b->n > at;
}

/* Metrics rows: one per snapshot time of the OI, L/S or taker series. */
struct mrow {
	int64_t t;
	char v[3][32];
};
struct mctx {
	struct mrow *r;
	size_t n, cap;
	int col;
};

static void metric_value(void *ud, int64_t t, const char *v)
{
	struct mctx *m = ud;
	size_t i = 0;
	while (i < m->n && m->r[i].t != t)
		i++;
	if (i == m->n) {
		if (m->n == m->cap) {
			m->cap = m->cap ? m->cap * 2 : 512;
			m->r = realloc(m->r, m->cap * sizeof *m->r);
		}
		memset(&m->r[m->n], 0, sizeof *m->r);
		m->r[m->n++].t = t;
	}
	snprintf(m->r[i].v[m->col], sizeof m->r[i].v[0], "%s", v);
}

static int by_t(const void *a, const void *b)
{
	const struct mrow *x = a, *y = b;
	return x->t < y->t ? -1 : x->t > y->t;
}

static bool metrics_csv(fx *x, const struct file *F, fx_buf *b)
{
	static const int kinds[3] = {MDE_AUX_OPEN_INTEREST, MDE_AUX_LONG_SHORT,
				     MDE_AUX_TAKER};
	struct mctx m = {0};
	for (m.col = 0; m.col < 3; m.col++)
		fx_each_aux(x, kinds[m.col], F->sym, F->from, F->to,
			    metric_value, &m);
	if (m.n == 0)
		return false;
	qsort(m.r, m.n, sizeof *m.r, by_t);
	fx_buf_add(b, "create_time,symbol,sum_open_interest,sum_open_interest_value,"
	       "count_toptrader_long_short_ratio,"
	       "sum_toptrader_long_short_ratio,count_long_short_ratio,"
	       "sum_taker_long_short_vol_ratio\n");
	for (size_t i = 0; i < m.n; i++) {
		char ts[32];
		mde_time_format(m.r[i].t, ts, sizeof ts); /* ...T..:..:..Z */
		ts[10] = ' ';
		ts[19] = '\0';
		fx_buf_add(b, "%s,%s,%s,,,,%s,%s\n", ts, F->sym, m.r[i].v[0],
		    m.r[i].v[1], m.r[i].v[2]);
	}
	free(m.r);
	return true;
}

/* ---- zip and checksum ------------------------------------------------------ */

static bool make_zip(const char *name, const fx_buf *csv, char **out,
		     size_t *len)
{
	zip_error_t ze;
	zip_error_init(&ze);
	zip_source_t *mem = zip_source_buffer_create(NULL, 0, 0, &ze);
	zip_t *z = mem ? zip_open_from_source(mem, ZIP_TRUNCATE, &ze) : NULL;
	bool ok = false;
	char entry[100];
	snprintf(entry, sizeof entry, "%.*s.csv", (int)strlen(name) - 4, name);
	if (!z)
		goto done;
	zip_source_keep(mem);
	zip_source_t *src = zip_source_buffer(z, csv->p, csv->n, 0);
	zip_int64_t idx = src ? zip_file_add(z, entry, src, 0) : -1;
	/* a fixed time: the same rows give the same bytes, the same hash */
	if (idx < 0 || zip_file_set_mtime(z, (zip_uint64_t)idx, 1700000000, 0) ||
	    zip_close(z)) {
		zip_discard(z);
		goto done;
	}
	zip_stat_t st;
	if (zip_source_stat(mem, &st) || zip_source_open(mem))
		goto done;
	*out = malloc(st.size + 1);
	*len = (size_t)st.size;
	ok = *out && zip_source_read(mem, *out, st.size) == (zip_int64_t)st.size;
	zip_source_close(mem);
done:
	if (mem)
		zip_source_free(mem);
	zip_error_fini(&ze);
	return ok;
}

static void sha_hex(const char *p, size_t n, char out[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int ml = 0;
	EVP_Digest(p, n, md, &ml, EVP_sha256(), NULL);
	for (unsigned i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

static int not_found(char **body, size_t *len, const char **ctype)
{
	*body = strdup("<?xml version=\"1.0\"?><Error><Code>NoSuchKey</Code>"
		       "</Error>");
	*len = strlen(*body);
	*ctype = "application/xml";
	return 404;
}

/* A copy of the zip built before for the same path, flags, data (only
 * its hash when zip is NULL). */
static bool built_get(const fx *x, const char *path, unsigned flags,
		      uint64_t v, char **zip, size_t *len, char sha[65])
{
	bool hit = false;
	pthread_mutex_lock(&mu);
	for (size_t i = 0; i < nbuilt && !hit; i++) {
		struct built *b = &built[i];
		if (b->x != x || b->flags != flags || b->version != v ||
		    strcmp(b->path, path) != 0 || !b->zip)
			continue;
		memcpy(sha, b->sha, 65);
		if (!zip) {
			hit = true;
		} else if ((*zip = malloc(b->len + 1))) {
			memcpy(*zip, b->zip, b->len);
			*len = b->len;
			hit = true;
		}
	}
	pthread_mutex_unlock(&mu);
	return hit;
}

static void built_put(const fx *x, const char *path, unsigned flags,
		      uint64_t v, const char *zip, size_t len,
		      const char sha[65])
{
	char *c = malloc(len);
	if (!c)
		return;
	memcpy(c, zip, len);
	pthread_mutex_lock(&mu);
	size_t k = nbuilt < MDE_ARRAY_LEN(built) ? nbuilt++
						 : built_next++ % nbuilt;
	free(built[k].zip);
	built[k] = (struct built){.x = x, .flags = flags, .version = v,
				  .zip = c, .len = len};
	memcpy(built[k].sha, sha, 65);
	snprintf(built[k].path, sizeof built[k].path, "%s", path);
	pthread_mutex_unlock(&mu);
}

/* The zip of F (built, or a copy of the one built before; NULL zip: only
 * its hash) and its SHA-256. */
static bool zip_of(fx *x, const struct file *F, unsigned flags, char **zip,
		   size_t *zl, char sha[65])
{
	char key[200];
	snprintf(key, sizeof key, "%s/%s/%s/%s/%lld", F->spot ? "s" : "f",
		 F->kind, F->sym, F->name, (long long)F->period);
	uint64_t v = fx_version(x);
	unsigned content = flags & ~(unsigned)(FXA_BADSUM | FXA_TRUNC);
	if (built_get(x, key, content, v, zip, zl, sha))
		return true;
	fx_buf csv = {0};
	char *z = NULL;
	size_t len = 0;
	bool have = strcmp(F->kind, "klines") == 0 ? klines_csv(x, F, flags,
								&csv)
		    : strcmp(F->kind, "fundingRate") == 0 ? funding_csv(x, F,
									&csv)
		    : strcmp(F->kind, "metrics") == 0 ? metrics_csv(x, F, &csv)
						       : false;
	have = have && make_zip(F->name, &csv, &z, &len);
	free(csv.p);
	if (!have)
		return false;
	sha_hex(z, len, sha);
	built_put(x, key, content, v, z, len, sha);
	if (zip) {
		*zip = z;
		*zl = len;
	} else {
		free(z);
	}
	return true;
}

int fxa_serve(fx *x, const char *url, char **body, size_t *len,
	      const char **ctype)
{
	struct file F;
	unsigned flags = flags_of(x, url);
	int64_t today = mde_floor_div(mde_now_ms(), MDE_DAY_MS) * MDE_DAY_MS;
	if (!parse_path(url, &F) || (flags & FXA_404) || F.to > today)
		return not_found(body, len, ctype);
	char *zip = NULL, hex[65];
	size_t zl = 0;
	if (!zip_of(x, &F, flags, F.checksum ? NULL : &zip, &zl, hex))
		return not_found(body, len, ctype);
	if (F.checksum) {
		if (flags & FXA_BADSUM)
			hex[0] = hex[0] == '0' ? '1' : '0';
		*body = malloc(200);
		*len = (size_t)snprintf(*body, 200, "%s  %s\n", hex, F.name);
		*ctype = "text/plain";
		return 200;
	}
	*body = zip;
	*len = flags & FXA_TRUNC ? zl / 2 : zl;
	*ctype = "application/zip";
	return 200;
}
