/*
 * fake_faults.c - the page transforms of the fake exchange
 * (fake_exchange.h): the normal body of a page, parsed and rewritten with
 * its rows duplicated, reversed or thinned, a decimal with an escaped NUL,
 * or text after the JSON document.
 */
#include "fake_exchange.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

static char *print(cJSON *root, size_t *outlen)
{
	char *s = cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
	if (s)
		*outlen = strlen(s);
	return s;
}

static void thin(cJSON *root, int arg)
{
	int n = cJSON_GetArraySize(root), k = arg > 0 ? arg : 1;
	for (int i = 0; i < k && n > 2; i++, n--)
		cJSON_DeleteItemFromArray(root, n / 2);
}

static void nul_decimal(cJSON *root)
{
	cJSON *row = cJSON_GetArrayItem(root, 0);
	cJSON *open = cJSON_GetArrayItem(row, 1);
	if (!cJSON_IsString(open))
		return;
	/* cJSON would print a NUL byte as \u0000: build the text by hand */
	char v[96];
	snprintf(v, sizeof v, "%s@NUL@x", open->valuestring);
	cJSON_ReplaceItemInArray(row, 1, cJSON_CreateString(v));
}

static char *with_nul(char *s, size_t *outlen)
{
	char *at = s ? strstr(s, "@NUL@") : NULL;
	if (!at)
		return s;
	size_t n = strlen(s);
	char *d = malloc(n + 2);
	if (!d)
		return s;
	size_t k = (size_t)(at - s);
	memcpy(d, s, k);
	memcpy(d + k, "\\u0000", 6);
	memcpy(d + k + 6, at + 5, n - k - 5 + 1);
	free(s);
	*outlen = strlen(d);
	return d;
}

char *fx_transform(int fault, int arg, const char *body, size_t len,
		   size_t *outlen)
{
	if (fault < FX_DUPLICATES || fault > FX_TRAILING || !body)
		return NULL;
	if (fault == FX_TRAILING) {
		char *d = malloc(len + 4);
		if (!d)
			return NULL;
		memcpy(d, body, len);
		memcpy(d + len, "xyz", 4);
		*outlen = len + 3;
		return d;
	}
	cJSON *root = cJSON_ParseWithLength(body, len);
	if (!cJSON_IsArray(root)) {
		cJSON_Delete(root);
		return NULL;
	}
	int n = cJSON_GetArraySize(root);
	if (fault == FX_DUPLICATES) {
		for (int i = 0; i < n; i++)
			cJSON_AddItemToArray(root, cJSON_Duplicate(
				cJSON_GetArrayItem(root, i), 1));
	} else if (fault == FX_SHUFFLED) {
		cJSON *rev = cJSON_CreateArray();
		for (int i = n - 1; i >= 0; i--)
			cJSON_AddItemToArray(rev, cJSON_DetachItemFromArray(
				root, i));
		cJSON_Delete(root);
		root = rev;
	} else if (fault == FX_DROPPED) {
		thin(root, arg);
	} else if (fault == FX_NUL_DECIMAL) {
		nul_decimal(root);
		return with_nul(print(root, outlen), outlen);
	}
	return print(root, outlen);
}
