/* mde.c - the shared error struct helpers and the one file reader. */
#include "mde.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

int mde_err_set(mde_err *err, int code, bool retryable, const char *fmt, ...)
{
	if (!err)
		return code;
	/* Formatted first: an argument may be err->msg itself. */
	char msg[sizeof err->msg];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	/* Nothing of an earlier error survives: http_status, sqlstate and
	 * retry_after_ms are zero until the caller sets the new error's. */
	mde_err_clear(err);
	err->code = code;
	err->retryable = retryable;
	memcpy(err->msg, msg, sizeof msg);
	return code;
}

void mde_err_clear(mde_err *err)
{
	if (err)
		memset(err, 0, sizeof *err);
}

const char *mde_rc_name(int code)
{
	switch (code) {
	case MDE_OK: return "ok";
	case MDE_EINVAL: return "invalid";
	case MDE_ENOMEM: return "nomem";
	case MDE_EIO: return "io";
	case MDE_ENET: return "network";
	case MDE_EPARSE: return "parse";
	case MDE_EDB: return "database";
	case MDE_EBANNED: return "banned";
	case MDE_EINTR: return "interrupted";
	case MDE_ENOTFOUND: return "notfound";
	case MDE_ELOST: return "lost";
	}
	return "unknown";
}

int mde_grow_bytes(void **p, size_t *cap, size_t need, size_t first)
{
	if (need <= *cap)
		return 0;
	size_t c = *cap ? *cap : first;
	while (c < need)
		c *= 2;
	void *q = realloc(*p, c);
	if (!q)
		return MDE_ENOMEM;
	*p = q;
	*cap = c;
	return 0;
}

int mde_read_file(const char *path, size_t max_bytes, char **out,
		  size_t *len, mde_err *err)
{
	int rc = 0;
	char *buf = NULL;
	*out = NULL;
	*len = 0;
	bool std = !path || strcmp(path, "-") == 0;
	if (std)
		path = "stdin";
	FILE *fp = std ? stdin : fopen(path, "rb");
	if (!fp)
		return mde_err_set(err, errno == ENOENT ? MDE_ENOTFOUND : MDE_EIO,
				   false, "cannot open %s: %s", path,
				   strerror(errno));
	size_t cap = 65536, n = 0;
	buf = malloc(cap);
	if (!buf) {
		rc = mde_err_set(err, MDE_ENOMEM, false, "out of memory");
		goto done;
	}
	for (;;) {
		if (n + 1 >= cap) {
			if (max_bytes && cap >= max_bytes) {
				rc = mde_err_set(err, MDE_EIO, false,
						 "%s is larger than %zu bytes",
						 path, max_bytes);
				goto done;
			}
			cap = max_bytes && cap * 2 > max_bytes ? max_bytes
							       : cap * 2;
			char *b = realloc(buf, cap);
			if (!b) {
				rc = mde_err_set(err, MDE_ENOMEM, false,
						 "out of memory");
				goto done;
			}
			buf = b;
		}
		size_t k = fread(buf + n, 1, cap - n - 1, fp);
		n += k;
		if (k == 0)
			break;
	}
	if (ferror(fp)) {
		rc = mde_err_set(err, MDE_EIO, false, "cannot read %s", path);
		goto done;
	}
	buf[n] = '\0';
	*out = buf;
	*len = n;
	buf = NULL;
done:
	free(buf);
	if (!std)
		fclose(fp);
	return rc;
}

int mde_file_load(mde_file *f, const char *path, mde_err *err)
{
	memset(f, 0, sizeof *f);
	if (path && strcmp(path, "-") != 0) {
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		struct stat st;
		long page = sysconf(_SC_PAGESIZE);
		if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
		    st.st_size > 0 && page > 0 && st.st_size % page != 0) {
			size_t len = (size_t)st.st_size;
			/* read ahead into the mapping in one go rather
			 * than a fault a page */
			void *m = mmap(NULL, len, PROT_READ,
				       MAP_PRIVATE | MAP_POPULATE, fd, 0);
			if (m != MAP_FAILED) {
				close(fd);
				f->buf = m;
				f->len = len;
				f->mapped = true;
				return 0;
			}
		}
		if (fd >= 0)
			close(fd);
	}
	char *buf;
	int rc = mde_read_file(path, 0, &buf, &f->len, err);
	f->buf = rc ? NULL : buf;
	return rc;
}

void mde_file_release(mde_file *f)
{
	if (f->mapped)
		munmap((void *)f->buf, f->len);
	else
		free((void *)f->buf);
	memset(f, 0, sizeof *f);
}
