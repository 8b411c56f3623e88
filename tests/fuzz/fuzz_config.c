/*
 * fuzz_config.c - the INI configuration file, through the real loader
 * (mde_config_load_file on a memory file).
 */
#define _GNU_SOURCE
#include "fuzz.h"

#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int fd = -1;
	static char path[64];
	if (fd < 0) {
		fd = memfd_create("mde_fuzz_config", 0);
		if (fd < 0)
			abort();
		snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	}
	if (ftruncate(fd, 0) != 0 || pwrite(fd, data, size, 0) != (ssize_t)size)
		abort();
	mde_config cfg;
	mde_err err = {0};
	if (mde_config_defaults(&cfg) == 0)
		fz_ignore(mde_config_load_file(&cfg, path, &err));
	mde_config_free(&cfg);
	return 0;
}
