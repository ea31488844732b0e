/* SPDX-License-Identifier: Apache-2.0 */
/* orgvaultd --copy-store: the store interface on both ends, so any backend
 * copies to any other. Records are copied as the JSON documents they are
 * (FORMAT.md): nonce, ciphertext and AD inputs unchanged, so they open in
 * the target with the same master key exactly as in the source. */

#include <errno.h>
#include <fcntl.h>
#include <string.h>

#include "log.h"
#include "store-backend.h"
#include "store-copy.h"
#include "store.h"

typedef struct End {
        int fd;                  /* the files store's state dir, or -1 */
        Store *store;
} End;

static void end_close(End *e) {
        store_free(e->store);
        if (e->fd >= 0)
                close(e->fd);
}

static int end_open(const char *spec, bool create, End *ret, char **ret_error) {
        *ret = (End) { .fd = -1 };
        if (store_spec_is_pg(spec))
                return store_open(spec, -1, &ret->store, ret_error);
        if (create) {
                int r = mkdir_p_at(AT_FDCWD, spec, 0700);
                if (r < 0) {
                        if (ret_error)
                                *ret_error = strdup_printf("Cannot create %s: %s", spec, strerror(-r));
                        return r;
                }
        }
        ret->fd = open(spec, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (ret->fd < 0) {
                int r = -errno;
                if (ret_error)
                        *ret_error = strdup_printf("Cannot open the state directory %s: %s", spec, strerror(-r));
                return r;
        }
        int r = store_files_new(ret->fd, &ret->store);
        if (r < 0) {
                close(ret->fd);
                ret->fd = -1;
        }
        return r;
}

static void free_secrets(Secret **a, size_t n) {
        for (size_t i = 0; i < n; i++)
                secret_free(a[i]);
        free(a);
}

/* A record as its JSON text: what both stores must hold byte for byte. */
static char *record_text(const Secret *s, const char *org) {
        _cleanup_json_ json_t *j = secret_to_json(s, org);
        return j ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
}

/* "<what> <org>[/<id>]: <reason>", the first failure only. */
static int fail(char **ret_error, int r, const char *what, const char *org, const char *id) {
        if (ret_error && !*ret_error)
                *ret_error = strdup_printf("%s %s%s%s: %s", what, org, id ? "/" : "", id ?: "",
                                           r == -EEXIST ? "the target holds it already; nothing of it was copied"
                                           : r == -EBADMSG ? "the target differs from the source" : strerror(-r));
        return r;
}

/* Both lists of records the same, JSON for JSON (and deletion times). */
static int same_records(Secret **a, size_t na, Secret **b, size_t nb, const char *org, const char *what,
                        char **ret_error) {
        if (na != nb)
                return fail(ret_error, -EBADMSG, what, org, NULL);
        for (size_t i = 0; i < na; i++) {
                _cleanup_free_ char *ta = record_text(a[i], org), *tb = record_text(b[i], org);
                if (!ta || !tb)
                        return -ENOMEM;
                if (strcmp(ta, tb) != 0 || a[i]->deleted != b[i]->deleted)
                        return fail(ret_error, -EBADMSG, what, org, a[i]->id);
        }
        return 0;
}

static int verify_trash(Store *from, Store *to, const char *org, char **ret_error) {
        Secret **a = NULL, **b = NULL;
        size_t na = 0, nb = 0;
        int r = store_op_load_trash(from, org, &a, &na, NULL);
        if (r < 0)
                return fail(ret_error, r, "Cannot read the trash of org", org, NULL);
        r = store_op_load_trash(to, org, &b, &nb, NULL);
        if (r < 0) {
                free_secrets(a, na);
                return fail(ret_error, r, "Cannot read the target's trash of org", org, NULL);
        }
        r = same_records(a, na, b, nb, org, "The trash of", ret_error);
        free_secrets(a, na);
        free_secrets(b, nb);
        return r;
}

/* The target's org equals the source's: the same records (JSON), the same
 * key document, the same trash. */
static int verify_org(Store *from, Store *to, const char *org, char **ret_error) {
        Secret **a = NULL, **b = NULL;
        size_t na = 0, nb = 0;
        _cleanup_json_ json_t *ka = NULL, *kb = NULL;
        int r;

        r = store_op_load_org(from, org, &a, &na, NULL, NULL);
        if (r < 0)
                return fail(ret_error, r, "Cannot read org", org, NULL);
        r = store_op_load_org(to, org, &b, &nb, NULL, NULL);
        if (r < 0) {
                free_secrets(a, na);
                return fail(ret_error, r, "Cannot read the target's org", org, NULL);
        }
        int ra = store_op_load_org_keys(from, org, &ka), rb = store_op_load_org_keys(to, org, &kb);
        r = 0;
        if (na != nb)
                r = fail(ret_error, -EBADMSG, "A different number of records in org", org, NULL);
        for (size_t i = 0; r == 0 && i < na; i++) {
                _cleanup_free_ char *ta = record_text(a[i], org), *tb = record_text(b[i], org);
                if (!ta || !tb)
                        r = -ENOMEM;
                else if (strcmp(ta, tb) != 0)
                        r = fail(ret_error, -EBADMSG, "Record", org, a[i]->id);
        }
        if (r == 0 && (ra != rb || (ra >= 0 && !json_equal(ka, kb))))
                r = fail(ret_error, -EBADMSG, "The key document of org", org, NULL);
        free_secrets(a, na);
        free_secrets(b, nb);
        if (r == 0)
                r = verify_trash(from, to, org, ret_error);
        return r;
}

static int copy_org(Store *from, Store *to, const char *org, StoreCopyResult *res, char **ret_error) {
        Secret **a = NULL;
        size_t n = 0;
        unsigned quarantined = 0, existing = 0;
        _cleanup_json_ json_t *keys = NULL, *usage = NULL, *target_keys = NULL;
        int r;

        r = store_op_count_secrets(to, org, &existing);
        if (r < 0 && r != -ENOENT)
                return fail(ret_error, r, "Cannot read the target's org", org, NULL);
        r = store_op_load_org_keys(to, org, &target_keys);
        if (r < 0 && r != -ENOENT && r != -EBADMSG)
                return fail(ret_error, r, "Cannot read the target's org", org, NULL);
        if (existing > 0 || r != -ENOENT)
                return fail(ret_error, -EEXIST, "Org", org, NULL);

        r = store_op_load_org(from, org, &a, &n, &quarantined, NULL);
        if (r < 0)
                return fail(ret_error, r, "Cannot read org", org, NULL);
        if (quarantined > 0)
                log_warning("Org %s: %u unusable record(s) in the source are not copied", org, quarantined);
        r = store_op_load_usage(from, org, &usage);
        if (r < 0 && !(usage = json_object()))
                r = -ENOMEM;
        else
                r = 0;
        /* The usage first: in a database it makes the org's row. */
        if (r >= 0)
                r = store_op_save_usage(to, org, usage);
        if (r >= 0) {
                r = store_op_load_org_keys(from, org, &keys);
                if (r >= 0) {
                        r = store_op_save_org_keys(to, org, keys);
                        if (r >= 0)
                                res->key_documents++;
                } else if (r == -ENOENT)
                        r = 0;
        }
        /* The trash before the live records (an id or name may be in both):
         * each entry written as a record, then moved to the trash with its
         * deletion time, through the target's own operations. */
        Secret **t = NULL;
        size_t nt = 0;
        if (r >= 0 && (r = store_op_load_trash(from, org, &t, &nt, NULL)) < 0)
                fail(ret_error, r, "Cannot read the trash of org", org, NULL);
        for (size_t i = 0; r >= 0 && i < nt; i++) {
                uint64_t deleted = t[i]->deleted;
                t[i]->deleted = 0;
                t[i]->stamp = (RecordStamp) {};
                r = store_op_save_secret(to, org, t[i], &t[i]->stamp);
                if (r >= 0)
                        r = store_op_trash_secret(to, org, t[i], deleted, 0);
                if (r < 0)
                        fail(ret_error, r, "Cannot write to the target's trash", org, t[i]->id);
        }
        if (t)
                free_secrets(t, nt);
        for (size_t i = 0; r >= 0 && i < n; i++) {
                a[i]->stamp = (RecordStamp) {};  /* a new record in the target */
                r = store_op_save_secret(to, org, a[i], NULL);
                if (r >= 0)
                        res->records++;
                else
                        fail(ret_error, r, "Cannot write to the target", org, a[i]->id);
        }
        free_secrets(a, n);
        /* The manifest last, as the vault writes it: after the records. */
        _cleanup_json_ json_t *manifest = NULL;
        _cleanup_free_ char *source = NULL;
        size_t source_len = 0;
        if (r >= 0 && store_op_load_manifest(from, org, &source, &source_len) >= 0)
                manifest = json_loadb(source, source_len, JSON_REJECT_DUPLICATES, NULL);
        if (json_is_object(manifest)) {         /* a macro: its argument is read twice */
                _cleanup_free_ char *text = json_dumps(manifest, JSON_COMPACT | JSON_SORT_KEYS);
                size_t len = text ? strlen(text) : 0;
                char *nl = text ? realloc(text, len + 2) : NULL;
                if (nl) {
                        text = nl;
                        memcpy(text + len, "\n", 2);
                }
                r = nl ? store_op_save_manifest(to, org, text, len + 1) : -ENOMEM;
        }
        if (r < 0)
                return fail(ret_error, r, "Cannot copy org", org, NULL);
        res->orgs++;
        return 0;
}

int store_copy(const char *from, const char *to, bool verify_only, StoreCopyResult *ret, char **ret_error) {
        _cleanup_(end_close) End src = { .fd = -1 }, dst = { .fd = -1 };
        _cleanup_strv_free_ char **orgs = NULL;
        StoreCopyResult res = {};
        int r;

        r = end_open(from, false, &src, ret_error);
        if (r < 0)
                return r;
        r = end_open(to, !verify_only, &dst, ret_error);
        if (r < 0)
                return r;
        r = store_op_list_orgs(src.store, &orgs);
        if (r < 0)
                return fail(ret_error, r, "Cannot list the orgs of", from, NULL);
        for (char **o = orgs; *o; o++) {
                if (!verify_only) {
                        r = copy_org(src.store, dst.store, *o, &res, ret_error);
                        if (r < 0)
                                return r;
                }
                r = verify_org(src.store, dst.store, *o, ret_error);
                if (r < 0)
                        return r;
                if (verify_only) {
                        unsigned n = 0;
                        res.orgs++;
                        if (store_op_count_secrets(src.store, *o, &n) >= 0)
                                res.records += n;
                }
        }
        if (ret)
                *ret = res;
        return 0;
}
