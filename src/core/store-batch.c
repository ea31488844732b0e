/* SPDX-License-Identifier: Apache-2.0 */
/* Group commit of staged record writes (store-batch.h). */

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sodium.h>

#include "store-batch.h"
#include "util.h"

/* A commit of this many writes starts at once: bounds open fds. */
#define BATCH_MAX 256

typedef struct Staged {
        int fd;
        char *tmp, *path, *dir;
} Staged;

struct StoreBatch {
        Staged w[BATCH_MAX];
        size_t n;
        int result;              /* of the commits since the last take_result */
};

StoreBatch *store_batch_new(void) { return calloc(1, sizeof(StoreBatch)); }

static void staged_clear(Staged *s, int dir_fd, bool unlink_tmp) {
        if (s->fd >= 0)
                close(s->fd);
        if (unlink_tmp && s->tmp)
                (void) unlinkat(dir_fd, s->tmp, 0);
        free(s->tmp);
        free(s->path);
        free(s->dir);
        *s = (Staged) { .fd = -1 };
}

void store_batch_free(StoreBatch *b) {
        if (!b)
                return;
        for (size_t i = 0; i < b->n; i++)
                staged_clear(&b->w[i], AT_FDCWD, false);       /* leftovers go at the next load */
        free(b);
}

size_t store_batch_pending(const StoreBatch *b) { return b ? b->n : 0; }

int store_batch_stage(StoreBatch *b, int dir_fd, const char *path, const void *data, size_t len, mode_t mode,
                      struct stat *ret_st) {
        const char *slash = strrchr(path, '/');
        unsigned char rnd[6];
        int r;

        if (b->n == BATCH_MAX) {
                r = store_batch_commit(b, dir_fd);
                if (r < 0)
                        return r;
        }
        Staged *s = &b->w[b->n];
        *s = (Staged) { .fd = -1 };
        randombytes_buf(rnd, sizeof rnd);
        s->path = strdup(path);
        s->dir = slash ? strndup(path, (size_t) (slash - path)) : strdup(".");
        s->tmp = strdup_printf("%s%s.#%s.%02x%02x%02x%02x%02x%02x", slash ? s->dir : "", slash ? "/" : "",
                               slash ? slash + 1 : path, rnd[0], rnd[1], rnd[2], rnd[3], rnd[4], rnd[5]);
        if (!s->path || !s->dir || !s->tmp) {
                staged_clear(s, dir_fd, false);
                return -ENOMEM;
        }
        s->fd = openat(dir_fd, s->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
        r = s->fd < 0 ? -errno : 0;
        for (const char *p = data; r == 0 && len > 0;) {
                ssize_t k = write(s->fd, p, len);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        r = -errno;
                else {
                        p += k;
                        len -= (size_t) k;
                }
        }
        if (r == 0 && fchmod(s->fd, mode) < 0)  /* the umask may have narrowed or widened it */
                r = -errno;
        if (r == 0 && ret_st && fstat(s->fd, ret_st) < 0)
                r = -errno;
        /* Writeback starts now, so the commit's first fsync finds every
         * staged file's blocks in the journal transaction it commits and the
         * others' fsyncs have little left to wait for. */
        if (r == 0)
                (void) sync_file_range(s->fd, 0, 0, SYNC_FILE_RANGE_WRITE);
        if (r < 0) {
                staged_clear(s, dir_fd, s->fd >= 0);
                return r;
        }
        b->n++;
        return 0;
}

static bool dir_seen(const StoreBatch *b, size_t i) {
        for (size_t k = 0; k < i; k++)
                if (strcmp(b->w[k].dir, b->w[i].dir) == 0)
                        return true;
        return false;
}

int store_batch_commit(StoreBatch *b, int dir_fd) {
        size_t i;
        int r = 0;

        if (!b || b->n == 0)
                return 0;
        for (i = 0; i < b->n && r == 0; i++)
                if (fsync(b->w[i].fd) < 0)
                        r = -errno;
        /* Renamed in the order staged: a later write of the same record wins. */
        size_t renamed = 0;
        while (r == 0 && renamed < b->n)
                if (renameat(dir_fd, b->w[renamed].tmp, dir_fd, b->w[renamed].path) < 0)
                        r = -errno;
                else
                        renamed++;
        for (i = 0; i < b->n && r == 0; i++)
                if (!dir_seen(b, i))
                        r = fsync_dir_at(dir_fd, b->w[i].dir);
        for (i = 0; i < b->n; i++)
                staged_clear(&b->w[i], dir_fd, r < 0 && i >= renamed);
        b->n = 0;
        if (r < 0 && b->result == 0)
                b->result = r;
        return r;
}

int store_batch_take_result(StoreBatch *b, int dir_fd) {
        if (!b)
                return 0;
        (void) store_batch_commit(b, dir_fd);
        int r = b->result;
        b->result = 0;
        return r;
}

int store_write_file(int dir_fd, StoreBatch *batch, const char *path, const void *data, size_t len, mode_t mode,
                     struct stat *ret_st) {
        if (!batch)
                return write_file_atomic_stat_at(dir_fd, path, data, len, mode, ret_st);
        return store_batch_stage(batch, dir_fd, path, data, len, mode, ret_st);
}

int store_write_json(int dir_fd, StoreBatch *batch, const char *path, json_t *doc, mode_t mode,
                     struct stat *ret_st) {
        if (!batch)
                return write_json_atomic_stat_at(dir_fd, path, doc, mode, ret_st);
        _cleanup_free_ char *text = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS);
        if (!text)
                return -ENOMEM;
        size_t n = strlen(text);
        text[n] = '\n';        /* over the NUL: the file is the text and a newline, as written unbatched */
        return store_batch_stage(batch, dir_fd, path, text, n + 1, mode, ret_st);
}
