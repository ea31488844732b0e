/* SPDX-License-Identifier: Apache-2.0 */
/* A secret's kept versions: each value update keeps the value it replaces
 * as an earlier version (sealed as it was, its AD bound to its own version
 * number), up to --keep-versions; a rollback makes a new version from an
 * earlier one inside the vault, so no value passes through the caller. */

#include <errno.h>
#include <string.h>

#include "vault-internal.h"

int org_replace_value(Vault *v, VaultOrg *o, Secret *s, uint32_t key_id, char **nonce, char **ct,
                      const SecretOptions *opts, uint32_t *ret_version, OvError *e) {
        static const SecretOptions none = {};
        if (!opts)
                opts = &none;
        if (s->version == UINT32_MAX)
                return ov_error_set(e, OV_ERR_INVALID_ARGS, "Secret %s has reached its last version", s->id);
        _cleanup_free_ char *by = strdup(opts->set_by ?: "");
        /* The current value's strings move to the earlier values or are freed. */
        if (!by || secret_own_strings(s) < 0)
                return ov_error_set(e, OV_ERR_NO_MEMORY, "Out of memory");

        /* The earlier values after this one: the current value first (not
         * a format 1 one: its AD has no version to bind), then the kept
         * ones, keep_versions in all. Shallow: they borrow s's strings. */
        size_t keep = v->keep_versions, n = 0;
        _cleanup_free_ SecretValue *previous = keep > 0 ? calloc(keep, sizeof(SecretValue)) : NULL;
        if (keep > 0 && !previous)
                return ov_error_set(e, OV_ERR_NO_MEMORY, "Out of memory");
        if (keep > 0 && !s->legacy_ad)
                previous[n++] = (SecretValue) { .version = s->version, .key_id = s->key_id, .nonce = s->nonce,
                                                .ciphertext = s->ciphertext, .set = s->value_set, .by = s->value_by };
        for (size_t i = 0; i < s->n_previous && n < keep; i++)
                previous[n++] = s->previous[i];

        Secret next = *s;
        next.version = s->version + 1;
        next.key_id = key_id;
        next.nonce = *nonce;
        next.ciphertext = *ct;
        next.updated = next.value_set = now_usec();
        next.value_by = by;
        next.legacy_ad = false;
        next.previous = previous;
        next.n_previous = n;
        if (opts->has_expires)
                next.expires = opts->expires;
        if (opts->has_rotate_every)
                next.rotate_every = opts->rotate_every;
        RecordStamp stamp = {};
        int r = org_save_record(v, o, &next, &stamp);
        if (r < 0)
                return storage_error(e, r, "write record", o->name, s->id);

        /* Durable: drop what fell off the end, then take the new state. */
        bool kept_current = keep > 0 && !s->legacy_ad;
        if (!kept_current) {
                free(s->nonce);
                free(s->ciphertext);
                free(s->value_by);
        }
        for (size_t i = n - (kept_current ? 1 : 0); i < s->n_previous; i++)
                secret_value_clear(&s->previous[i]);
        free(s->previous);
        next.previous = n > 0 ? TAKE_PTR(previous) : NULL;
        next.value_by = TAKE_PTR(by);
        next.nonce = TAKE_PTR(*nonce);
        next.ciphertext = TAKE_PTR(*ct);
        next.stamp = stamp;
        *s = next;
        if (ret_version)
                *ret_version = s->version;
        return 0;
}

int vault_list_versions(Vault *v, const char *org, const char *id, SecretVersionInfo **ret, size_t *ret_n,
                        OvError *e) {
        Secret *s = NULL;
        int r = org_secret(v, org, id, NULL, &s, e);
        if (r < 0)
                return r;
        SecretVersionInfo *l = calloc(s->n_previous + 1, sizeof(SecretVersionInfo));
        if (!l)
                return ov_error_set(e, OV_ERR_NO_MEMORY, "Out of memory");
        l[0] = (SecretVersionInfo) { s->version, s->value_set, s->value_by ?: "", s->key_id };
        for (size_t i = 0; i < s->n_previous; i++) {
                const SecretValue *p = &s->previous[i];
                l[i + 1] = (SecretVersionInfo) { p->version, p->set, p->by ?: "", p->key_id };
        }
        *ret = l;
        *ret_n = s->n_previous + 1;
        return 0;
}

int vault_rollback(Vault *v, const char *org, const char *id, uint32_t version, const char *by,
                   uint32_t *ret_version, OvError *e) {
        _cleanup_free_ char *nonce = NULL, *ct = NULL;
        const SecretValue *p = NULL;
        VaultOrg *o = NULL;
        Secret *s = NULL;
        char *plain = NULL;
        size_t len = 0;
        uint32_t key_id = 0;
        int r;

        r = org_secret(v, org, id, &o, &s, e);
        if (r < 0)
                return r;
        if (version == s->version)
                return ov_error_set(e, OV_ERR_INVALID_ARGS, "Version %u is the current version of %s", version, id);
        for (size_t i = 0; i < s->n_previous && !p; i++)
                if (s->previous[i].version == version)
                        p = &s->previous[i];
        if (!p)
                return ov_error_set(e, OV_ERR_NOT_FOUND, "Secret %s has no kept version %u", id, version);
        r = org_keys_usable(v, o, e);
        if (r < 0)
                return r;
        if (s->version == UINT32_MAX)
                return ov_error_set(e, OV_ERR_INVALID_ARGS, "Secret %s has reached its last version", id);

        /* Opened and re-sealed here, as the next version: the value stays
         * in locked memory and never leaves the vault. */
        r = org_open_previous(v, o, s, p, &plain, &len, e);
        if (r < 0)
                return r;
        r = org_seal_plain(v, o, s->id, s->type, s->version + 1, plain, len, &key_id, &nonce, &ct, e);
        crypto_free_plain(plain);
        if (r < 0)
                return r;
        r = org_replace_value(v, o, s, key_id, &nonce, &ct, &(SecretOptions) { .set_by = by }, ret_version, e);
        if (r < 0)
                return r;
        org_update_manifest(v, o);
        if (v->event_cb)
                v->event_cb(v, VAULT_SECRET_CHANGED, o->name, s, v->event_userdata);
        return 0;
}
