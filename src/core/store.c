/* SPDX-License-Identifier: Apache-2.0 */
/* The state dir on disk (docs/FORMAT.md): orgs/<org>/secrets/<id>.json,
 * orgs/<org>/org.json, orgs/<org>/usage.json, orgs/<org>/index (the cache
 * of an org's records, store-index.c) and quarantine/. Every write goes
 * through write_*_atomic_at (temp file, fsync, rename, fsync dir). */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "log.h"
#include "store.h"

#define DIR_MODE 0700
#define FILE_MODE 0600
#define RECORD_FILE_MAX (2 * 1024 * 1024)
#define ORG_FILE_MAX (64 * 1024)
#define USAGE_FILE_MAX (16 * 1024 * 1024)
#define INDEX_FILE_MAX (512 * 1024 * 1024)

static void closedirp(DIR **d) {
        if (*d)
                closedir(*d);
}
#define _cleanup_closedir_ _cleanup_(closedirp)

/* Opens a directory below the state dir for readdir(); NULL with errno set. */
static DIR *opendir_at(int state_fd, const char *path) {
        int fd = openat(state_fd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return NULL;
        DIR *d = fdopendir(fd);
        if (!d) {
                int saved = errno;
                close(fd);
                errno = saved;
        }
        return d;
}

static bool has_suffix(const char *s, const char *suffix) {
        size_t n = strlen(s), m = strlen(suffix);
        return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* "<id>.json" -> id when it is a valid secret id, else NULL. */
static char *record_id_from_file_name(const char *name) {
        if (!has_suffix(name, ".json"))
                return NULL;
        char *id = strndup(name, strlen(name) - strlen(".json"));
        if (id && !secret_id_valid(id)) {
                free(id);
                return NULL;
        }
        return id;
}

/* Removes ".#*" files in dir_path: writes that never reached their rename,
 * so the file they were replacing (if any) is still intact. */
static void remove_leftovers(int state_fd, const char *dir_path) {
        _cleanup_closedir_ DIR *d = opendir_at(state_fd, dir_path);
        struct dirent *de;

        if (!d)
                return;
        while ((de = readdir(d)))
                if (is_temp_name(de->d_name)) {
                        if (unlinkat(dirfd(d), de->d_name, 0) < 0 && errno != ENOENT)
                                log_warning("Cannot remove leftover %s/%s: %m", dir_path, de->d_name);
                        else
                                log_info("Removed leftover temp file %s/%s", dir_path, de->d_name);
                }
}

int store_prepare(int state_fd) {
        int r = mkdir_p_at(state_fd, "orgs", DIR_MODE);
        if (r < 0)
                return r;
        remove_leftovers(state_fd, ".");        /* master.key, master.json */
        return mkdir_p_at(state_fd, "quarantine", DIR_MODE);
}

/* Creates orgs/<org>/secrets/ on first use, with the parents' entries made
 * durable too (a record in a directory that vanishes on crash is lost). */
static int ensure_org_dirs(int state_fd, const char *org) {
        _cleanup_free_ char *org_dir = strdup_printf("orgs/%s", org);
        _cleanup_free_ char *secrets_dir = strdup_printf("orgs/%s/secrets", org);
        struct stat st;
        int r;

        if (!org_dir || !secrets_dir)
                return -ENOMEM;
        if (fstatat(state_fd, secrets_dir, &st, AT_SYMLINK_NOFOLLOW) == 0)
                return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
        r = mkdir_p_at(state_fd, secrets_dir, DIR_MODE);
        if (r < 0)
                return r;
        r = fsync_dir_at(state_fd, "orgs");
        if (r < 0)
                return r;
        return fsync_dir_at(state_fd, org_dir);
}

static void stamp_from_stat(const struct stat *st, RecordStamp *ret) {
        *ret = (RecordStamp) {
                .ino = st->st_ino,
                .size = (uint64_t) st->st_size,
                .mtime_sec = st->st_mtim.tv_sec,
                .mtime_nsec = (uint32_t) st->st_mtim.tv_nsec,
        };
}

int store_write_secret(int state_fd, StoreBatch *batch, const char *org, const Secret *s, RecordStamp *ret_stamp) {
        struct stat st;
        int r;

        if (ret_stamp)
                *ret_stamp = (RecordStamp) {};
        if (!org_name_valid(org) || !secret_id_valid(s->id))
                return -EINVAL;
        _cleanup_json_ json_t *j = secret_to_json(s, org);
        _cleanup_free_ char *path = strdup_printf("orgs/%s/secrets/%s.json", org, s->id);
        if (!j || !path)
                return -ENOMEM;
        /* secrets/ exists but for an org's first record: make it only when
         * the write finds it missing, not a lookup per write. */
        r = store_write_json(state_fd, batch, path, j, FILE_MODE, &st);
        if (r == -ENOENT) {
                r = ensure_org_dirs(state_fd, org);
                if (r < 0)
                        return r;
                r = store_write_json(state_fd, batch, path, j, FILE_MODE, &st);
        }
        if (r < 0)
                return r;
        if (ret_stamp)
                stamp_from_stat(&st, ret_stamp);
        return 0;
}

int store_save_secret(int state_fd, const char *org, const Secret *s, RecordStamp *ret_stamp) {
        return store_write_secret(state_fd, NULL, org, s, ret_stamp);
}

int store_delete_secret(int state_fd, const char *org, const char *id) {
        if (!org_name_valid(org) || !secret_id_valid(id))
                return -EINVAL;
        _cleanup_free_ char *dir = strdup_printf("orgs/%s/secrets", org);
        _cleanup_free_ char *path = strdup_printf("orgs/%s/secrets/%s.json", org, id);
        if (!dir || !path)
                return -ENOMEM;
        if (unlinkat(state_fd, path, 0) < 0)
                return -errno;
        return fsync_dir_at(state_fd, dir);
}

int store_quarantine(int state_fd, const char *org, const char *file_name, const char *reason) {
        if (!org_name_valid(org) || strchr(file_name, '/') || strcmp(file_name, ".") == 0 ||
            strcmp(file_name, "..") == 0)
                return -EINVAL;
        _cleanup_free_ char *dir = strdup_printf("orgs/%s/secrets", org);
        _cleanup_free_ char *src = strdup_printf("orgs/%s/secrets/%s", org, file_name);
        _cleanup_free_ char *dst = strdup_printf("quarantine/%s.%s.%llu", org, file_name,
                                                 (unsigned long long) now_usec());
        int r;

        if (!dir || !src || !dst)
                return -ENOMEM;
        if (!reason)
                reason = "unreadable";
        r = mkdir_p_at(state_fd, "quarantine", DIR_MODE);
        if (r < 0)
                return r;
        if (renameat(state_fd, src, state_fd, dst) < 0) {
                r = -errno;
                log_error_errno(r, "Cannot quarantine broken record %s (%s): %m", src, reason);
                return r;
        }
        log_warning("Quarantined broken record %s as %s: %s", src, dst, reason);
        r = fsync_dir_at(state_fd, "quarantine");
        if (r < 0)
                return r;
        return fsync_dir_at(state_fd, dir);
}

static int push_secret(Secret ***array, size_t *n, size_t *allocated, Secret *s) {
        if (ARRAY_RESERVE_ONE(*array, *n, *allocated, 64) < 0)
                return -ENOMEM;
        (*array)[(*n)++] = s;
        return 0;
}

static void free_secrets(Secret **a, size_t n) {
        for (size_t i = 0; i < n; i++)
                secret_free(a[i]);
        free(a);
}

/* Reads and parses one record file whose stamp (taken before reading, so
 * a file replaced meanwhile has a newer one) is given: 0 and the secret,
 * -ENOMEM, or another negative errno with *ret_reason saying why the file is
 * unusable. */
static int load_record(int dir_fd, const char *org, const char *name, const RecordStamp *stamp,
                       Secret **ret, char **ret_reason) {
        _cleanup_free_ char *id = record_id_from_file_name(name);
        _cleanup_free_ char *text = NULL;
        _cleanup_secret_ Secret *s = NULL;
        size_t len = 0;
        int r;

        if (!id) {
                *ret_reason = strdup("not a record file name");
                return *ret_reason ? -EBADMSG : -ENOMEM;
        }
        r = read_file_at(dir_fd, name, RECORD_FILE_MAX, &text, &len);
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                *ret_reason = strdup_printf("cannot read: %s", strerror(-r));
                return *ret_reason ? r : -ENOMEM;
        }
        r = secret_parse_text(text, len, org, &s, ret_reason);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return *ret_reason ? r : -ENOMEM;
        if (strcmp(s->id, id) != 0) {
                *ret_reason = strdup("\"id\" does not match the file name");
                return *ret_reason ? -EBADMSG : -ENOMEM;
        }
        s->stamp = *stamp;
        *ret = s;
        s = NULL;
        return 0;
}

/* A file of secrets/ as listed at load, with its stamp (taken before any
 * read: a file replaced meanwhile has a newer stamp than its content). */
typedef struct Listed {
        char *name;
        RecordStamp stamp;
        bool from_index;
} Listed;

/* The listing of secrets/ and a hash table of its record ids (position + 1,
 * 0 when free), so each index entry finds its file in a probe or two. */
typedef struct Listing {
        Listed *files;
        size_t n, allocated;
        uint32_t *slots;
        size_t mask;
        struct timespec index_mtime;
        size_t index_entries;
} Listing;

static void listing_clear(Listing *l) {
        for (size_t i = 0; i < l->n; i++)
                free(l->files[i].name);
        free(l->files);
        free(l->slots);
        *l = (Listing) {};
}

static void stamp_of_file(int dir_fd, const char *name, RecordStamp *ret) {
        struct stat st;
        *ret = (RecordStamp) {};
        if (fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode))
                stamp_from_stat(&st, ret);
}

/* Every entry of secrets/ but temp leftovers, with its stamp. */
static int list_secrets_dir(DIR *d, Listing *l) {
        struct dirent *de;

        while ((errno = 0, de = readdir(d))) {
                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                        continue;
                if (is_temp_name(de->d_name))
                        continue;       /* removed before; one we could not remove */
                if (ARRAY_RESERVE_ONE(l->files, l->n, l->allocated, 64) < 0)
                        return -ENOMEM;
                Listed *f = &l->files[l->n];
                f->name = strdup(de->d_name);
                if (!f->name)
                        return -ENOMEM;
                f->from_index = false;
                stamp_of_file(dirfd(d), de->d_name, &f->stamp);
                l->n++;
        }
        return errno != 0 ? -errno : 0;
}

static size_t id_hash(const char *s, size_t len) {
        uint64_t h = 0xcbf29ce484222325ULL;      /* FNV-1a */
        for (size_t i = 0; i < len; i++)
                h = (h ^ (unsigned char) s[i]) * 0x100000001b3ULL;
        return (size_t) (h ^ (h >> 32));
}

static int listing_hash(Listing *l) {
        size_t size = 16;
        while (size < l->n * 2)
                size *= 2;
        l->slots = calloc(size, sizeof(uint32_t));
        if (!l->slots)
                return -ENOMEM;
        l->mask = size - 1;
        for (size_t i = 0; i < l->n; i++) {
                const char *name = l->files[i].name;
                if (!has_suffix(name, ".json"))
                        continue;
                size_t h = id_hash(name, strlen(name) - strlen(".json")) & l->mask;
                while (l->slots[h] != 0)
                        h = (h + 1) & l->mask;
                l->slots[h] = (uint32_t) i + 1;
        }
        return 0;
}

static Listed *listing_find(const Listing *l, const char *id) {
        size_t len = strlen(id);
        for (size_t h = id_hash(id, len) & l->mask; l->slots[h] != 0; h = (h + 1) & l->mask) {
                Listed *f = &l->files[l->slots[h] - 1];
                if (strncmp(f->name, id, len) == 0 && strcmp(f->name + len, ".json") == 0)
                        return f;
        }
        return NULL;
}

static bool stamp_equal(const RecordStamp *a, const RecordStamp *b) {
        return a->ino == b->ino && a->size == b->size && a->mtime_sec == b->mtime_sec &&
               a->mtime_nsec == b->mtime_nsec;
}

/* An index entry is used when <id>.json has the stamp it holds. Not when
 * the stamp is not older than the index itself, though: the file may have
 * been replaced within the same clock tick by one with the same inode number
 * and size (git's "racy" entries). */
static bool index_keep(const char *id, const RecordStamp *stamp, void *userdata) {
        Listing *l = userdata;
        Listed *f = listing_find(l, id);
        bool older = stamp->mtime_sec < l->index_mtime.tv_sec ||
                     (stamp->mtime_sec == l->index_mtime.tv_sec && stamp->mtime_nsec < l->index_mtime.tv_nsec);

        l->index_entries++;
        if (!f || f->from_index || !older || !stamp_equal(&f->stamp, stamp))
                return false;
        f->from_index = true;
        return true;
}

static int read_all(int fd, uint8_t *buf, size_t len) {
        size_t done = 0;
        while (done < len) {
                ssize_t k = read(fd, buf + done, len - done);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        return -errno;
                if (k == 0)
                        return -EBADMSG;        /* shrank while read */
                done += (size_t) k;
        }
        return 0;
}

/* Reads orgs/<org>/index and takes from it the secrets whose files in l
 * match: 0, -ENOENT when there is none, -ENOMEM, or another negative errno
 * (logged) when it is unusable and must be ignored. */
/* Megabytes for a large org: mapped and unmapped directly, so the memory
 * goes back at once (from malloc it could stay in the heap: glibc raises its
 * mmap threshold after a large free). */
typedef struct Mapped {
        uint8_t *p;
        size_t len;
} Mapped;

static void mapped_free(Mapped *m) {
        if (m->p)
                munmap(m->p, m->len);
}

static int read_org_index(int state_fd, const char *org, Listing *l, Secret ***ret, size_t *ret_n) {
        _cleanup_free_ char *path = strdup_printf("orgs/%s/index", org);
        _cleanup_free_ char *error = NULL;
        _cleanup_(mapped_free) Mapped buf = {};
        _cleanup_close_ int fd = -1;
        struct stat st;
        int r;

        if (!path)
                return -ENOMEM;
        fd = openat(state_fd, path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0) {
                r = -errno;
                if (r != -ENOENT)
                        log_info_errno(r, "Org %s: ignoring its index: %m", org);
                return r;
        }
        if (fstat(fd, &st) < 0)
                r = -errno;
        else if (!S_ISREG(st.st_mode) || (uint64_t) st.st_size > INDEX_FILE_MAX)
                r = -EBADMSG;
        else if (st.st_size == 0)
                r = -EBADMSG;
        else {
                buf.len = (size_t) st.st_size;
                buf.p = mmap(NULL, buf.len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
                if (buf.p == MAP_FAILED) {
                        buf.p = NULL;
                        return -ENOMEM;
                }
                r = read_all(fd, buf.p, buf.len);
        }
        if (r >= 0) {
                l->index_mtime = st.st_mtim;
                r = org_index_parse_some(buf.p, buf.len, org, index_keep, l, ret, ret_n, &error);
        }
        if (r < 0) {
                for (size_t i = 0; i < l->n; i++)
                        l->files[i].from_index = false;
                if (r != -ENOMEM)
                        log_info("Org %s: ignoring its index: %s", org, error ?: strerror(-r));
        }
        return r;
}

static int by_id_qsort(const void *a, const void *b) {
        return strcmp((*(Secret *const *) a)->id, (*(Secret *const *) b)->id);
}

/* The secrets taken from the index (sorted by id) merged with the records
 * parsed (sorted here), by id; both arrays give up their secrets. */
static int merge_by_id(Secret **indexed, size_t n_indexed, Secret **parsed, size_t n_parsed,
                       Secret ***ret, size_t *ret_n) {
        size_t n = 0, i = 0, j = 0;
        Secret **out = reallocarray(NULL, n_indexed + n_parsed + 1, sizeof(Secret *));
        if (!out)
                return -ENOMEM;
        if (n_parsed > 1)
                qsort(parsed, n_parsed, sizeof(Secret *), by_id_qsort);
        while (i < n_indexed || j < n_parsed)
                if (j == n_parsed || (i < n_indexed && strcmp(indexed[i]->id, parsed[j]->id) < 0))
                        out[n++] = indexed[i++];
                else
                        out[n++] = parsed[j++];
        *ret = out;
        *ret_n = n;
        return 0;
}

int store_load_org(int state_fd, const char *org, Secret ***ret, size_t *ret_n, unsigned *ret_quarantined,
                   bool *ret_index_stale) {
        _cleanup_(listing_clear) Listing listing = {};
        _cleanup_free_ char *dir_path = NULL, *org_dir = NULL;
        _cleanup_closedir_ DIR *d = NULL;
        Secret **indexed = NULL, **parsed = NULL, **secrets = NULL;
        size_t n_indexed = 0, n_parsed = 0, allocated = 0, n = 0;
        unsigned quarantined = 0;
        int r, index_r;

        if (!org_name_valid(org))
                return -EINVAL;
        dir_path = strdup_printf("orgs/%s/secrets", org);
        if (!dir_path)
                return -ENOMEM;
        org_dir = strdup_printf("orgs/%s", org);
        if (!org_dir)
                return -ENOMEM;
        remove_leftovers(state_fd, org_dir);    /* org.json, usage.json, index */
        remove_leftovers(state_fd, dir_path);
        d = opendir_at(state_fd, dir_path);
        if (!d && errno != ENOENT)
                return -errno;
        if (d) {                /* else an org without records yet */
                r = list_secrets_dir(d, &listing);
                if (r < 0)
                        return r;
        }
        r = listing_hash(&listing);
        if (r < 0)
                return r;
        index_r = read_org_index(state_fd, org, &listing, &indexed, &n_indexed);
        if (index_r == -ENOMEM)
                return index_r;

        for (size_t i = 0; i < listing.n; i++) {
                const Listed *f = &listing.files[i];
                _cleanup_free_ char *reason = NULL;
                Secret *s = NULL;

                if (f->from_index)
                        continue;
                r = load_record(dirfd(d), org, f->name, &f->stamp, &s, &reason);
                if (r == -ENOMEM)
                        goto fail;
                if (r < 0) {
                        if (store_quarantine(state_fd, org, f->name, reason) >= 0)
                                quarantined++;
                        continue;
                }
                r = push_secret(&parsed, &n_parsed, &allocated, s);
                if (r < 0) {
                        secret_free(s);
                        goto fail;
                }
        }
        r = merge_by_id(indexed, n_indexed, parsed, n_parsed, &secrets, &n);
        if (r < 0)
                goto fail;
        free(indexed);
        free(parsed);
        *ret = secrets;
        *ret_n = n;
        if (ret_quarantined)
                *ret_quarantined = quarantined;
        /* Rewrite an index that missed a record or named one that is gone,
         * and make one for an org with records but none. */
        if (ret_index_stale)
                *ret_index_stale = index_r < 0 ? (index_r != -ENOENT || n > 0)
                                               : (n_parsed > 0 || n_indexed < listing.index_entries);
        return 0;
fail:
        free_secrets(indexed, n_indexed);
        free_secrets(parsed, n_parsed);
        return r;
}

static int strcmp_ptr(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

int store_list_orgs(int state_fd, char ***ret) {
        _cleanup_closedir_ DIR *d = opendir_at(state_fd, "orgs");
        _cleanup_strv_free_ char **l = calloc(1, sizeof(char *));
        struct dirent *de;
        int r;

        if (!l)
                return -ENOMEM;
        if (!d && errno != ENOENT)
                return -errno;
        while (d && (errno = 0, de = readdir(d))) {
                struct stat st;
                if (!org_name_valid(de->d_name))
                        continue;
                if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode))
                        continue;
                r = strv_push(&l, de->d_name);
                if (r < 0)
                        return r;
        }
        if (d && errno != 0)
                return -errno;
        qsort(l, strv_length(l), sizeof(char *), strcmp_ptr);
        *ret = l;
        l = NULL;
        return 0;
}

int store_count_secrets(int state_fd, const char *org, unsigned *ret) {
        if (!org_name_valid(org))
                return -EINVAL;
        _cleanup_free_ char *path = strdup_printf("orgs/%s/secrets", org);
        if (!path)
                return -ENOMEM;
        _cleanup_closedir_ DIR *d = opendir_at(state_fd, path);
        struct dirent *de;
        unsigned n = 0;

        if (!d) {
                if (errno != ENOENT)
                        return -errno;
                *ret = 0;
                return 0;
        }
        while ((errno = 0, de = readdir(d))) {
                _cleanup_free_ char *id = record_id_from_file_name(de->d_name);
                if (id)
                        n++;
        }
        if (errno != 0)
                return -errno;
        *ret = n;
        return 0;
}

unsigned store_count_quarantined(int state_fd, const char *org) {
        _cleanup_closedir_ DIR *d = opendir_at(state_fd, "quarantine");
        size_t len = org ? strlen(org) : 0;
        struct dirent *de;
        unsigned n = 0;

        /* <org>.<file>.<usec>: an org name has no '.', so the prefix is exact. */
        while (d && (de = readdir(d)))
                if (de->d_name[0] != '.' && (!org || (strncmp(de->d_name, org, len) == 0 && de->d_name[len] == '.')))
                        n++;
        return n;
}

/* org.json: the file backend keeps the org's key document as it is. */

int store_load_org_keys(int state_fd, const char *org, json_t **ret) {
        _cleanup_free_ char *path = NULL, *text = NULL;
        size_t len = 0;
        int r;

        if (!org_name_valid(org))
                return -EINVAL;
        path = strdup_printf("orgs/%s/org.json", org);
        if (!path)
                return -ENOMEM;
        r = read_file_at(state_fd, path, ORG_FILE_MAX, &text, &len);
        if (r < 0)
                return r;
        json_t *j = json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL);
        if (!j)
                return -EBADMSG;
        *ret = j;
        return 0;
}

int store_save_org_keys(int state_fd, const char *org, json_t *doc) {
        if (!org_name_valid(org))
                return -EINVAL;
        _cleanup_free_ char *path = strdup_printf("orgs/%s/org.json", org);
        if (!path)
                return -ENOMEM;
        int r = ensure_org_dirs(state_fd, org);
        if (r < 0)
                return r;
        return write_json_atomic_at(state_fd, path, doc, FILE_MODE);
}

/* usage.json */

int store_load_usage(int state_fd, const char *org, json_t **ret) {
        _cleanup_free_ char *path = NULL, *text = NULL;
        size_t len = 0;
        int r;

        if (!org_name_valid(org))
                return -EINVAL;
        path = strdup_printf("orgs/%s/usage.json", org);
        if (!path)
                return -ENOMEM;
        r = read_file_at(state_fd, path, USAGE_FILE_MAX, &text, &len);
        if (r == -ENOENT) {
                *ret = json_object();
                return *ret ? 0 : -ENOMEM;
        }
        if (r < 0)
                return r;
        json_t *j = json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL);
        if (!json_is_object(j)) {
                json_decref(j);
                return -EBADMSG;
        }
        *ret = j;
        return 0;
}

int store_save_usage(int state_fd, const char *org, json_t *usage) {
        if (!org_name_valid(org))
                return -EINVAL;
        _cleanup_free_ char *path = strdup_printf("orgs/%s/usage.json", org);
        if (!path)
                return -ENOMEM;
        int r = ensure_org_dirs(state_fd, org);
        if (r < 0)
                return r;
        return write_json_atomic_at(state_fd, path, usage, FILE_MODE);
}
