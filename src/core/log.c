/*
 * log.c - the logger of log.h. One fprintf per line so that concurrent
 * processes writing the same file do not interleave within a line.
 */
#include "log.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "timeutil.h"

int mde_log_level = MDE_LOG_INFO;
static FILE *log_out;
static int log_format = -1;
static char log_ctx[256];

#define MAX_SECRETS 16
static char *secrets[MAX_SECRETS];
static int nsecrets;

void mde_log_setup(FILE *out, int format)
{
	log_out = out;
	log_format = format;
}

int mde_log_parse_format(const char *s, int *format)
{
	if (s && strcmp(s, "text") == 0)
		*format = MDE_LOG_TEXT;
	else if (s && strcmp(s, "json") == 0)
		*format = MDE_LOG_JSON;
	else
		return MDE_EINVAL;
	return 0;
}

int mde_log_parse_level(const char *s, int *level)
{
	static const char *names[] = {"debug", "info", "warn", "error"};
	for (int i = 0; s && i < 4; i++)
		if (strcmp(s, names[i]) == 0) {
			*level = i;
			return 0;
		}
	return MDE_EINVAL;
}

void mde_log_set_context(const char *kv)
{
	snprintf(log_ctx, sizeof log_ctx, "%s", kv ? kv : "");
}

void mde_log_add_secret(const char *secret)
{
	if (!secret || strlen(secret) < 1 || nsecrets == MAX_SECRETS)
		return;
	for (int i = 0; i < nsecrets; i++)
		if (strcmp(secrets[i], secret) == 0)
			return;
	char *c = strdup(secret);
	if (c)
		secrets[nsecrets++] = c;
}

void mde_log_clear_secrets(void)
{
	for (int i = 0; i < nsecrets; i++)
		free(secrets[i]);
	nsecrets = 0;
}

void mde_log_mask(char *s, size_t cap)
{
	for (int k = 0; k < nsecrets; k++) {
		size_t sl = strlen(secrets[k]);
		char *p;
		while ((p = strstr(s, secrets[k])) != NULL) {
			size_t tail = strlen(p + sl);
			if ((size_t)(p - s) + 3 + tail + 1 > cap)
				tail = cap - (size_t)(p - s) - 4;
			memmove(p + 3, p + sl, tail);
			memcpy(p, "***", 3);
			p[3 + tail] = '\0';
		}
	}
}

/* Case-insensitive search for key (e.g. "password=") in s. */
static char *find_key(char *s, const char *key)
{
	size_t kl = strlen(key);
	for (char *p = s; *p; p++) {
		if (strncasecmp(p, key, kl) == 0 &&
		    (p == s || !isalnum((unsigned char)p[-1])))
			return p;
	}
	return NULL;
}

/* Replaces the value after each key up to a delimiter with "***". */
static void mask_after(char *s, size_t cap, const char *key,
		       const char *delims)
{
	char *p = s;
	while ((p = find_key(p, key)) != NULL) {
		char *v = p + strlen(key);
		char *e = v;
		if (*v == '\'') { /* conninfo quoted value */
			e = v + 1;
			while (*e && *e != '\'')
				e += (*e == '\\' && e[1]) ? 2 : 1;
			if (*e)
				e++;
		} else {
			e = v + strcspn(v, delims);
		}
		if (e == v) {
			p = v;
			continue;
		}
		size_t tail = strlen(e);
		if ((size_t)(v - s) + 3 + tail + 1 > cap)
			tail = cap - (size_t)(v - s) - 4;
		memmove(v + 3, e, tail);
		memcpy(v, "***", 3);
		v[3 + tail] = '\0';
		p = v + 3;
	}
}

char *mde_redact(const char *in, char *out, size_t len)
{
	if (!len)
		return out;
	snprintf(out, len, "%s", in ? in : "");
	/* scheme://user:password@host: mask between the first ':' after
	 * "//" and the last '@' of the authority. */
	char *sl = strstr(out, "://");
	if (sl) {
		char *auth = sl + 3;
		size_t alen = strcspn(auth, "/?#");
		char *at = NULL;
		for (char *p = auth; p < auth + alen; p++)
			if (*p == '@')
				at = p;
		char *colon = at ? memchr(auth, ':', (size_t)(at - auth)) : NULL;
		if (colon && at > colon + 1) {
			size_t tail = strlen(at);
			memmove(colon + 4, at, tail + 1);
			memcpy(colon + 1, "***", 3);
		}
	}
	mask_after(out, len, "password=", "&; \t");
	mask_after(out, len, "apikey=", "&; \t");
	mask_after(out, len, "api_key=", "&; \t");
	mask_after(out, len, "apiKey=", "&; \t");
	mde_log_mask(out, len);
	return out;
}

static const char *level_name(int level)
{
	static const char *n[] = {"debug", "info", "warn", "error"};
	return level >= 0 && level < 4 ? n[level] : "info";
}

/* Writes s as a JSON string body (without quotes). */
static void json_escape(FILE *f, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (ch == '"' || ch == '\\')
			fprintf(f, "\\%c", ch);
		else if (ch < 0x20)
			fprintf(f, "\\u%04x", ch);
		else
			fputc(ch, f);
	}
}

/* A quoted value of the text form (\" and \\ escaped) as a JSON string
 * body. */
static void json_unescape(FILE *f, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		size_t j = i;
		if (s[i] == '\\' && i + 1 < n &&
		    (s[i + 1] == '"' || s[i + 1] == '\\'))
			j = ++i;
		json_escape(f, s + j, 1);
	}
}

/*
 * A quoted value ends at a quote followed by the end of the line or by
 * " key=", so that free text with quotes inside (a server's error message)
 * stays one value.
 */
static bool closing_quote(const char *p)
{
	if (*p != '"')
		return false;
	if (!p[1])
		return true;
	if (p[1] != ' ')
		return false;
	const char *k = p + 2;
	while (isalnum((unsigned char)*k) || *k == '_' || *k == '.')
		k++;
	return k > p + 2 && *k == '=';
}

/* Emits key=value pairs as JSON members; bare words become "msg". */
static void kv_to_json(FILE *f, const char *s)
{
	const char *p = s;
	while (*p) {
		while (*p == ' ')
			p++;
		if (!*p)
			break;
		const char *k = p;
		while (*p && *p != '=' && *p != ' ')
			p++;
		if (*p != '=') { /* a bare word */
			fputs(",\"msg\":\"", f);
			json_escape(f, k, (size_t)(p - k));
			fputc('"', f);
			continue;
		}
		size_t kl = (size_t)(p - k);
		p++;
		const char *v = p;
		size_t vl;
		if (*p == '"') {
			v = ++p;
			while (*p && !closing_quote(p))
				p += (*p == '\\' && p[1]) ? 2 : 1;
			vl = (size_t)(p - v);
			if (*p)
				p++;
		} else {
			while (*p && *p != ' ')
				p++;
			vl = (size_t)(p - v);
		}
		fputs(",\"", f);
		json_escape(f, k, kl);
		fputs("\":\"", f);
		if (v > s && v[-1] == '"')
			json_unescape(f, v, vl);
		else
			json_escape(f, v, vl);
		fputc('"', f);
	}
}

void mde_log_write(int level, const char *event, const char *fmt, ...)
{
	FILE *f = log_out ? log_out : stderr;
	int format = log_format;
	if (format < 0)
		format = isatty(fileno(f)) ? MDE_LOG_TEXT : MDE_LOG_JSON;
	char body[2048];
	va_list ap;
	va_start(ap, fmt);
	mde_log_vformat(body, sizeof body, fmt, ap);
	va_end(ap);
	mde_log_mask(body, sizeof body);
	char ts[40];
	mde_time_format(mde_now_ms(), ts, sizeof ts);
	if (format == MDE_LOG_TEXT) {
		fprintf(f, "%s %-5s %s%s%s %s\n", ts, level_name(level),
			log_ctx, log_ctx[0] ? " " : "", event, body);
	} else {
		char line[4096];
		FILE *m = fmemopen(line, sizeof line, "w");
		if (!m)
			return;
		fprintf(m, "{\"ts\":\"%s\",\"level\":\"%s\",\"event\":\"", ts,
			level_name(level));
		json_escape(m, event, strlen(event));
		fputc('"', m);
		kv_to_json(m, log_ctx);
		kv_to_json(m, body);
		fputs("}\n", m);
		fclose(m);
		line[sizeof line - 1] = '\0';
		fputs(line, f);
	}
	fflush(f);
}
