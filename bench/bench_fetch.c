/*
 * bench_fetch.c - the client's cost of fetching: one year of 1h klines for
 * ten symbols (10 x 8,760 candles, 90 pages of 1000) from the fake
 * exchange on 127.0.0.1, through the full fetch facade (HTTP, parsing,
 * pagination, rate-limit bookkeeping, fetch-log callback).
 *
 *   build/bench/bench_fetch [--server build/fake_exchange] [--rounds N]
 *
 * The server runs as a separate process, so getrusage(RUSAGE_SELF) is the
 * client's CPU time alone. Prints client CPU, wall time and throughput.
 */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "source.h"
#include "timeutil.h"

#define NSYM 10
#define BARS 8760

struct tally {
	size_t requests, bytes;
};

static void on_rec(void *ud, const mde_fetch_rec *r)
{
	struct tally *t = ud;
	t->requests++;
	t->bytes += r->bytes;
}

static int64_t cpu_us(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (int64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000 +
	       ru.ru_utime.tv_usec + ru.ru_stime.tv_usec;
}

/* Starts the fake exchange; returns its pid and writes its URL. */
static pid_t spawn(const char *server, const char *syms, char *url,
		   size_t cap)
{
	int fd[2];
	if (pipe(fd))
		return -1;
	pid_t pid = fork();
	if (pid == 0) {
		dup2(fd[1], 1);
		close(fd[0]);
		close(fd[1]);
		execl(server, server, "--synthetic", syms, "--from",
		      "2025-01-01", "--bars", "8761", "--period", "1h",
		      (char *)NULL);
		_exit(127);
	}
	close(fd[1]);
	FILE *in = fdopen(fd[0], "r");
	char line[256];
	url[0] = '\0';
	while (in && fgets(line, sizeof line, in))
		if (sscanf(line, "url %200s", url) == 1)
			break;
	if (in)
		fclose(in);
	return url[0] ? pid : -1;
}

int main(int argc, char **argv)
{
	char server[PATH_MAX] = "", self[PATH_MAX], url[256], syms[256] = "";
	int rounds = 3;
	for (int i = 1; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--server") == 0)
			snprintf(server, sizeof server, "%s", argv[i + 1]);
		else if (strcmp(argv[i], "--rounds") == 0)
			rounds = atoi(argv[i + 1]);
	}
	if (!server[0]) {
		ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
		if (n <= 0)
			return 1;
		self[n] = '\0';
		snprintf(server, sizeof server, "%s/../fake_exchange",
			 dirname(self));
	}
	const char *names[NSYM] = {"BTCUSDT", "ETHUSDT", "BNBUSDT", "SOLUSDT",
				   "XRPUSDT", "ADAUSDT", "DOGEUSDT", "TRXUSDT",
				   "LINKUSDT", "AVAXUSDT"};
	for (int i = 0; i < NSYM; i++)
		snprintf(syms + strlen(syms), sizeof syms - strlen(syms), "%s%s",
			 i ? "," : "", names[i]);
	pid_t pid = spawn(server, syms, url, sizeof url);
	if (pid < 0) {
		fprintf(stderr, "bench_fetch: cannot start %s (build the "
				"fake_exchange target)\n", server);
		return 1;
	}
	mde_log_level = MDE_LOG_WARN;
	int64_t t0 = INT64_C(1735689600000), end = t0 + BARS * MDE_HOUR_MS;
	struct tally tl = {0};
	mde_fetch_opts o = {.binance_url = url, .binance_spot_url = url,
			    .yahoo_url = url, .polygon_url = url,
			    .log_cb = on_rec, .log_ud = &tl,
			    .now_ms = end + 30 * MDE_MINUTE_MS};
	mde_fetcher *f = NULL;
	mde_err err = {0};
	int rc = mde_fetcher_open(&f, &o, &err);
	mde_candles c = {0};
	printf("bench_fetch: %d symbols x %d 1h candles from %s\n", NSYM, BARS,
	       url);
	for (int r = 0; rc == 0 && r < rounds; r++) {
		tl = (struct tally){0};
		size_t rows = 0;
		int64_t c0 = cpu_us(), w0 = mde_mono_ns();
		for (int i = 0; i < NSYM && rc == 0; i++) {
			mde_candles_clear(&c);
			rc = mde_fetch_candles(f, "binance", MDE_CRYPTO,
					       names[i], MDE_HOUR_MS, t0, end,
					       &c, &err);
			rows += c.n;
		}
		double cpu = (double)(cpu_us() - c0) / 1e3;
		double wall = (double)(mde_mono_ns() - w0) / 1e6;
		if (rc)
			break;
		printf("round %d: rows=%zu requests=%zu body=%.1f MB  client "
		       "cpu=%.1f ms  wall=%.1f ms  %.0f rows/s  %.2f us "
		       "cpu/row\n",
		       r + 1, rows, tl.requests, (double)tl.bytes / 1e6, cpu,
		       wall, (double)rows / (wall / 1e3),
		       cpu * 1e3 / (double)rows);
	}
	if (rc)
		fprintf(stderr, "bench_fetch: %s\n", err.msg);
	mde_candles_free(&c);
	mde_fetcher_close(f);
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	return rc ? 1 : 0;
}
