/* SPDX-License-Identifier: Apache-2.0 */
/* The vault: orgs and their secrets in memory, every operation of the API
 * below the authorization layer. It validates input, seals values and writes
 * durably; it does not know who calls (the bus layer checks policy first).
 *
 * An org is loaded on its first use by any call, reads included. If its
 * org.json says a key rotation was interrupted (a crash during
 * vault_rotate_keys), that load finishes the rotation: every record still
 * under an old key is re-sealed and written. So a read may write, and may
 * take as long as a rotation; vault_unseal does the same for loaded orgs. */
#pragma once

#include "master-key.h"
#include "ov-error.h"
#include "secret-types.h"
#include "secret.h"

typedef struct Vault Vault;

typedef struct VaultConfig {
        const char *state_dir;
        const char *store;       /* NULL: the files of state_dir; see store_open() */
        KeyMode key_mode;
        unsigned keyring_timeout_sec;    /* 0 disables the keyring cache */
        unsigned trash_days;             /* purge trash entries older than this; 0 = never */
        unsigned keep_versions;          /* earlier values kept per secret (0..OV_VERSIONS_MAX) */
        uint64_t (*clock)(void);         /* µs since the epoch; NULL = the real clock (tests inject one) */
        uint64_t lock_timeout_usec;      /* wait for another holder of the state lock; 0: none */
} VaultConfig;

/* Opens (creating) the state dir, takes its lock (state-lock.h) before
 * reading or writing anything in it and holds it until vault_free, prepares
 * the store, loads the master key (a passphrase vault may stay sealed).
 * Orgs are loaded on first use. */
int vault_open(Vault **ret, const VaultConfig *cfg, const TypeRegistry *types, OvError *e);
void vault_free(Vault *v);       /* flushes lazy state, wipes keys */
static inline void vault_freep(Vault **v) { vault_free(*v); }

bool vault_is_sealed(const Vault *v);
KeyMode vault_key_mode(const Vault *v);
int vault_unseal(Vault *v, const char *passphrase, size_t len, OvError *e);
int vault_seal(Vault *v, OvError *e);    /* wipes keys, revokes the keyring cache */

/* Called when a secret appears, changes or disappears (for D-Bus objects). */
typedef enum VaultEvent { VAULT_SECRET_ADDED, VAULT_SECRET_CHANGED, VAULT_SECRET_REMOVED } VaultEvent;
typedef void (*vault_event_cb)(Vault *v, VaultEvent ev, const char *org, const Secret *s, void *userdata);
void vault_set_event_callback(Vault *v, vault_event_cb cb, void *userdata);

typedef struct SecretFilter {
        const char *search;      /* case-insensitive substring of name, or NULL */
        const char *type;        /* or NULL */
        const char *feature;     /* type's used_by contains it, or NULL */
        uint32_t limit;          /* 0 = no limit */
        uint32_t offset;
        uint64_t due_within;     /* µs: only secrets that expire or are due for rotation
                                  * within this long from now (or already); 0 = all */
} SecretFilter;

/* Whether s is due within `within` µs of now: what is due ("expires" or
 * "rotation", the earlier of the two) and when. */
bool secret_due(const Secret *s, uint64_t now, uint64_t within, const char **ret_what, uint64_t *ret_when);

/* Borrowed pointers sorted by name (ASCII case-insensitive); free only the
 * array. Valid until the next mutating call. */
int vault_list(Vault *v, const char *org, const SecretFilter *f, const Secret ***ret, size_t *ret_n, OvError *e);
int vault_get(Vault *v, const char *org, const char *id, const Secret **ret, OvError *e);
/* Every org with records on disk or known in memory (for object enumeration). */
int vault_loaded_orgs(Vault *v, char ***ret);

/* What an add or update sets besides the value: who sets it (a user name
 * or uid, listed by ListVersions) and the reminders, which stay as they
 * were on an update unless given. */
typedef struct SecretOptions {
        const char *set_by;              /* NULL: not known */
        bool has_expires;
        uint64_t expires;                /* µs since the epoch; 0 = none */
        bool has_rotate_every;
        uint64_t rotate_every;           /* µs; 0 = none */
} SecretOptions;
/* InvalidArgs unless expires and rotate_every are in range. */
int vault_check_options(const SecretOptions *o, OvError *e);

/* Calls cb for every live secret of every org on disk that expires or is
 * due for rotation within `within` µs (or is overdue), with what is due and
 * when, in org then name order; ages each org's trash on the way. Returns
 * how many it reported, or a negative errno. */
typedef void (*vault_due_cb)(const char *org, const Secret *s, const char *what, uint64_t when, uint64_t now,
                             void *userdata);
int vault_for_each_due(Vault *v, uint64_t within, vault_due_cb cb, void *userdata, OvError *e);

/* fields: JSON object of strings. Warnings: NULL-terminated, caller frees. */
int vault_add(Vault *v, const char *org, const char *type, const char *name, const char *id,
              json_t *fields, char **ret_id, char ***ret_warnings, OvError *e);
int vault_update(Vault *v, const char *org, const char *id, json_t *fields,
                 uint32_t *ret_version, char ***ret_warnings, OvError *e);
/* The same with options (NULL: none). An update keeps the value it
 * replaces as an earlier version (up to keep_versions). */
int vault_add_with(Vault *v, const char *org, const char *type, const char *name, const char *id, json_t *fields,
                   const SecretOptions *opts, char **ret_id, char ***ret_warnings, OvError *e);
int vault_update_with(Vault *v, const char *org, const char *id, json_t *fields, const SecretOptions *opts,
                      uint32_t *ret_version, char ***ret_warnings, OvError *e);

/* A secret's versions, newest (the current one) first. Strings borrowed
 * (valid until the next mutating call); free only the array. */
typedef struct SecretVersionInfo {
        uint32_t version;
        uint64_t set;            /* µs since the epoch */
        const char *by;          /* "" when not known */
        uint32_t key_id;
} SecretVersionInfo;
int vault_list_versions(Vault *v, const char *org, const char *id, SecretVersionInfo **ret, size_t *ret_n,
                        OvError *e);
/* A new version whose value is kept version `version`'s, made inside the
 * vault (no value is returned); references, id and name stay. NotFound for
 * a version not kept, InvalidArgs for the current one. */
int vault_rollback(Vault *v, const char *org, const char *id, uint32_t version, const char *by,
                   uint32_t *ret_version, OvError *e);
/* The same checks as vault_add/vault_update, in the same order, with the
 * same errors, writing nothing (the page's "Next"). name may be NULL or ""
 * (not chosen yet): then only the name's checks are skipped. */
int vault_check_add(Vault *v, const char *org, const char *type, const char *name, const char *id,
                    json_t *fields, char ***ret_warnings, OvError *e);
int vault_check_update(Vault *v, const char *org, const char *id, json_t *fields, char ***ret_warnings,
                       OvError *e);
int vault_rename(Vault *v, const char *org, const char *id, const char *name, OvError *e);
/* Moves the secret, with its references and versions, to the org's trash
 * (Resolve then answers as for a missing secret). Refuses with
 * OV_ERR_IN_USE listing the references unless force; on a forced delete
 * *ret_broken gets the references it broke ("feature target"). */
int vault_delete(Vault *v, const char *org, const char *id, bool force, char ***ret_broken, OvError *e);
/* The trash: deleted secrets, kept trash_days (entries older are purged
 * whenever the org's trash is used). Borrowed pointers sorted by id, each
 * with ->deleted set; free only the array. */
int vault_list_trash(Vault *v, const char *org, const Secret ***ret, size_t *ret_n, OvError *e);
/* Brings a trashed secret back with its versions and references:
 * OV_ERR_NAME_EXISTS when a live secret took its id or its name. */
int vault_restore(Vault *v, const char *org, const char *id, OvError *e);
/* Destroys a trashed secret now. */
int vault_purge(Vault *v, const char *org, const char *id, OvError *e);
int vault_add_reference(Vault *v, const char *org, const char *id, const char *feature, const char *target, OvError *e);
int vault_remove_reference(Vault *v, const char *org, const char *id, const char *feature, const char *target, OvError *e);

/* Decrypts the value: *ret_json is {"type": ..., "fields": {...}} as
 * text in locked memory (free with crypto_free_plain). Sets LastUsed/By in
 * memory; flushed by vault_flush_usage. */
int vault_resolve(Vault *v, const char *org, const char *id, const char *used_by,
                  char **ret_json, size_t *ret_len, OvError *e);
/* Like vault_resolve, but one field's raw bytes. */
int vault_resolve_field(Vault *v, const char *org, const char *id, const char *field, const char *used_by,
                        char **ret_value, size_t *ret_len, OvError *e);

/* New data key, every record re-sealed; resumable after a crash. */
int vault_rotate_keys(Vault *v, const char *org, OvError *e);

/* A store shared with other hosts tells of their changes: poll fd (-1:
 * none now, retry with vault_store_process on a timer) and re-add the
 * watch when the generation moves. generation 0: a store without other
 * writers, nothing to watch. vault_store_process reads what arrived,
 * reconnecting when needed, and reloads what others changed, emitting
 * the same events as local changes. */
int vault_store_watch(Vault *v, int *ret_fd, uint64_t *ret_generation);
int vault_store_process(Vault *v);

/* Writes lazy state of orgs with pending changes: LastUsed (usage.json) and
 * the org index (a load cache). No-op when none. */
int vault_flush_usage(Vault *v);

/* Group commit (the daemon turns it on for each call whose answer it holds
 * until vault_commit, and off for every other): while on, a change's record
 * writes may return once staged, before they are durable, and
 * vault_commit_pending() says so; the caller must not acknowledge the change
 * before vault_commit() returned 0. While off, every write is durable when
 * it returns, as without group commit (what is staged is committed first).
 * A failed commit is an error for every change staged since the last
 * vault_commit(), and the vault forgets its loaded orgs, so what it serves
 * next is what the disk holds. */
int vault_set_group_commit(Vault *v, bool on);
bool vault_commit_pending(Vault *v);
int vault_commit(Vault *v);
bool vault_usage_dirty(const Vault *v);        /* lazy state pending */

typedef struct VaultStatus {
        bool sealed;
        KeyMode key_mode;
        bool keyring_cache;
        const char *store;       /* "files", "postgresql" (static) */
        bool store_degraded;     /* the store did not answer: writes fail, loaded state serves */
} VaultStatus;
int vault_status(Vault *v, VaultStatus *ret);

typedef struct VaultCounts {
        unsigned orgs;           /* orgs with a directory (or secrets in memory) */
        unsigned secrets;
        unsigned quarantined;    /* records moved to quarantine/ */
} VaultCounts;
/* Counts of the given orgs (NULL: every org, and all of quarantine/), from
 * memory: each directory is read at most once per Vault (vault-census.c). */
int vault_counts(Vault *v, char *const *orgs, VaultCounts *ret);
