/*
 * bench_archive_fetch.c - the fetch stage alone of bench_archive.sh's
 * backfill: one year of 1m klines for each symbol through the fetcher
 * (source.h), window by window like backfill chunks, from the archive
 * (auto) and then from REST only (off), against a fake exchange already
 * running with Binance's weight budget (bench_archive.sh starts it).
 *
 *   build/bench/bench_archive_fetch URL SYM,SYM,... [DAYS=365]
 *
 * Prints wall time, candles, requests and peak RSS of each, and the ratio.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "log.h"
#include "source.h"
#include "timeutil.h"

struct tally {
	size_t requests, bytes;
};

static void on_rec(void *ud, const mde_fetch_rec *r)
{
	struct tally *t = ud;
	t->requests++;
	t->bytes += r->bytes;
}

static long peak_kb(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

/* Fetches every symbol's year in 30-day windows; returns the wall ms. */
static int64_t fetch_all(const char *url, int mode, char *syms, int days,
			 size_t *candles, struct tally *t)
{
	mde_fetch_opts o = {.binance_url = url, .binance_spot_url = url,
			    .archive = mode, .archive_url = url,
			    .log_cb = on_rec, .log_ud = t};
	mde_fetcher *f;
	mde_err e;
	if (mde_fetcher_open(&f, &o, &e)) {
		fprintf(stderr, "fetcher: %s\n", e.msg);
		exit(1);
	}
	int64_t t0 = mde_mono_ms(), from, step = 30 * MDE_DAY_MS;
	if (mde_time_parse("2025-01-01", &from))
		exit(1);
	int64_t to = from + (int64_t)days * MDE_DAY_MS;
	char *list = strdup(syms);
	for (char *s = NULL, *sym = strtok_r(list, ",", &s); sym;
	     sym = strtok_r(NULL, ",", &s)) {
		for (int64_t a = from; a < to; a += step) {
			mde_candles c;
			mde_candles_init(&c);
			int64_t b = a + step < to ? a + step : to;
			if (mde_fetch_candles(f, "binance", MDE_CRYPTO, sym,
					      MDE_MINUTE_MS, a, b, &c, &e)) {
				fprintf(stderr, "%s: %s\n", sym, e.msg);
				exit(1);
			}
			*candles += c.n;
			mde_candles_free(&c);
		}
	}
	free(list);
	mde_fetcher_close(f);
	return mde_mono_ms() - t0;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: %s URL SYMS [DAYS]\n", argv[0]);
		return 2;
	}
	int days = argc > 3 ? atoi(argv[3]) : 365;
	mde_log_level = MDE_LOG_WARN;
	size_t na = 0, nr = 0;
	struct tally ta = {0}, tr = {0};
	int64_t ma = fetch_all(argv[1], MDE_ARCHIVE_AUTO, argv[2], days, &na,
			       &ta);
	long rss_a = peak_kb();
	printf("fetch archive-first: candles=%zu wall_s=%.2f requests=%zu "
	       "bytes=%zu peak_rss_kb=%ld\n", na, ma / 1000.0, ta.requests,
	       ta.bytes, rss_a);
	fflush(stdout);
	int64_t mr = fetch_all(argv[1], MDE_ARCHIVE_OFF, argv[2], days, &nr,
			       &tr);
	printf("fetch rest-only:     candles=%zu wall_s=%.2f requests=%zu "
	       "bytes=%zu peak_rss_kb=%ld (cumulative)\n", nr, mr / 1000.0,
	       tr.requests, tr.bytes, peak_kb());
	printf("fetch ratio rest-only/archive-first: %.1fx\n",
	       ma > 0 ? (double)mr / (double)ma : 0.0);
	return na == nr ? 0 : 1;
}
