/*
 * fake_exchange_main.c - the fake exchange as a program, for shell-level
 * tests and the fetch benchmark:
 *   fake_exchange [--data DIR] [--synthetic SYM,SYM,...] [--from TIME]
 *                 [--bars N] [--period TF] [--weight-limit N]
 *                 [--weight-window-ms MS] [--polygon-key KEY]
 *               [--ws-speed X] [--ws-start TIME] [--ws-ping-ms MS]
 *               [--latency-ms MS]
 * --ws-speed also serves the klines as WebSocket kline streams
 * (fake_ws.h) from --ws-start (default: --from) at X times real speed.
 * --data loads a replay-layout directory (data/README.md; klines are
 * served on both futures and spot). --synthetic adds random-walk klines
 * (futures and spot) of N bars from TIME. Prints "port N" and
 * "url http://127.0.0.1:N" on stdout, then serves until SIGINT/SIGTERM
 * and prints "stats requests=... max_in_flight=... max_used_weight=...
 * weight_violations=..." on the way out. --latency-ms delays every answer.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake_exchange.h"
#include "fake_ws.h"
#include "timeutil.h"

int main(int argc, char **argv)
{
	fx_opts o = {0};
	const char *data = NULL, *syms = NULL, *from = "2025-01-01";
	const char *tf = "1h", *ws_start = NULL;
	double ws_speed = 0;
	long ws_ping = 0;
	long bars = 24 * 365;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
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
