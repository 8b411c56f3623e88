/*
 * compute.c - the compute command: CSV candles -> the offline stages of
 * the pipeline (validate, features, segment by segment: mde_offline_*) ->
 * CSV; the CSV reading and writing are csvio's.
 *
 * Output rows echo the input line byte for byte (its columns, in its
 * order), so nothing of the source text is reformatted; the features follow
 * with 17 significant digits, int2 features as integers, NULL as an empty
 * field. Rows leave in open_time order after duplicates are resolved.
 */
#include "compute.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csvio.h"
#include "numtext.h"
#include "pipeline.h"
#include "timeutil.h"

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
	mde_csv_put(w, cc->header_txt ? cc->header_txt
				       : buf + cc->header_off,
		    cc->header_len);
	for (int k = 0; k < MDE_NFEATURES; k++) {
		mde_csv_putc(w, ',');
		mde_csv_put(w, mde_column_names[k],
			    strlen(mde_column_names[k]));
	}
	static const char tail[] = ",validation_flags,quality_score\n";
	mde_csv_put(w, tail, sizeof tail - 1);
}

/*
 * The text of a column's value when it repeats: a feature that keeps its
 * value over many rows (the funding rate for 8 hours, open interest and
 * long/short for 5 minutes, the quality score) is formatted once per
 * change. Other values are formatted straight into the output.
 */
typedef struct memo {
	uint64_t bits; /* the last value's */
	int len;       /* of txt, the text of bits; 0: not made */
	char txt[MDE_NUM_TEXT_MAX];
} memo;

/* Writes v's text at p (room for MDE_NUM_TEXT_MAX bytes, which it may all
 * overwrite), nothing for NaN; returns the end of the text. */
static char *put_num(char *p, memo *m, double v)
{
	if (isnan(v))
		return p;
	uint64_t b;
	memcpy(&b, &v, sizeof b);
	if (b != m->bits) {
		m->bits = b;
		m->len = 0;
		return p + mde_num_shortest(p, v);
	}
	if (!m->len)
		m->len = mde_num_shortest(m->txt, v);
	memcpy(p, m->txt, 32); /* every text is shorter */
	return p + m->len;
}

/* Room for a row past its echoed input line: the features, the flags, the
 * quality score, each with its comma, and the newline. */
#define ROW_ROOM ((MDE_NFEATURES + 2) * (MDE_NUM_TEXT_MAX + 1) + 1)

/* The valid slots of s; map (NULL = identity) takes s's rows to cc's. */
static int write_rows(mde_csv_writer *w, const char *buf,
		      const mde_csv_candles *cc, const uint32_t *map,
		      const mde_series *s, const mde_frame *fr)
{
	memo last[MDE_NFEATURES + 1] = {0};
	for (size_t i = 0; i < s->n; i++) {
		if (!s->valid[i])
			continue;
		uint32_t row = map ? map[s->row[i]] : s->row[i];
		char *p = mde_csv_room(w, cc->len[row] + ROW_ROOM);
		if (!p)
			return MDE_ENOMEM;
		memcpy(p, buf + cc->off[row], cc->len[row]);
		p += cc->len[row];
		for (int k = 0; k < MDE_NFEATURES; k++) {
			double v = fr->col[k][i];
			*p++ = ',';
			if (!mde_column_int2(k))
				p = put_num(p, &last[k], v);
			else if (!isnan(v))
				p += mde_num_int(p, (int64_t)v);
		}
		*p++ = ',';
		p += mde_num_int(p, fr->flags[i]);
		*p++ = ',';
		p = put_num(p, &last[MDE_NFEATURES], fr->quality[i]);
		*p++ = '\n';
		mde_csv_commit(w, p);
	}
	return 0;
}

/* The rows of every segment, computed one after the other. */
static int write_segments(mde_offline *o, mde_csv_writer *w, const char *buf,
			  const mde_csv_candles *cc, mde_err *err)
{
	write_header(w, buf, cc);
	for (size_t k = 0; k < o->nseg; k++) {
		int rc = mde_offline_segment(o, k, err);
		if (rc)
			return rc;
		if ((rc = write_rows(w, buf, cc, o->map, o->series,
				     o->frame)))
			return mde_err_set(err, rc, false, "out of memory");
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
		   const mde_csv_candles *cc, int64_t period,
		   enum mde_asset asset, const mde_auxset *aux,
		   mde_offline *o)
{
	mde_err err = {0};
	int rc = mde_offline_open(o, &cc->c, period, asset, aux, &err);
	if (rc) {
		fprintf(stderr, "mdenrich compute: %s\n", err.msg);
		return rc == MDE_EINVAL ? MDE_EXIT_USAGE : MDE_EXIT_FATAL;
	}
	report(cc, o->rejects, o->nrejects, o->dups, o->ndups);
	FILE *out;
	mde_csv_writer w;
	if (open_out(a, &out))
		return MDE_EXIT_FATAL;
	bool to_stdout = out == stdout;
	if (mde_csv_writer_init(&w, out)) {
		rc = MDE_ENOMEM;
	} else {
		rc = write_segments(o, &w, buf, cc, &err);
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
	const mde_vstats *st = &o->stats;
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
	mde_file in = {0};
	mde_csv_candles cc = {0};
	mde_auxset aux;
	mde_offline o;
	mde_err err = {0};
	memset(&aux, 0, sizeof aux);
	memset(&o, 0, sizeof o);

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
	int rc = mde_file_load(&in, a->input, &err);
	if (rc) {
		fprintf(stderr, "mdenrich compute: %s\n", err.msg);
		code = MDE_EXIT_FATAL;
		goto done;
	}
	rc = mde_csv_read_candles(&cc, in.buf, in.len, &err);
	if (rc) {
		fprintf(stderr, "mdenrich compute: %s: %s\n",
			a->input && strcmp(a->input, "-") ? a->input : "stdin",
			err.msg);
		code = rc == MDE_ENOMEM ? MDE_EXIT_FATAL : MDE_EXIT_USAGE;
		goto done;
	}
	if (cc.period_ms && cc.period_ms != period) {
		const char *tf = mde_tf_name(cc.period_ms);
		fprintf(stderr, "mdenrich compute: the input holds %s candles "
			"(close_time - open_time), not --timeframe %s: give "
			"--timeframe %s\n", tf ? tf : "other",
			mde_tf_name(period), tf ? tf : "matching the data");
		code = MDE_EXIT_USAGE;
		goto done;
	}
	code = read_aux(a, &aux);
	if (code)
		goto done;
	code = compute(a, in.buf, &cc, period, (enum mde_asset)asset, &aux,
		       &o);
done:
	mde_offline_free(&o);
	mde_auxset_free(&aux);
	mde_csv_candles_free(&cc);
	mde_file_release(&in);
	return code;
}
