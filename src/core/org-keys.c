/* SPDX-License-Identifier: Apache-2.0 */
/* An org's data keys (the chain reads crypto -> master-key -> keyring-cache
 * -> org-keys): org.json's entries, each data key wrapped by the master key;
 * unwrapping one (from memory, the kernel keyring cache, or org.json);
 * sealing and opening values with them; adding a key; rotating, which
 * re-seals every record and is resumed after a crash. */

#include <errno.h>
#include <string.h>

#include "vault-internal.h"

#define ORG_KEYS_MAX 16
#define B64_FIELD_MAX 128

/* org.json */

void org_keys_clear(OrgKeys *k) {
        if (!k)
                return;
        for (size_t i = 0; i < k->n_keys; i++) {
                free(k->keys[i].nonce);
                free(k->keys[i].wrapped);
        }
        free(k->keys);
        *k = (OrgKeys) {};
}

static int org_fail(char **ret_error, const char *org, const char *what) {
        if (ret_error) {
                free(*ret_error);
                *ret_error = strdup_printf("orgs/%s/org.json: %s", org, what);
        }
        return -EBADMSG;
}

static bool only_keys(json_t *o, const char *const *keys, size_t n) {
        const char *k;
        json_t *v;
        json_object_foreach(o, k, v) {
                bool known = false;
                for (size_t i = 0; i < n && !known; i++)
                        known = strcmp(k, keys[i]) == 0;
                if (!known)
                        return false;
        }
        return true;
}

static bool json_uint_in(json_t *v, uint64_t min, uint64_t max, uint64_t *ret) {
        if (!json_is_integer(v))
                return false;
        json_int_t i = json_integer_value(v);
        if (i < 0 || (uint64_t) i < min || (uint64_t) i > max)
                return false;
        *ret = (uint64_t) i;
        return true;
}

static bool has_key(const OrgKeys *k, uint32_t id) {
        for (size_t i = 0; i < k->n_keys; i++)
                if (k->keys[i].id == id)
                        return true;
        return false;
}

static int parse_key_entry(json_t *e, OrgKeys *k, const char *org, char **ret_error) {
        static const char *const keys[] = { "id", "created", "nonce", "wrapped" };
        json_t *nonce = json_object_get(e, "nonce"), *wrapped = json_object_get(e, "wrapped");
        uint64_t id, created;

        if (!json_is_object(e) || !only_keys(e, keys, ELEMENTSOF(keys)) ||
            !json_uint_in(json_object_get(e, "id"), 1, UINT32_MAX, &id) ||
            !json_uint_in(json_object_get(e, "created"), 0, INT64_MAX, &created) ||
            !json_is_string(nonce) || !json_is_string(wrapped) ||
            json_string_length(nonce) > B64_FIELD_MAX || json_string_length(wrapped) > B64_FIELD_MAX)
                return org_fail(ret_error, org, "malformed key entry");
        if (has_key(k, (uint32_t) id))
                return org_fail(ret_error, org, "duplicate key id");

        OrgKeyEntry *entry = &k->keys[k->n_keys];
        entry->id = (uint32_t) id;
        entry->created = created;
        entry->nonce = strdup(json_string_value(nonce));
        entry->wrapped = strdup(json_string_value(wrapped));
        k->n_keys++;
        if (!entry->nonce || !entry->wrapped)
                return -ENOMEM;
        return 0;
}

static int org_keys_from_json(json_t *j, const char *org, OrgKeys *k, char **ret_error) {
        static const char *const keys[] = { "format", "org", "current", "keys", "rotating_to" };
        json_t *jorg = json_object_get(j, "org"), *jkeys = json_object_get(j, "keys");
        json_t *jrot = json_object_get(j, "rotating_to");
        uint64_t format, current, rotating_to = 0;
        int r;

        if (!json_is_object(j) || !only_keys(j, keys, ELEMENTSOF(keys)))
                return org_fail(ret_error, org, "unknown keys or not an object");
        if (!json_uint_in(json_object_get(j, "format"), 0, UINT32_MAX, &format) || format != OV_FORMAT_VERSION)
                return org_fail(ret_error, org, "unsupported or missing \"format\"");
        if (!json_is_string(jorg) || strcmp(json_string_value(jorg), org) != 0)
                return org_fail(ret_error, org, "\"org\" does not match the directory");
        if (!json_uint_in(json_object_get(j, "current"), 1, UINT32_MAX, &current))
                return org_fail(ret_error, org, "bad \"current\"");
        if (jrot && !json_uint_in(jrot, 1, UINT32_MAX, &rotating_to))
                return org_fail(ret_error, org, "bad \"rotating_to\"");
        if (!json_is_array(jkeys) || json_array_size(jkeys) == 0 || json_array_size(jkeys) > ORG_KEYS_MAX)
                return org_fail(ret_error, org, "bad \"keys\"");

        k->keys = calloc(json_array_size(jkeys), sizeof(OrgKeyEntry));
        if (!k->keys)
                return -ENOMEM;
        for (size_t i = 0; i < json_array_size(jkeys); i++) {
                r = parse_key_entry(json_array_get(jkeys, i), k, org, ret_error);
                if (r < 0)
                        return r;
        }
        k->current = (uint32_t) current;
        k->rotating_to = (uint32_t) rotating_to;
        if (!has_key(k, k->current) || (k->rotating_to != 0 && (!has_key(k, k->rotating_to) ||
                                                                  k->rotating_to == k->current)))
                return org_fail(ret_error, org, "\"current\" or \"rotating_to\" names no key");
        return 0;
}

int org_keys_load(Store *st, const char *org, OrgKeys *ret, char **ret_error) {
        _cleanup_json_ json_t *j = NULL;
        OrgKeys k = {};
        int r;

        if (!org_name_valid(org))
                return -EINVAL;
        r = store_op_load_org_keys(st, org, &j);
        if (r == -EBADMSG)
                return org_fail(ret_error, org, "not valid JSON");
        if (r == -ENOENT || r == -ENOMEM)
                return r;
        if (r < 0) {
                if (ret_error)
                        *ret_error = strdup_printf("orgs/%s/org.json: %s", org, strerror(-r));
                return r;
        }
        r = org_keys_from_json(j, org, &k, ret_error);
        if (r < 0) {
                org_keys_clear(&k);
                return r;
        }
        *ret = k;
        return 0;
}

int org_keys_save(Store *st, const char *org, const OrgKeys *k) {
        if (!org_name_valid(org))
                return -EINVAL;
        _cleanup_json_ json_t *keys = json_array();
        if (!keys)
                return -ENOMEM;
        for (size_t i = 0; i < k->n_keys; i++)
                if (json_array_append_new(keys, json_pack("{s:I, s:I, s:s, s:s}",
                                                          "id", (json_int_t) k->keys[i].id,
                                                          "created", (json_int_t) k->keys[i].created,
                                                          "nonce", k->keys[i].nonce,
                                                          "wrapped", k->keys[i].wrapped)) < 0)
                        return -ENOMEM;
        _cleanup_json_ json_t *j = json_pack("{s:i, s:s, s:I, s:O}",
                                             "format", OV_FORMAT_VERSION,
                                             "org", org,
                                             "current", (json_int_t) k->current,
                                             "keys", keys);
        if (!j)
                return -ENOMEM;
        if (k->rotating_to != 0 && json_object_set_new(j, "rotating_to", json_integer(k->rotating_to)) < 0)
                return -ENOMEM;
        return store_op_save_org_keys(st, org, j);
}

/* Data keys in memory */

void org_forget_data_keys(VaultOrg *o) {
        for (size_t i = 0; i < o->n_data_keys; i++)
                ov_key_free(o->data_keys[i].key);
        free(o->data_keys);
        o->data_keys = NULL;
        o->n_data_keys = 0;
}

int org_keys_usable(Vault *v, VaultOrg *o, OvError *e) {
        if (!v->master)
                return ov_error_set(e, OV_ERR_SEALED, "%s", v->sealed_reason ?: "The vault is sealed");
        if (o->keys_error)
                return ov_error_set(e, OV_ERR_STORAGE_FAILURE, "%s", o->keys_error);
        return 0;
}

static const OrgKeyEntry *org_key_entry(const VaultOrg *o, uint32_t id) {
        for (size_t i = 0; i < o->keys.n_keys; i++)
                if (o->keys.keys[i].id == id)
                        return &o->keys.keys[i];
        return NULL;
}

static char *cache_name(const Vault *v, const VaultOrg *o, uint32_t id) {
        return strdup_printf("org:%s:%u:%s", o->name, id, v->master_fp);
}

static int org_remember_key(VaultOrg *o, uint32_t id, OvKey *k) {
        DataKey *a = reallocarray(o->data_keys, o->n_data_keys + 1, sizeof(DataKey));
        if (!a)
                return -ENOMEM;
        o->data_keys = a;
        o->data_keys[o->n_data_keys++] = (DataKey) { .id = id, .key = k };
        return 0;
}

/* The unwrapped data key with this id: from memory, the keyring cache, or
 * unwrapped from org.json with the master key. */
static int org_data_key(Vault *v, VaultOrg *o, uint32_t id, const OvKey **ret, OvError *e) {
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

static uint32_t org_sealing_key_id(const VaultOrg *o) {
        return o->keys.rotating_to ?: o->keys.current;
}

uint32_t org_sealing_key(const VaultOrg *o) { return org_sealing_key_id(o); }

int org_data_key_get(Vault *v, VaultOrg *o, uint32_t id, const OvKey **ret, OvError *e) {
        return org_data_key(v, o, id, ret, e);
}

static uint32_t org_next_key_id(const VaultOrg *o) {
        uint32_t max = 0;
        for (size_t i = 0; i < o->keys.n_keys; i++)
                if (o->keys.keys[i].id > max)
                        max = o->keys.keys[i].id;
        /* Records whose org.json was lost must never meet a new key with
         * their old id. */
        for (size_t i = 0; i < o->n; i++)
                if (o->by_id[i]->key_id > max)
                        max = o->by_id[i]->key_id;
        for (size_t pass = 0; pass < 2; pass++)
                for (size_t i = 0; i < (pass == 0 ? o->n : o->n_trash); i++) {
                        const Secret *s = pass == 0 ? o->by_id[i] : o->trash[i];
                        if (s->key_id > max)
                                max = s->key_id;
                        for (size_t j = 0; j < s->n_previous; j++)
                                if (s->previous[j].key_id > max)
                                        max = s->previous[j].key_id;
                }
        return max + 1;
}

/* Makes a new random data key, wraps it and saves org.json with it added
 * (as current when the org had none, else as rotating_to). */
static int org_add_key(Vault *v, VaultOrg *o, OvError *e) {
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
                return ov_error_set_errno(e, OV_ERR_NO_MEMORY, r, "Cannot wrap a new data key: %m");

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
        r = org_keys_save(v->store, o->name, &next);
        if (r < 0) {
                org_note_store_error(o, r);
                return storage_error(e, r, "write org.json of", o->name, NULL);
        }

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

int org_seal_plain(Vault *v, VaultOrg *o, const char *id, const char *type, uint32_t version, const char *plain,
                   size_t len, uint32_t *ret_key_id, char **ret_nonce, char **ret_ct, OvError *e) {
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
        r = crypto_seal_value(key, key_id, o->name, id, type, version, plain, len, ret_nonce, ret_ct);
        if (r < 0)
                return ov_error_set_errno(e, r == -ENOMEM ? OV_ERR_NO_MEMORY : OV_ERR_INVALID_ARGS, r,
                                          "Cannot seal the value: %m");
        *ret_key_id = key_id;
        return 0;
}

int org_seal_fields(Vault *v, VaultOrg *o, const char *id, const char *type, uint32_t version, json_t *fields,
                    uint32_t *ret_key_id, char **ret_nonce, char **ret_ct, OvError *e) {
        _cleanup_secret_free_ char *plain = json_dumps(fields, JSON_COMPACT);
        if (!plain)
                return ov_error_set(e, OV_ERR_NO_MEMORY, "Out of memory");
        return org_seal_plain(v, o, id, type, version, plain, strlen(plain), ret_key_id, ret_nonce, ret_ct, e);
}

/* Opens one sealed value of s: version 0 means format 1's AD. */
static int org_open_sealed(Vault *v, VaultOrg *o, const Secret *s, uint32_t key_id, uint32_t version,
                           const char *nonce, const char *ct, char **ret_plain, size_t *ret_len, OvError *e) {
        const OvKey *key = NULL;
        int r = org_data_key(v, o, key_id, &key, e);
        if (r < 0)
                return r;
        r = crypto_open_value(key, key_id, o->name, s->id, s->type, version, nonce, ct, ret_plain, ret_len);
        if (r == -ENOMEM)
                return ov_error_set(e, OV_ERR_NO_MEMORY, "Out of memory");
        if (r < 0)
                return ov_error_set(e, OV_ERR_STORAGE_FAILURE,
                                    "Version %u of %s/%s does not open: the record was tampered with or moved",
                                    version ?: s->version, o->name, s->id);
        return 0;
}

int org_open_value(Vault *v, VaultOrg *o, const Secret *s, char **ret_plain, size_t *ret_len, OvError *e) {
        return org_open_sealed(v, o, s, s->key_id, s->legacy_ad ? 0 : s->version, s->nonce, s->ciphertext,
                               ret_plain, ret_len, e);
}

int org_open_previous(Vault *v, VaultOrg *o, const Secret *s, const SecretValue *p, char **ret_plain,
                      size_t *ret_len, OvError *e) {
        return org_open_sealed(v, o, s, p->key_id, p->version, p->nonce, p->ciphertext, ret_plain, ret_len, e);
}

static bool secret_under(const Secret *s, uint32_t key_id) {
        if (s->legacy_ad || s->key_id != key_id)
                return false;
        for (size_t i = 0; i < s->n_previous; i++)
                if (s->previous[i].key_id != key_id)
                        return false;
        return true;
}

/* Opens and re-seals one value under `key` (id `to`), as `version`. */
static int reseal_one(Vault *v, VaultOrg *o, const Secret *s, const OvKey *key, uint32_t to, uint32_t from_key,
                      uint32_t from_version, uint32_t version, const char *nonce, const char *ct, char **ret_nonce,
                      char **ret_ct, OvError *e) {
        char *plain = NULL;
        size_t len = 0;
        int r = org_open_sealed(v, o, s, from_key, from_version, nonce, ct, &plain, &len, e);
        if (r < 0)
                return r;
        r = crypto_seal_value(key, to, o->name, s->id, s->type, version, plain, len, ret_nonce, ret_ct);
        crypto_free_plain(plain);
        if (r < 0)
                return ov_error_set_errno(e, OV_ERR_NO_MEMORY, r, "Cannot re-seal %s/%s: %m", o->name, s->id);
        return 0;
}

static void free_values(SecretValue *a, size_t n) {
        for (size_t i = 0; i < n; i++)
                secret_value_clear(&a[i]);
        free(a);
}

int org_reseal_secret(Vault *v, VaultOrg *o, Secret *s, uint32_t to, OvError *e) {
        _cleanup_free_ char *nonce = NULL, *ct = NULL;
        SecretValue *previous = NULL;
        const OvKey *key = NULL;
        int r;

        if (secret_under(s, to))
                return 0;
        if (secret_own_strings(s) < 0)          /* its nonce and ciphertext are freed below */
                return ov_error_set(e, OV_ERR_NO_MEMORY, "Out of memory");
        r = org_data_key(v, o, to, &key, e);
        if (r < 0)
                return r;
        /* The current value (format 1's AD is migrated on the way) and
         * every kept earlier one, each with the AD of its own version. */
        r = reseal_one(v, o, s, key, to, s->key_id, s->legacy_ad ? 0 : s->version, s->version, s->nonce,
                       s->ciphertext, &nonce, &ct, e);
        if (r < 0)
                return r;
        if (s->n_previous > 0 && !(previous = calloc(s->n_previous, sizeof(SecretValue))))
                return ov_error_set(e, OV_ERR_NO_MEMORY, "Out of memory");
        for (size_t i = 0; i < s->n_previous; i++) {
                const SecretValue *p = &s->previous[i];
                previous[i] = (SecretValue) { .version = p->version, .key_id = to, .set = p->set, .by = strdup(p->by ?: "") };
                r = previous[i].by ? reseal_one(v, o, s, key, to, p->key_id, p->version, p->version, p->nonce,
                                                p->ciphertext, &previous[i].nonce, &previous[i].ciphertext, e)
                                   : ov_error_set(e, OV_ERR_NO_MEMORY, "Out of memory");
                if (r < 0) {
                        free_values(previous, i + 1);
                        return r;
                }
        }
        Secret resealed = *s;
        resealed.key_id = to;
        resealed.nonce = nonce;
        resealed.ciphertext = ct;
        resealed.legacy_ad = false;
        resealed.previous = previous;
        r = s->deleted ? store_op_save_trashed(v->store, o->name, &resealed)
                       : org_save_record(v, o, &resealed, &s->stamp);
        if (r < 0) {
                free_values(previous, s->n_previous);
                return storage_error(e, r, s->deleted ? "write the trash entry" : "write record", o->name, s->id);
        }
        free(s->nonce);
        free(s->ciphertext);
        free_values(s->previous, s->n_previous);
        s->previous = previous;
        s->nonce = TAKE_PTR(nonce);
        s->ciphertext = TAKE_PTR(ct);
        s->key_id = to;
        s->legacy_ad = false;
        return 0;
}

void org_migrate_records(Vault *v, VaultOrg *o) {
        unsigned n = 0, failed = 0;
        OvError e = {};

        if (!v->master || o->keys_error || o->keys.n_keys == 0)
                return;
        for (size_t pass = 0; pass < 2; pass++)
                for (size_t i = 0; i < (pass == 0 ? o->n : o->n_trash); i++) {
                        Secret *s = pass == 0 ? o->by_id[i] : o->trash[i];
                        if (!s->legacy_ad)
                                continue;
                        if (org_reseal_secret(v, o, s, org_sealing_key_id(o), &e) < 0) {
                                failed++;
                                log_error("Org %s: cannot migrate %s to record format %d: %s", o->name, s->id,
                                          OV_RECORD_FORMAT, e.message);
                        } else
                                n++;
                }
        if (n > 0)
                log_info("Org %s: migrated %u record(s) to format %d", o->name, n, OV_RECORD_FORMAT);
        (void) failed;
}

/* Re-seals every record and trash entry still under an older key, then
 * makes the new key current and drops the old ones. Each step is durable on
 * its own, so a crash anywhere resumes here at the next load. */
static int org_finish_rotation(Vault *v, VaultOrg *o, OvError *e) {
        uint32_t to = o->keys.rotating_to;
        const OvKey *new_key = NULL;
        int r;

        r = org_data_key(v, o, to, &new_key, e);
        if (r < 0)
                return r;
        for (size_t i = 0; i < o->n; i++) {
                r = org_reseal_secret(v, o, o->by_id[i], to, e);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < o->n_trash; i++) {
                r = org_reseal_secret(v, o, o->trash[i], to, e);
                if (r < 0)
                        return r;
        }

        /* The manifest under the new key before the old keys go: else it
         * could not be verified after the rotation. */
        r = org_write_manifest(v, o, e);
        if (r < 0)
                return r;

        const OrgKeyEntry *entry = org_key_entry(o, to);
        OrgKeyEntry *kept = malloc(sizeof(OrgKeyEntry));
        if (!kept)
                return ov_error_set(e, OV_ERR_NO_MEMORY, "Out of memory");
        *kept = *entry;
        OrgKeys next = { .current = to, .keys = kept, .n_keys = 1, .rotating_to = 0 };
        r = org_keys_save(v->store, o->name, &next);
        if (r < 0) {
                free(kept);
                org_note_store_error(o, r);
                return storage_error(e, r, "write org.json of", o->name, NULL);
        }
        for (size_t i = 0; i < o->keys.n_keys; i++)
                if (o->keys.keys[i].id != to) {
                        /* Rotated away: out of the kernel keyring too, not
                         * left there until its timeout. */
                        _cleanup_free_ char *name = cache_name(v, o, o->keys.keys[i].id);
                        if (name)
                                keyring_cache_revoke(v->cache, name);
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

/* Every key must open first: a new key wrapped by a wrong master key would
 * leave org.json half unusable. */
int org_rotate_keys(Vault *v, VaultOrg *o, OvError *e) {
        int r;

        r = org_keys_usable(v, o, e);
        if (r < 0)
                return r;
        if (o->keys.n_keys == 0)
                return 0;        /* no key yet: the first add makes one */
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

void org_resume_rotation(Vault *v, VaultOrg *o) {
        OvError e = {};

        if (o->keys.rotating_to == 0 || !v->master)
                return;
        if (org_finish_rotation(v, o, &e) < 0)
                log_error("Org %s: cannot finish the interrupted key rotation: %s", o->name, e.message);
        else
                log_info("Org %s: finished an interrupted key rotation", o->name);
}
