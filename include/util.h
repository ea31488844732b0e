/* SPDX-License-Identifier: Apache-2.0 */
/* Small helpers shared by every module: cleanup attributes, string lists,
 * time, bounded-input checks and durable file writes. */
#pragma once

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>
#include <jansson.h>

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _unused_ __attribute__((unused))
#define _printf_(a, b) __attribute__((format(printf, a, b)))
#define ELEMENTSOF(x) (sizeof(x) / sizeof((x)[0]))

/* Moves ownership out of a _cleanup_ variable: `return TAKE_PTR(p);`,
 * `*ret = TAKE_FD(fd);`. */
#define TAKE_PTR(p) ({ __typeof__(p) _taken_ = (p); (p) = NULL; _taken_; })
#define TAKE_FD(fd) ({ int _taken_ = (fd); (fd) = -1; _taken_; })

static inline void freep(void *p) { free(*(void **)p); }
#define _cleanup_free_ _cleanup_(freep)

static inline void closep(int *fd) {
        if (*fd >= 0) close(*fd);
}
#define _cleanup_close_ _cleanup_(closep)

/* jansson provides json_decrefp() */
#define _cleanup_json_ _cleanup_(json_decrefp)

/* NULL-terminated string vectors. */
void strv_free(char **l);
static inline void strv_freep(char ***l) { strv_free(*l); }
#define _cleanup_strv_free_ _cleanup_(strv_freep)
size_t strv_length(char *const *l);
char **strv_new_empty(void);                     /* {NULL}, or NULL without memory */
/* Room for one more element in an array of n used of *allocated, doubling
 * from first: 0 or -ENOMEM (the array unchanged). ARRAY_RESERVE_ONE takes
 * the array itself and its element size from it. */
int array_reserve_one(void **array, size_t n, size_t *allocated, size_t size, size_t first);
#define ARRAY_RESERVE_ONE(array, n, allocated, first) \
        array_reserve_one((void **) &(array), (n), &(allocated), sizeof(*(array)), (first))
int strv_push(char ***l, const char *s);          /* appends a copy; -ENOMEM */
int strv_push_printf(char ***l, const char *fmt, ...) _printf_(2, 3);
bool strv_contains(char *const *l, const char *s);
char *strv_join(char *const *l, const char *sep);  /* "" for an empty list; NULL without memory */

/* Bounds of docs/API.md. */
#define OV_NAME_MAX 128          /* characters of a display name */
#define OV_FIELD_MAX 8192        /* bytes of one field value */
#define OV_FIELDS_MAX 16         /* fields per secret */
#define OV_VALUE_MAX 65536       /* bytes of all fields together */
#define OV_FILTER_MAX 256        /* bytes of a filter string */
#define OV_ORG_MAX 63
#define OV_ID_MAX 64
#define OV_PASSPHRASE_MAX 1024   /* bytes of an Unseal passphrase (docs/CRYPTO.md) */

uint64_t now_usec(void);                         /* CLOCK_REALTIME in µs */
char *strdup_printf(const char *fmt, ...) _printf_(1, 2);

/* UTF-8 well-formed, no C0/C1 control characters or DEL; *ret_chars gets the
 * number of code points. */
bool utf8_text_valid(const char *s, size_t *ret_chars);
bool org_name_valid(const char *s);             /* [a-z0-9][a-z0-9-]{0,62} */
bool secret_id_valid(const char *s);            /* [a-z0-9][a-z0-9_-]{0,63} */
bool display_name_valid(const char *s);         /* 1..128 chars, utf8_text_valid */
/* Derives a slug id from a display name (lower-case ASCII alnum, runs of other
 * characters become '-'); returns NULL when nothing usable remains. */
char *slug_from_name(const char *name);
bool ascii_strcase_contains(const char *haystack, const char *needle);

/* Durable atomic write: temp file in dir_fd, write, fsync, rename over name,
 * fsync dir. Temp names start with ".#" so start-up can find leftovers.
 * Returns 0 or -errno. */
int write_file_atomic_at(int dir_fd, const char *name, const void *data, size_t len, mode_t mode);
/* Same, for a JSON document (compact, trailing newline). */
int write_json_atomic_at(int dir_fd, const char *name, json_t *doc, mode_t mode);
/* Both, also giving the written file's stat (taken before the rename, which
 * keeps its inode, size and mtime). */
int write_file_atomic_stat_at(int dir_fd, const char *name, const void *data, size_t len, mode_t mode,
                              struct stat *ret_st);
int write_json_atomic_stat_at(int dir_fd, const char *name, json_t *doc, mode_t mode, struct stat *ret_st);
/* mkdir -p relative to dir_fd (mode for each created level). */
int mkdir_p_at(int dir_fd, const char *path, mode_t mode);
int fsync_dir_at(int dir_fd, const char *path);
/* Opens dir_fd/name to read it, refusing a symlink (O_NOFOLLOW) and anything
 * but a regular file (-EBADF); *ret_st gets its stat. The fd, or -errno. */
int open_regular_at(int dir_fd, const char *name, struct stat *ret_st);
/* Reads len bytes, through EINTR and short reads; *ret_got gets how many
 * (fewer only at end of file). 0 or -errno. */
int read_full(int fd, void *buf, size_t len, size_t *ret_got);
/* Reads a whole regular file (at most max bytes) with a trailing NUL. */
int read_file_at(int dir_fd, const char *name, size_t max, char **ret, size_t *ret_len);
bool is_temp_name(const char *name);            /* ".#" prefix */

/* jansson keeps its own copies of every string it parses or builds, values
 * included: make its frees wipe the block first. Call once at start (the
 * daemon and the CLI do). */
void json_wipe_on_free(void);
/* Wipes the string values of an object of fields, then drops the reference:
 * for the copies of values, whether or not json_wipe_on_free was called (a
 * library user, a test). NULL is fine. */
void json_wipe_decref(json_t *fields);
static inline void json_wipe_decrefp(json_t **j) { json_wipe_decref(*j); }
#define _cleanup_json_wipe_ _cleanup_(json_wipe_decrefp)

/* Wipes and frees a heap string that held a secret. */
void free_secret_string(char *s);
static inline void free_secret_stringp(char **s) { free_secret_string(*s); }
#define _cleanup_secret_free_ _cleanup_(free_secret_stringp)
