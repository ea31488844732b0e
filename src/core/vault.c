/* SPDX-License-Identifier: Apache-2.0 */
/* The vault's operations: opening and sealing it, reading and changing an
 * org's secrets, resolving values. Every mutation builds the new record,
 * writes it durably and only then changes memory, so a failed write leaves
 * both disk and memory as they were. The org table is vault-org.c, the data
 * keys org-keys.c. */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sodium.h>

#include "state-lock.h"
#include "vault-internal.h"

/* Opening, sealing */

static void vault_forget_keys(Vault *v);

/* A store shared by hosts remembers the master key it was first used
 * with: a host with another key must not seal records no other host can
 * open. Refused before anything is written. */
static int check_master(Vault *v, const char *fingerprint, OvError *e) {
        int r = store_op_check_master(v->store, fingerprint);
        if (r == -EKEYREJECTED)
                return ov_error_set(e, OV_ERR_SEALED,
                                    "This host's master key is not the one the %s store was first used with: "
                                    "refusing to serve (give every host the same key, docs/CRYPTO.md)",
                                    store_kind(v->store));
        if (r < 0)
                return storage_error(e, r, "check the master key against", "the store", NULL);
        return 0;
}

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
        v->state_fd = v->lock_fd = -1;
        v->key_mode = cfg->key_mode;
        v->trash_days = cfg->trash_days;
        v->keep_versions = cfg->keep_versions > OV_VERSIONS_MAX ? OV_VERSIONS_MAX : cfg->keep_versions;
        v->clock = cfg->clock;
        v->types = types;
        v->state_dir = strdup(cfg->state_dir);
        if (!v->state_dir)
                return ov_error_set(e, OV_ERR_NO_MEMORY, "Out of memory");

        r = mkdir_p_at(AT_FDCWD, cfg->state_dir, 0700);
        if (r < 0)
                return ov_error_set_errno(e, OV_ERR_STORAGE_FAILURE, r, "Cannot create the state directory %s: %m",
                                          cfg->state_dir);
        v->state_fd = open(cfg->state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (v->state_fd < 0)
                return ov_error_set(e, OV_ERR_STORAGE_FAILURE, "Cannot open the state directory %s: %m",
                                    cfg->state_dir);
        pid_t holder = 0;
        v->lock_fd = state_lock_take(v->state_fd, cfg->lock_timeout_usec, &holder);
        if (v->lock_fd == -EBUSY) {
                char who[32] = "PID unknown";
                if (holder > 0)
                        snprintf(who, sizeof who, "PID %ld", (long) holder);
                return ov_error_set(e, OV_ERR_STORAGE_FAILURE,
                                    "Another orgvaultd (%s) is using %s: its lock %s/" STATE_LOCK_FILE
                                    " was still held after %.1f s; not starting a second one on the same state",
                                    who, cfg->state_dir, cfg->state_dir, (double) cfg->lock_timeout_usec / 1e6);
        }
        if (v->lock_fd < 0)
                return ov_error_set_errno(e, OV_ERR_STORAGE_FAILURE, v->lock_fd,
                                          "Cannot lock the state directory %s: %m", cfg->state_dir);
        _cleanup_free_ char *store_error = NULL;
        r = store_open(cfg->store, v->state_fd, &v->store, &store_error);
        if (r == -ENOMEM)
                return ov_error_set(e, OV_ERR_NO_MEMORY, "Out of memory");
        if (r < 0)
                return ov_error_set_errno(e, OV_ERR_STORAGE_FAILURE, r, "Cannot open the store: %s",
                                          store_error ?: strerror(-r));

        v->cache = keyring_cache_new(cfg->state_dir, cfg->keyring_timeout_sec);
        if (!v->cache)
                return ov_error_set(e, OV_ERR_NO_MEMORY, "Out of memory");
        r = master_key_load(v->state_fd, cfg->key_mode, v->cache, &v->master, e);
        if (r < 0)
                return r;
        if (v->master) {
                crypto_key_fingerprint(v->master, v->master_fp);
                OvError me = {};
                r = check_master(v, v->master_fp, &me);
                if (r < 0 && me.code != OV_ERR_SEALED)
                        return ov_error_set(e, me.code, "%s", me.message);
                if (r < 0) {
                        /* Serve nothing a key opens, and say why: Status
                         * answers (Sealed), every other call is Sealed with
                         * this message. Nothing is written. */
                        log_error("%s", me.message);
                        v->sealed_reason = strdup(me.message);
                        vault_forget_keys(v);
                }
        }

        *ret = TAKE_PTR(v);
        return 0;
}

void vault_free(Vault *v) {
        if (!v)
                return;
        if (v->store && vault_commit_pending(v))
                (void) vault_commit(v);         /* staged manifests too */
        int r = vault_flush_usage(v);
        if (r < 0)
                log_warning_errno(r, "Cannot write usage on exit: %m");
        for (size_t i = 0; i < v->n_orgs; i++)
                org_free(v->orgs[i]);
        free(v->orgs);
        census_free(v->census);
        ov_key_free(v->master);
        keyring_cache_free(v->cache);
        store_free(v->store);
        if (v->state_fd >= 0)
                close(v->state_fd);
        if (v->lock_fd >= 0)
                close(v->lock_fd);       /* last: every write above is done */
        free(v->state_dir);
        free(v->sealed_reason);
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
        char fp[17];
        crypto_key_fingerprint(k, fp);
        r = check_master(v, fp, e);
        if (r < 0) {
                ov_key_free(k);
                return r;
        }
        vault_forget_keys(v);
        free(v->sealed_reason);
        v->sealed_reason = NULL;
        v->master = k;
        crypto_key_fingerprint(v->master, v->master_fp);

        for (size_t i = 0; i < v->n_orgs; i++) {
                org_resume_rotation(v, v->orgs[i]);
                org_migrate_records(v, v->orgs[i]);
                if (!v->orgs[i]->manifest_checked)
                        org_check_manifest(v, v->orgs[i]);
                else if (v->orgs[i]->manifest_dirty)
                        org_update_manifest(v, v->orgs[i]);
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
        VaultOrg *o = NULL;
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
        bool narrowed = (f->type && *f->type) || (f->feature && *f->feature) || (f->search && *f->search) ||
                        f->due_within > 0;
        uint64_t now = vault_now(v);
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
        /* A search walks only the names its index says may match (in the
         * same order), else every name. */
        _cleanup_free_ Secret **candidates = NULL;
        Secret *const *pool = o->by_name;
        size_t n_pool = o->n;
        if (f->search && *f->search) {
                r = org_search_candidates(o, f->search, &candidates, &n_pool);
                if (r == -ENOMEM)
                        return ov_error_set(e, OV_ERR_NO_MEMORY, "Out of memory");
                if (r >= 0)
                        pool = candidates;
                else
                        n_pool = o->n;
        }
        size_t n = 0, skipped = 0;
        for (size_t i = 0; i < n_pool; i++) {
                const Secret *s = pool[i];
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
                if (f->due_within > 0 && !secret_due(s, now, f->due_within, NULL, NULL))
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

int vault_for_each_due(Vault *v, uint64_t within, vault_due_cb cb, void *userdata, OvError *e) {
        _cleanup_strv_free_ char **orgs = NULL;
        uint64_t now = vault_now(v);
        int n = 0;

        int r = vault_loaded_orgs(v, &orgs);
        if (r < 0)
                return storage_error(e, r, "list the orgs in", v->state_dir, NULL);
        for (char **org = orgs; *org; org++) {
                VaultOrg *o = NULL;
                OvError oe = {};
                if (org_get(v, *org, &o, &oe) < 0) {
                        log_warning("Reminders: skipping org %s: %s", *org, oe.message);
                        continue;
                }
                org_expire_trash(v, o);
                for (size_t i = 0; i < o->n; i++) {
                        const char *what = NULL;
                        uint64_t when = 0;
                        if (!secret_due(o->by_name[i], now, within, &what, &when))
                                continue;
                        cb(*org, o->by_name[i], what, when, now, userdata);
                        n++;
                }
        }
        return n;
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
static int pick_id(const VaultOrg *o, const char *name, char **ret) {
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
                     json_t *fields, const SecretType **ret_type, VaultOrg **ret_org, ValidationResult *res,
                     char ***ret_warnings, OvError *e) {
        const SecretType *t;
        VaultOrg *o = NULL;
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
        VaultOrg *o;

        return add_check(v, org, type, name && *name ? name : NULL, id, fields, &t, &o, &res, ret_warnings, e);
}

#define ROTATE_EVERY_MAX (100ULL * 365 * 86400 * 1000000)

int vault_check_options(const SecretOptions *o, OvError *e) {
        if (!o)
                return 0;
        if (o->has_expires && o->expires > INT64_MAX)
                return ov_error_set(e, OV_ERR_INVALID_ARGS, "expires is µs since the epoch (0 = none)");
        if (o->has_rotate_every && o->rotate_every > ROTATE_EVERY_MAX)
                return ov_error_set(e, OV_ERR_INVALID_ARGS, "rotate_every is at most 100 years in µs (0 = none)");
        if (o->set_by && (strlen(o->set_by) > OV_SET_BY_MAX || !utf8_text_valid(o->set_by, NULL)))
                return ov_error_set(e, OV_ERR_INVALID_ARGS, "Invalid name of who sets the value");
        return 0;
}

bool secret_due(const Secret *s, uint64_t now, uint64_t within, const char **ret_what, uint64_t *ret_when) {
        uint64_t rotate_by = secret_rotate_by(s), limit = now > UINT64_MAX - within ? UINT64_MAX : now + within;
        const char *what = NULL;
        uint64_t when = 0;

        if (s->expires != 0 && s->expires <= limit) {
                what = "expires";
                when = s->expires;
        }
        if (rotate_by != 0 && rotate_by <= limit && (!what || rotate_by < when)) {
                what = "rotation";
                when = rotate_by;
        }
        if (ret_what)
                *ret_what = what;
        if (ret_when)
                *ret_when = when;
        return what != NULL;
}

int vault_add(Vault *v, const char *org, const char *type, const char *name, const char *id,
              json_t *fields, char **ret_id, char ***ret_warnings, OvError *e) {
        return vault_add_with(v, org, type, name, id, fields, NULL, ret_id, ret_warnings, e);
}

int vault_add_with(Vault *v, const char *org, const char *type, const char *name, const char *id, json_t *fields,
                   const SecretOptions *opts, char **ret_id, char ***ret_warnings, OvError *e) {
        _cleanup_(validation_result_clear) ValidationResult res = {};
        _cleanup_strv_free_ char **warnings = NULL;
        _cleanup_secret_ Secret *s = NULL;
        const SecretType *t;
        VaultOrg *o = NULL;
        int r;

        r = vault_check_options(opts, e);
        if (r < 0)
                return r;
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
        s->created = s->updated = s->value_set = now_usec();
        uint64_t first = org_first_created(o, s->id);
        if (s->created < first)
                s->created = s->updated = s->value_set = first;
        s->version = 1;
        s->value_by = strdup(opts && opts->set_by ? opts->set_by : "");
        if (!s->value_by)
                return ov_error_set(e, OV_ERR_NO_MEMORY, "Out of memory");
        if (opts && opts->has_expires)
                s->expires = opts->expires;
        if (opts && opts->has_rotate_every)
                s->rotate_every = opts->rotate_every;
        r = org_seal_fields(v, o, s->id, s->type, 1, res.normalized, &s->key_id, &s->nonce, &s->ciphertext, e);
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
        org_update_manifest(v, o);
        vault_emit(v, VAULT_SECRET_ADDED, o, added);
        return 0;
}

/* Everything an update checks before it writes. */
static int update_check(Vault *v, const char *org, const char *id, json_t *fields, VaultOrg **ret_org,
                        Secret **ret, ValidationResult *res, char ***ret_warnings, OvError *e) {
        const SecretType *t;
        Secret *s = NULL;
        VaultOrg *o = NULL;
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
        VaultOrg *o;

        return update_check(v, org, id, fields, &o, &s, &res, ret_warnings, e);
}

int vault_update(Vault *v, const char *org, const char *id, json_t *fields,
                 uint32_t *ret_version, char ***ret_warnings, OvError *e) {
        return vault_update_with(v, org, id, fields, NULL, ret_version, ret_warnings, e);
}

int vault_update_with(Vault *v, const char *org, const char *id, json_t *fields, const SecretOptions *opts,
                      uint32_t *ret_version, char ***ret_warnings, OvError *e) {
        _cleanup_(validation_result_clear) ValidationResult res = {};
        _cleanup_strv_free_ char **warnings = NULL;
        _cleanup_free_ char *nonce = NULL, *ct = NULL;
        uint32_t key_id = 0;
        Secret *s = NULL;
        VaultOrg *o = NULL;
        int r;

        r = vault_check_options(opts, e);
        if (r < 0)
                return r;
        r = update_check(v, org, id, fields, &o, &s, &res, &warnings, e);
        if (r < 0)
                return r;
        r = org_seal_fields(v, o, s->id, s->type, s->version + 1, res.normalized, &key_id, &nonce, &ct, e);
        if (r < 0)
                return r;
        r = org_replace_value(v, o, s, key_id, &nonce, &ct, opts, ret_version, e);
        if (r < 0)
                return r;
        org_update_manifest(v, o);
        if (ret_warnings)
                *ret_warnings = TAKE_PTR(warnings);
        vault_emit(v, VAULT_SECRET_CHANGED, o, s);
        return 0;
}

int vault_rename(Vault *v, const char *org, const char *id, const char *name, OvError *e) {
        Secret *s = NULL;
        VaultOrg *o = NULL;
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
        if (!new_name || secret_own_strings(s) < 0)     /* its name is freed below */
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
        vault_emit(v, VAULT_SECRET_CHANGED, o, s);
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
        VaultOrg *o = NULL;
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
        r = org_trash_secret(v, o, s, e);
        if (r < 0)
                return r;
        vault_emit(v, VAULT_SECRET_REMOVED, o, s);
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
        VaultOrg *o = NULL;
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
        vault_emit(v, VAULT_SECRET_CHANGED, o, s);
        return 0;
}

int vault_remove_reference(Vault *v, const char *org, const char *id, const char *feature, const char *target, OvError *e) {
        Secret *s = NULL;
        VaultOrg *o = NULL;
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
        vault_emit(v, VAULT_SECRET_CHANGED, o, s);
        return 0;
}

/* Resolving */

static void note_use(VaultOrg *o, Secret *s, const char *used_by) {
        char *by = strdup(used_by && reference_text_valid(used_by) ? used_by : "unknown");
        if (by) {
                free(s->last_used_by);
                s->last_used_by = by;
        }
        s->last_used = now_usec();
        o->usage_dirty = true;
}

/* The secret and its decrypted fields (free with crypto_free_plain). */
static int open_secret_value(Vault *v, const char *org, const char *id, VaultOrg **ret_org, Secret **ret_secret,
                             char **ret_plain, size_t *ret_len, OvError *e) {
        int r = org_secret(v, org, id, ret_org, ret_secret, e);
        if (r < 0)
                return r;
        return org_open_value(v, *ret_org, *ret_secret, ret_plain, ret_len, e);
}

int vault_resolve(Vault *v, const char *org, const char *id, const char *used_by,
                  char **ret_json, size_t *ret_len, OvError *e) {
        static const char head[] = "{\"type\":\"", middle[] = "\",\"fields\":", tail[] = "}";
        char *plain = NULL;
        size_t len = 0;
        Secret *s = NULL;
        VaultOrg *o = NULL;
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

int vault_resolve_field(Vault *v, const char *org, const char *id, const char *field, const char *used_by,
                        char **ret_value, size_t *ret_len, OvError *e) {
        char *plain = NULL;
        size_t len = 0;
        Secret *s = NULL;
        VaultOrg *o = NULL;
        int r;

        r = open_secret_value(v, org, id, &o, &s, &plain, &len, e);
        if (r < 0)
                return r;
        json_t *j = json_loadb(plain, len, 0, NULL);
        crypto_free_plain(plain);
        json_t *f = json_object_get(j, field ?: "");
        if (!json_is_string(f)) {
                json_wipe_decref(j);
                return ov_error_set(e, OV_ERR_NOT_FOUND, "Secret %s has no field %s", id, field ?: "");
        }
        size_t n = json_string_length(f);
        char *out = crypto_alloc_plain(n + 1);
        if (out) {
                memcpy(out, json_string_value(f), n);
                out[n] = 0;
        }
        json_wipe_decref(j);
        if (!out)
                return ov_error_set(e, OV_ERR_NO_MEMORY, "Out of memory");

        note_use(o, s, used_by);
        *ret_value = out;
        if (ret_len)
                *ret_len = n;
        return 0;
}

/* Other hosts' writers of the org wait while it rotates (store lock), and
 * it rotates what the store holds, not an older copy. */
int vault_rotate_keys(Vault *v, const char *org, OvError *e) {
        VaultOrg *o = NULL;
        bool changed = false;
        int r = org_get(v, org, &o, e);
        if (r < 0)
                return r;
        r = store_op_lock_org(v->store, o->name, &changed);
        if (r < 0)
                return storage_error(e, r, "lock", o->name, NULL);
        if (changed && (r = org_refresh(v, o)) < 0) {
                store_op_unlock_org(v->store, o->name);
                return storage_error(e, r, "reload", o->name, NULL);
        }
        r = org_rotate_keys(v, o, e);
        store_op_unlock_org(v->store, o->name);
        return r;
}

/* Changes by other writers of a shared store */

int vault_store_watch(Vault *v, int *ret_fd, uint64_t *ret_generation) {
        return store_op_watch(v->store, ret_fd, ret_generation);
}

static void on_store_changed(const char *org, void *userdata) {
        Vault *v = userdata;
        for (size_t i = 0; i < v->n_orgs; i++)
                if (strcmp(v->orgs[i]->name, org) == 0)
                        v->orgs[i]->stale = true;
}

int vault_store_process(Vault *v) {
        int r = store_op_process(v->store, on_store_changed, v);
        for (size_t i = 0; i < v->n_orgs; i++)
                if (v->orgs[i]->stale)
                        (void) org_refresh(v, v->orgs[i]);
        return r;
}

/* A store that cannot answer still has a status: degraded, with what is
 * loaded here. */
int vault_status(Vault *v, VaultStatus *ret) {
        *ret = (VaultStatus) {
                .sealed = !v->master,
                .key_mode = v->key_mode,
                .keyring_cache = keyring_cache_enabled(v->cache),
                .store = store_kind(v->store),
        };
        ret->store_degraded = store_op_degraded(v->store);
        return 0;
}

