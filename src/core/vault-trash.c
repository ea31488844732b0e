/* SPDX-License-Identifier: Apache-2.0 */
/* An org's trash: DeleteSecret moves a secret there with its references and
 * versions; it can be listed, restored under its own id, or purged, and
 * entries older than --trash-days go by themselves. Like every mutation,
 * each step is durable on disk before memory changes. */

#include <errno.h>
#include <string.h>

#include "vault-internal.h"

#define USEC_PER_DAY (86400ULL * 1000000ULL)

static ssize_t trash_find(const VaultOrg *o, const char *id, size_t *ret_pos) {
        return secrets_find_id(o->trash, o->n_trash, id, ret_pos);
}

static Secret *trash_take(VaultOrg *o, size_t i) {
        Secret *s = o->trash[i];
        memmove(o->trash + i, o->trash + i + 1, (o->n_trash - i - 1) * sizeof(Secret *));
        o->n_trash--;
        return s;
}

void org_trash_remove(VaultOrg *o, Secret *s) {
        for (size_t i = 0; i < o->n_trash; i++)
                if (o->trash[i] == s) {
                        (void) trash_take(o, i);
                        return;
                }
}

void org_free_trash(VaultOrg *o) {
        for (size_t i = 0; i < o->n_trash; i++)
                secret_free(o->trash[i]);
        free(o->trash);
        o->trash = NULL;
        o->n_trash = 0;
}

int org_trash_secret(Vault *v, VaultOrg *o, Secret *s, OvError *e) {
        size_t pos = 0;
        ssize_t old = trash_find(o, s->id, &pos);
        uint64_t deleted = vault_now(v);
        int r;

        if (old < 0) {
                Secret **a = reallocarray(o->trash, o->n_trash + 1, sizeof(Secret *));
                if (!a)
                        return ov_error_set(e, OV_ERR_NO_MEMORY, "Out of memory");
                o->trash = a;
        } else if (deleted <= o->trash[old]->deleted)
                deleted = o->trash[old]->deleted + 1;   /* a clock set back: names stay distinct */
        r = store_op_trash_secret(v->store, o->name, s, deleted, old >= 0 ? o->trash[old]->deleted : 0);
        if (r < 0) {
                org_note_store_error(o, r);
                return storage_error(e, r, "move to the trash", o->name, s->id);
        }

        org_unlink(o, s);
        o->index_dirty = true;
        if (s->last_used > 0)
                o->usage_dirty = true;   /* drop its entry at the next flush */
        s->deleted = deleted;
        if (old >= 0) {
                secret_free(o->trash[old]);
                o->trash[old] = s;
        } else {
                memmove(o->trash + pos + 1, o->trash + pos, (o->n_trash - pos) * sizeof(Secret *));
                o->trash[pos] = s;
                o->n_trash++;
        }
        return 0;
}

void org_expire_trash(Vault *v, VaultOrg *o) {
        if (v->trash_days == 0)
                return;
        uint64_t now = vault_now(v), age = (uint64_t) v->trash_days * USEC_PER_DAY;
        bool purged = false;
        for (size_t i = 0; i < o->n_trash;) {
                Secret *s = o->trash[i];
                if (s->deleted + age > now) {
                        i++;
                        continue;
                }
                int r = store_op_purge_trashed(v->store, o->name, s);
                if (r < 0 && r != -ENOENT) {
                        log_warning_errno(r, "Org %s: cannot purge %s from the trash: %m", o->name, s->id);
                        i++;
                        continue;
                }
                log_info("Org %s: purged %s from the trash (deleted more than %u days ago)", o->name, s->id,
                         v->trash_days);
                org_note_purged(v, o, s);
                secret_free(trash_take(o, i));
                purged = true;
        }
        if (purged)
                org_update_manifest(v, o);
}

/* The org with its trash aged: every trash call sees only live entries. */
static int trash_org(Vault *v, const char *org, VaultOrg **ret, OvError *e) {
        int r = org_get(v, org, ret, e);
        if (r < 0)
                return r;
        org_expire_trash(v, *ret);
        return 0;
}

static int trash_entry(Vault *v, const char *org, const char *id, VaultOrg **ret_org, size_t *ret_i, OvError *e) {
        int r = trash_org(v, org, ret_org, e);
        if (r < 0)
                return r;
        if (!secret_id_valid(id))
                return ov_error_set(e, OV_ERR_INVALID_ARGS, "Invalid secret id");
        ssize_t i = trash_find(*ret_org, id, NULL);
        if (i < 0)
                return ov_error_set(e, OV_ERR_NOT_FOUND, "No secret %s in the trash of org %s", id, org);
        *ret_i = (size_t) i;
        return 0;
}

int vault_list_trash(Vault *v, const char *org, const Secret ***ret, size_t *ret_n, OvError *e) {
        VaultOrg *o = NULL;
        int r = trash_org(v, org, &o, e);
        if (r < 0)
                return r;
        const Secret **out = reallocarray(NULL, o->n_trash + 1, sizeof(Secret *));
        if (!out)
                return ov_error_set(e, OV_ERR_NO_MEMORY, "Out of memory");
        if (o->n_trash > 0)     /* o->trash is NULL for an empty trash */
                memcpy(out, o->trash, o->n_trash * sizeof(Secret *));
        *ret = out;
        *ret_n = o->n_trash;
        return 0;
}

int vault_restore(Vault *v, const char *org, const char *id, OvError *e) {
        VaultOrg *o = NULL;
        size_t i = 0;
        int r;

        r = trash_entry(v, org, id, &o, &i, e);
        if (r < 0)
                return r;
        Secret *s = o->trash[i];
        if (org_find(o, id))
                return ov_error_set(e, OV_ERR_NAME_EXISTS, "A secret with id %s already exists in org %s", id, org);
        const Secret *other = org_find_name(o, s->name, NULL);
        if (other)
                return ov_error_set(e, OV_ERR_NAME_EXISTS,
                                    "A secret named \"%s\" already exists in org %s (id %s); rename it first",
                                    other->name, org, other->id);
        if (org_reserve(o) < 0)
                return ov_error_set(e, OV_ERR_NO_MEMORY, "Out of memory");
        r = store_op_restore_secret(v->store, o->name, s, &s->stamp);
        if (r == -EEXIST)
                return ov_error_set(e, OV_ERR_NAME_EXISTS, "A record with id %s exists in org %s", id, org);
        if (r < 0) {
                org_note_store_error(o, r);
                return storage_error(e, r, "restore from the trash", org, id);
        }

        trash_take(o, i);
        s->deleted = 0;
        org_insert(o, s);
        o->index_dirty = true;
        if (v->event_cb)
                v->event_cb(v, VAULT_SECRET_ADDED, o->name, s, v->event_userdata);
        return 0;
}

int vault_purge(Vault *v, const char *org, const char *id, OvError *e) {
        VaultOrg *o = NULL;
        size_t i = 0;
        int r;

        r = trash_entry(v, org, id, &o, &i, e);
        if (r < 0)
                return r;
        r = store_op_purge_trashed(v->store, o->name, o->trash[i]);
        if (r < 0 && r != -ENOENT)
                return storage_error(e, r, "purge from the trash", org, id);
        org_note_purged(v, o, o->trash[i]);
        secret_free(trash_take(o, i));
        org_update_manifest(v, o);
        return 0;
}
