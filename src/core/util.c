/* SPDX-License-Identifier: Apache-2.0 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <sodium.h>

#include "util.h"

void strv_free(char **l) {
        if (!l)
                return;
        for (char **i = l; *i; i++)
                free(*i);
        free(l);
}

size_t strv_length(char *const *l) {
        size_t n = 0;
        if (l)
                while (l[n])
                        n++;
        return n;
}

char **strv_new_empty(void) {
        return calloc(1, sizeof(char *));
}

int array_reserve_one(void **array, size_t n, size_t *allocated, size_t size, size_t first) {
        if (n < *allocated)
                return 0;
        size_t m = *allocated ? *allocated * 2 : first;
        void *a = reallocarray(*array, m, size);
        if (!a)
                return -ENOMEM;
        *array = a;
        *allocated = m;
        return 0;
}

int strv_push(char ***l, const char *s) {
        size_t n = strv_length(*l);
        char *c = strdup(s);
        if (!c)
                return -ENOMEM;
        char **nl = realloc(*l, (n + 2) * sizeof(char *));
        if (!nl) {
                free(c);
                return -ENOMEM;
        }
        nl[n] = c;
        nl[n + 1] = NULL;
        *l = nl;
        return 0;
}

int strv_push_printf(char ***l, const char *fmt, ...) {
        va_list ap;
        _cleanup_free_ char *s = NULL;

        va_start(ap, fmt);
        int r = vasprintf(&s, fmt, ap);
        va_end(ap);
        if (r < 0)
                return -ENOMEM;
        return strv_push(l, s);
}

bool strv_contains(char *const *l, const char *s) {
        if (l)
                for (char *const *i = l; *i; i++)
                        if (strcmp(*i, s) == 0)
                                return true;
        return false;
}

char *strv_join(char *const *l, const char *sep) {
        size_t size = 1, n_sep = strlen(sep);
        for (char *const *i = l; i && *i; i++)
                size += strlen(*i) + n_sep;
        char *s = malloc(size), *p = s;
        if (!s)
                return NULL;
        *p = 0;
        for (char *const *i = l; i && *i; i++)
                p = stpcpy(i == l ? p : stpcpy(p, sep), *i);
        return s;
}

uint64_t now_usec(void) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return (uint64_t) ts.tv_sec * 1000000ULL + (uint64_t) ts.tv_nsec / 1000ULL;
}

char *strdup_printf(const char *fmt, ...) {
        va_list ap;
        char *s = NULL;
        va_start(ap, fmt);
        int r = vasprintf(&s, fmt, ap);
        va_end(ap);
        return r < 0 ? NULL : s;
}

/* Strict UTF-8 (no overlongs, no surrogates, <= U+10FFFF) that also refuses
 * C0 and C1 control characters and DEL. */
bool utf8_text_valid(const char *s, size_t *ret_chars) {
        const unsigned char *p = (const unsigned char *) s;
        size_t chars = 0;

        if (!s)
                return false;
        while (*p) {
                uint32_t cp;
                int len;
                if (*p < 0x80) {
                        cp = *p;
                        len = 1;
                } else if ((*p & 0xe0) == 0xc0) {
                        cp = *p & 0x1f;
                        len = 2;
                } else if ((*p & 0xf0) == 0xe0) {
                        cp = *p & 0x0f;
                        len = 3;
                } else if ((*p & 0xf8) == 0xf0) {
                        cp = *p & 0x07;
                        len = 4;
                } else
                        return false;
                for (int i = 1; i < len; i++) {
                        if ((p[i] & 0xc0) != 0x80)
                                return false;
                        cp = (cp << 6) | (p[i] & 0x3f);
                }
                if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
                    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
                        return false;
                if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp < 0xa0))
                        return false;
                p += len;
                chars++;
        }
        if (ret_chars)
                *ret_chars = chars;
        return true;
}

static bool slug_valid(const char *s, size_t max, const char *extra) {
        size_t n;
        if (!s || !*s)
                return false;
        n = strlen(s);
        if (n > max)
                return false;
        if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= '0' && s[0] <= '9')))
                return false;
        for (size_t i = 1; i < n; i++) {
                char c = s[i];
                if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || strchr(extra, c)))
                        return false;
        }
        return true;
}

bool org_name_valid(const char *s) { return slug_valid(s, OV_ORG_MAX, "-"); }
bool secret_id_valid(const char *s) { return slug_valid(s, OV_ID_MAX, "_-"); }

bool display_name_valid(const char *s) {
        size_t chars;
        if (!s || strlen(s) > OV_NAME_MAX * 4)
                return false;
        if (!utf8_text_valid(s, &chars))
                return false;
        return chars >= 1 && chars <= OV_NAME_MAX;
}

/* ASCII for the Latin letters of U+00C0..U+017F, so "Équipe Données" gives
 * "equipe-donnees" rather than "quipe-donn-es": one letter each, '*' for
 * the few that take two, '-' for what is no letter (×, ÷). */
static const char latin1_ascii[] = "aaaaaa*ceeeeiiiidnooooo-ouuuuy**aaaaaa*ceeeeiiiidnooooo-ouuuuy*y";
static const char latin_ext_a_ascii[] =
        "aaaaaaccccccccddddeeeeeeeeeegggggggghhhhiiiiiiiiii**jjkkkllllllllllnnnnnnnnnoooooo**rrrrrrssssssss"
        "ttttttuuuuuuuuuuuuwwyyyzzzzzzs";

static const char *latin_to_ascii(uint32_t cp, char buf[static 2]) {
        char ch = 0;

        if (cp >= 0xC0 && cp <= 0xFF)
                ch = latin1_ascii[cp - 0xC0];
        else if (cp >= 0x100 && cp <= 0x17F)
                ch = latin_ext_a_ascii[cp - 0x100];
        if (ch == '*')
                switch (cp) {
                case 0xC6: case 0xE6: return "ae";
                case 0xDE: case 0xFE: return "th";
                case 0xDF: return "ss";
                case 0x132: case 0x133: return "ij";
                default: return "oe";           /* U+0152, U+0153 */
                }
        if (!ch || ch == '-')
                return NULL;
        buf[0] = ch;
        buf[1] = 0;
        return buf;
}

char *slug_from_name(const char *name) {
        size_t n = strlen(name), o = 0;
        char *out = malloc(OV_ID_MAX + 1);
        bool dash = false;

        if (!out)
                return NULL;
        for (size_t i = 0; i < n && o < OV_ID_MAX; i++) {
                unsigned char c = (unsigned char) name[i];
                char one[2];
                const char *letters = NULL;

                if (isascii(c) && isalnum(c)) {
                        one[0] = (char) tolower(c);
                        one[1] = 0;
                        letters = one;
                } else if ((c & 0xE0) == 0xC0 && i + 1 < n && ((unsigned char) name[i + 1] & 0xC0) == 0x80) {
                        /* Two-byte UTF-8: U+0080..U+07FF, where the Latin letters are. */
                        uint32_t cp = ((uint32_t) (c & 0x1F) << 6) | ((unsigned char) name[i + 1] & 0x3F);
                        letters = latin_to_ascii(cp, one);
                        i++;
                }
                if (!letters) {
                        dash = true;
                        continue;
                }
                if (dash && o > 0 && o < OV_ID_MAX)
                        out[o++] = '-';
                dash = false;
                for (const char *l = letters; *l && o < OV_ID_MAX; l++)
                        out[o++] = *l;
        }
        while (o > 0 && out[o - 1] == '-')
                o--;
        out[o] = 0;
        if (!secret_id_valid(out)) {
                free(out);
                return NULL;
        }
        return out;
}

static inline unsigned char ascii_fold(unsigned char c) {
        return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

/* One pass over the haystack: only positions whose first byte matches are
 * compared further (no call per position; ListSecrets runs this per name). */
bool ascii_strcase_contains(const char *haystack, const char *needle) {
        const unsigned char *h = (const unsigned char *) haystack, *n = (const unsigned char *) needle;
        if (!n[0])
                return true;
        unsigned char first = ascii_fold(n[0]);
        for (; *h; h++) {
                if (ascii_fold(*h) != first)
                        continue;
                size_t k = 1;
                while (n[k] && h[k] && ascii_fold(h[k]) == ascii_fold(n[k]))
                        k++;
                if (!n[k])
                        return true;
                if (!h[k])
                        return false;   /* the haystack ran out: no later start can fit */
        }
        return false;
}

bool is_temp_name(const char *name) { return name[0] == '.' && name[1] == '#'; }

int fsync_dir_at(int dir_fd, const char *path) {
        _cleanup_close_ int fd = openat(dir_fd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        if (fsync(fd) < 0)
                return -errno;
        return 0;
}

static int write_all(int fd, const void *data, size_t len) {
        const char *p = data;
        while (len > 0) {
                ssize_t w = write(fd, p, len);
                if (w < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                p += w;
                len -= (size_t) w;
        }
        return 0;
}

int write_file_atomic_stat_at(int dir_fd, const char *name, const void *data, size_t len, mode_t mode,
                              struct stat *ret_st) {
        _cleanup_free_ char *dir = NULL, *tmp = NULL;
        const char *slash = strrchr(name, '/');
        const char *base = slash ? slash + 1 : name;
        unsigned char rnd[6];
        int r;

        dir = slash ? strndup(name, (size_t) (slash - name)) : strdup(".");
        if (!dir)
                return -ENOMEM;
        randombytes_buf(rnd, sizeof rnd);
        tmp = strdup_printf("%s%s.#%s.%02x%02x%02x%02x%02x%02x", slash ? dir : "", slash ? "/" : "", base,
                            rnd[0], rnd[1], rnd[2], rnd[3], rnd[4], rnd[5]);
        if (!tmp)
                return -ENOMEM;

        int fd = openat(dir_fd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
        if (fd < 0)
                return -errno;
        r = write_all(fd, data, len);
        if (r == 0 && fchmod(fd, mode) < 0)     /* the umask may have narrowed or widened it */
                r = -errno;
        if (r == 0 && fsync(fd) < 0)
                r = -errno;
        /* From the fd, not the name after the rename: one lookup less, and
         * the rename keeps the inode, size and mtime. */
        if (r == 0 && ret_st && fstat(fd, ret_st) < 0)
                r = -errno;
        if (close(fd) < 0 && r == 0)
                r = -errno;
        if (r == 0 && renameat(dir_fd, tmp, dir_fd, name) < 0)
                r = -errno;
        if (r < 0) {
                (void) unlinkat(dir_fd, tmp, 0);
                return r;
        }
        return fsync_dir_at(dir_fd, dir);
}

int write_file_atomic_at(int dir_fd, const char *name, const void *data, size_t len, mode_t mode) {
        return write_file_atomic_stat_at(dir_fd, name, data, len, mode, NULL);
}

int write_json_atomic_stat_at(int dir_fd, const char *name, json_t *doc, mode_t mode, struct stat *ret_st) {
        _cleanup_free_ char *text = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS);
        if (!text)
                return -ENOMEM;
        size_t n = strlen(text);
        char *withnl = realloc(text, n + 2);
        if (!withnl)
                return -ENOMEM;
        text = withnl;
        text[n] = '\n';
        text[n + 1] = 0;
        return write_file_atomic_stat_at(dir_fd, name, text, n + 1, mode, ret_st);
}

int write_json_atomic_at(int dir_fd, const char *name, json_t *doc, mode_t mode) {
        return write_json_atomic_stat_at(dir_fd, name, doc, mode, NULL);
}

int mkdir_p_at(int dir_fd, const char *path, mode_t mode) {
        _cleanup_free_ char *p = strdup(path);
        if (!p)
                return -ENOMEM;
        for (char *s = p + 1;; s++) {
                bool end = *s == 0;
                if (*s == '/' || end) {
                        char saved = *s;
                        *s = 0;
                        if (mkdirat(dir_fd, p, mode) < 0 && errno != EEXIST)
                                return -errno;
                        *s = saved;
                }
                if (end)
                        break;
        }
        return 0;
}

int open_regular_at(int dir_fd, const char *name, struct stat *ret_st) {
        _cleanup_close_ int fd = openat(dir_fd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);

        if (fd < 0)
                return -errno;
        if (fstat(fd, ret_st) < 0)
                return -errno;
        if (!S_ISREG(ret_st->st_mode))
                return -EBADF;
        return TAKE_FD(fd);
}

int read_full(int fd, void *buf, size_t len, size_t *ret_got) {
        size_t got = 0;

        while (got < len) {
                ssize_t n = read(fd, (char *) buf + got, len - got);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                if (n == 0)
                        break;
                got += (size_t) n;
        }
        *ret_got = got;
        return 0;
}

int read_file_at(int dir_fd, const char *name, size_t max, char **ret, size_t *ret_len) {
        _cleanup_free_ char *buf = NULL;
        struct stat st;
        size_t len = 0;
        int r;

        _cleanup_close_ int fd = open_regular_at(dir_fd, name, &st);
        if (fd < 0)
                return fd;
        if ((uint64_t) st.st_size > max)
                return -EFBIG;
        buf = malloc((size_t) st.st_size + 1);
        if (!buf)
                return -ENOMEM;
        r = read_full(fd, buf, (size_t) st.st_size, &len);
        if (r < 0)
                return r;
        buf[len] = 0;
        *ret = TAKE_PTR(buf);
        if (ret_len)
                *ret_len = len;
        return 0;
}

void free_secret_string(char *s) {
        if (!s)
                return;
        sodium_memzero(s, strlen(s));
        free(s);
}

static void json_free_wiping(void *p) {
        if (!p)
                return;
        sodium_memzero(p, malloc_usable_size(p));
        free(p);
}

void json_wipe_on_free(void) {
        json_set_alloc_funcs(malloc, json_free_wiping);
}

void json_wipe_decref(json_t *fields) {
        const char *k;
        json_t *v;

        if (!fields)
                return;
        json_object_foreach(fields, k, v)
                if (json_is_string(v))
                        sodium_memzero((char *) json_string_value(v), json_string_length(v));
        json_decref(fields);
}
