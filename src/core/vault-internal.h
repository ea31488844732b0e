/* SPDX-License-Identifier: Apache-2.0 */
/* What the vault's three files share (private to them): the Vault itself and
 * one loaded org. vault.c has the operations, vault-org.c the org table
 * (loading an org, finding its secrets, flushing its lazy state), org-keys.c
 * an org's data keys. */
#pragma once

#include "keyring-cache.h"
#include "name-index.h"
#include "log.h"
#include "org-keys.h"
#include "store-backend.h"
#include "store.h"
#include "vault.h"

typedef struct VaultCensus VaultCensus;
/* One manifest entry: a record's id, created time and version; gone: purged. */
typedef struct ManifestEntry {
        char *id;
        uint64_t created;
        uint32_t version;
        bool gone;
        bool remembered;         /* not a record the org holds (purged or missing) */
} ManifestEntry;

typedef struct DataKey {
        uint32_t id;
        OvKey *key;
} DataKey;

/* One org as loaded from the store. */
typedef struct VaultOrg {
        char *name;
        /* The same secrets twice: by_id owns them, sorted by id (lookups);
         * by_name sorted by name ignoring ASCII case (listing, uniqueness). */
        Secret **by_id;
        Secret **by_name;
        size_t n, allocated;
        OrgKeys keys;            /* n_keys == 0 until the first add */
        char *keys_error;        /* org.json unreadable: refuse key operations */
        DataKey *data_keys;      /* unwrapped, wiped on seal */
        size_t n_data_keys;
        bool usage_dirty;
        bool index_dirty;        /* orgs/<org>/index does not match memory */
        NameIndex *names;        /* search index of by_name, built at the first search; NULL: none */
        Secret **trash;          /* deleted secrets, sorted by id, one per id */
        size_t n_trash;
        ManifestEntry *gone;     /* purged records the manifest remembers */
        size_t n_gone;
        bool manifest_checked;   /* the records were checked against it */
        bool manifest_dirty;     /* a write of it failed or waits for the keys */
        bool manifest_at_commit; /* changed while group commit was on: written at the commit */
        bool stale;              /* another writer changed it: reload before use */
} VaultOrg;

struct Vault {
        int state_fd;            /* local: master key files, keyring cache name */
        int lock_fd;             /* the state dir's lock (state-lock.h), held until vault_free */
        Store *store;            /* every durable record, key and usage write */
        char *state_dir;
        KeyMode key_mode;
        const TypeRegistry *types;
        KeyringCache *cache;
        OvKey *master;           /* NULL while sealed */
        char *sealed_reason;     /* why, when it is not a passphrase still to come */
        char master_fp[17];
        VaultOrg **orgs;
        size_t n_orgs;
        vault_event_cb event_cb;
        void *event_userdata;
        unsigned trash_days;     /* 0: the trash is never purged by age */
        unsigned keep_versions;  /* earlier values kept per secret */
        uint64_t (*clock)(void); /* NULL: now_usec(); tests inject one */
        VaultCensus *census;     /* Status's counts, NULL until the first */
        bool group_commit;       /* the store stages writes (vault-commit.c) */
        bool manifests_pending;  /* an org's manifest_at_commit is set */
};

/* The vault's clock for the trash's ages, expiry and reminders. */
static inline uint64_t vault_now(const Vault *v) { return v->clock ? v->clock() : now_usec(); }
static inline void vault_emit(Vault *v, VaultEvent ev, const VaultOrg *o, const Secret *s) {
        if (v->event_cb)
                v->event_cb(v, ev, o->name, s, v->event_userdata);
}

/* vault-org.c: the org table */

/* Reloads an org from the store and applies the difference to memory,
 * emitting an event per secret added, changed or removed elsewhere. */
int org_refresh(Vault *v, VaultOrg *o);
/* A store call failed with r: -ESTALE means another writer got there
 * first, so the org is reloaded before its next use. */
void org_note_store_error(VaultOrg *o, int r);

/* The loaded org, loading it on first use (which may finish an interrupted
 * key rotation: org_resume_rotation). */
int org_get(Vault *v, const char *name, VaultOrg **ret, OvError *e);
/* The org and its secret id: NotFound when absent. */
int org_secret(Vault *v, const char *org, const char *id, VaultOrg **ret_org, Secret **ret, OvError *e);
Secret *org_find(const VaultOrg *o, const char *id);
/* A secret whose name equals name ignoring ASCII case, other than except. */
const Secret *org_find_name(const VaultOrg *o, const char *name, const Secret *except);
/* Index of id in a (sorted by id: an org's by_id, its trash), or -1 with
 * *ret_pos where it would go. */
ssize_t secrets_find_id(Secret *const *a, size_t n, const char *id, size_t *ret_pos);
int org_reserve(VaultOrg *o);                   /* room for one more: org_insert can't fail */
void org_insert(VaultOrg *o, Secret *s);        /* takes ownership */
void org_unlink(VaultOrg *o, Secret *s);        /* from both indexes; does not free */
/* The secrets of o whose name may contain needle, in by_name's order (the
 * caller still checks each): -EOPNOTSUPP when the search index cannot
 * narrow it (scan by_name instead), -ENOMEM. */
int org_search_candidates(VaultOrg *o, const char *needle, Secret ***ret, size_t *ret_n);
void org_free(VaultOrg *o);
/* Writes a record durably; *ret_stamp gets its file's new stamp, and the
 * org index is due for a rewrite. */
int org_save_record(Vault *v, VaultOrg *o, const Secret *next, RecordStamp *ret_stamp);
/* A failed store call as the named error: NoMemory, Conflict (another
 * writer changed it first), NameExists (another writer took the name) or
 * StorageFailure. */
int storage_error(OvError *e, int r, const char *what, const char *org, const char *id);

/* vault-versions.c: kept versions */

/* Makes (key_id, *nonce, *ct), sealed as version s->version + 1, the
 * current value of s: the value it replaces becomes the newest earlier one
 * and those beyond keep_versions are dropped, durably first. Takes *nonce
 * and *ct on success. */
int org_replace_value(Vault *v, VaultOrg *o, Secret *s, uint32_t key_id, char **nonce, char **ct,
                      const SecretOptions *opts, uint32_t *ret_version, OvError *e);

/* vault-manifest.c: the org manifest */

/* Writes the manifest of what the org holds now, MAC'd under its sealing
 * key (strict: key rotation needs it before dropping the old key). */
int org_write_manifest(Vault *v, VaultOrg *o, OvError *e);
/* The same after a durable change: a failure is logged and retried. */
void org_update_manifest(Vault *v, VaultOrg *o);
/* vault-commit.c: o's manifest is written at the next vault_commit. */
void org_manifest_at_commit(Vault *v, VaultOrg *o);
/* Remembers a purged record, so a copy of it put back is refused. */
void org_note_purged(Vault *v, VaultOrg *o, const Secret *s);
/* The least `created` a new secret with this id may have: later than any
 * earlier incarnation the org remembers (trash, purged), even if the clock
 * went back, or a load would take the new one for a stale copy. */
uint64_t org_first_created(const VaultOrg *o, const char *id);
/* At load or unseal, with the keys: refuses (quarantines, logs) every
 * record older than the manifest says; writes it when missing or behind. */
void org_check_manifest(Vault *v, VaultOrg *o);
void org_free_manifest(VaultOrg *o);

/* vault-trash.c: the org's trash */

/* Moves a live secret to the trash (durably first; it replaces an older
 * entry of the same id). s stays valid, owned by the trash. */
int org_trash_secret(Vault *v, VaultOrg *o, Secret *s, OvError *e);
/* Purges entries deleted more than trash_days ago (logged). */
void org_expire_trash(Vault *v, VaultOrg *o);
void org_free_trash(VaultOrg *o);
void org_trash_remove(VaultOrg *o, Secret *s);  /* from the trash array; does not free */

/* vault-census.c: Status's counts, kept in memory */

void census_free(VaultCensus *c);
/* Loading org moved n broken records to quarantine/. */
void census_note_quarantined(Vault *v, const char *org, unsigned n);

/* org-keys.c: an org's data keys */

/* The master key is loaded and org.json was readable. */
int org_keys_usable(Vault *v, VaultOrg *o, OvError *e);
/* Seals the fields' compact JSON under the org's sealing key, making the
 * org's first key when it has none. */
int org_seal_fields(Vault *v, VaultOrg *o, const char *id, const char *type, uint32_t version, json_t *fields,
                    uint32_t *ret_key_id, char **ret_nonce, char **ret_ct, OvError *e);
/* The same for plaintext already in hand (a rollback's earlier value). */
int org_seal_plain(Vault *v, VaultOrg *o, const char *id, const char *type, uint32_t version, const char *plain,
                   size_t len, uint32_t *ret_key_id, char **ret_nonce, char **ret_ct, OvError *e);
/* The secret's decrypted fields (free with crypto_free_plain). */
int org_open_value(Vault *v, VaultOrg *o, const Secret *s, char **ret_plain, size_t *ret_len, OvError *e);
/* One kept earlier value's fields. */
int org_open_previous(Vault *v, VaultOrg *o, const Secret *s, const SecretValue *p, char **ret_plain,
                      size_t *ret_len, OvError *e);
/* Re-seals s's value and kept earlier values under key `to` and writes it
 * (record or trash entry): no-op when all are under it already. */
int org_reseal_secret(Vault *v, VaultOrg *o, Secret *s, uint32_t to, OvError *e);
/* Records still in format 1 (read from an older orgvault) are re-sealed
 * with format 2's AD and rewritten, once the keys are there (at load or
 * unseal). Logs the outcome; a failure leaves the record readable as is. */
void org_migrate_records(Vault *v, VaultOrg *o);
/* New data key, every record re-sealed under it, old keys dropped. */
int org_rotate_keys(Vault *v, VaultOrg *o, OvError *e);
/* The step that makes a read path write: an org whose org.json says a
 * rotation was under way (a crash during RotateKeys) has it finished when it
 * is loaded or the vault is unsealed. Logs the outcome; a failure leaves the
 * rotation to the next try. */
void org_resume_rotation(Vault *v, VaultOrg *o);
void org_forget_data_keys(VaultOrg *o);         /* wipes the unwrapped keys */
/* The unwrapped data key with this id (memory, keyring cache or org.json). */
int org_data_key_get(Vault *v, VaultOrg *o, uint32_t id, const OvKey **ret, OvError *e);
/* The key new values are sealed with (the rotation's target while one runs). */
uint32_t org_sealing_key(const VaultOrg *o);
