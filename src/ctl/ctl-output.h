/* SPDX-License-Identifier: Apache-2.0 */
/* What orgvaultctl prints: systemctl-like tables, local times, JSON, and the
 * pager and colours that are used only when stdout is a terminal. */
#pragma once

#include <stdio.h>

#include "ctl.h"

/* Decides once, before any pager takes over stdout. */
void output_init(void);
bool output_colors(void);
const char *ansi_highlight(void);       /* "" without colours */
const char *ansi_grey(void);
const char *ansi_normal(void);

/* Pipes stdout into $SYSTEMD_PAGER / $PAGER / less when it is a terminal. */
void pager_open(bool enabled);
void pager_close(void);

/* "2024-05-01 14:03:22 CEST" in local time; "-" for 0. */
#define TIME_BUF 64
const char *format_time(char buf[static TIME_BUF], uint64_t usec);

/* Terminal columns of a UTF-8 string (one per code point). */
size_t text_width(const char *s);

/* A table of strings, columns as wide as their widest cell. */
typedef struct Table Table;
Table *table_new(const char *const *headers, size_t n_cols);
void table_free(Table *t);
static inline void table_freep(Table **t) { table_free(*t); }
#define _cleanup_table_ _cleanup_(table_freep)
/* Appends one cell (copied); rows fill left to right. */
int table_add(Table *t, const char *cell);
size_t table_rows(const Table *t);
void table_print(const Table *t, bool header);

/* A JSON array of the strings (a new reference; NULL on ENOMEM). */
json_t *strv_json(char **l);

/* A copy of obj with its keys in snake_case ("LastUsedBy" → "last_used_by"),
 * the one key convention of orgvaultctl's JSON. */
json_t *json_snake_keys(json_t *obj);

/* Prints a JSON document on stdout in the chosen mode. */
int json_print(json_t *doc, JsonMode mode);
