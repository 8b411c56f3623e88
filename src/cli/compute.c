/*
 * compute.c - the compute command: CSV candles -> validate -> features ->
 * CSV. The only stage-order knowledge here is the one CLI.md describes;
 * every step lives in its own module (csvio, validate, features).
 *
 * Output rows echo the input line byte for byte (its columns, in its
 * order), so nothing of the source text is reformatted; the features follow
 * with 17 significant digits, int2 features as integers, NULL as an empty
 * field. Rows leave in open_time order after duplicates are resolved.
 */
#include "compute.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compute_seg.h"
#include "csvio.h"
#include "engine.h"
#include "timeutil.h"
#include "validate.h"

static const struct {
	int kind;
	const char *flag, *tcol, *vcol;
} aux_files[] = {
	{MDE_AUX_FUNDING, "--funding", "funding_time", "funding_rate"},
	{MDE_AUX_OPEN_INTEREST, "--open-interest", "timestamp",
	 "sum_open_interest"},
	{MDE_AUX_LONG_SHORT, "--long-short", "timestamp", "long_short_ratio"},
	{MDE_AUX_LIQUIDATIONS, "--liquidations", "time", "qty"},
	{MDE_AUX_INFLOW, "--inflow", "timestamp", "value"},
};

static const char *aux_path(const mde_compute_args *a, int kind)
{
	switch (kind) {
	case MDE_AUX_FUNDING: return a->funding;
	case MDE_AUX_OPEN_INTEREST: return a->open_interest;
	case MDE_AUX_LONG_SHORT: return a->long_short;
	case MDE_AUX_LIQUIDATIONS: return a->liquidations;
	case MDE_AUX_INFLOW: return a->inflow;
	}
	return NULL;
}

static int read_aux(const mde_compute_args *a, mde_auxset *aux)
{
	for (size_t k = 0; k < MDE_ARRAY_LEN(aux_files); k++) {
		int kind = aux_files[k].kind;
		const char *path = aux_path(a, kind);
		if (!path)
			continue;
		char *buf = NULL;
		size_t len = 0;
		mde_err err = {0};
		int rc = mde_read_file(path, 0, &buf, &len, &err);
		if (rc) {
			fprintf(stderr, "mdenrich compute: %s: %s\n",
				aux_files[k].flag, err.msg);
			return MDE_EXIT_FATAL;
		}
		rc = mde_csv_read_aux(&aux->s[kind], buf, len,
				      aux_files[k].tcol, aux_files[k].vcol,
				      &err);
		free(buf);
		if (rc) {
			fprintf(stderr, "mdenrich compute: %s %s: %s\n",
				aux_files[k].flag, path, err.msg);
			return rc == MDE_ENOMEM ? MDE_EXIT_FATAL :
						  MDE_EXIT_USAGE;
		}
		aux->configured[kind] = true;
		/* liquidations: every event counts; the others: a repeated
		 * timestamp keeps the last row */
		if (kind == MDE_AUX_LIQUIDATIONS ? mde_aux_sort(&aux->s[kind])
						 : mde_aux_normalize(&aux->s[kind])) {
			fprintf(stderr, "mdenrich compute: out of memory\n");
			return MDE_EXIT_FATAL;
		}
	}
	return 0;
}

/* Rejects and superseded duplicates, in input order (rows of cc). */
static void report(const mde_csv_candles *cc, const mde_reject *rj,
		   size_t nrj, const uint32_t *dups, size_t ndups)
{
	char reasons[256], tbuf[40];
	size_t r = 0, d = 0;
	while (r < nrj || d < ndups) {
		bool rej = d >= ndups || (r < nrj && rj[r].row < dups[d]);
		uint32_t row = rej ? rj[r].row : dups[d];
		mde_time_format(cc->c.open_time_ms[row], tbuf, sizeof tbuf);
		if (rej)
			fprintf(stderr, "line %u: open_time %s: rejected: %s\n",
				cc->line[row], tbuf,
				mde_reject_reasons_str(rj[r++].reasons,
						       reasons,
						       sizeof reasons));
		else
			fprintf(stderr, "line %u: open_time %s: duplicate, "
					"a later row with the same open_time "
					"wins\n", cc->line[row], tbuf), d++;
	}
}

static void write_header(mde_csv_writer *w, const char *buf,
			 const mde_csv_candles *cc)
{
	mde_csv_put(w, buf + cc->header_off, cc->header_len);
	for (int k = 0; k < MDE_NFEATURES; k++) {
		mde_csv_putc(w, ',');
		mde_csv_put(w, mde_column_names[k],
			    strlen(mde_column_names[k]));
	}
	static const char tail[] = ",validation_flags,quality_score\n";
	mde_csv_put(w, tail, sizeof tail - 1);
}

/* The valid slots of s; map (NULL = identity) takes s's rows to cc's. */
static void write_rows(mde_csv_writer *w, const char *buf,
		       const mde_csv_candles *cc, const uint32_t *map,
		       const mde_series *s, const mde_frame *fr)
{
	for (size_t i = 0; i < s->n; i++) {
		if (!s->valid[i])
			continue;
		uint32_t row = map ? map[s->row[i]] : s->row[i];
		mde_csv_put(w, buf + cc->off[row], cc->len[row]);
		for (int k = 0; k < MDE_NFEATURES; k++) {
			mde_csv_putc(w, ',');
			if (mde_column_int2(k))
				mde_csv_put_intval(w, fr->col[k][i]);
			else
				mde_csv_put_double(w, fr->col[k][i]);
		}
		mde_csv_putc(w, ',');
		mde_csv_put_int(w, fr->flags[i]);
		mde_csv_putc(w, ',');
		mde_csv_put_double(w, fr->quality[i]);
		mde_csv_putc(w, '\n');
	}
}

/* The segments of one compute (compute_seg.h) and what they found. */
typedef struct segrun {
	int64_t period, now;
	int asset;
	const mde_csv_candles *cc;
	mde_cseg *seg;
	size_t nseg;
	mde_candles sub;   /* segment k's rows when nseg > 1 */
	uint32_t *map;     /* sub's rows in cc */
	mde_validation v;
	mde_frame fr;
	mde_reject *rj;    /* every segment's, rows of cc */
	uint32_t *dups;
	size_t nrj, ndups;
	mde_vstats st;
} segrun;

static void segrun_free(segrun *r)
{
	free(r->seg);
	mde_candles_free(&r->sub);
	free(r->map);
	mde_validation_free(&r->v);
	mde_frame_free(&r->fr);
	free(r->rj);
	free(r->dups);
}

/* Validates segment k into r->v; with one segment, the file itself. */
static int seg_validate(segrun *r, size_t k, mde_err *err)
{
	const mde_candles *in = &r->cc->c;
	if (r->nseg > 1) {
		if (mde_cseg_extract(in, &r->seg[k], &r->sub, &r->map))
			return mde_err_set(err, MDE_ENOMEM, false,
					   "out of memory");
		in = &r->sub;
	}
	return mde_validate(&r->v, in, r->period, r->asset, r->now, err);
}

static int cmp_reject(const void *pa, const void *pb)
{
	const mde_reject *a = pa, *b = pb;
	return (a->row > b->row) - (a->row < b->row);
}

static int cmp_u32(const void *pa, const void *pb)
{
	uint32_t a = *(const uint32_t *)pa, b = *(const uint32_t *)pb;
	return (a > b) - (a < b);
}

/* Adds segment k's validation (r->v) to the totals. */
static void seg_account(segrun *r, int64_t *last_t)
{
	const mde_validation *v = &r->v;
	const mde_series *s = &v->series;
	for (size_t i = 0; i < v->nrejects; i++)
		r->rj[r->nrj++] = (mde_reject){r->map[v->rejects[i].row],
					       v->rejects[i].reasons};
	for (size_t i = 0; i < v->ndups; i++)
		r->dups[r->ndups++] = r->map[v->dups[i]];
	r->st.received += v->stats.received;
	r->st.valid += v->stats.valid;
	r->st.rejected += v->stats.rejected;
	r->st.duplicates += v->stats.duplicates;
	r->st.gaps += v->stats.gaps;
	if (r->asset != MDE_CRYPTO || !v->stats.valid)
		return;
	/* the empty slots between two segments are gaps too */
	if (*last_t != INT64_MIN)
		r->st.gaps += (size_t)((s->t[0] - *last_t) / r->period - 1);
	*last_t = s->t[s->n - 1];
}

/*
 * Pass 1: every segment validated (the errors, rejects and counts, before
 * anything is written). With one segment its result stays in r->v.
 */
static int seg_check(segrun *r, mde_err *err)
{
	if (r->nseg == 1) {
		int rc = seg_validate(r, 0, err);
		if (!rc)
			r->st = r->v.stats;
		return rc;
	}
	size_t n = r->cc->c.n ? r->cc->c.n : 1;
	r->rj = malloc(n * sizeof *r->rj);
	r->dups = malloc(n * sizeof *r->dups);
	if (!r->rj || !r->dups)
		return mde_err_set(err, MDE_ENOMEM, false, "out of memory");
	int64_t last_t = INT64_MIN;
	for (size_t k = 0; k < r->nseg; k++) {
		int rc = seg_validate(r, k, err);
		if (rc)
			return rc;
		seg_account(r, &last_t);
	}
	const mde_candles *c = &r->cc->c;
	for (size_t i = 1; i < c->n; i++)
		r->st.out_of_order += c->open_time_ms[i] < c->open_time_ms[i - 1];
	qsort(r->rj, r->nrj, sizeof *r->rj, cmp_reject);
	qsort(r->dups, r->ndups, sizeof *r->dups, cmp_u32);
	return 0;
}

/* Pass 2: the features of each segment, its rows written. */
static int seg_write(segrun *r, mde_csv_writer *w, const char *buf,
		     const mde_auxset *aux, mde_err *err)
{
	write_header(w, buf, r->cc);
	for (size_t k = 0; k < r->nseg; k++) {
		int rc = r->nseg > 1 ? seg_validate(r, k, err) : 0;
		if (!rc)
			rc = mde_features_compute(&r->fr, &r->v.series, aux,
						  err);
		if (rc)
			return rc;
		write_rows(w, buf, r->cc, r->nseg > 1 ? r->map : NULL,
			   &r->v.series, &r->fr);
	}
	return 0;
}

static int open_out(const mde_compute_args *a, FILE **out)
{
	bool to_stdout = !a->output || strcmp(a->output, "-") == 0;
	*out = to_stdout ? stdout : fopen(a->output, "wb");
	if (*out)
		return 0;
	fprintf(stderr, "mdenrich compute: %s: %s\n", a->output,
		strerror(errno));
	return MDE_EXIT_FATAL;
}

/* Validates, computes and writes the candles of cc. */
static int compute(const mde_compute_args *a, const char *buf,
		   const mde_csv_candles *cc, const mde_auxset *aux,
		   segrun *r)
{
	mde_err err = {0};
	r->cc = cc;
	r->now = mde_now_ms();
	size_t gap = mde_features_warmup(r->period, r->asset);
	if (mde_cseg_split(&cc->c, r->period, r->asset, gap, &r->seg,
			   &r->nseg)) {
		fprintf(stderr, "mdenrich compute: out of memory\n");
		return MDE_EXIT_FATAL;
	}
	int rc = seg_check(r, &err);
	if (rc) {
		fprintf(stderr, "mdenrich compute: %s\n", err.msg);
		return rc == MDE_EINVAL ? MDE_EXIT_USAGE : MDE_EXIT_FATAL;
	}
	if (r->nseg == 1)
		report(cc, r->v.rejects, r->v.nrejects, r->v.dups, r->v.ndups);
	else
		report(cc, r->rj, r->nrj, r->dups, r->ndups);
	FILE *out;
	mde_csv_writer w;
	if (open_out(a, &out))
		return MDE_EXIT_FATAL;
	bool to_stdout = out == stdout;
	if (mde_csv_writer_init(&w, out)) {
		rc = MDE_ENOMEM;
	} else {
		rc = seg_write(r, &w, buf, aux, &err);
		int wrc = mde_csv_writer_close(&w);
		rc = rc ? rc : wrc;
	}
	if (!to_stdout && fclose(out) != 0 && !rc)
		rc = MDE_EIO;
	if (rc) {
		fprintf(stderr, "mdenrich compute: %s\n",
			err.code ? err.msg : "writing the output failed");
		return MDE_EXIT_FATAL;
	}
	const mde_vstats *st = &r->st;
	fprintf(stderr, "mdenrich compute: rows=%zu valid=%zu rejected=%zu "
			"duplicates=%zu out_of_order=%zu gaps=%zu\n",
		st->received, st->valid, st->rejected, st->duplicates,
		st->out_of_order, st->gaps);
	return MDE_EXIT_OK;
}

int mde_compute_run(const mde_compute_args *a)
{
	int code = MDE_EXIT_OK, asset = MDE_CRYPTO;
	int64_t period = 0;
	char *buf = NULL;
	size_t len = 0;
	mde_csv_candles cc = {0};
	mde_auxset aux;
	segrun r;
	mde_err err = {0};
	memset(&aux, 0, sizeof aux);
	memset(&r, 0, sizeof r);

	if (!a || !a->timeframe || mde_tf_parse(a->timeframe, &period)) {
		fprintf(stderr, "mdenrich compute: --timeframe must be one of "
				"1m 5m 15m 30m 1h 4h 1d\n");
		code = MDE_EXIT_USAGE;
		goto done;
	}
	if (a->asset_class && mde_asset_parse(a->asset_class, &asset)) {
		fprintf(stderr, "mdenrich compute: --asset-class must be "
				"crypto or equity\n");
		code = MDE_EXIT_USAGE;
		goto done;
	}
	int rc = mde_read_file(a->input, 0, &buf, &len, &err);
	if (rc) {
		fprintf(stderr, "mdenrich compute: %s\n", err.msg);
		code = MDE_EXIT_FATAL;
		goto done;
	}
	rc = mde_csv_read_candles(&cc, buf, len, &err);
	if (rc) {
		fprintf(stderr, "mdenrich compute: %s: %s\n",
			a->input && strcmp(a->input, "-") ? a->input : "stdin",
			err.msg);
		code = rc == MDE_ENOMEM ? MDE_EXIT_FATAL : MDE_EXIT_USAGE;
		goto done;
	}
	code = read_aux(a, &aux);
	if (code)
		goto done;
	r.period = period;
	r.asset = asset;
	code = compute(a, buf, &cc, &aux, &r);
done:
	segrun_free(&r);
	mde_auxset_free(&aux);
	mde_csv_candles_free(&cc);
	free(buf);
	return code;
}
