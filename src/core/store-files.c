/* SPDX-License-Identifier: Apache-2.0 */
/* The files backend of the store interface: the state dir's files as
 * store.c writes them (docs/FORMAT.md). One host, no other writers: it
 * never answers -ESTALE. Also store_open(), which picks the backend. */

#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "store-backend.h"
#include "store.h"

typedef struct FilesStore {
        Store base;
        int state_fd;            /* borrowed from the vault */
        StoreBatch *batch;       /* staged writes, and the outcome of their commits */
        bool staging;            /* group commit on: record and manifest writes are staged */
} FilesStore;

static int fd_of(Store *st) { return ((FilesStore *) st)->state_fd; }

/* Every write but a staged one makes the staged ones durable: a delete
 * or a move to the trash must find the file it names, and anything written
 * after a record must not reach the disk before it. The outcome stays with
 * the batch for the callers waiting on it (files_commit). */
static int commit_first(Store *st) {
        FilesStore *f = (FilesStore *) st;
        (void) store_batch_commit(f->batch, f->state_fd);
        return fd_of(st);
}

static void files_free(Store *st) {
        FilesStore *f = (FilesStore *) st;
        (void) store_batch_commit(f->batch, f->state_fd);
        store_batch_free(f->batch);
        free(st);
}

/* Off, a record write is durable when it returns again (after what is
 * staged); what is staged and the outcome stay for files_commit. */
static int files_set_group_commit(Store *st, bool on) {
        FilesStore *f = (FilesStore *) st;
        if (on && !f->batch && !(f->batch = store_batch_new()))
                return -ENOMEM;
        f->staging = on;
        return 0;
}

static size_t files_pending(Store *st) { return store_batch_pending(((FilesStore *) st)->batch); }

static int files_commit(Store *st) {
        FilesStore *f = (FilesStore *) st;
        return store_batch_take_result(f->batch, f->state_fd);
}

/* A load removes the org's temp leftovers (none may be staged) and
 * quarantines broken records: writes, so after what is staged. */
static int files_load_org(Store *st, const char *org, Secret ***ret, size_t *ret_n, unsigned *ret_quarantined,
                          bool *ret_cache_stale) {
        return store_load_org(commit_first(st), org, ret, ret_n, ret_quarantined, ret_cache_stale);
}

static int files_save_secret(Store *st, const char *org, const Secret *s, RecordStamp *ret_stamp) {
        FilesStore *f = (FilesStore *) st;
        if (f->staging)
                return store_write_secret(f->state_fd, f->batch, org, s, ret_stamp);
        return store_save_secret(commit_first(st), org, s, ret_stamp);
}

static int files_delete_secret(Store *st, const char *org, const Secret *s) {
        return store_delete_secret(commit_first(st), org, s->id);
}

static int files_load_org_keys(Store *st, const char *org, json_t **ret) {
        return store_load_org_keys(fd_of(st), org, ret);
}

static int files_save_org_keys(Store *st, const char *org, json_t *doc) {
        return store_save_org_keys(commit_first(st), org, doc);
}

static int files_load_usage(Store *st, const char *org, json_t **ret) {
        return store_load_usage(fd_of(st), org, ret);
}

static int files_save_usage(Store *st, const char *org, json_t *usage) {
        return store_save_usage(commit_first(st), org, usage);
}

static int files_save_org_index(Store *st, const char *org, Secret *const *by_id, size_t n) {
        return store_save_org_index(commit_first(st), org, by_id, n);
}

static int files_trash_secret(Store *st, const char *org, const Secret *s, uint64_t deleted, uint64_t replaces) {
        return store_trash_secret(commit_first(st), org, s->id, deleted, replaces);
}

static int files_restore_secret(Store *st, const char *org, const Secret *s, RecordStamp *ret_stamp) {
        return store_restore_secret(commit_first(st), org, s->id, s->deleted, ret_stamp);
}

static int files_purge_trashed(Store *st, const char *org, const Secret *s) {
        return store_purge_trashed(commit_first(st), org, s->id, s->deleted);
}

static int files_save_trashed(Store *st, const char *org, const Secret *s) {
        return store_save_trashed(commit_first(st), org, s);
}

static int files_load_trash(Store *st, const char *org, Secret ***ret, size_t *ret_n, unsigned *ret_quarantined) {
        return store_load_trash(commit_first(st), org, ret, ret_n, ret_quarantined);   /* it may quarantine */
}

static int files_load_manifest(Store *st, const char *org, char **ret_text, size_t *ret_len) {
        return store_load_manifest(fd_of(st), org, ret_text, ret_len);
}

/* Staged, the manifest is renamed after the records staged before it
 * (the vault stages it last, at its commit); else after they are durable. */
static int files_save_manifest(Store *st, const char *org, const char *text, size_t len) {
        FilesStore *f = (FilesStore *) st;
        if (f->staging)
                return store_write_manifest(f->state_fd, f->batch, org, text, len);
        return store_save_manifest(commit_first(st), org, text, len);
}

static int files_quarantine_record(Store *st, const char *org, const Secret *s, const char *reason) {
        return store_quarantine_record(commit_first(st), org, s, reason);
}

static int files_list_orgs(Store *st, char ***ret) { return store_list_orgs(fd_of(st), ret); }

static int files_count_secrets(Store *st, const char *org, unsigned *ret) {
        return store_count_secrets(fd_of(st), org, ret);
}

static unsigned files_count_quarantined(Store *st, const char *org) {
        return store_count_quarantined(fd_of(st), org);
}

static bool files_degraded(Store *st) { return false; }
static int files_check_master(Store *st, const char *fingerprint) { return 0; }   /* master.json does */

static int files_lock_org(Store *st, const char *org, bool *ret_changed) {
        *ret_changed = false;    /* one writer: this vault */
        return 0;
}

static void files_unlock_org(Store *st, const char *org) {}

static int files_watch(Store *st, int *ret_fd, uint64_t *ret_generation) {
        *ret_fd = -1;
        *ret_generation = 0;
        return 0;
}

static int files_process(Store *st, store_changed_cb cb, void *userdata) { return 0; }

static const StoreOps files_ops = {
        .kind = "files",
        .free = files_free,
        .load_org = files_load_org,
        .save_secret = files_save_secret,
        .delete_secret = files_delete_secret,
        .load_org_keys = files_load_org_keys,
        .save_org_keys = files_save_org_keys,
        .load_usage = files_load_usage,
        .save_usage = files_save_usage,
        .save_org_index = files_save_org_index,
        .trash_secret = files_trash_secret,
        .restore_secret = files_restore_secret,
        .purge_trashed = files_purge_trashed,
        .save_trashed = files_save_trashed,
        .load_trash = files_load_trash,
        .load_manifest = files_load_manifest,
        .save_manifest = files_save_manifest,
        .quarantine_record = files_quarantine_record,
        .set_group_commit = files_set_group_commit,
        .pending = files_pending,
        .commit = files_commit,
        .list_orgs = files_list_orgs,
        .count_secrets = files_count_secrets,
        .count_quarantined = files_count_quarantined,
        .degraded = files_degraded,
        .check_master = files_check_master,
        .lock_org = files_lock_org,
        .unlock_org = files_unlock_org,
        .watch = files_watch,
        .process = files_process,
};

int store_files_new(int state_fd, Store **ret) {
        int r = store_prepare(state_fd);
        if (r < 0)
                return r;
        FilesStore *f = calloc(1, sizeof(FilesStore));
        if (!f)
                return -ENOMEM;
        f->base.ops = &files_ops;
        f->state_fd = state_fd;
        *ret = &f->base;
        return 0;
}

bool store_spec_is_pg(const char *spec) {
        return spec && (strncmp(spec, "postgresql://", 13) == 0 || strncmp(spec, "postgres://", 11) == 0);
}

/* Every operation filled in: a backend that lacks one is a bug, caught at
 * open rather than at the first call of it. */
static bool ops_complete(const StoreOps *ops) {
        typedef void (*fn_t)(void);
        const fn_t *f = (const fn_t *) (const void *) &ops->free;
        size_t n = (sizeof(StoreOps) - offsetof(StoreOps, free)) / sizeof(fn_t);
        for (size_t i = 0; i < n; i++)
                if (!f[i])
                        return false;
        return true;
}

static int store_open_any(const char *spec, int state_fd, Store **ret, char **ret_error) {
        if (!spec || !*spec || strcmp(spec, "files") == 0)
                return store_files_new(state_fd, ret);
        if (store_spec_is_pg(spec))
                return store_pg_new(spec, ret, ret_error);
        if (ret_error)
                *ret_error = strdup("Unknown store: neither \"files\" nor a postgresql:// URI (the spec is not echoed: it may hold credentials)");
        return -EINVAL;
}

int store_open(const char *spec, int state_fd, Store **ret, char **ret_error) {
        Store *st = NULL;
        int r = store_open_any(spec, state_fd, &st, ret_error);
        if (r < 0)
                return r;
        if (!ops_complete(st->ops)) {
                if (ret_error)
                        *ret_error = strdup_printf("The %s store lacks an operation (a bug)", st->ops->kind);
                store_free(st);
                return -ENOSYS;
        }
        *ret = st;
        return 0;
}

void store_free(Store *st) {
        if (st)
                st->ops->free(st);
}
