/* SPDX-License-Identifier: Apache-2.0 */
/* The store interface: every durable operation the vault makes goes through
 * one Store, whose backend is the files of the state dir (store-files.c,
 * store.h; the default) or another one chosen by VaultConfig.store. The
 * vault and the daemon never know which backend they talk to. Private to
 * the core.
 *
 * Contract every backend keeps:
 *  - Every call returns 0 or a negative errno; nothing is acknowledged to a
 *    caller until the backend's call returned 0 (a file fsync'd and renamed,
 *    a transaction committed).
 *  - A write that fails changed nothing the next load would see.
 *  - -ESTALE from save_secret/delete_secret: someone else (another host)
 *    changed the record since this vault read it; nothing was written. The
 *    vault answers a named, retryable error and refreshes the record. A
 *    backend without other writers (files) never returns it.
 *  - A Secret's stamp is the backend's version of its row or file: what it
 *    held when loaded or last written. save_secret gets the record to write
 *    with the stamp it replaces (zeroes: a new record) and sets *ret_stamp
 *    to the new one; delete_secret gets the record it deletes.
 *
 * How to add a durable operation (e.g. the lifecycle issue's trash or
 * manifest):
 *  1. Add a member to StoreOps below, with its contract in a comment, and a
 *     static inline store_<op>() dispatcher beside the others.
 *  2. The files backend: the real work in store.c (or a new store-*.c)
 *     taking state_fd, as today's operations do, and a thin wrapper in
 *     store-files.c filling the member.
 *  3. Every other backend (store-pg.c once it lands): fill the member too;
 *     a NULL member is a bug, store_open() refuses a backend with one.
 *  4. The vault calls store_<op>(v->store, ...) and nothing else.
 *  5. docs/FORMAT.md says where the data lives in each backend. */
#pragma once

#include "secret.h"
#include "util.h"

typedef struct Store Store;

/* Told by store_op_process() for every org another writer changed. */
typedef void (*store_changed_cb)(const char *org, void *userdata);

typedef struct StoreOps {
        const char *kind;        /* "files", "postgresql" (Status's Store line) */
        void (*free)(Store *st);

        /* Every record of an org, sorted by id, each with its stamp.
         * *ret_quarantined: broken records set aside (and logged).
         * *ret_cache_stale: the backend's load cache wants save_org_index. */
        int (*load_org)(Store *st, const char *org, Secret ***ret, size_t *ret_n, unsigned *ret_quarantined,
                        bool *ret_cache_stale);
        int (*save_secret)(Store *st, const char *org, const Secret *s, RecordStamp *ret_stamp);
        int (*delete_secret)(Store *st, const char *org, const Secret *s);

        /* The org's key document (org-keys.c's business): -ENOENT when
         * absent, -EBADMSG when unusable. */
        int (*load_org_keys)(Store *st, const char *org, json_t **ret);
        int (*save_org_keys)(Store *st, const char *org, json_t *doc);

        /* Lazily written usage ({"<id>": {"last_used", "by", "created"}});
         * absent loads as an empty object. */
        int (*load_usage)(Store *st, const char *org, json_t **ret);
        int (*save_usage)(Store *st, const char *org, json_t *usage);

        /* The org's trash (docs/FORMAT.md, "Trash"): deleted records kept as
         * they were, at most one entry per id, each Secret with ->deleted
         * (µs, the entry's key with its id). trash_secret moves the live
         * record s there as deleted, and once that is durable drops the
         * older entry of the same id deleted at `replaces` (0: none), in one
         * step or two (a load keeps the newer of two). restore_secret moves
         * the entry s back to the live records (-EEXIST when a live record
         * has its id; nothing changes) and sets *ret_stamp. purge_trashed
         * destroys the entry s. save_trashed rewrites the entry s in place
         * (key rotation). load_trash returns the entries sorted by id;
         * *ret_quarantined: broken entries set aside. */
        int (*trash_secret)(Store *st, const char *org, const Secret *s, uint64_t deleted, uint64_t replaces);
        int (*restore_secret)(Store *st, const char *org, const Secret *s, RecordStamp *ret_stamp);
        int (*purge_trashed)(Store *st, const char *org, const Secret *s);
        int (*save_trashed)(Store *st, const char *org, const Secret *s);
        int (*load_trash)(Store *st, const char *org, Secret ***ret, size_t *ret_n, unsigned *ret_quarantined);

        /* The org manifest (docs/FORMAT.md, "Manifest"), a MAC'd document
         * vault-manifest.c reads and writes whole: -ENOENT when absent;
         * loading gives its text as stored (*ret_text NUL-terminated, the
         * vault parses it); saving is durable. quarantine_record sets
         * aside a record the manifest refuses (live, or with ->deleted the
         * trash entry), where an admin can look at it. */
        int (*load_manifest)(Store *st, const char *org, char **ret_text, size_t *ret_len);
        /* text: the document as written, JSON and a newline; text[len] is 0. */
        int (*save_manifest)(Store *st, const char *org, const char *text, size_t len);
        int (*quarantine_record)(Store *st, const char *org, const Secret *s, const char *reason);

        /* A load cache; losing it loses nothing. */
        int (*save_org_index)(Store *st, const char *org, Secret *const *by_id, size_t n);

        /* Group commit. While on, save_secret may stage its write and
         * return before it is durable, and so may save_manifest (staged
         * after the records staged before it, so it reaches the disk no
         * earlier than they do); commit makes every staged write durable
         * and returns 0 or the first error of the commits since it was last
         * called (the backend commits by itself before any other write). A
         * backend whose every write is durable when it returns answers
         * set_group_commit(on) with -EOPNOTSUPP, pending 0, commit 0. */
        int (*set_group_commit)(Store *st, bool on);
        size_t (*pending)(Store *st);
        int (*commit)(Store *st);

        int (*list_orgs)(Store *st, char ***ret);
        int (*count_secrets)(Store *st, const char *org, unsigned *ret);
        /* Records set aside, all of them or (org non-NULL) one org's. */
        unsigned (*count_quarantined)(Store *st, const char *org);

        /* Whether the store answered its last call (false: "degraded",
         * writes fail, the vault serves what it loaded). */
        bool (*degraded)(Store *st);
        /* The master key's fingerprint against the one the store was
         * first used with (recorded then): -EKEYREJECTED when it differs.
         * Backends without shared state accept any (master.json checks). */
        int (*check_master)(Store *st, const char *fingerprint);
        /* Held across a multi-step change of the org (key rotation): other
         * writers of the org wait. *ret_changed: the org changed since it
         * was loaded (reload before going on). */
        int (*lock_org)(Store *st, const char *org, bool *ret_changed);
        void (*unlock_org)(Store *st, const char *org);
        /* Change notifications from other writers: the fd to poll (-1: none
         * now) and a generation that moves when the fd is a new one. */
        int (*watch)(Store *st, int *ret_fd, uint64_t *ret_generation);
        /* Reads what arrived (reconnecting when down) and calls cb for each
         * org loaded here that another writer changed. */
        int (*process)(Store *st, store_changed_cb cb, void *userdata);
} StoreOps;

/* Backends embed this first. */
struct Store {
        const StoreOps *ops;
};

/* The store spec: NULL or "" is the files backend in state_fd. Anything
 * else unknown is -EINVAL with *ret_error (may be NULL) saying why. */
int store_open(const char *spec, int state_fd, Store **ret, char **ret_error);
void store_free(Store *st);
static inline void store_freep(Store **st) { store_free(*st); }

/* The files backend over the state dir (store-files.c). */
int store_files_new(int state_fd, Store **ret);
/* The postgresql backend (store-pg.c): uri is a libpq URI without a
 * password; the password comes from the credential orgvault.pg-password
 * or libpq's own files. Creates or migrates the schema. */
int store_pg_new(const char *uri, Store **ret, char **ret_error);
/* A spec naming the postgresql backend. */
bool store_spec_is_pg(const char *spec);

static inline const char *store_kind(const Store *st) { return st->ops->kind; }

static inline int store_op_load_org(Store *st, const char *org, Secret ***ret, size_t *ret_n, unsigned *ret_quarantined,
                                    bool *ret_cache_stale) {
        return st->ops->load_org(st, org, ret, ret_n, ret_quarantined, ret_cache_stale);
}
static inline int store_op_save_secret(Store *st, const char *org, const Secret *s, RecordStamp *ret_stamp) {
        return st->ops->save_secret(st, org, s, ret_stamp);
}
static inline int store_op_delete_secret(Store *st, const char *org, const Secret *s) {
        return st->ops->delete_secret(st, org, s);
}
static inline int store_op_load_org_keys(Store *st, const char *org, json_t **ret) {
        return st->ops->load_org_keys(st, org, ret);
}
static inline int store_op_save_org_keys(Store *st, const char *org, json_t *doc) {
        return st->ops->save_org_keys(st, org, doc);
}
static inline int store_op_load_usage(Store *st, const char *org, json_t **ret) {
        return st->ops->load_usage(st, org, ret);
}
static inline int store_op_save_usage(Store *st, const char *org, json_t *usage) {
        return st->ops->save_usage(st, org, usage);
}
static inline int store_op_save_org_index(Store *st, const char *org, Secret *const *by_id, size_t n) {
        return st->ops->save_org_index(st, org, by_id, n);
}
static inline int store_op_trash_secret(Store *st, const char *org, const Secret *s, uint64_t deleted,
                                        uint64_t replaces) {
        return st->ops->trash_secret(st, org, s, deleted, replaces);
}
static inline int store_op_restore_secret(Store *st, const char *org, const Secret *s, RecordStamp *ret_stamp) {
        return st->ops->restore_secret(st, org, s, ret_stamp);
}
static inline int store_op_purge_trashed(Store *st, const char *org, const Secret *s) {
        return st->ops->purge_trashed(st, org, s);
}
static inline int store_op_save_trashed(Store *st, const char *org, const Secret *s) {
        return st->ops->save_trashed(st, org, s);
}
static inline int store_op_load_trash(Store *st, const char *org, Secret ***ret, size_t *ret_n,
                                      unsigned *ret_quarantined) {
        return st->ops->load_trash(st, org, ret, ret_n, ret_quarantined);
}
static inline int store_op_load_manifest(Store *st, const char *org, char **ret_text, size_t *ret_len) {
        return st->ops->load_manifest(st, org, ret_text, ret_len);
}
static inline int store_op_save_manifest(Store *st, const char *org, const char *text, size_t len) {
        return st->ops->save_manifest(st, org, text, len);
}
static inline int store_op_quarantine_record(Store *st, const char *org, const Secret *s, const char *reason) {
        return st->ops->quarantine_record(st, org, s, reason);
}
static inline int store_op_set_group_commit(Store *st, bool on) { return st->ops->set_group_commit(st, on); }
static inline size_t store_op_pending(Store *st) { return st->ops->pending(st); }
static inline int store_op_commit(Store *st) { return st->ops->commit(st); }
static inline int store_op_list_orgs(Store *st, char ***ret) { return st->ops->list_orgs(st, ret); }
static inline int store_op_count_secrets(Store *st, const char *org, unsigned *ret) {
        return st->ops->count_secrets(st, org, ret);
}
static inline unsigned store_op_count_quarantined(Store *st, const char *org) {
        return st->ops->count_quarantined(st, org);
}
static inline bool store_op_degraded(Store *st) { return st->ops->degraded(st); }
static inline int store_op_check_master(Store *st, const char *fingerprint) {
        return st->ops->check_master(st, fingerprint);
}
static inline int store_op_lock_org(Store *st, const char *org, bool *ret_changed) {
        return st->ops->lock_org(st, org, ret_changed);
}
static inline void store_op_unlock_org(Store *st, const char *org) { st->ops->unlock_org(st, org); }
static inline int store_op_watch(Store *st, int *ret_fd, uint64_t *ret_generation) {
        return st->ops->watch(st, ret_fd, ret_generation);
}
static inline int store_op_process(Store *st, store_changed_cb cb, void *userdata) {
        return st->ops->process(st, cb, userdata);
}
