/*
 * replay_main.c - runs a fuzz target's LLVMFuzzerTestOneInput on files and
 * directories given as arguments (the committed corpus and the
 * regressions), without libFuzzer: the suite's replay tests (tests/
 * fuzz.cmake) so that every input that once crashed stays fixed, under
 * gcc or clang, with or without the sanitizers.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

static int run_file(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "cannot open %s\n", path);
		return 1;
	}
	size_t cap = 1 << 16, len = 0;
	uint8_t *buf = malloc(cap);
	for (size_t k; buf && (k = fread(buf + len, 1, cap - len, f)) > 0;) {
		len += k;
		if (len == cap) {
			uint8_t *b = realloc(buf, cap *= 2);
			if (!b)
				free(buf);
			buf = b;
		}
	}
	fclose(f);
	if (!buf)
		return 1;
	/* the exact size, so that ASan sees a read past the input */
	uint8_t *exact = malloc(len ? len : 1);
	if (!exact) {
		free(buf);
		return 1;
	}
	memcpy(exact, buf, len);
	free(buf);
	LLVMFuzzerTestOneInput(exact, len);
	free(exact);
	(*n)++;
	return 0;
}

static int run_path(const char *path, size_t *n)
{
	struct stat st;
	if (stat(path, &st) != 0)
		return 0; /* no regressions yet: nothing to replay */
	if (!S_ISDIR(st.st_mode))
		return run_file(path, n);
	DIR *d = opendir(path);
	if (!d)
		return 1;
	int rc = 0;
	for (struct dirent *e; (e = readdir(d));) {
		if (e->d_name[0] == '.')
			continue;
		char p[4096];
		snprintf(p, sizeof p, "%s/%s", path, e->d_name);
		rc |= run_path(p, n);
	}
	closedir(d);
	return rc;
}

int main(int argc, char **argv)
{
	size_t n = 0;
	int rc = 0;
	for (int i = 1; i < argc; i++)
		rc |= run_path(argv[i], &n);
	printf("%zu inputs replayed\n", n);
	if (n == 0) {
		fprintf(stderr, "no input found\n");
		return 1;
	}
	return rc;
}
