/*
 * fake_exchange_main.c - the fake exchange as a program, for shell-level
 * tests and the fetch benchmark:
 *   fake_exchange [--data DIR] [--synthetic SYM,SYM,...] [--from TIME]
 *                 [--bars N] [--period TF] [--weight-limit N]
 *                 [--weight-window-ms MS] [--polygon-key KEY]
 *               [--ws-speed X] [--ws-start TIME] [--ws-ping-ms MS]
 *               [--latency-ms MS] [--funding-hours H]
 * --ws-speed also serves the klines as WebSocket kline streams
 * (fake_ws.h) from --ws-start (default: --from) at X times real speed.
 * --data loads a replay-layout directory (data/README.md; klines are
 * served on both futures and spot). --synthetic adds random-walk klines
 * (futures and spot) of N bars from TIME. Prints "port N" and
 * "url http://127.0.0.1:N" on stdout, then serves until SIGINT/SIGTERM
 * and prints "stats requests=... max_in_flight=... max_used_weight=...
 * weight_violations=..." on the way out. --latency-ms delays every answer.
 * --funding-hours gives the synthetic symbols funding events every H hours
 * (a few milliseconds after the hour, as Binance's).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake_exchange.h"
#include "fake_ws.h"
#include "timeutil.h"

static const char usage[] =
	"Usage: fake_exchange [--data DIR] [--synthetic SYM,SYM,...]\n"
	"                     [--from TIME] [--bars N] [--period TF]\n"
	"                     [--weight-limit N] [--weight-window-ms MS]\n"
	"                     [--polygon-key KEY] [--latency-ms MS]\n"
	"                     [--funding-hours H]\n"
	"  A fake Binance (futures and spot), Yahoo and Polygon on\n"
	"  127.0.0.1. --data loads a replay-layout directory (data/README.md);\n"
	"  --synthetic adds random-walk klines of N bars (default 8760) from\n"
	"  TIME (default 2025-01-01) at TF (default 1h). Prints \"port N\" and\n"
	"  \"url http://127.0.0.1:N\", then serves until SIGINT/SIGTERM. A\n"
	"  symbol it does not hold gets Binance's 400 -1121 Invalid symbol.\n\n"
	"Example:\n"
	"  build/fake_exchange --data data/replay &\n"
	"  build/mdenrich --binance-url http://127.0.0.1:PORT run \\\n"
	"      --symbols BTCUSDT --timeframe 1h --since 2026-06-01\n";

/* Funding events of sym every hours h in [t0, t1): "-0.0000xx" to
 * "0.0001xx", seed ms after the hour (Binance's are 0-47 ms late). */
static int add_funding(fx *x, const char *sym, int64_t t0, int64_t t1,
		       long h, uint64_t seed)
{
	if (h <= 0)
		return 0;
	int64_t step = h * MDE_HOUR_MS;
	uint64_t st = seed * 0x9E3779B97F4A7C15ULL;
	for (int64_t t = mde_floor_div(t0 + step - 1, step) * step; t < t1;
	     t += step) {
		st = st * 6364136223846793005ULL + 1442695040888963407ULL;
		char v[32];
		snprintf(v, sizeof v, "%.8f",
			 ((double)(st >> 40 & 0xffff) - 16384.0) * 1e-8);
		if (fx_add_aux(x, MDE_AUX_FUNDING, sym, 0,
			       t + (int64_t)(seed % 48), v))
			return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	fx_opts o = {0};
	const char *data = NULL, *syms = NULL, *from = "2025-01-01";
	const char *tf = "1h", *ws_start = NULL;
	double ws_speed = 0;
	long ws_ping = 0;
	long bars = 24 * 365, funding_h = 0;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			fputs(usage, stdout);
			return 0;
		}
		if (!v) {
			fprintf(stderr, "fake_exchange: %s needs a value\n", a);
			return 2;
		}
		i++;
		if (strcmp(a, "--data") == 0)
			data = v;
		else if (strcmp(a, "--synthetic") == 0)
			syms = v;
		else if (strcmp(a, "--from") == 0)
			from = v;
		else if (strcmp(a, "--bars") == 0)
			bars = atol(v);
		else if (strcmp(a, "--period") == 0)
			tf = v;
		else if (strcmp(a, "--weight-limit") == 0)
			o.weight_limit = atoi(v);
		else if (strcmp(a, "--weight-window-ms") == 0)
			o.weight_window_ms = atoll(v);
		else if (strcmp(a, "--ws-speed") == 0)
			ws_speed = atof(v);
		else if (strcmp(a, "--ws-start") == 0)
			ws_start = v;
		else if (strcmp(a, "--ws-ping-ms") == 0)
			ws_ping = atol(v);
		else if (strcmp(a, "--polygon-key") == 0)
			o.polygon_key = v;
		else if (strcmp(a, "--latency-ms") == 0)
			o.latency_ms = atoi(v);
		else if (strcmp(a, "--funding-hours") == 0)
			funding_h = atol(v);
		else {
			fprintf(stderr, "fake_exchange: unknown option %s\n", a);
			return 2;
		}
	}
	int64_t t0, p;
	if (mde_time_parse(from, &t0) || mde_tf_parse(tf, &p)) {
		fprintf(stderr, "fake_exchange: bad --from or --period\n");
		return 2;
	}
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL); /* server threads inherit */
	fx *x = fx_start(&o);
	if (!x) {
		fprintf(stderr, "fake_exchange: cannot start the server\n");
		return 1;
	}
	if (data && fx_load_dir(x, data)) {
		fprintf(stderr, "fake_exchange: cannot load %s\n", data);
		fx_stop(x);
		return 1;
	}
	if (syms) {
		char *list = strdup(syms), *save = NULL;
		uint64_t seed = 1;
		for (char *s = strtok_r(list, ",", &save); s;
		     s = strtok_r(NULL, ",", &save), seed++) {
			if (fx_add_synthetic(x, FX_FUTURES, s, p, t0,
					     (size_t)bars, seed) ||
			    fx_add_synthetic(x, FX_SPOT, s, p, t0, (size_t)bars,
					     seed) ||
			    add_funding(x, s, t0, t0 + bars * p, funding_h,
					seed)) {
				fprintf(stderr, "fake_exchange: out of memory\n");
				free(list);
				fx_stop(x);
				return 1;
			}
		}
		free(list);
	}
	int64_t ws0 = t0;
	if (ws_start && mde_time_parse(ws_start, &ws0)) {
		fprintf(stderr, "fake_exchange: bad --ws-start\n");
		fx_stop(x);
		return 2;
	}
	fws *ws = NULL;
	if (ws_speed > 0) {
		fws_opts wo = {.x = x, .market = FX_FUTURES, .period_ms = p,
			       .start_ms = ws0, .speed = ws_speed,
			       .ping_ms = ws_ping};
		if (!(ws = fws_start(&wo))) {
			fprintf(stderr, "fake_exchange: cannot start the "
				"WebSocket server\n");
			fx_stop(x);
			return 1;
		}
	}
	printf("port %d\nurl %s\n", fx_port(x), fx_url(x));
	if (ws)
		printf("ws %s\n", fws_url(ws));
	fflush(stdout);
	int sig;
	sigwait(&set, &sig);
	/* what the server saw, for the benchmarks */
	printf("stats requests=%zu max_in_flight=%d max_used_weight=%lld "
	       "weight_violations=%zu\n", fx_nreq(x), fx_max_inflight(x),
	       (long long)fx_max_used_weight(x), fx_weight_violations(x));
	fflush(stdout);
	fws_stop(ws);
	fx_stop(x);
	return 0;
}
