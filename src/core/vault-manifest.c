/* SPDX-License-Identifier: Apache-2.0 */
/* The org manifest (docs/FORMAT.md, "Manifest"): every record the org has
 * (live, in the trash, or purged) with its created time and version, MAC'd
 * with a key derived from the org's data key. Each record is sealed with
 * its own version in the AD, so a record copied back from an older backup
 * opens fine on its own; the manifest is what says it is stale: a load
 * refuses (quarantines and reports) a record older than the manifest says.
 * The manifest is written after the record (with group commit, staged
 * behind the batch's records and renamed after them), so a crash in
 * between leaves a record newer than the manifest, which is accepted and
 * written in. */

#include <endian.h>
#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <sodium.h>

#include "vault-internal.h"

#define MANIFEST_FORMAT 2
#define MANIFEST_LABEL "orgvault-manifest"

void org_free_manifest(VaultOrg *o) {
        for (size_t i = 0; i < o->n_gone; i++)
                free(o->gone[i].id);
        free(o->gone);
        o->gone = NULL;
        o->n_gone = 0;
}

static int entry_cmp(const void *a, const void *b) {
        const ManifestEntry *x = a, *y = b;
        int c = strcmp(x->id, y->id);
        if (c != 0)
                return c;
        return x->created < y->created ? -1 : x->created > y->created;
}

/* x and y (each sorted by entry_cmp) into out, x's entry first on a tie. */
static size_t merge(const ManifestEntry *x, size_t nx, const ManifestEntry *y, size_t ny, ManifestEntry *out) {
        size_t i = 0, j = 0, n = 0;
        while (i < nx || j < ny)
                out[n++] = j == ny || (i < nx && entry_cmp(&x[i], &y[j]) <= 0) ? x[i++] : y[j++];
        return n;
}

/* Every entry the manifest must hold now, sorted (ids borrowed): the
 * records, then what the org remembers of records it no longer has (purged,
 * or missing), unless a record of that incarnation is back. by_id and the
 * trash are sorted by id already (strcmp, each id once in each), so they
 * are merged, not sorted: a qsort of them was a third of a manifest's cost
 * in an org of 1,000. */
static int collect(const VaultOrg *o, ManifestEntry **ret, size_t *ret_n) {
        size_t size = o->n + o->n_trash + o->n_gone;
        _cleanup_free_ ManifestEntry *tmp = calloc(size + 1, sizeof(ManifestEntry));
        ManifestEntry *a = calloc(size + 1, sizeof(ManifestEntry));
        if (!a || !tmp) {
                free(a);
                return -ENOMEM;
        }
        /* tmp: the live records, the trash, the remembered entries (sorted). */
        for (size_t i = 0; i < o->n; i++)
                tmp[i] = (ManifestEntry) { o->by_id[i]->id, o->by_id[i]->created, o->by_id[i]->version, false, false };
        ManifestEntry *t = tmp + o->n, *g = t + o->n_trash;
        for (size_t i = 0; i < o->n_trash; i++)
                t[i] = (ManifestEntry) { o->trash[i]->id, o->trash[i]->created, o->trash[i]->version, false, false };
        if (o->n_gone > 0)
                memcpy(g, o->gone, o->n_gone * sizeof(ManifestEntry));
        qsort(g, o->n_gone, sizeof(ManifestEntry), entry_cmp);
        /* Records before remembered entries on a tie, so the loop below
         * keeps the record of an incarnation that is back. */
        size_t n = merge(tmp, o->n, t, o->n_trash, a);
        memcpy(tmp, a, n * sizeof(ManifestEntry));
        n = merge(tmp, n, g, o->n_gone, a);
        size_t kept = 0;
        for (size_t i = 0; i < n; i++) {
                if (kept > 0 && entry_cmp(&a[kept - 1], &a[i]) == 0) {
                        if (!a[i].remembered && a[kept - 1].remembered)
                                a[kept - 1] = a[i];
                        continue;
                }
                a[kept++] = a[i];
        }
        *ret = a;
        *ret_n = kept;
        return 0;
}

/* A record the manifest lists but the org does not have (refused as stale,
 * or lost): its entry stays, so a stale copy put back later is refused too. */
static void remember_missing(VaultOrg *o, const ManifestEntry *m) {
        ManifestEntry *a = reallocarray(o->gone, o->n_gone + 1, sizeof(ManifestEntry));
        char *id = strdup(m->id);
        if (!a || !id) {
                free(id);
                if (a)
                        o->gone = a;
                log_warning("Org %s: out of memory remembering %s", o->name, m->id);
                return;
        }
        o->gone = a;
        o->gone[o->n_gone++] = (ManifestEntry) { id, m->created, m->version, false, true };
}

static void put_be(uint8_t **p, uint64_t v, int bytes) {
        for (int i = bytes - 1; i >= 0; i--)
                *(*p)++ = (uint8_t) (v >> (8 * i));
}

static void put_lp(uint8_t **p, const char *s) {
        size_t n = strlen(s);
        *(*p)++ = (uint8_t) n;
        memcpy(*p, s, n);
        *p += n;
}

/* The bytes the MAC covers: "orgvault-manifest" ‖ u8 2 ‖ u8 len(org) ‖ org
 * ‖ u32be key_id ‖ u32be count ‖ per entry (sorted by id bytes, then
 * created): u8 len(id) ‖ id ‖ u64be created ‖ u32be version ‖ u8 gone. */
static int manifest_message(const char *org, uint32_t key_id, const ManifestEntry *e, size_t n, uint8_t **ret,
                            size_t *ret_len) {
        size_t size = strlen(MANIFEST_LABEL) + 1 + 1 + strlen(org) + 4 + 4;
        for (size_t i = 0; i < n; i++)
                size += 1 + strlen(e[i].id) + 8 + 4 + 1;
        uint8_t *buf = malloc(size), *p = buf;
        if (!buf)
                return -ENOMEM;
        memcpy(p, MANIFEST_LABEL, strlen(MANIFEST_LABEL));
        p += strlen(MANIFEST_LABEL);
        *p++ = MANIFEST_FORMAT;
        put_lp(&p, org);
        put_be(&p, key_id, 4);
        put_be(&p, n, 4);
        for (size_t i = 0; i < n; i++) {
                put_lp(&p, e[i].id);
                put_be(&p, e[i].created, 8);
                put_be(&p, e[i].version, 4);
                *p++ = e[i].gone;
        }
        *ret = buf;
        *ret_len = (size_t) (p - buf);
        return 0;
}

static int manifest_mac(Vault *v, VaultOrg *o, uint32_t key_id, const ManifestEntry *e, size_t n, char **ret,
                        OvError *err) {
        _cleanup_free_ uint8_t *msg = NULL;
        const OvKey *key = NULL;
        size_t len = 0;
        int r = org_data_key_get(v, o, key_id, &key, err);
        if (r < 0)
                return r;
        if (manifest_message(o->name, key_id, e, n, &msg, &len) < 0 || crypto_manifest_mac(key, msg, len, ret) < 0)
                return ov_error_set(err, OV_ERR_NO_MEMORY, "Out of memory");
        return 0;
}

static char *put_str(char *p, const char *s) {
        size_t n = strlen(s);
        memcpy(p, s, n);
        return p + n;
}

static char *put_u64(char *p, uint64_t v) {
        char d[20];
        int k = 0;
        do
                d[k++] = (char) ('0' + v % 10);
        while ((v /= 10) > 0);
        while (k > 0)
                *p++ = d[--k];
        return p;
}

/* The document as json_dumps(JSON_COMPACT | JSON_SORT_KEYS) writes it, and
 * a newline, built directly: a jansson object per entry cost about 13,000
 * instructions an entry, 90% of a durable add's CPU in an org of 1,000
 * (callgrind). The org and the ids are slugs and the MAC is base64: nothing
 * needs escaping. */
static char *manifest_text(const char *org, uint32_t key_id, const char *mac, const ManifestEntry *e, size_t n,
                           size_t *ret_len) {
        size_t size = 128 + strlen(org) + strlen(mac);
        for (size_t i = 0; i < n; i++)
                size += strlen(e[i].id) + 80;
        char *text = malloc(size), *p = text;
        if (!text)
                return NULL;
        p = put_str(p, "{\"format\":");
        p = put_u64(p, MANIFEST_FORMAT);
        p = put_str(p, ",\"key_id\":");
        p = put_u64(p, key_id);
        p = put_str(p, ",\"mac\":\"");
        p = put_str(p, mac);
        p = put_str(p, "\",\"org\":\"");
        p = put_str(p, org);
        p = put_str(p, "\",\"secrets\":[");
        for (size_t i = 0; i < n; i++) {
                p = put_str(p, i > 0 ? ",{\"created\":" : "{\"created\":");
                p = put_u64(p, e[i].created);
                if (e[i].gone)
                        p = put_str(p, ",\"gone\":true");
                p = put_str(p, ",\"id\":\"");
                p = put_str(p, e[i].id);
                p = put_str(p, "\",\"version\":");
                p = put_u64(p, e[i].version);
                *p++ = '}';
        }
        p = put_str(p, "]}\n");
        *p = 0;
        *ret_len = (size_t) (p - text);
        return text;
}

int org_write_manifest(Vault *v, VaultOrg *o, OvError *e) {
        _cleanup_free_ ManifestEntry *entries = NULL;
        _cleanup_free_ char *mac = NULL;
        size_t n = 0;
        int r;

        if (!v->master || o->keys_error || o->keys.n_keys == 0) {
                o->manifest_dirty = true;       /* written once the keys are there */
                return 0;
        }
        uint32_t key_id = org_sealing_key(o);
        if (collect(o, &entries, &n) < 0)
                return ov_error_set(e, OV_ERR_NO_MEMORY, "Out of memory");
        r = manifest_mac(v, o, key_id, entries, n, &mac, e);
        if (r < 0)
                return r;
        size_t len = 0;
        _cleanup_free_ char *text = manifest_text(o->name, key_id, mac, entries, n, &len);
        if (!text)
                return ov_error_set(e, OV_ERR_NO_MEMORY, "Out of memory");
        r = store_op_save_manifest(v->store, o->name, text, len);
        if (r < 0) {
                o->manifest_dirty = true;
                return storage_error(e, r, "write the manifest of", o->name, NULL);
        }
        o->manifest_dirty = false;
        return 0;
}

void org_update_manifest(Vault *v, VaultOrg *o) {
        OvError e = {};
        /* Group commit: once per org and batch, staged behind its records. */
        if (v->group_commit) {
                org_manifest_at_commit(v, o);
                return;
        }
        /* The record is durable already and a newer record than the
         * manifest is accepted, so a failed write only delays protection:
         * logged, and retried with the next change or load. */
        if (org_write_manifest(v, o, &e) < 0)
                log_warning("Org %s: %s (retried later)", o->name, e.message);
}

uint64_t org_first_created(const VaultOrg *o, const char *id) {
        uint64_t after = 0;
        for (size_t i = 0; i < o->n_gone; i++)
                if (strcmp(o->gone[i].id, id) == 0 && o->gone[i].created >= after)
                        after = o->gone[i].created + 1;
        for (size_t i = 0; i < o->n_trash; i++)
                if (strcmp(o->trash[i]->id, id) == 0 && o->trash[i]->created >= after)
                        after = o->trash[i]->created + 1;
        return after;
}

void org_note_purged(Vault *v, VaultOrg *o, const Secret *s) {
        /* One tombstone per id is enough: the newest dominates older ones. */
        for (size_t i = 0; i < o->n_gone; i++)
                if (o->gone[i].gone && strcmp(o->gone[i].id, s->id) == 0) {
                        if (o->gone[i].created < s->created) {
                                o->gone[i].created = s->created;
                                o->gone[i].version = s->version;
                        }
                        return;
                }
        ManifestEntry *a = reallocarray(o->gone, o->n_gone + 1, sizeof(ManifestEntry));
        char *id = strdup(s->id);
        if (!a || !id) {
                free(id);
                if (a)
                        o->gone = a;
                log_warning("Org %s: out of memory noting %s as purged", o->name, s->id);
                return;
        }
        o->gone = a;
        o->gone[o->n_gone++] = (ManifestEntry) { id, s->created, s->version, true, true };
}

/* The manifest as loaded: its entries (ids owned), checked and verified. */
typedef struct Loaded {
        ManifestEntry *e;
        size_t n;
} Loaded;

static void loaded_clear(Loaded *l) {
        for (size_t i = 0; i < l->n; i++)
                free(l->e[i].id);
        free(l->e);
        *l = (Loaded) {};
}

/* The manifest as parsed, before its MAC is checked. */
typedef struct Parsed {
        Loaded l;
        uint32_t key_id;
        char *mac;
} Parsed;

static void parsed_clear(Parsed *p) {
        loaded_clear(&p->l);
        free(p->mac);
        *p = (Parsed) {};
}

static int parse_json(VaultOrg *o, const char *text, size_t len, Parsed *ret, char **ret_why) {
        _cleanup_json_ json_t *doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL);
        if (!json_is_object(doc))
                return (*ret_why = strdup("not a JSON object")) ? -EBADMSG : -ENOMEM;
        json_t *list = json_object_get(doc, "secrets"), *item;
        json_t *format = json_object_get(doc, "format"), *org = json_object_get(doc, "org");
        json_t *key = json_object_get(doc, "key_id"), *mac = json_object_get(doc, "mac");
        Loaded *l = &ret->l;
        size_t i;

        if (json_object_size(doc) != 5 || json_integer_value(format) != MANIFEST_FORMAT || !json_is_string(org) ||
            strcmp(json_string_value(org), o->name) != 0 || !json_is_integer(key) || json_integer_value(key) < 1 ||
            json_integer_value(key) > UINT32_MAX || !json_is_array(list) || !json_is_string(mac))
                return (*ret_why = strdup("malformed")) ? -EBADMSG : -ENOMEM;
        ret->key_id = (uint32_t) json_integer_value(key);
        if (!(ret->mac = strdup(json_string_value(mac))))
                return -ENOMEM;
        l->e = calloc(json_array_size(list) + 1, sizeof(ManifestEntry));
        if (!l->e)
                return -ENOMEM;
        json_array_foreach(list, i, item) {
                json_t *id = json_object_get(item, "id"), *created = json_object_get(item, "created");
                json_t *version = json_object_get(item, "version"), *gone = json_object_get(item, "gone");
                if (json_object_size(item) != (gone ? 4u : 3u) || !json_is_string(id) ||
                    !secret_id_valid(json_string_value(id)) || !json_is_integer(created) ||
                    json_integer_value(created) < 0 || !json_is_integer(version) || json_integer_value(version) < 1 ||
                    json_integer_value(version) > UINT32_MAX || (gone && !json_is_true(gone)))
                        return (*ret_why = strdup("malformed entry")) ? -EBADMSG : -ENOMEM;
                ManifestEntry *m = &l->e[l->n++];
                if (!(m->id = strdup(json_string_value(id))))
                        return -ENOMEM;
                m->created = (uint64_t) json_integer_value(created);
                m->version = (uint32_t) json_integer_value(version);
                m->gone = gone != NULL;
                if (l->n > 1 && entry_cmp(&l->e[l->n - 2], m) >= 0)
                        return (*ret_why = strdup("entries out of order")) ? -EBADMSG : -ENOMEM;
        }
        return 0;
}

/* The canonical text, as manifest_text() writes it, read without building
 * a JSON tree: through jansson, a manifest of 1,000 entries was about 15%
 * of an org's cold activation (perf), 3 µs an entry. Only a text in exactly
 * that form whose every field passes parse_json's checks is taken (1); for
 * anything else (0) parse_json decides, so both read a manifest alike. */
typedef struct Scan {
        const char *p, *end;
} Scan;

static bool scan_lit(Scan *s, const char *lit) {
        size_t n = strlen(lit);
        if ((size_t) (s->end - s->p) < n || memcmp(s->p, lit, n) != 0)
                return false;
        s->p += n;
        return true;
}

/* A JSON integer of digits only, at most max. */
static bool scan_uint(Scan *s, uint64_t max, uint64_t *ret) {
        const char *q = s->p;
        uint64_t v = 0;

        if (q == s->end || *q < '0' || *q > '9' || (*q == '0' && q + 1 < s->end && q[1] >= '0' && q[1] <= '9'))
                return false;
        for (; q < s->end && *q >= '0' && *q <= '9'; q++) {
                unsigned d = (unsigned) (*q - '0');
                if (v > (max - d) / 10)
                        return false;
                v = v * 10 + d;
        }
        s->p = q;
        *ret = v;
        return true;
}

/* A string of printable ASCII without escapes: its bytes are its value. */
static bool scan_str(Scan *s, const char **ret, size_t *ret_len) {
        if (!scan_lit(s, "\""))
                return false;
        const char *q = s->p;
        for (; q < s->end && *q != '"'; q++)
                if (*q < 0x20 || *q > 0x7e || *q == '\\')
                        return false;
        if (q == s->end)
                return false;
        *ret = s->p;
        *ret_len = (size_t) (q - s->p);
        s->p = q + 1;
        return true;
}

static int parse_canonical(VaultOrg *o, const char *text, size_t len, Parsed *ret) {
        Scan s = { text, text + len };
        const char *org, *mac, *id;
        size_t org_len, mac_len, id_len;
        uint64_t format, key, created, version;
        Loaded *l = &ret->l;
        char idbuf[OV_ID_MAX + 1];

        if (!scan_lit(&s, "{\"format\":") || !scan_uint(&s, INT64_MAX, &format) || format != MANIFEST_FORMAT ||
            !scan_lit(&s, ",\"key_id\":") || !scan_uint(&s, UINT32_MAX, &key) || key < 1 ||
            !scan_lit(&s, ",\"mac\":") || !scan_str(&s, &mac, &mac_len) ||
            !scan_lit(&s, ",\"org\":") || !scan_str(&s, &org, &org_len) || org_len != strlen(o->name) ||
            memcmp(org, o->name, org_len) != 0 || !scan_lit(&s, ",\"secrets\":["))
                return 0;
        /* Each entry takes 35 bytes at least. */
        l->e = calloc(len / 32 + 1, sizeof(ManifestEntry));
        if (!l->e)
                return -ENOMEM;
        if (!scan_lit(&s, "]"))
                for (;;) {
                        bool gone = false;
                        if (!scan_lit(&s, "{\"created\":") || !scan_uint(&s, INT64_MAX, &created))
                                return 0;
                        if (scan_lit(&s, ",\"gone\":"))
                                if (!(gone = scan_lit(&s, "true")))
                                        return 0;
                        if (!scan_lit(&s, ",\"id\":") || !scan_str(&s, &id, &id_len) || id_len > OV_ID_MAX ||
                            !scan_lit(&s, ",\"version\":") || !scan_uint(&s, UINT32_MAX, &version) || version < 1 ||
                            !scan_lit(&s, "}"))
                                return 0;
                        memcpy(idbuf, id, id_len);
                        idbuf[id_len] = 0;
                        if (!secret_id_valid(idbuf))
                                return 0;
                        ManifestEntry *m = &l->e[l->n];
                        *m = (ManifestEntry) { .created = created, .version = (uint32_t) version, .gone = gone };
                        if (!(m->id = strdup(idbuf)))
                                return -ENOMEM;
                        l->n++;
                        if (l->n > 1 && entry_cmp(&l->e[l->n - 2], m) >= 0)
                                return 0;
                        if (scan_lit(&s, "]"))
                                break;
                        if (!scan_lit(&s, ","))
                                return 0;
                }
        if (!scan_lit(&s, "}"))
                return 0;
        (void) scan_lit(&s, "\n");
        if (s.p != s.end)
                return 0;
        ret->key_id = (uint32_t) key;
        ret->mac = strndup(mac, mac_len);
        return ret->mac ? 1 : -ENOMEM;
}

static int parse_manifest(Vault *v, VaultOrg *o, const char *text, size_t len, Parsed *ret, char **ret_why) {
        OvError e = {};
        int r = parse_canonical(o, text, len, ret);
        if (r == 0) {
                parsed_clear(ret);
                r = parse_json(o, text, len, ret, ret_why);
        }
        if (r < 0)
                return r;
        _cleanup_free_ char *computed = NULL;
        r = manifest_mac(v, o, ret->key_id, ret->l.e, ret->l.n, &computed, &e);
        if (r < 0)
                return (*ret_why = strdup(e.message)) ? -EBADMSG : -ENOMEM;
        /* Both are base64 of 32 bytes; comparing the text is comparing the MAC. */
        if (strlen(computed) != strlen(ret->mac) || sodium_memcmp(computed, ret->mac, strlen(computed)) != 0)
                return (*ret_why = strdup("the MAC does not match (edited, or not this org's)")) ? -EBADMSG : -ENOMEM;
        return 0;
}

/* Whether the manifest lets record s be: the same (id, created) with a
 * version at least the manifest's, or an incarnation newer than any it
 * knows (an add whose manifest write a crash cut off). The entries are
 * sorted by (id, created), strictly (parse_manifest), so the entry that
 * decides, the first of s's id created no earlier than s, is found by
 * bisection: a load checks each record in O(log n), not O(n). */
static bool record_allowed(const Loaded *l, const Secret *s, const ManifestEntry **ret_match) {
        const ManifestEntry key = { .id = s->id, .created = s->created };
        size_t lo = 0, hi = l->n;

        *ret_match = NULL;
        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                if (entry_cmp(&l->e[mid], &key) < 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        if (lo == l->n || strcmp(l->e[lo].id, s->id) != 0)
                return true;
        const ManifestEntry *m = &l->e[lo];
        *ret_match = m;
        if (m->created == s->created)
                return !m->gone && s->version >= m->version;
        return false;           /* created later than s */
}

/* Whether the org holds a record (live or in the trash) of this id and
 * created time. Both arrays are sorted by id. */
static bool org_has_record(const VaultOrg *o, const char *id, uint64_t created) {
        const Secret *s = org_find(o, id);
        if (s && s->created == created)
                return true;
        size_t lo = 0, hi = o->n_trash;
        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                if (strcmp(o->trash[mid]->id, id) < 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        for (; lo < o->n_trash && strcmp(o->trash[lo]->id, id) == 0; lo++)
                if (o->trash[lo]->created == created)
                        return true;
        return false;
}

static int refuse(Vault *v, VaultOrg *o, Secret *s, const ManifestEntry *m) {
        _cleanup_free_ char *why = strdup_printf(
                "older than the manifest says (record version %" PRIu32 " created %" PRIu64 "; manifest: %s version %" PRIu32
                " created %" PRIu64 "): a stale copy put back?",
                s->version, s->created, m->gone ? "purged at" : "", m->version, m->created);
        int r = store_op_quarantine_record(v->store, o->name, s, why ?: "older than the manifest");
        if (r < 0) {
                log_error("Org %s: cannot quarantine the stale record %s: %s; it is not served", o->name, s->id,
                          strerror(-r));
        }
        log_error("Org %s: refused record %s%s: %s", o->name, s->id, s->deleted ? " (in the trash)" : "",
                  why ?: "older than the manifest");
        return r;
}

void org_check_manifest(Vault *v, VaultOrg *o) {
        _cleanup_free_ char *text = NULL, *why = NULL;
        _cleanup_(parsed_clear) Parsed pm = {};
        Loaded *l = &pm.l;
        size_t len = 0;
        unsigned refused = 0;
        int r;

        if (!v->master || o->keys_error || o->keys.n_keys == 0)
                return;         /* checked when the keys are there (unseal) */
        o->manifest_checked = true;
        r = store_op_load_manifest(v->store, o->name, &text, &len);
        if (r == -ENOENT) {
                /* First start with this format, or an org that had none. */
                if (o->n + o->n_trash > 0)
                        log_info("Org %s: writing its manifest (%zu records)", o->name, o->n + o->n_trash);
                org_update_manifest(v, o);
                return;
        }
        if (r >= 0)
                r = parse_manifest(v, o, text, len, &pm, &why);
        if (r == -ENOMEM) {
                log_error("Org %s: out of memory checking its manifest", o->name);
                return;
        }
        if (r < 0) {
                /* Nothing to check the records against: say so loudly and
                 * start a new one from the records as they are. */
                log_error("Org %s: its manifest is unusable (%s): records can't be checked for stale copies; writing a new one",
                          o->name, why ?: strerror(-r));
                org_update_manifest(v, o);
                return;
        }
        for (size_t pass = 0; pass < 2; pass++)
                for (size_t i = 0; i < (pass == 0 ? o->n : o->n_trash);) {
                        Secret *s = pass == 0 ? o->by_id[i] : o->trash[i];
                        const ManifestEntry *m = NULL;
                        if (record_allowed(l, s, &m)) {
                                i++;
                                continue;
                        }
                        (void) refuse(v, o, s, m);
                        refused++;
                        if (pass == 0) {
                                org_unlink(o, s);
                                o->index_dirty = true;
                        } else
                                org_trash_remove(o, s);
                        secret_free(s);
                }
        /* The manifest's tombstones stay (a purged record put back is
         * refused), and so do entries of records the org lacks now. */
        for (size_t i = 0; i < l->n; i++) {
                if (l->e[i].gone) {
                        Secret tomb = { .id = l->e[i].id, .created = l->e[i].created, .version = l->e[i].version };
                        org_note_purged(v, o, &tomb);
                        continue;
                }
                if (!org_has_record(o, l->e[i].id, l->e[i].created)) {
                        log_warning("Org %s: the manifest lists %s version %" PRIu32 " but the org has no such record",
                                    o->name, l->e[i].id, l->e[i].version);
                        remember_missing(o, &l->e[i]);
                }
        }
        if (refused > 0) {
                log_error("Org %s: %u stale record(s) refused and moved to quarantine/", o->name, refused);
                census_note_quarantined(v, o->name, refused);
        }

        /* Records newer than the manifest (a crash after their write), or
         * one refused: write what is true now. */
        _cleanup_free_ ManifestEntry *now = NULL;
        size_t n = 0;
        bool same = collect(o, &now, &n) >= 0 && n == l->n;
        for (size_t i = 0; same && i < n; i++)
                same = entry_cmp(&now[i], &l->e[i]) == 0 && now[i].version == l->e[i].version && now[i].gone == l->e[i].gone;
        if (!same || pm.key_id != org_sealing_key(o))
                org_update_manifest(v, o);
}
