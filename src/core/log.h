/*
 * log.h - one line per event: a level, an event name and key=value context.
 * Text on a terminal, JSON lines otherwise (or as configured). The level is
 * checked before the arguments are evaluated (Redis's serverLog).
 *
 * Secrets: every string registered with mde_log_add_secret() is replaced by
 * "***" in everything the logger prints, and mde_redact() strips passwords
 * and API keys from URLs and conninfo strings before they are logged or
 * stored. The durable record is the audit tables; stderr is for people.
 */
#ifndef MDE_LOG_H
#define MDE_LOG_H

#include <stdarg.h>
#include <stdio.h>

#include "mde.h"

enum mde_log_level { MDE_LOG_DEBUG, MDE_LOG_INFO, MDE_LOG_WARN, MDE_LOG_ERROR };
enum mde_log_format { MDE_LOG_TEXT, MDE_LOG_JSON };

extern int mde_log_level;

#define MDE_LOG(lvl, event, ...)                                      \
	do {                                                          \
		if ((lvl) >= mde_log_level)                           \
			mde_log_write((lvl), (event), __VA_ARGS__);   \
	} while (0)
#define mde_debug(ev, ...) MDE_LOG(MDE_LOG_DEBUG, ev, __VA_ARGS__)
#define mde_info(ev, ...) MDE_LOG(MDE_LOG_INFO, ev, __VA_ARGS__)
#define mde_warn(ev, ...) MDE_LOG(MDE_LOG_WARN, ev, __VA_ARGS__)
#define mde_error(ev, ...) MDE_LOG(MDE_LOG_ERROR, ev, __VA_ARGS__)

/*
 * fmt produces space separated key=value pairs; a value with spaces or
 * quotes is written as key="..." (use mde_log_quote for free text).
 */
void mde_log_write(int level, const char *event, const char *fmt, ...)
	MDE_PRINTF(3, 4);

/*
 * vsnprintf for log bodies (logfmt.c): a %s right after "key=" is quoted
 * when it is empty or has a space, '=', quote or backslash in it, and a %s
 * inside quotes of fmt has its quotes and backslashes escaped, so that no
 * value can forge a field.
 */
void mde_log_vformat(char *buf, size_t cap, const char *fmt, va_list ap);

/* Output stream (default stderr) and format; fmt < 0 = auto (isatty). */
void mde_log_setup(FILE *out, int format);
int mde_log_parse_format(const char *s, int *format) MDE_MUSTCHECK;
int mde_log_parse_level(const char *s, int *level) MDE_MUSTCHECK;
/* Context prefixed to every line, e.g. "run=42"; NULL clears. */
void mde_log_set_context(const char *kv);

/* Registers a secret (copied) to mask in all output; empty is ignored. */
void mde_log_add_secret(const char *secret);
void mde_log_clear_secrets(void);
/* Replaces every registered secret in s (in place) with "***". */
void mde_log_mask(char *s, size_t cap);

/*
 * Copies a database URL or conninfo, or an HTTP URL, into out with its
 * password ("postgresql://u:***@h/db", "password=***") and API keys
 * ("apiKey=***", "api_key=***") removed.
 */
char *mde_redact(const char *in, char *out, size_t len);

#endif
