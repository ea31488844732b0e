/* SPDX-License-Identifier: Apache-2.0 */
/* An org's trash on disk (docs/FORMAT.md): orgs/<org>/trash/<id>.<deleted
 * µs>.json, the record file moved there unchanged by a delete (its AD still
 * binds org, id and type, so it comes back under the same id). At most one
 * entry per id: a newer delete of the same id replaces the older entry. Each
 * move is one rename with both directories fsynced, so a crash leaves the
 * record either live or in the trash, never lost and never in both. */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "log.h"
#include "store.h"

#define DIR_MODE 0700
#define FILE_MODE 0600
#define RECORD_FILE_MAX (2 * 1024 * 1024)

static char *trash_dir(const char *org) { return strdup_printf("orgs/%s/trash", org); }

static char *trash_path(const char *org, const char *id, uint64_t deleted) {
        return strdup_printf("orgs/%s/trash/%s.%" PRIu64 ".json", org, id, deleted);
}

/* "<id>.<µs>.json" -> id and µs; false for any other name. */
static bool trash_name_parse(const char *name, char **ret_id, uint64_t *ret_deleted) {
        size_t len = strlen(name);
        if (len < strlen("a.1.json") || strcmp(name + len - 5, ".json") != 0)
                return false;
        const char *end = name + len - 5, *dot = end;
        while (dot > name && dot[-1] >= '0' && dot[-1] <= '9')
                dot--;
        if (dot == end || dot == name || dot[-1] != '.' || end - dot > 20 || (*dot == '0' && end - dot > 1))
                return false;
        char digits[21];
        memcpy(digits, dot, (size_t) (end - dot));
        digits[end - dot] = 0;
        errno = 0;
        unsigned long long us = strtoull(digits, NULL, 10);
        if (errno != 0 || us == 0 || us > INT64_MAX)
                return false;
        char *id = strndup(name, (size_t) (dot - 1 - name));
        if (!id || !secret_id_valid(id)) {
                free(id);
                return false;
        }
        *ret_id = id;
        *ret_deleted = us;
        return true;
}

static int ensure_trash_dir(int state_fd, const char *org) {
        _cleanup_free_ char *dir = trash_dir(org), *org_dir = strdup_printf("orgs/%s", org);
        struct stat st;

        if (!dir || !org_dir)
                return -ENOMEM;
        if (fstatat(state_fd, dir, &st, AT_SYMLINK_NOFOLLOW) == 0)
                return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
        int r = mkdir_p_at(state_fd, dir, DIR_MODE);
        if (r < 0)
                return r;
        return fsync_dir_at(state_fd, org_dir);
}

/* rename(2) between two directories, then both made durable. */
static int move_durably(int state_fd, const char *from, const char *from_dir, const char *to, const char *to_dir,
                        bool noreplace) {
        if (renameat2(state_fd, from, state_fd, to, noreplace ? RENAME_NOREPLACE : 0) < 0)
                return -errno;
        int r = fsync_dir_at(state_fd, to_dir);
        if (r < 0)
                return r;
        return fsync_dir_at(state_fd, from_dir);
}

int store_trash_secret(int state_fd, const char *org, const char *id, uint64_t deleted, uint64_t replaces) {
        if (!org_name_valid(org) || !secret_id_valid(id) || deleted == 0 || deleted == replaces)
                return -EINVAL;
        _cleanup_free_ char *from = strdup_printf("orgs/%s/secrets/%s.json", org, id);
        _cleanup_free_ char *from_dir = strdup_printf("orgs/%s/secrets", org);
        _cleanup_free_ char *to = trash_path(org, id, deleted), *to_dir = trash_dir(org);
        if (!from || !from_dir || !to || !to_dir)
                return -ENOMEM;
        int r = ensure_trash_dir(state_fd, org);
        if (r < 0)
                return r;
        r = move_durably(state_fd, from, from_dir, to, to_dir, true);
        if (r < 0)
                return r;
        /* The older entry of the same id goes only once the new one is safe:
         * a crash in between leaves two, and the next load keeps the newer. */
        if (replaces != 0 && store_purge_trashed(state_fd, org, id, replaces) < 0)
                log_warning("Org %s: cannot remove the older trash entry of %s; the next load will", org, id);
        return 0;
}

int store_restore_secret(int state_fd, const char *org, const char *id, uint64_t deleted, RecordStamp *ret_stamp) {
        if (!org_name_valid(org) || !secret_id_valid(id))
                return -EINVAL;
        _cleanup_free_ char *from = trash_path(org, id, deleted), *from_dir = trash_dir(org);
        _cleanup_free_ char *to = strdup_printf("orgs/%s/secrets/%s.json", org, id);
        _cleanup_free_ char *to_dir = strdup_printf("orgs/%s/secrets", org);
        struct stat st;
        if (!from || !from_dir || !to || !to_dir)
                return -ENOMEM;
        int r = mkdir_p_at(state_fd, to_dir, DIR_MODE);
        if (r < 0)
                return r;
        /* Never over a live record: the vault checked, the disk decides. */
        r = move_durably(state_fd, from, from_dir, to, to_dir, true);
        if (r < 0)
                return r;
        if (ret_stamp) {
                *ret_stamp = (RecordStamp) {};
                if (fstatat(state_fd, to, &st, AT_SYMLINK_NOFOLLOW) == 0)
                        *ret_stamp = (RecordStamp) {
                                .ino = st.st_ino,
                                .size = (uint64_t) st.st_size,
                                .mtime_sec = st.st_mtim.tv_sec,
                                .mtime_nsec = (uint32_t) st.st_mtim.tv_nsec,
                        };
        }
        return 0;
}

int store_purge_trashed(int state_fd, const char *org, const char *id, uint64_t deleted) {
        if (!org_name_valid(org) || !secret_id_valid(id))
                return -EINVAL;
        _cleanup_free_ char *path = trash_path(org, id, deleted), *dir = trash_dir(org);
        if (!path || !dir)
                return -ENOMEM;
        if (unlinkat(state_fd, path, 0) < 0)
                return -errno;
        return fsync_dir_at(state_fd, dir);
}

int store_save_trashed(int state_fd, const char *org, const Secret *s) {
        if (!org_name_valid(org) || !secret_id_valid(s->id) || s->deleted == 0)
                return -EINVAL;
        _cleanup_json_ json_t *j = secret_to_json(s, org);
        _cleanup_free_ char *path = trash_path(org, s->id, s->deleted);
        if (!j || !path)
                return -ENOMEM;
        return write_json_atomic_at(state_fd, path, j, FILE_MODE);
}

static int by_id_then_newest(const void *a, const void *b) {
        const Secret *x = *(Secret *const *) a, *y = *(Secret *const *) b;
        int c = strcmp(x->id, y->id);
        return c != 0 ? c : (x->deleted > y->deleted ? -1 : x->deleted < y->deleted);
}

/* A trash file that is not a record goes to quarantine like a broken
 * record; the file name says it came from the trash. */
static int quarantine_trashed(int state_fd, const char *org, const char *name, const char *reason, unsigned *n) {
        _cleanup_free_ char *src = strdup_printf("orgs/%s/trash/%s", org, name);
        _cleanup_free_ char *dst = strdup_printf("quarantine/%s.trash.%s.%" PRIu64, org, name, now_usec());
        _cleanup_free_ char *dir = trash_dir(org);
        if (!src || !dst || !dir)
                return -ENOMEM;
        if (renameat(state_fd, src, state_fd, dst) < 0) {
                log_error("Cannot quarantine broken trash entry %s (%s): %m", src, reason);
                return -errno;
        }
        log_warning("Quarantined broken trash entry %s as %s: %s", src, dst, reason);
        (*n)++;
        (void) fsync_dir_at(state_fd, "quarantine");
        return fsync_dir_at(state_fd, dir);
}

int store_load_trash(int state_fd, const char *org, Secret ***ret, size_t *ret_n, unsigned *ret_quarantined) {
        _cleanup_free_ char *dir = trash_dir(org);
        Secret **list = NULL;
        size_t n = 0;
        unsigned quarantined = 0;
        struct dirent *de;
        int r = 0;

        if (!org_name_valid(org))
                return -EINVAL;
        if (!dir)
                return -ENOMEM;
        int fd = openat(state_fd, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0 && errno != ENOENT)
                return -errno;
        DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
        if (fd >= 0 && !d) {
                close(fd);
                return -errno;
        }
        while (d && (errno = 0, de = readdir(d))) {
                _cleanup_free_ char *id = NULL, *text = NULL, *reason = NULL;
                _cleanup_secret_ Secret *s = NULL;
                uint64_t deleted = 0;
                size_t len = 0;

                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                        continue;
                if (is_temp_name(de->d_name)) {
                        (void) unlinkat(dirfd(d), de->d_name, 0);      /* an interrupted re-seal */
                        continue;
                }
                if (!trash_name_parse(de->d_name, &id, &deleted)) {
                        (void) quarantine_trashed(state_fd, org, de->d_name, "not a trash file name", &quarantined);
                        continue;
                }
                r = read_file_at(dirfd(d), de->d_name, RECORD_FILE_MAX, &text, &len);
                if (r == -ENOMEM)
                        break;
                if (r >= 0)
                        r = secret_parse_text(text, len, org, &s, &reason);
                if (r == -ENOMEM)
                        break;
                if (r >= 0 && strcmp(s->id, id) != 0) {
                        r = -EBADMSG;
                        reason = strdup("\"id\" does not match the file name");
                }
                if (r < 0) {
                        (void) quarantine_trashed(state_fd, org, de->d_name, reason ?: strerror(-r), &quarantined);
                        r = 0;
                        continue;
                }
                s->deleted = deleted;
                Secret **a = reallocarray(list, n + 1, sizeof(Secret *));
                if (!a) {
                        r = -ENOMEM;
                        break;
                }
                list = a;
                list[n++] = TAKE_PTR(s);
        }
        if (r >= 0 && d && errno != 0)
                r = -errno;
        if (d)
                closedir(d);
        if (r < 0) {
                for (size_t i = 0; i < n; i++)
                        secret_free(list[i]);
                free(list);
                return r;
        }
        /* One entry per id: a crash while a delete replaced an older entry
         * can leave both; the newer one wins. */
        if (n > 1)
                qsort(list, n, sizeof(Secret *), by_id_then_newest);
        size_t kept = 0;
        for (size_t i = 0; i < n; i++) {
                if (kept > 0 && strcmp(list[kept - 1]->id, list[i]->id) == 0) {
                        (void) store_purge_trashed(state_fd, org, list[i]->id, list[i]->deleted);
                        secret_free(list[i]);
                        continue;
                }
                list[kept++] = list[i];
        }
        *ret = list;
        *ret_n = kept;
        if (ret_quarantined)
                *ret_quarantined = quarantined;
        return 0;
}
