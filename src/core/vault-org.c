/* SPDX-License-Identifier: Apache-2.0 */
/* The vault's org table: each org loaded from the store on first use, its
 * secrets kept sorted twice (by id for lookups, by name for listing and
 * uniqueness), and its lazy state (LastUsed, the org index) flushed outside
 * any call. */

#include <errno.h>
#include <string.h>

#include "vault-internal.h"

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

ssize_t secrets_find_id(Secret *const *a, size_t n, const char *id, size_t *ret_pos) {
        size_t lo = 0, hi = n;
        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                int c = strcmp(a[mid]->id, id);
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

static ssize_t org_find_id(const VaultOrg *o, const char *id, size_t *ret_pos) {
        return secrets_find_id(o->by_id, o->n, id, ret_pos);
}

/* Position of s in by_name (exact), or where it would go. */
static size_t org_name_pos(const VaultOrg *o, const Secret *s) {
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

Secret *org_find(const VaultOrg *o, const char *id) {
        ssize_t i = org_find_id(o, id, NULL);
        return i < 0 ? NULL : o->by_id[i];
}

/* A secret whose name equals name ignoring ASCII case, other than except. */
const Secret *org_find_name(const VaultOrg *o, const char *name, const Secret *except) {
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

int org_reserve(VaultOrg *o) {
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

/* An index that could not follow a change may miss names: it goes, and
 * the next search builds a new one. */
static void org_drop_names(VaultOrg *o) {
        name_index_free(o->names);
        o->names = NULL;
}

/* Takes ownership of s; call org_reserve() first so it cannot fail. */
void org_insert(VaultOrg *o, Secret *s) {
        size_t id_pos = 0;
        (void) org_find_id(o, s->id, &id_pos);
        size_t name_pos = org_name_pos(o, s);
        array_insert(o->by_id, o->n, id_pos, s);
        array_insert(o->by_name, o->n, name_pos, s);
        o->n++;
        if (o->names && name_index_add(o->names, s) < 0)
                org_drop_names(o);
}

/* Unlinks s from both indexes (does not free it). */
void org_unlink(VaultOrg *o, Secret *s) {
        ssize_t i = org_find_id(o, s->id, NULL);
        size_t name_pos = org_name_pos(o, s);
        if (i >= 0)
                array_remove(o->by_id, o->n, (size_t) i);
        array_remove(o->by_name, o->n, name_pos);
        o->n--;
        if (o->names && name_index_remove(o->names, s) < 0)
                org_drop_names(o);
}

/* Built at an org's first search, not at load: activation stays lean and
 * orgs nobody searches cost no memory. */
int org_search_candidates(VaultOrg *o, const char *needle, Secret ***ret, size_t *ret_n) {
        int r;

        if (!o->names) {
                r = name_index_new(&o->names);
                for (size_t i = 0; r >= 0 && i < o->n; i++)
                        r = name_index_add(o->names, o->by_name[i]);
                if (r < 0) {
                        org_drop_names(o);
                        return r;
                }
        }
        r = name_index_candidates(o->names, needle, ret, ret_n);
        if (r >= 0 && *ret_n > 1)
                qsort(*ret, *ret_n, sizeof(Secret *), by_name_qsort);
        return r;
}


void org_free(VaultOrg *o) {
        if (!o)
                return;
        org_drop_names(o);      /* it writes to the secrets */
        for (size_t i = 0; i < o->n; i++)
                secret_free(o->by_id[i]);
        free(o->by_id);
        free(o->by_name);
        org_free_trash(o);
        org_free_manifest(o);
        org_keys_clear(&o->keys);
        free(o->keys_error);
        org_forget_data_keys(o);
        free(o->name);
        free(o);
}

static void org_freep(VaultOrg **o) { org_free(*o); }

int storage_error(OvError *e, int r, const char *what, const char *org, const char *id) {
        if (r == -ENOMEM)
                return ov_error_set(e, OV_ERR_NO_MEMORY, "Out of memory");
        if (r == -ESTALE)
                return ov_error_set_errno(e, OV_ERR_CONFLICT, r, "Cannot %s %s%s%s: changed by another host meanwhile; "
                                          "nothing was written, try again", what, org, id ? "/" : "", id ?: "");
        if (r == -EEXIST)
                return ov_error_set_errno(e, OV_ERR_NAME_EXISTS, r, "Cannot %s %s%s%s: another host took the name meanwhile",
                                          what, org, id ? "/" : "", id ?: "");
        if (r == -ECONNREFUSED)
                return ov_error_set_errno(e, OV_ERR_STORAGE_FAILURE, r, "Cannot %s %s%s%s: the store is unreachable; "
                                          "nothing was written", what, org, id ? "/" : "", id ?: "");
        return ov_error_set_errno(e, OV_ERR_STORAGE_FAILURE, r, "Cannot %s %s%s%s: %m", what, org,
                                  id ? "/" : "", id ?: "");
}

/* Writes a record durably; *ret_stamp gets its file's new stamp, and the
 * org index is due for a rewrite. */
int org_save_record(Vault *v, VaultOrg *o, const Secret *next, RecordStamp *ret_stamp) {
        int r = store_op_save_secret(v->store, o->name, next, ret_stamp);
        if (r >= 0)
                o->index_dirty = true;
        org_note_store_error(o, r);
        return r;
}

void org_note_store_error(VaultOrg *o, int r) {
        if (r == -ESTALE)
                o->stale = true;
}

/* usage.json entries apply only to the secret they were written for: a
 * deleted secret's usage must not resurface on a new one with its id. */
static void org_apply_usage(VaultOrg *o, json_t *usage) {
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

static int org_load(Vault *v, const char *name, VaultOrg **ret, OvError *e) {
        _cleanup_(org_freep) VaultOrg *o = calloc(1, sizeof(VaultOrg));
        _cleanup_json_ json_t *usage = NULL;
        _cleanup_free_ char *keys_error = NULL;
        Secret **secrets = NULL;
        unsigned quarantined = 0;
        size_t n = 0;
        int r;

        if (!o || !(o->name = strdup(name)))
                return ov_error_set(e, OV_ERR_NO_MEMORY, "Out of memory");
        r = store_op_load_org(v->store, name, &secrets, &n, &quarantined, &o->index_dirty);
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
        unsigned trash_quarantined = 0;
        r = store_op_load_trash(v->store, name, &o->trash, &o->n_trash, &trash_quarantined);
        if (r < 0)
                return storage_error(e, r, "load the trash of org", name, NULL);
        quarantined += trash_quarantined;
        if (quarantined > 0) {
                log_warning("Org %s: %u broken record(s) moved to quarantine/", name, quarantined);
                census_note_quarantined(v, name, quarantined);
        }

        r = org_keys_load(v->store, name, &o->keys, &keys_error);
        if (r == -ENOMEM)
                return ov_error_set(e, OV_ERR_NO_MEMORY, "Out of memory");
        if (r < 0 && r != -ENOENT) {
                /* Records stay listable; nothing may touch keys (a new key
                 * would orphan every record sealed under the old ones). */
                o->keys_error = keys_error ? TAKE_PTR(keys_error) : strdup_printf("orgs/%s/org.json: %s", name, strerror(-r));
                log_error("Org %s: cannot use its keys: %s", name, o->keys_error ?: "out of memory");
        }

        r = store_op_load_usage(v->store, name, &usage);
        if (r >= 0)
                org_apply_usage(o, usage);
        else if (r != -ENOMEM)
                log_warning_errno(r, "Org %s: ignoring unreadable usage.json: %m", name);

        /* A crash during RotateKeys left org.json saying so: finish it now,
         * the one write a read path makes (vault.h). */
        org_resume_rotation(v, o);
        org_migrate_records(v, o);
        org_check_manifest(v, o);
        org_expire_trash(v, o);
        *ret = TAKE_PTR(o);
        return 0;
}

/* The loaded org, loading it on first use. A stale one is reloaded; when
 * the store cannot answer, the last loaded state serves (reads, Resolve). */
int org_get(Vault *v, const char *name, VaultOrg **ret, OvError *e) {
        if (!org_name_valid(name))
                return ov_error_set(e, OV_ERR_INVALID_ARGS, "Invalid org name");
        for (size_t i = 0; i < v->n_orgs; i++)
                if (strcmp(v->orgs[i]->name, name) == 0) {
                        if (v->orgs[i]->stale)
                                (void) org_refresh(v, v->orgs[i]);
                        *ret = v->orgs[i];
                        return 0;
                }
        VaultOrg **a = reallocarray(v->orgs, v->n_orgs + 1, sizeof(VaultOrg *));
        if (!a)
                return ov_error_set(e, OV_ERR_NO_MEMORY, "Out of memory");
        v->orgs = a;
        VaultOrg *o = NULL;
        int r = org_load(v, name, &o, e);
        if (r < 0)
                return r;
        v->orgs[v->n_orgs++] = o;
        *ret = o;
        return 0;
}

/* s takes next's content (next is freed); what this host alone knows
 * (its last use) stays. */
static void secret_take(Secret *s, Secret *next) {
        Secret old = *s;
        *s = *next;
        s->last_used = old.last_used;
        s->last_used_by = old.last_used_by;
        old.last_used_by = next->last_used_by;
        *next = old;
        secret_free(next);
}

int org_refresh(Vault *v, VaultOrg *o) {
        _cleanup_free_ char *keys_error = NULL;
        Secret **fresh = NULL;
        size_t n = 0;
        unsigned quarantined = 0;
        OrgKeys keys = {};
        int r;

        r = store_op_load_org(v->store, o->name, &fresh, &n, &quarantined, NULL);
        if (r < 0) {
                log_warning("Org %s: cannot reload it from the store, serving what was loaded: %s", o->name,
                            strerror(-r));
                return r;
        }
        r = org_keys_load(v->store, o->name, &keys, &keys_error);
        if (r >= 0 || r == -ENOENT) {
                org_keys_clear(&o->keys);
                o->keys = keys;
                free(o->keys_error);
                o->keys_error = NULL;
                org_forget_data_keys(o);         /* unwrapped again from the new document */
        } else
                log_warning("Org %s: cannot reload its keys: %s", o->name, keys_error ?: strerror(-r));

        /* Both sorted by id: one merge walk. Snapshot the old ids first, as
         * the arrays change under the walk. */
        size_t n_old = o->n;
        _cleanup_free_ Secret **old = reallocarray(NULL, n_old ?: 1, sizeof(Secret *));
        if (!old) {
                for (size_t i = 0; i < n; i++)
                        secret_free(fresh[i]);
                free(fresh);
                return -ENOMEM;
        }
        if (n_old > 0)
                memcpy(old, o->by_id, n_old * sizeof(Secret *));
        size_t i = 0, j = 0;
        while (i < n_old || j < n) {
                int c = i >= n_old ? 1 : j >= n ? -1 : strcmp(old[i]->id, fresh[j]->id);
                if (c < 0) {             /* removed elsewhere */
                        Secret *s = old[i++];
                        org_unlink(o, s);
                        vault_emit(v, VAULT_SECRET_REMOVED, o, s);
                        secret_free(s);
                } else if (c > 0) {      /* added elsewhere */
                        Secret *s = fresh[j++];
                        if (org_reserve(o) < 0) {
                                secret_free(s);
                                continue;
                        }
                        org_insert(o, s);
                        vault_emit(v, VAULT_SECRET_ADDED, o, s);
                } else {
                        Secret *s = old[i++], *next = fresh[j++];
                        if (s->stamp.ino == next->stamp.ino) {
                                secret_free(next);
                                continue;
                        }
                        org_unlink(o, s);
                        secret_take(s, next);
                        org_insert(o, s);        /* room: it was just unlinked */
                        vault_emit(v, VAULT_SECRET_CHANGED, o, s);
                }
        }
        free(fresh);

        /* The trash: wholesale (other hosts delete, restore and purge too). */
        Secret **trash = NULL;
        size_t n_trash = 0;
        unsigned trash_quarantined = 0;
        if (store_op_load_trash(v->store, o->name, &trash, &n_trash, &trash_quarantined) >= 0) {
                org_free_trash(o);
                o->trash = trash;
                o->n_trash = n_trash;
        }
        o->stale = false;
        if (quarantined > 0)
                log_warning("Org %s: %u unusable record(s) in the store ignored", o->name, quarantined);
        return 0;
}

int org_secret(Vault *v, const char *org, const char *id, VaultOrg **ret_org, Secret **ret, OvError *e) {
        VaultOrg *o = NULL;
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


int vault_loaded_orgs(Vault *v, char ***ret) {
        _cleanup_strv_free_ char **l = NULL;
        int r = store_op_list_orgs(v->store, &l);
        if (r < 0)
                return r;
        for (size_t i = 0; i < v->n_orgs; i++)
                if (v->orgs[i]->n > 0 && !strv_contains(l, v->orgs[i]->name) && strv_push(&l, v->orgs[i]->name) < 0)
                        return -ENOMEM;
        *ret = TAKE_PTR(l);
        return 0;
}

/* Usage */

static int org_flush_usage(Vault *v, VaultOrg *o) {
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
        int r = store_op_save_usage(v->store, o->name, usage);
        if (r < 0)
                return r;
        o->usage_dirty = false;
        return 0;
}

/* The org index is a cache (store.h): failing to write it loses nothing,
 * the next load reads the records instead, so it is only logged. */
static void org_flush_index(Vault *v, VaultOrg *o) {
        int r = store_op_save_org_index(v->store, o->name, o->by_id, o->n);
        if (r < 0) {
                log_info_errno(r, "Org %s: cannot write its index: %m", o->name);
                return;
        }
        o->index_dirty = false;
}

/* Lazy state: LastUsed (usage.json) and the org index, both written here,
 * never while a call waits. */
int vault_flush_usage(Vault *v) {
        int ret = 0;
        for (size_t i = 0; i < v->n_orgs; i++) {
                VaultOrg *o = v->orgs[i];
                if (o->index_dirty)
                        org_flush_index(v, o);
                if (!o->usage_dirty)
                        continue;
                int r = org_flush_usage(v, o);
                if (r < 0) {
                        log_warning_errno(r, "Org %s: cannot write usage.json: %m", o->name);
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

