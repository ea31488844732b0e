/* SPDX-License-Identifier: Apache-2.0 */
/* The vault in memory: each org's secrets, its data keys and the master key.
 * Every mutation builds the new record, writes it durably and only then
 * changes memory, so a failed write leaves both disk and memory as they were. */

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sodium.h>

#include "log.h"
#include "vault.h"

/* Moves ownership out of a _cleanup_ variable. */
#define TAKE_PTR(p) ({ __typeof__(p) _taken_ = (p); (p) = NULL; _taken_; })

typedef struct DataKey {
        uint32_t id;
        OvKey *key;
} DataKey;

typedef struct Org {
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
} Org;

struct Vault {
        int state_fd;
        char *state_dir;
        KeyMode key_mode;
        const TypeRegistry *types;
        KeyringCache *cache;
        OvKey *master;           /* NULL while sealed */
        char master_fp[17];
        Org **orgs;
        size_t n_orgs;
        vault_event_cb event_cb;
        void *event_userdata;
};

static int org_finish_rotation(Vault *v, Org *o, OvError *e);

/* ASCII-only case folding: names compare the same in every locale. */
static int ascii_casecmp(const char *a, const char *b) {
        for (;; a++, b++) {
                int ca = (unsigned char) *a, cb = (unsigned char) *b;
                if (ca >= 'A' && ca <= 'Z')
                        ca += 'a' - 'A';
                if (cb >= 'A' && cb <= 'Z')
                        cb += 'a' - 'A';
                if (ca != cb || ca == 0)
                        return ca - cb;
        }
}

static int name_order(const Secret *a, const Secret *b) {
        int c = ascii_casecmp(a->name, b->name);
        return c != 0 ? c : strcmp(a->id, b->id);
}

static int by_name_qsort(const void *a, const void *b) {
        return name_order(*(Secret *const *) a, *(Secret *const *) b);
}

/* Index of id in by_id, or -1 with *ret_pos where it would go. */
static ssize_t org_find_id(const Org *o, const char *id, size_t *ret_pos) {
        size_t lo = 0, hi = o->n;
        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                int c = strcmp(o->by_id[mid]->id, id);
                if (c == 0)
                        return (ssize_t) mid;
                if (c < 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        if (ret_pos)
                *ret_pos = lo;
        return -1;
}

/* Position of s in by_name (exact), or where it would go. */
static size_t org_name_pos(const Org *o, const Secret *s) {
        size_t lo = 0, hi = o->n;
        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                if (name_order(o->by_name[mid], s) < 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return lo;
}

static Secret *org_find(const Org *o, const char *id) {
        ssize_t i = org_find_id(o, id, NULL);
        return i < 0 ? NULL : o->by_id[i];
}

/* A secret whose name equals name ignoring ASCII case, other than except. */
static const Secret *org_find_name(const Org *o, const char *name, const Secret *except) {
        size_t lo = 0, hi = o->n;
        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                if (ascii_casecmp(o->by_name[mid]->name, name) < 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        for (size_t i = lo; i < o->n && ascii_casecmp(o->by_name[i]->name, name) == 0; i++)
                if (o->by_name[i] != except)
                        return o->by_name[i];
        return NULL;
}

static int org_reserve(Org *o) {
        if (o->n < o->allocated)
                return 0;
        size_t m = o->allocated ? o->allocated * 2 : 16;
        Secret **a = reallocarray(o->by_id, m, sizeof(Secret *));
        if (!a)
                return -ENOMEM;
        o->by_id = a;
        a = reallocarray(o->by_name, m, sizeof(Secret *));
        if (!a)
                return -ENOMEM;
        o->by_name = a;
        o->allocated = m;
        return 0;
}

static void array_insert(Secret **a, size_t n, size_t pos, Secret *s) {
        memmove(a + pos + 1, a + pos, (n - pos) * sizeof(Secret *));
        a[pos] = s;
}

static void array_remove(Secret **a, size_t n, size_t pos) {
        memmove(a + pos, a + pos + 1, (n - pos - 1) * sizeof(Secret *));
}

/* Takes ownership of s; call org_reserve() first so it cannot fail. */
static void org_insert(Org *o, Secret *s) {
        size_t id_pos = 0;
        (void) org_find_id(o, s->id, &id_pos);
        size_t name_pos = org_name_pos(o, s);
        array_insert(o->by_id, o->n, id_pos, s);
        array_insert(o->by_name, o->n, name_pos, s);
        o->n++;
}

/* Unlinks s from both indexes (does not free it). */
static void org_unlink(Org *o, Secret *s) {
        ssize_t i = org_find_id(o, s->id, NULL);
        size_t name_pos = org_name_pos(o, s);
        if (i >= 0)
                array_remove(o->by_id, o->n, (size_t) i);
        array_remove(o->by_name, o->n, name_pos);
        o->n--;
}

static void org_forget_data_keys(Org *o) {
        for (size_t i = 0; i < o->n_data_keys; i++)
                ov_key_free(o->data_keys[i].key);
        free(o->data_keys);
        o->data_keys = NULL;
        o->n_data_keys = 0;
}

static void org_free(Org *o) {
        if (!o)
                return;
        for (size_t i = 0; i < o->n; i++)
                secret_free(o->by_id[i]);
        free(o->by_id);
        free(o->by_name);
        org_keys_clear(&o->keys);
        free(o->keys_error);
        org_forget_data_keys(o);
        free(o->name);
        free(o);
}

static void org_freep(Org **o) { org_free(*o); }

static int storage_error(OvError *e, int r, const char *what, const char *org, const char *id) {
        if (r == -ENOMEM)
                return ov_error_set(e, OV_ERR_NO_MEMORY, "Out of memory");
        return ov_error_set(e, OV_ERR_STORAGE_FAILURE, "Cannot %s %s%s%s: %s", what, org,
                            id ? "/" : "", id ?: "", strerror(-r));
}

/* Writes a record durably; *ret_stamp gets its file's new stamp, and the
 * org index is due for a rewrite. */
static int org_save_record(Vault *v, Org *o, const Secret *next, RecordStamp *ret_stamp) {
        int r = store_save_secret(v->state_fd, o->name, next, ret_stamp);
        if (r >= 0)
                o->index_dirty = true;
        return r;
}

/* usage.json entries apply only to the secret they were written for: a
 * deleted secret's usage must not resurface on a new one with its id. */
static void org_apply_usage(Org *o, json_t *usage) {
        const char *id;
        json_t *entry;

        json_object_foreach(usage, id, entry) {
                Secret *s = org_find(o, id);
                json_t *last = json_object_get(entry, "last_used"), *by = json_object_get(entry, "by");
                json_t *created = json_object_get(entry, "created");
                if (!s || !json_is_integer(last) || !json_is_string(by) || !json_is_integer(created) ||
                    json_integer_value(last) <= 0 || json_integer_value(created) != (json_int_t) s->created ||
                    !reference_text_valid(json_string_value(by)))
                        continue;
                char *b = strdup(json_string_value(by));
                if (!b)
                        continue;
                free(s->last_used_by);
                s->last_used_by = b;
                s->last_used = (uint64_t) json_integer_value(last);
        }
}

static int org_load(Vault *v, const char *name, Org **ret, OvError *e) {
        _cleanup_(org_freep) Org *o = calloc(1, sizeof(Org));
        _cleanup_json_ json_t *usage = NULL;
        _cleanup_free_ char *keys_error = NULL;
        Secret **secrets = NULL;
        unsigned quarantined = 0;
        size_t n = 0;
        int r;

        if (!o || !(o->name = strdup(name)))
                return ov_error_set(e, OV_ERR_NO_MEMORY, "Out of memory");
        r = store_load_org(v->state_fd, name, &secrets, &n, &quarantined, &o->index_dirty);
        if (r < 0)
                return storage_error(e, r, "load org", name, NULL);
        o->by_id = secrets;      /* sorted by id already */
        o->n = o->allocated = n;
        if (n > 0) {
                o->by_name = reallocarray(NULL, n, sizeof(Secret *));
                if (!o->by_name)
                        return ov_error_set(e, OV_ERR_NO_MEMORY, "Out of memory");
                memcpy(o->by_name, secrets, n * sizeof(Secret *));
                qsort(o->by_name, n, sizeof(Secret *), by_name_qsort);
        }
        if (quarantined > 0)
                log_warning("Org %s: %u broken record(s) moved to quarantine/", name, quarantined);

        r = org_keys_load(v->state_fd, name, &o->keys, &keys_error);
        if (r == -ENOMEM)
                return ov_error_set(e, OV_ERR_NO_MEMORY, "Out of memory");
        if (r < 0 && r != -ENOENT) {
                /* Records stay listable; nothing may touch keys (a new key
                 * would orphan every record sealed under the old ones). */
                o->keys_error = keys_error ? TAKE_PTR(keys_error) : strdup_printf("orgs/%s/org.json: %s", name, strerror(-r));
                log_error("Org %s: cannot use its keys: %s", name, o->keys_error ?: "out of memory");
        }

        r = store_load_usage(v->state_fd, name, &usage);
        if (r >= 0)
                org_apply_usage(o, usage);
        else if (r != -ENOMEM)
                log_warning("Org %s: ignoring unreadable usage.json: %s", name, strerror(-r));

        if (o->keys.rotating_to != 0 && v->master) {
                OvError re = {};
                if (org_finish_rotation(v, o, &re) < 0)
                        log_error("Org %s: cannot finish the interrupted key rotation: %s", name, re.message);
                else
                        log_info("Org %s: finished an interrupted key rotation", name);
        }
        *ret = TAKE_PTR(o);
        return 0;
}

/* The loaded org, loading it on first use. */
static int org_get(Vault *v, const char *name, Org **ret, OvError *e) {
        if (!org_name_valid(name))
                return ov_error_set(e, OV_ERR_INVALID_ARGS, "Invalid org name");
        for (size_t i = 0; i < v->n_orgs; i++)
                if (strcmp(v->orgs[i]->name, name) == 0) {
                        *ret = v->orgs[i];
                        return 0;
                }
        Org **a = reallocarray(v->orgs, v->n_orgs + 1, sizeof(Org *));
        if (!a)
                return ov_error_set(e, OV_ERR_NO_MEMORY, "Out of memory");
        v->orgs = a;
        Org *o = NULL;
        int r = org_load(v, name, &o, e);
        if (r < 0)
                return r;
        v->orgs[v->n_orgs++] = o;
        *ret = o;
        return 0;
}

static int org_secret(Vault *v, const char *org, const char *id, Org **ret_org, Secret **ret, OvError *e) {
        Org *o = NULL;
        int r = org_get(v, org, &o, e);
        if (r < 0)
                return r;
        if (!secret_id_valid(id))
                return ov_error_set(e, OV_ERR_INVALID_ARGS, "Invalid secret id");
        Secret *s = org_find(o, id);
        if (!s)
                return ov_error_set(e, OV_ERR_NOT_FOUND, "No secret %s in org %s", id, org);
        if (ret_org)
                *ret_org = o;
        *ret = s;
        return 0;
}

static void emit(Vault *v, VaultEvent ev, const Org *o, const Secret *s) {
        if (v->event_cb)
                v->event_cb(v, ev, o->name, s, v->event_userdata);
}

/* Keys */

static int org_keys_usable(Vault *v, Org *o, OvError *e) {
        if (!v->master)
                return ov_error_set(e, OV_ERR_SEALED, "The vault is sealed");
        if (o->keys_error)
                return ov_error_set(e, OV_ERR_STORAGE_FAILURE, "%s", o->keys_error);
        return 0;
}

static const OrgKeyEntry *org_key_entry(const Org *o, uint32_t id) {
        for (size_t i = 0; i < o->keys.n_keys; i++)
                if (o->keys.keys[i].id == id)
                        return &o->keys.keys[i];
        return NULL;
}

static char *cache_name(const Vault *v, const Org *o, uint32_t id) {
        return strdup_printf("org:%s:%u:%s", o->name, id, v->master_fp);
}

static int org_remember_key(Org *o, uint32_t id, OvKey *k) {
        DataKey *a = reallocarray(o->data_keys, o->n_data_keys + 1, sizeof(DataKey));
        if (!a)
                return -ENOMEM;
        o->data_keys = a;
        o->data_keys[o->n_data_keys++] = (DataKey) { .id = id, .key = k };
        return 0;
}

/* The unwrapped data key with this id: from memory, the keyring cache, or
 * unwrapped from org.json with the master key. */
static int org_data_key(Vault *v, Org *o, uint32_t id, const OvKey **ret, OvError *e) {
        _cleanup_key_ OvKey *k = NULL;
        _cleanup_free_ char *name = NULL;
        int r;

        r = org_keys_usable(v, o, e);
        if (r < 0)
                return r;
        for (size_t i = 0; i < o->n_data_keys; i++)
                if (o->data_keys[i].id == id) {
                        *ret = o->data_keys[i].key;
                        return 0;
                }
        const OrgKeyEntry *entry = org_key_entry(o, id);
        if (!entry)
                return ov_error_set(e, OV_ERR_STORAGE_FAILURE, "Org %s has no data key %u in org.json", o->name, id);

        name = cache_name(v, o, id);
        if (!name)
                return ov_error_set(e, OV_ERR_NO_MEMORY, "Out of memory");
        k = keyring_cache_get(v->cache, name);
        if (!k) {
                r = crypto_unwrap_key(v->master, o->name, id, entry->nonce, entry->wrapped, &k);
                if (r == -ENOMEM)
                        return ov_error_set(e, OV_ERR_NO_MEMORY, "Out of memory");
                if (r < 0)
                        return ov_error_set(e, OV_ERR_SEALED,
                                            "The master key does not open data key %u of org %s (wrong master key, or org.json damaged)",
                                            id, o->name);
                keyring_cache_put(v->cache, name, k);
        }
        if (org_remember_key(o, id, k) < 0)
                return ov_error_set(e, OV_ERR_NO_MEMORY, "Out of memory");
        *ret = TAKE_PTR(k);     /* o->data_keys owns it now */
        return 0;
}

static uint32_t org_sealing_key_id(const Org *o) {
        return o->keys.rotating_to ?: o->keys.current;
}

static uint32_t org_next_key_id(const Org *o) {
        uint32_t max = 0;
        for (size_t i = 0; i < o->keys.n_keys; i++)
                if (o->keys.keys[i].id > max)
                        max = o->keys.keys[i].id;
        /* Records whose org.json was lost must never meet a new key with
         * their old id. */
        for (size_t i = 0; i < o->n; i++)
                if (o->by_id[i]->key_id > max)
                        max = o->by_id[i]->key_id;
        return max + 1;
}

/* Makes a new random data key, wraps it and saves org.json with it added
 * (as current when the org had none, else as rotating_to). */
static int org_add_key(Vault *v, Org *o, OvError *e) {
        _cleanup_key_ OvKey *k = ov_key_new_random();
        _cleanup_free_ char *nonce = NULL, *wrapped = NULL;
        _cleanup_free_ OrgKeyEntry *entries = NULL;
        uint32_t id = org_next_key_id(o);
        int r;

        if (!k)
                return ov_error_set(e, OV_ERR_NO_MEMORY, "Out of memory");
        if (id == 0)
                return ov_error_set(e, OV_ERR_STORAGE_FAILURE, "Org %s has run out of key ids", o->name);
        r = crypto_wrap_key(v->master, o->name, id, k, &nonce, &wrapped);
        if (r < 0)
                return ov_error_set(e, OV_ERR_NO_MEMORY, "Cannot wrap a new data key: %s", strerror(-r));

        /* Shallow copy plus the new entry: memory changes only once saved. */
        entries = reallocarray(NULL, o->keys.n_keys + 1, sizeof(OrgKeyEntry));
        if (!entries)
                return ov_error_set(e, OV_ERR_NO_MEMORY, "Out of memory");
        if (o->keys.n_keys > 0)
                memcpy(entries, o->keys.keys, o->keys.n_keys * sizeof(OrgKeyEntry));
        entries[o->keys.n_keys] = (OrgKeyEntry) { .id = id, .created = now_usec(), .nonce = nonce, .wrapped = wrapped };
        OrgKeys next = {
                .current = o->keys.n_keys == 0 ? id : o->keys.current,
                .keys = entries,
                .n_keys = o->keys.n_keys + 1,
                .rotating_to = o->keys.n_keys == 0 ? 0 : id,
        };
        r = org_keys_save(v->state_fd, o->name, &next);
        if (r < 0)
                return storage_error(e, r, "write org.json of", o->name, NULL);

        _cleanup_free_ char *name = cache_name(v, o, id);
        if (name)
                keyring_cache_put(v->cache, name, k);
        if (org_remember_key(o, id, k) < 0)
                log_warning("Org %s: out of memory caching data key %u", o->name, id);
        else
                k = NULL;
        free(o->keys.keys);
        nonce = wrapped = NULL;
        next.keys = TAKE_PTR(entries);
        o->keys = next;
        return 0;
}

/* Seals the fields' compact JSON under the org's sealing key. */
static int seal_fields(Vault *v, Org *o, const char *id, const char *type, json_t *fields,
                       uint32_t *ret_key_id, char **ret_nonce, char **ret_ct, OvError *e) {
        const OvKey *key = NULL;
        uint32_t key_id;
        int r;

        r = org_keys_usable(v, o, e);
        if (r < 0)
                return r;
        if (o->keys.n_keys == 0) {
                r = org_add_key(v, o, e);
                if (r < 0)
                        return r;
        }
        key_id = org_sealing_key_id(o);
        r = org_data_key(v, o, key_id, &key, e);
        if (r < 0)
                return r;
        _cleanup_secret_free_ char *plain = json_dumps(fields, JSON_COMPACT);
        if (!plain)
                return ov_error_set(e, OV_ERR_NO_MEMORY, "Out of memory");
        r = crypto_seal_record(key, key_id, o->name, id, type, plain, strlen(plain), ret_nonce, ret_ct);
        if (r < 0)
                return ov_error_set(e, r == -ENOMEM ? OV_ERR_NO_MEMORY : OV_ERR_INVALID_ARGS,
                                    "Cannot seal the value: %s", strerror(-r));
        *ret_key_id = key_id;
        return 0;
}

static int open_value(Vault *v, Org *o, const Secret *s, char **ret_plain, size_t *ret_len, OvError *e) {
        const OvKey *key = NULL;
        int r = org_data_key(v, o, s->key_id, &key, e);
        if (r < 0)
                return r;
        r = crypto_open_record(key, s->key_id, o->name, s->id, s->type, s->nonce, s->ciphertext, ret_plain, ret_len);
        if (r == -ENOMEM)
                return ov_error_set(e, OV_ERR_NO_MEMORY, "Out of memory");
        if (r < 0)
                return ov_error_set(e, OV_ERR_STORAGE_FAILURE,
                                    "The value of %s/%s does not open: the record was tampered with or moved",
                                    o->name, s->id);
        return 0;
}

/* Re-seals every record still under an older key, then makes the new key
 * current and drops the old ones. Each step is durable on its own, so a
 * crash anywhere resumes here at the next load. */
static int org_finish_rotation(Vault *v, Org *o, OvError *e) {
        uint32_t to = o->keys.rotating_to;
        const OvKey *new_key = NULL;
        int r;

        r = org_data_key(v, o, to, &new_key, e);
        if (r < 0)
                return r;
        for (size_t i = 0; i < o->n; i++) {
                Secret *s = o->by_id[i];
                char *plain = NULL;
                size_t len = 0;
                _cleanup_free_ char *nonce = NULL, *ct = NULL;

                if (s->key_id == to)
                        continue;
                r = open_value(v, o, s, &plain, &len, e);
                if (r < 0)
                        return r;
                r = crypto_seal_record(new_key, to, o->name, s->id, s->type, plain, len, &nonce, &ct);
                crypto_free_plain(plain);
                if (r < 0)
                        return ov_error_set(e, OV_ERR_NO_MEMORY, "Cannot re-seal %s/%s: %s", o->name, s->id, strerror(-r));
                Secret resealed = *s;
                resealed.key_id = to;
                resealed.nonce = nonce;
                resealed.ciphertext = ct;
                r = org_save_record(v, o, &resealed, &s->stamp);
                if (r < 0)
                        return storage_error(e, r, "write record", o->name, s->id);
                free(s->nonce);
                free(s->ciphertext);
                s->nonce = TAKE_PTR(nonce);
                s->ciphertext = TAKE_PTR(ct);
                s->key_id = to;
        }

        const OrgKeyEntry *entry = org_key_entry(o, to);
        OrgKeyEntry *kept = malloc(sizeof(OrgKeyEntry));
        if (!kept)
                return ov_error_set(e, OV_ERR_NO_MEMORY, "Out of memory");
        *kept = *entry;
        OrgKeys next = { .current = to, .keys = kept, .n_keys = 1, .rotating_to = 0 };
        r = org_keys_save(v->state_fd, o->name, &next);
        if (r < 0) {
                free(kept);
                return storage_error(e, r, "write org.json of", o->name, NULL);
        }
        for (size_t i = 0; i < o->keys.n_keys; i++)
                if (o->keys.keys[i].id != to) {
                        free(o->keys.keys[i].nonce);
                        free(o->keys.keys[i].wrapped);
                }
        free(o->keys.keys);
        o->keys = next;

        /* Keep only the new key in memory. */
        for (size_t i = 0; i < o->n_data_keys;)
                if (o->data_keys[i].id != to) {
                        ov_key_free(o->data_keys[i].key);
                        o->data_keys[i] = o->data_keys[--o->n_data_keys];
                } else
                        i++;
        return 0;
}

/* Opening, sealing */

int vault_open(Vault **ret, const VaultConfig *cfg, const TypeRegistry *types, OvError *e) {
        _cleanup_(vault_freep) Vault *v = NULL;
        int r;

        if (!ret || !cfg || !cfg->state_dir || !types)
                return ov_error_set(e, OV_ERR_INVALID_ARGS, "Invalid arguments");
        if (crypto_init() < 0)
                return ov_error_set(e, OV_ERR_NO_MEMORY, "Cannot initialise libsodium");
        v = calloc(1, sizeof(Vault));
        if (!v)
                return ov_error_set(e, OV_ERR_NO_MEMORY, "Out of memory");
        v->state_fd = -1;
        v->key_mode = cfg->key_mode;
        v->types = types;
        v->state_dir = strdup(cfg->state_dir);
        if (!v->state_dir)
                return ov_error_set(e, OV_ERR_NO_MEMORY, "Out of memory");

        r = mkdir_p_at(AT_FDCWD, cfg->state_dir, 0700);
        if (r < 0)
                return ov_error_set(e, OV_ERR_STORAGE_FAILURE, "Cannot create the state directory %s: %s",
                                    cfg->state_dir, strerror(-r));
        v->state_fd = open(cfg->state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (v->state_fd < 0)
                return ov_error_set(e, OV_ERR_STORAGE_FAILURE, "Cannot open the state directory %s: %m",
                                    cfg->state_dir);
        r = store_prepare(v->state_fd);
        if (r < 0)
                return ov_error_set(e, OV_ERR_STORAGE_FAILURE, "Cannot prepare the state directory %s: %s",
                                    cfg->state_dir, strerror(-r));

        v->cache = keyring_cache_new(cfg->state_dir, cfg->keyring_timeout_sec);
        if (!v->cache)
                return ov_error_set(e, OV_ERR_NO_MEMORY, "Out of memory");
        r = master_key_load(v->state_fd, cfg->key_mode, v->cache, &v->master, e);
        if (r < 0)
                return r;
        if (v->master)
                crypto_key_fingerprint(v->master, v->master_fp);

        *ret = TAKE_PTR(v);
        return 0;
}

void vault_free(Vault *v) {
        if (!v)
                return;
        int r = vault_flush_usage(v);
        if (r < 0)
                log_warning("Cannot write usage on exit: %s", strerror(-r));
        for (size_t i = 0; i < v->n_orgs; i++)
                org_free(v->orgs[i]);
        free(v->orgs);
        ov_key_free(v->master);
        keyring_cache_free(v->cache);
        if (v->state_fd >= 0)
                close(v->state_fd);
        free(v->state_dir);
        free(v);
}

bool vault_is_sealed(const Vault *v) { return !v->master; }
KeyMode vault_key_mode(const Vault *v) { return v->key_mode; }

void vault_set_event_callback(Vault *v, vault_event_cb cb, void *userdata) {
        v->event_cb = cb;
        v->event_userdata = userdata;
}

static void vault_forget_keys(Vault *v) {
        for (size_t i = 0; i < v->n_orgs; i++)
                org_forget_data_keys(v->orgs[i]);
        ov_key_free(v->master);
        v->master = NULL;
        sodium_memzero(v->master_fp, sizeof v->master_fp);
}

/* Passphrase mode derives the master key; the other modes ignore the
 * passphrase and load their key again (after a Seal). */
int vault_unseal(Vault *v, const char *passphrase, size_t len, OvError *e) {
        OvKey *k = NULL;
        int r;

        if (v->key_mode == KEY_MODE_PASSPHRASE)
                r = master_key_unseal(v->state_fd, passphrase, len, v->cache, &k, e);
        else
                r = master_key_load(v->state_fd, v->key_mode, v->cache, &k, e);
        if (r < 0)
                return r;
        if (!k)
                return ov_error_set(e, OV_ERR_SEALED, "No master key available");
        vault_forget_keys(v);
        v->master = k;
        crypto_key_fingerprint(v->master, v->master_fp);

        for (size_t i = 0; i < v->n_orgs; i++) {
                OvError re = {};
                if (v->orgs[i]->keys.rotating_to != 0 && org_finish_rotation(v, v->orgs[i], &re) < 0)
                        log_error("Org %s: cannot finish the interrupted key rotation: %s", v->orgs[i]->name, re.message);
        }
        return 0;
}

int vault_seal(Vault *v, OvError *e) {
        vault_forget_keys(v);
        keyring_cache_revoke_all(v->cache);
        return 0;
}

/* Reading */

int vault_get(Vault *v, const char *org, const char *id, const Secret **ret, OvError *e) {
        Secret *s = NULL;
        int r = org_secret(v, org, id, NULL, &s, e);
        if (r < 0)
                return r;
        *ret = s;
        return 0;
}

static bool filter_text_valid(const char *s) {
        return !s || (strlen(s) <= OV_FILTER_MAX && utf8_text_valid(s, NULL));
}

int vault_list(Vault *v, const char *org, const SecretFilter *f, const Secret ***ret, size_t *ret_n, OvError *e) {
        static const SecretFilter none = {};
        const SecretType *feature_type = NULL;
        bool feature_match = false;
        Org *o = NULL;
        int r;

        if (!f)
                f = &none;
        if (!filter_text_valid(f->search) || !filter_text_valid(f->type) || !filter_text_valid(f->feature))
                return ov_error_set(e, OV_ERR_INVALID_ARGS, "Filter strings must be valid text of at most %d bytes",
                                    OV_FILTER_MAX);
        r = org_get(v, org, &o, e);
        if (r < 0)
                return r;

        /* Only an unfiltered listing takes the whole org at once; a search or
         * a page grows its array as matches come. */
        bool narrowed = (f->type && *f->type) || (f->feature && *f->feature) || (f->search && *f->search);
        size_t allocated = o->n > f->offset ? o->n - f->offset : 0;
        if (f->limit > 0 && f->limit < allocated)
                allocated = f->limit;
        if (narrowed && allocated > 16)
                allocated = 16;
        if (allocated == 0)
                allocated = 1;
        _cleanup_free_ const Secret **out = reallocarray(NULL, allocated, sizeof(Secret *));
        if (!out)
                return ov_error_set(e, OV_ERR_NO_MEMORY, "Out of memory");
        size_t n = 0, skipped = 0;
        for (size_t i = 0; i < o->n; i++) {
                const Secret *s = o->by_name[i];
                if (f->type && *f->type && strcmp(s->type, f->type) != 0)
                        continue;
                if (f->feature && *f->feature) {
                        /* by_name is not grouped by type: remember the last answer. */
                        if (!feature_type || strcmp(feature_type->id, s->type) != 0) {
                                feature_type = type_registry_find(v->types, s->type);
                                feature_match = feature_type && secret_type_used_by(feature_type, f->feature);
                        }
                        if (!feature_match)
                                continue;
                }
                if (f->search && *f->search && !ascii_strcase_contains(s->name, f->search))
                        continue;
                if (skipped < f->offset) {
                        skipped++;
                        continue;
                }
                if (f->limit > 0 && n >= f->limit)
                        break;
                if (n == allocated) {
                        const Secret **a = reallocarray(out, allocated * 2, sizeof(Secret *));
                        if (!a)
                                return ov_error_set(e, OV_ERR_NO_MEMORY, "Out of memory");
                        out = a;
                        allocated *= 2;
                }
                out[n++] = s;
        }
        *ret = TAKE_PTR(out);
        *ret_n = n;
        return 0;
}

int vault_loaded_orgs(Vault *v, char ***ret) {
        _cleanup_strv_free_ char **l = NULL;
        int r = store_list_orgs(v->state_fd, &l);
        if (r < 0)
                return r;
        for (size_t i = 0; i < v->n_orgs; i++)
                if (v->orgs[i]->n > 0 && !strv_contains(l, v->orgs[i]->name) && strv_push(&l, v->orgs[i]->name) < 0)
                        return -ENOMEM;
        *ret = TAKE_PTR(l);
        return 0;
}

/* Mutations */

static int validate_fields(const SecretType *t, json_t *fields, ValidationResult *res, char ***ret_warnings, OvError *e) {
        if (!json_is_object(fields))
                return ov_error_set(e, OV_ERR_INVALID_ARGS, "Fields must be an object of strings");
        if (secret_type_validate(t, fields, res) < 0)
                return ov_error_set(e, OV_ERR_NO_MEMORY, "Out of memory");
        if (res->n_errors > 0) {
                _cleanup_free_ char *msg = validation_errors_to_string(res);
                return ov_error_set(e, OV_ERR_INVALID_FIELD, "%s", msg ?: "invalid fields");
        }
        if (!ret_warnings)
                return 0;
        _cleanup_strv_free_ char **w = calloc(1, sizeof(char *));
        if (!w)
                return ov_error_set(e, OV_ERR_NO_MEMORY, "Out of memory");
        for (size_t i = 0; i < res->n_warnings; i++) {
                _cleanup_free_ char *line = *res->warnings[i].field
                        ? strdup_printf("%s: %s", res->warnings[i].field, res->warnings[i].message)
                        : strdup(res->warnings[i].message);
                if (!line || strv_push(&w, line) < 0)
                        return ov_error_set(e, OV_ERR_NO_MEMORY, "Out of memory");
        }
        *ret_warnings = TAKE_PTR(w);
        return 0;
}

/* A free id from the name's slug: "ops-slack", "ops-slack-2", ... */
static int pick_id(const Org *o, const char *name, char **ret) {
        _cleanup_free_ char *base = slug_from_name(name);
        if (!base && !(base = strdup("secret")))
                return -ENOMEM;
        if (!org_find(o, base)) {
                *ret = TAKE_PTR(base);
                return 0;
        }
        for (unsigned n = 2;; n++) {
                char suffix[16];
                int len = snprintf(suffix, sizeof suffix, "-%u", n);
                size_t keep = strlen(base);
                if (keep > OV_ID_MAX - (size_t) len)
                        keep = OV_ID_MAX - (size_t) len;
                while (keep > 1 && (base[keep - 1] == '-' || base[keep - 1] == '_'))
                        keep--;
                char *id = strdup_printf("%.*s%s", (int) keep, base, suffix);
                if (!id)
                        return -ENOMEM;
                if (!org_find(o, id)) {
                        *ret = id;
                        return 0;
                }
                free(id);
        }
}

/* Everything an add checks before it writes, in the order a real add meets
 * them: the type, the name and id, every field, then the org's state. A
 * "Next" step has no name yet: name NULL skips the name's checks. */
static int add_check(Vault *v, const char *org, const char *type, const char *name, const char *id,
                     json_t *fields, const SecretType **ret_type, Org **ret_org, ValidationResult *res,
                     char ***ret_warnings, OvError *e) {
        const SecretType *t;
        Org *o = NULL;
        int r;

        if (!type || !(t = type_registry_find(v->types, type)))
                return ov_error_set(e, OV_ERR_UNKNOWN_TYPE, "Unknown secret type %s", type ?: "");
        if (name && !display_name_valid(name))
                return ov_error_set(e, OV_ERR_INVALID_ARGS,
                                    "A name is 1-%d characters of text without control characters", OV_NAME_MAX);
        if (id && *id && !secret_id_valid(id))
                return ov_error_set(e, OV_ERR_INVALID_ARGS, "Invalid id: [a-z0-9][a-z0-9_-]{0,63}");
        r = validate_fields(t, fields, res, ret_warnings, e);
        if (r < 0)
                return r;
        r = org_get(v, org, &o, e);
        if (r < 0)
                return r;
        const Secret *other = name ? org_find_name(o, name, NULL) : NULL;
        if (other)
                return ov_error_set(e, OV_ERR_NAME_EXISTS, "A secret named \"%s\" already exists in org %s",
                                    other->name, org);
        if (id && *id && org_find(o, id))
                return ov_error_set(e, OV_ERR_NAME_EXISTS, "A secret with id %s already exists in org %s", id, org);
        r = org_keys_usable(v, o, e);
        if (r < 0)
                return r;
        *ret_type = t;
        *ret_org = o;
        return 0;
}

int vault_check_add(Vault *v, const char *org, const char *type, const char *name, const char *id,
                    json_t *fields, char ***ret_warnings, OvError *e) {
        _cleanup_(validation_result_clear) ValidationResult res = {};
        const SecretType *t;
        Org *o;

        return add_check(v, org, type, name && *name ? name : NULL, id, fields, &t, &o, &res, ret_warnings, e);
}

int vault_add(Vault *v, const char *org, const char *type, const char *name, const char *id,
              json_t *fields, char **ret_id, char ***ret_warnings, OvError *e) {
        _cleanup_(validation_result_clear) ValidationResult res = {};
        _cleanup_strv_free_ char **warnings = NULL;
        _cleanup_secret_ Secret *s = NULL;
        const SecretType *t;
        Org *o = NULL;
        int r;

        r = add_check(v, org, type, name ?: "", id, fields, &t, &o, &res, &warnings, e);
        if (r < 0)
                return r;
        if (org_reserve(o) < 0)
                return ov_error_set(e, OV_ERR_NO_MEMORY, "Out of memory");

        s = calloc(1, sizeof(Secret));
        if (!s)
                return ov_error_set(e, OV_ERR_NO_MEMORY, "Out of memory");
        r = id && *id ? ((s->id = strdup(id)) ? 0 : -ENOMEM) : pick_id(o, name, &s->id);
        if (r < 0 || !(s->name = strdup(name)) || !(s->type = strdup(t->id)))
                return ov_error_set(e, OV_ERR_NO_MEMORY, "Out of memory");
        s->created = s->updated = now_usec();
        s->version = 1;
        r = seal_fields(v, o, s->id, s->type, res.normalized, &s->key_id, &s->nonce, &s->ciphertext, e);
        if (r < 0)
                return r;
        r = org_save_record(v, o, s, &s->stamp);
        if (r < 0)
                return storage_error(e, r, "write record", org, s->id);

        if (ret_id && !(*ret_id = strdup(s->id)))
                log_warning("Out of memory returning the id of %s/%s", org, s->id);
        if (ret_warnings)
                *ret_warnings = TAKE_PTR(warnings);
        Secret *added = TAKE_PTR(s);
        org_insert(o, added);
        emit(v, VAULT_SECRET_ADDED, o, added);
        return 0;
}

/* Everything an update checks before it writes. */
static int update_check(Vault *v, const char *org, const char *id, json_t *fields, Org **ret_org,
                        Secret **ret, ValidationResult *res, char ***ret_warnings, OvError *e) {
        const SecretType *t;
        Secret *s = NULL;
        Org *o = NULL;
        int r;

        r = org_secret(v, org, id, &o, &s, e);
        if (r < 0)
                return r;
        t = type_registry_find(v->types, s->type);
        if (!t)
                return ov_error_set(e, OV_ERR_UNKNOWN_TYPE, "Unknown secret type %s", s->type);
        r = validate_fields(t, fields, res, ret_warnings, e);
        if (r < 0)
                return r;
        if (s->version == UINT32_MAX)
                return ov_error_set(e, OV_ERR_INVALID_ARGS, "Secret %s has reached its last version", id);
        r = org_keys_usable(v, o, e);
        if (r < 0)
                return r;
        *ret_org = o;
        *ret = s;
        return 0;
}

int vault_check_update(Vault *v, const char *org, const char *id, json_t *fields, char ***ret_warnings,
                       OvError *e) {
        _cleanup_(validation_result_clear) ValidationResult res = {};
        Secret *s;
        Org *o;

        return update_check(v, org, id, fields, &o, &s, &res, ret_warnings, e);
}

int vault_update(Vault *v, const char *org, const char *id, json_t *fields,
                 uint32_t *ret_version, char ***ret_warnings, OvError *e) {
        _cleanup_(validation_result_clear) ValidationResult res = {};
        _cleanup_strv_free_ char **warnings = NULL;
        _cleanup_free_ char *nonce = NULL, *ct = NULL;
        Secret *s = NULL;
        Org *o = NULL;
        int r;

        r = update_check(v, org, id, fields, &o, &s, &res, &warnings, e);
        if (r < 0)
                return r;

        Secret next = *s;
        r = seal_fields(v, o, s->id, s->type, res.normalized, &next.key_id, &nonce, &ct, e);
        if (r < 0)
                return r;
        next.nonce = nonce;
        next.ciphertext = ct;
        next.version = s->version + 1;
        next.updated = now_usec();
        r = org_save_record(v, o, &next, &s->stamp);
        if (r < 0)
                return storage_error(e, r, "write record", org, id);

        free(s->nonce);
        free(s->ciphertext);
        s->nonce = TAKE_PTR(nonce);
        s->ciphertext = TAKE_PTR(ct);
        s->key_id = next.key_id;
        s->version = next.version;
        s->updated = next.updated;
        if (ret_version)
                *ret_version = s->version;
        if (ret_warnings)
                *ret_warnings = TAKE_PTR(warnings);
        emit(v, VAULT_SECRET_CHANGED, o, s);
        return 0;
}

int vault_rename(Vault *v, const char *org, const char *id, const char *name, OvError *e) {
        Secret *s = NULL;
        Org *o = NULL;
        int r;

        if (!display_name_valid(name))
                return ov_error_set(e, OV_ERR_INVALID_ARGS,
                                    "A name is 1-%d characters of text without control characters", OV_NAME_MAX);
        r = org_secret(v, org, id, &o, &s, e);
        if (r < 0)
                return r;
        if (strcmp(s->name, name) == 0)
                return 0;
        const Secret *other = org_find_name(o, name, s);
        if (other)
                return ov_error_set(e, OV_ERR_NAME_EXISTS, "A secret named \"%s\" already exists in org %s",
                                    other->name, org);
        _cleanup_free_ char *new_name = strdup(name);
        if (!new_name)
                return ov_error_set(e, OV_ERR_NO_MEMORY, "Out of memory");

        Secret next = *s;
        next.name = new_name;
        next.updated = now_usec();
        r = org_save_record(v, o, &next, &s->stamp);
        if (r < 0)
                return storage_error(e, r, "write record", org, id);

        org_unlink(o, s);        /* re-insert at the new name's place */
        free(s->name);
        s->name = TAKE_PTR(new_name);
        s->updated = next.updated;
        org_insert(o, s);
        emit(v, VAULT_SECRET_CHANGED, o, s);
        return 0;
}

static char *references_to_string(const Secret *s) {
        size_t size = 1;
        for (size_t i = 0; i < s->n_refs; i++)
                size += strlen(s->refs[i].feature) + strlen(s->refs[i].target) + 3;
        char *out = malloc(size), *p = out;
        if (!out)
                return NULL;
        *p = 0;
        for (size_t i = 0; i < s->n_refs; i++)
                p = stpcpy(stpcpy(stpcpy(stpcpy(p, i > 0 ? ", " : ""), s->refs[i].feature), " "), s->refs[i].target);
        return out;
}

int vault_delete(Vault *v, const char *org, const char *id, bool force, char ***ret_broken, OvError *e) {
        _cleanup_strv_free_ char **broken = NULL;
        Secret *s = NULL;
        Org *o = NULL;
        int r;

        r = org_secret(v, org, id, &o, &s, e);
        if (r < 0)
                return r;
        if (s->n_refs > 0 && !force) {
                _cleanup_free_ char *refs = references_to_string(s);
                return ov_error_set(e, OV_ERR_IN_USE, "Secret %s is in use by: %s", id, refs ?: "(out of memory)");
        }
        broken = calloc(1, sizeof(char *));
        if (!broken)
                return ov_error_set(e, OV_ERR_NO_MEMORY, "Out of memory");
        for (size_t i = 0; i < s->n_refs; i++) {
                _cleanup_free_ char *line = strdup_printf("%s %s", s->refs[i].feature, s->refs[i].target);
                if (!line || strv_push(&broken, line) < 0)
                        return ov_error_set(e, OV_ERR_NO_MEMORY, "Out of memory");
        }
        r = store_delete_secret(v->state_fd, org, id);
        if (r < 0)
                return storage_error(e, r, "delete record", org, id);

        org_unlink(o, s);
        o->index_dirty = true;
        if (s->last_used > 0)
                o->usage_dirty = true;   /* drop its entry at the next flush */
        emit(v, VAULT_SECRET_REMOVED, o, s);
        secret_free(s);
        if (ret_broken)
                *ret_broken = TAKE_PTR(broken);
        return 0;
}

static int check_reference(const char *feature, const char *target, OvError *e) {
        if (!reference_text_valid(feature) || !reference_text_valid(target))
                return ov_error_set(e, OV_ERR_INVALID_ARGS,
                                    "Feature and target are 1-%d bytes of text without control characters",
                                    OV_REFERENCE_TEXT_MAX);
        return 0;
}

static ssize_t find_reference(const Secret *s, const char *feature, const char *target) {
        for (size_t i = 0; i < s->n_refs; i++)
                if (strcmp(s->refs[i].feature, feature) == 0 && strcmp(s->refs[i].target, target) == 0)
                        return (ssize_t) i;
        return -1;
}

/* Adding a reference that exists already succeeds and changes nothing: a
 * consumer may re-register its references every time it starts. */
int vault_add_reference(Vault *v, const char *org, const char *id, const char *feature, const char *target, OvError *e) {
        Secret *s = NULL;
        Org *o = NULL;
        int r;

        r = check_reference(feature, target, e);
        if (r < 0)
                return r;
        r = org_secret(v, org, id, &o, &s, e);
        if (r < 0)
                return r;
        if (find_reference(s, feature, target) >= 0)
                return 0;
        if (s->n_refs >= OV_REFERENCES_MAX)
                return ov_error_set(e, OV_ERR_INVALID_ARGS, "Secret %s already has %d references", id, OV_REFERENCES_MAX);

        _cleanup_free_ Reference *refs = reallocarray(NULL, s->n_refs + 1, sizeof(Reference));
        _cleanup_free_ char *f = strdup(feature), *t = strdup(target);
        if (!refs || !f || !t)
                return ov_error_set(e, OV_ERR_NO_MEMORY, "Out of memory");
        if (s->n_refs > 0)
                memcpy(refs, s->refs, s->n_refs * sizeof(Reference));
        refs[s->n_refs] = (Reference) { .feature = f, .target = t, .created = now_usec() };
        Secret next = *s;
        next.refs = refs;
        next.n_refs = s->n_refs + 1;
        r = org_save_record(v, o, &next, &s->stamp);
        if (r < 0)
                return storage_error(e, r, "write record", org, id);

        free(s->refs);
        s->refs = TAKE_PTR(refs);
        s->n_refs++;
        f = t = NULL;
        emit(v, VAULT_SECRET_CHANGED, o, s);
        return 0;
}

int vault_remove_reference(Vault *v, const char *org, const char *id, const char *feature, const char *target, OvError *e) {
        Secret *s = NULL;
        Org *o = NULL;
        int r;

        r = check_reference(feature, target, e);
        if (r < 0)
                return r;
        r = org_secret(v, org, id, &o, &s, e);
        if (r < 0)
                return r;
        ssize_t i = find_reference(s, feature, target);
        if (i < 0)
                return ov_error_set(e, OV_ERR_NOT_FOUND, "Secret %s has no reference %s %s", id, feature, target);

        _cleanup_free_ Reference *refs = reallocarray(NULL, s->n_refs, sizeof(Reference));
        if (!refs)
                return ov_error_set(e, OV_ERR_NO_MEMORY, "Out of memory");
        size_t n = 0;
        for (size_t j = 0; j < s->n_refs; j++)
                if ((ssize_t) j != i)
                        refs[n++] = s->refs[j];
        Secret next = *s;
        next.refs = refs;
        next.n_refs = n;
        r = org_save_record(v, o, &next, &s->stamp);
        if (r < 0)
                return storage_error(e, r, "write record", org, id);

        free(s->refs[i].feature);
        free(s->refs[i].target);
        free(s->refs);
        s->refs = TAKE_PTR(refs);
        s->n_refs = n;
        emit(v, VAULT_SECRET_CHANGED, o, s);
        return 0;
}

/* Resolving */

static void note_use(Org *o, Secret *s, const char *used_by) {
        char *by = strdup(used_by && reference_text_valid(used_by) ? used_by : "unknown");
        if (by) {
                free(s->last_used_by);
                s->last_used_by = by;
        }
        s->last_used = now_usec();
        o->usage_dirty = true;
}

/* The secret and its decrypted fields (free with crypto_free_plain). */
static int open_secret_value(Vault *v, const char *org, const char *id, Org **ret_org, Secret **ret_secret,
                             char **ret_plain, size_t *ret_len, OvError *e) {
        int r = org_secret(v, org, id, ret_org, ret_secret, e);
        if (r < 0)
                return r;
        return open_value(v, *ret_org, *ret_secret, ret_plain, ret_len, e);
}

int vault_resolve(Vault *v, const char *org, const char *id, const char *used_by,
                  char **ret_json, size_t *ret_len, OvError *e) {
        static const char head[] = "{\"type\":\"", middle[] = "\",\"fields\":", tail[] = "}";
        char *plain = NULL;
        size_t len = 0;
        Secret *s = NULL;
        Org *o = NULL;
        int r;

        r = open_secret_value(v, org, id, &o, &s, &plain, &len, e);
        if (r < 0)
                return r;

        /* The type is a slug (no escaping needed) and the plaintext is the
         * fields' JSON object we sealed: splice them without a parse, so the
         * value is only ever in locked memory (crypto_alloc_plain). */
        size_t n = strlen(head) + strlen(s->type) + strlen(middle) + len + strlen(tail);
        char *out = crypto_alloc_plain(n + 1);
        if (!out) {
                crypto_free_plain(plain);
                return ov_error_set(e, OV_ERR_NO_MEMORY, "Out of memory");
        }
        char *p = stpcpy(stpcpy(stpcpy(out, head), s->type), middle);
        memcpy(p, plain, len);
        strcpy(p + len, tail);
        crypto_free_plain(plain);

        note_use(o, s, used_by);
        *ret_json = out;
        if (ret_len)
                *ret_len = n;
        return 0;
}

/* jansson's copies of the values: wipe them before they go back to malloc. */
static void wipe_and_decref(json_t *fields) {
        const char *k;
        json_t *val;

        json_object_foreach(fields, k, val)
                if (json_is_string(val))
                        sodium_memzero((char *) json_string_value(val), json_string_length(val));
        json_decref(fields);
}

int vault_resolve_field(Vault *v, const char *org, const char *id, const char *field, const char *used_by,
                        char **ret_value, size_t *ret_len, OvError *e) {
        char *plain = NULL;
        size_t len = 0;
        Secret *s = NULL;
        Org *o = NULL;
        int r;

        r = open_secret_value(v, org, id, &o, &s, &plain, &len, e);
        if (r < 0)
                return r;
        json_t *j = json_loadb(plain, len, 0, NULL);
        crypto_free_plain(plain);
        json_t *f = json_object_get(j, field ?: "");
        if (!json_is_string(f)) {
                wipe_and_decref(j);
                return ov_error_set(e, OV_ERR_NOT_FOUND, "Secret %s has no field %s", id, field ?: "");
        }
        size_t n = json_string_length(f);
        char *out = crypto_alloc_plain(n + 1);
        if (out) {
                memcpy(out, json_string_value(f), n);
                out[n] = 0;
        }
        wipe_and_decref(j);
        if (!out)
                return ov_error_set(e, OV_ERR_NO_MEMORY, "Out of memory");

        note_use(o, s, used_by);
        *ret_value = out;
        if (ret_len)
                *ret_len = n;
        return 0;
}

int vault_rotate_keys(Vault *v, const char *org, OvError *e) {
        Org *o = NULL;
        int r;

        r = org_get(v, org, &o, e);
        if (r < 0)
                return r;
        r = org_keys_usable(v, o, e);
        if (r < 0)
                return r;
        if (o->keys.n_keys == 0)
                return 0;        /* no key yet: the first add makes one */
        /* Every key must open first: a new key wrapped by a wrong master key
         * would leave org.json half unusable. */
        for (size_t i = 0; i < o->keys.n_keys; i++) {
                const OvKey *k = NULL;
                r = org_data_key(v, o, o->keys.keys[i].id, &k, e);
                if (r < 0)
                        return r;
        }
        if (o->keys.rotating_to == 0) {
                r = org_add_key(v, o, e);
                if (r < 0)
                        return r;
        }
        return org_finish_rotation(v, o, e);
}

/* Usage */

static int org_flush_usage(Vault *v, Org *o) {
        _cleanup_json_ json_t *usage = json_object();
        if (!usage)
                return -ENOMEM;
        for (size_t i = 0; i < o->n; i++) {
                const Secret *s = o->by_id[i];
                if (s->last_used == 0)
                        continue;
                if (json_object_set_new(usage, s->id, json_pack("{s:I, s:s, s:I}",
                                                                "last_used", (json_int_t) s->last_used,
                                                                "by", s->last_used_by ?: "unknown",
                                                                "created", (json_int_t) s->created)) < 0)
                        return -ENOMEM;
        }
        int r = store_save_usage(v->state_fd, o->name, usage);
        if (r < 0)
                return r;
        o->usage_dirty = false;
        return 0;
}

/* The org index is a cache (store.h): failing to write it loses nothing,
 * the next load reads the records instead, so it is only logged. */
static void org_flush_index(Vault *v, Org *o) {
        int r = store_save_org_index(v->state_fd, o->name, o->by_id, o->n);
        if (r < 0) {
                log_info("Org %s: cannot write its index: %s", o->name, strerror(-r));
                return;
        }
        o->index_dirty = false;
}

/* Lazy state: LastUsed (usage.json) and the org index, both written here,
 * never while a call waits. */
int vault_flush_usage(Vault *v) {
        int ret = 0;
        for (size_t i = 0; i < v->n_orgs; i++) {
                Org *o = v->orgs[i];
                if (o->index_dirty)
                        org_flush_index(v, o);
                if (!o->usage_dirty)
                        continue;
                int r = org_flush_usage(v, o);
                if (r < 0) {
                        log_warning("Org %s: cannot write usage.json: %s", o->name, strerror(-r));
                        if (ret == 0)
                                ret = r;
                }
        }
        return ret;
}

/* True while lazy state is unwritten, so the daemon's periodic flush also
 * writes an org index that changed. */
bool vault_usage_dirty(const Vault *v) {
        for (size_t i = 0; i < v->n_orgs; i++)
                if (v->orgs[i]->usage_dirty || v->orgs[i]->index_dirty)
                        return true;
        return false;
}

int vault_status(Vault *v, VaultStatus *ret) {
        _cleanup_strv_free_ char **orgs = NULL;
        int r = store_list_orgs(v->state_fd, &orgs);
        if (r < 0)
                return r;
        VaultStatus st = {
                .sealed = !v->master,
                .key_mode = v->key_mode,
                .orgs = (unsigned) strv_length(orgs),
                .quarantined = store_count_quarantined(v->state_fd),
                .keyring_cache = keyring_cache_enabled(v->cache),
        };
        for (char **i = orgs; *i; i++) {
                unsigned n = 0;
                if (store_count_secrets(v->state_fd, *i, &n) >= 0)
                        st.secrets += n;
        }
        *ret = st;
        return 0;
}
