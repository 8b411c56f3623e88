/* mde.c - the shared error struct helpers. */
#include "mde.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int mde_err_set(mde_err *err, int code, bool retryable, const char *fmt, ...)
{
	if (!err)
		return code;
	err->code = code;
	err->retryable = retryable;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof err->msg, fmt, ap);
	va_end(ap);
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
