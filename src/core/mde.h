/*
 * mde.h - the few definitions every module of mdenrich shares: return
 * codes, the caller-owned error struct and small attribute macros.
 *
 * Error model: a fallible function returns int, 0 on success or a negative
 * MDE_E* code, and writes the detail into an mde_err the caller passes last.
 * Whether an error is worth retrying is decided where it is born (HTTP layer,
 * database layer) and carried in err->retryable; only the pipeline applies
 * backoff. Nothing below main() calls exit().
 */
#ifndef MDE_H
#define MDE_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#define MDE_MUSTCHECK __attribute__((warn_unused_result))
#define MDE_PRINTF(f, a) __attribute__((format(printf, f, a)))
#define MDE_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

enum mde_rc {
	MDE_OK = 0,
	MDE_EINVAL = -1,   /* bad argument, usage or configuration */
	MDE_ENOMEM = -2,   /* allocation failed */
	MDE_EIO = -3,      /* file or system call failed */
	MDE_ENET = -4,     /* network or HTTP failure (see http_status) */
	MDE_EPARSE = -5,   /* a response or file we did not understand */
	MDE_EDB = -6,      /* database error (see sqlstate) */
	MDE_EBANNED = -7,  /* the source banned us (HTTP 418) or breaker open */
	MDE_EINTR = -8,    /* interrupted by a signal; work in flight committed */
	MDE_ENOTFOUND = -9, /* the thing asked for does not exist */
	MDE_ELOST = -10    /* the lease on the work was lost to another
			      worker; nothing was written */
};

/* Process exit codes of docs/CLI.md. */
enum mde_exit {
	MDE_EXIT_OK = 0,
	MDE_EXIT_FATAL = 1,
	MDE_EXIT_USAGE = 2,
	MDE_EXIT_PARTIAL = 3,
	MDE_EXIT_INTERRUPTED = 130
};

typedef struct mde_err {
	int code;          /* one of enum mde_rc, 0 when no error */
	bool retryable;    /* decided where the error was born */
	int http_status;   /* HTTP status when relevant, else 0 */
	int64_t retry_after_ms; /* server asked us to wait this long, else 0 */
	char sqlstate[6];  /* PostgreSQL SQLSTATE when relevant, else "" */
	char msg[512];     /* human readable, never contains a secret */
} mde_err;

/* Sets every field of err (which may be NULL) and returns code. */
int mde_err_set(mde_err *err, int code, bool retryable, const char *fmt, ...)
	MDE_PRINTF(4, 5);
void mde_err_clear(mde_err *err);
const char *mde_rc_name(int code);

/*
 * Room for need bytes in the buffer *p of *cap bytes: unchanged when it
 * has them, else grown by doubling (from first when it is empty). 0, or
 * MDE_ENOMEM with *p and *cap as they were.
 */
int mde_grow_bytes(void **p, size_t *cap, size_t need,
		   size_t first) MDE_MUSTCHECK;

/*
 * Reads a whole file (NULL or "-": standard input) into *out, a
 * NUL-terminated buffer the caller frees. At most max_bytes (0: no limit).
 * MDE_ENOTFOUND when it does not exist, MDE_EIO when it cannot be read or
 * is too large.
 */
int mde_read_file(const char *path, size_t max_bytes, char **out,
		  size_t *len, mde_err *err) MDE_MUSTCHECK;

/* A whole file's bytes, read-only and NUL-terminated (mde_file_load). */
typedef struct mde_file {
	const char *buf;
	size_t len;
	bool mapped; /* the file's len bytes mapped; else a malloc'd copy */
} mde_file;

/*
 * A whole file, as mde_read_file reads it, without a copy where it can: a
 * regular file whose size is not a multiple of the page size is mapped
 * (the page's zero fill after its end is the NUL), anything else (stdin, a
 * pipe, an empty file) is read. Release it with mde_file_release.
 */
int mde_file_load(mde_file *f, const char *path, mde_err *err) MDE_MUSTCHECK;
void mde_file_release(mde_file *f);

#endif
