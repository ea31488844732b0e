/* SPDX-License-Identifier: Apache-2.0 */
/* The org index, orgs/<org>/index (docs/FORMAT.md): every record of an org
 * with the stamp of its file, in one binary file, so loading an org of
 * thousands of secrets needs no JSON parse per record. It is a cache: the
 * parser refuses anything off and the loader then reads the records. */

#include <endian.h>
#include <errno.h>
#include <string.h>
#include <sodium.h>
#include <sys/mman.h>

#include "store.h"

#define INDEX_MAGIC "OVINDEX\n"
#define INDEX_VERSION 2
#define INDEX_SUM_BYTES crypto_generichash_BYTES        /* BLAKE2b-256 */
#define INDEX_HEADER_MIN (8 + 4 + 4 + 4)                /* magic, version, org length, count */
/* Fixed part of an entry: stamp (8+8+8+4), created, updated, version,
 * key_id, the lengths of its five strings and the reference count. */
#define ENTRY_FIXED (28 + 8 + 8 + 4 + 4 + 5 * 4 + 4 + LIFE_FIXED)
#define REF_FIXED (4 + 4 + 8)
/* Version 2's tail of an entry: flags, expires, rotate_every, value_set,
 * the length of value_by and the count of earlier values; then each of
 * those: version, key_id, set and the lengths of its three strings. */
#define LIFE_FIXED (4 + 8 + 8 + 8 + 4 + 4)
#define PREVIOUS_FIXED (4 + 4 + 8 + 3 * 4)
#define FLAG_LEGACY_AD 1u
/* Bytes per string field; secret_check() then applies the exact rules. */
#define NAME_BYTES_MAX (OV_NAME_MAX * 4)
#define NONCE_B64_MAX 64
#define CIPHERTEXT_B64_MAX (1024 * 1024)

/* Writing: sizes first, then one buffer. */

static size_t entry_size(const Secret *s) {
        size_t n = ENTRY_FIXED + strlen(s->id) + strlen(s->name) + strlen(s->type) + strlen(s->nonce) +
                   strlen(s->ciphertext);
        for (size_t i = 0; i < s->n_refs; i++)
                n += REF_FIXED + strlen(s->refs[i].feature) + strlen(s->refs[i].target);
        n += strlen(s->value_by ?: "");
        for (size_t i = 0; i < s->n_previous; i++)
                n += PREVIOUS_FIXED + strlen(s->previous[i].nonce) + strlen(s->previous[i].ciphertext) +
                     strlen(s->previous[i].by ?: "");
        return n;
}

static uint8_t *put_u32(uint8_t *p, uint32_t v) {
        v = htole32(v);
        memcpy(p, &v, sizeof v);
        return p + sizeof v;
}

static uint8_t *put_u64(uint8_t *p, uint64_t v) {
        v = htole64(v);
        memcpy(p, &v, sizeof v);
        return p + sizeof v;
}

static uint8_t *put_str(uint8_t *p, const char *s) {
        size_t n = strlen(s);
        p = put_u32(p, (uint32_t) n);
        memcpy(p, s, n);
        return p + n;
}

static uint8_t *put_entry(uint8_t *p, const Secret *s) {
        p = put_u64(p, s->stamp.ino);
        p = put_u64(p, s->stamp.size);
        p = put_u64(p, (uint64_t) s->stamp.mtime_sec);
        p = put_u32(p, s->stamp.mtime_nsec);
        p = put_str(p, s->id);
        p = put_str(p, s->name);
        p = put_str(p, s->type);
        p = put_u64(p, s->created);
        p = put_u64(p, s->updated);
        p = put_u32(p, s->version);
        p = put_u32(p, s->key_id);
        p = put_str(p, s->nonce);
        p = put_str(p, s->ciphertext);
        p = put_u32(p, (uint32_t) s->n_refs);
        for (size_t i = 0; i < s->n_refs; i++) {
                p = put_str(p, s->refs[i].feature);
                p = put_str(p, s->refs[i].target);
                p = put_u64(p, s->refs[i].created);
        }
        p = put_u32(p, s->legacy_ad ? FLAG_LEGACY_AD : 0);
        p = put_u64(p, s->expires);
        p = put_u64(p, s->rotate_every);
        p = put_u64(p, s->value_set);
        p = put_str(p, s->value_by ?: "");
        p = put_u32(p, (uint32_t) s->n_previous);
        for (size_t i = 0; i < s->n_previous; i++) {
                const SecretValue *v = &s->previous[i];
                p = put_u32(p, v->version);
                p = put_u32(p, v->key_id);
                p = put_u64(p, v->set);
                p = put_str(p, v->nonce);
                p = put_str(p, v->ciphertext);
                p = put_str(p, v->by ?: "");
        }
        return p;
}

static size_t index_size(const char *org, Secret *const *by_id, size_t n, uint32_t *ret_count) {
        size_t size = INDEX_HEADER_MIN + strlen(org) + INDEX_SUM_BYTES;
        uint32_t count = 0;
        for (size_t i = 0; i < n; i++)
                if (by_id[i]->stamp.ino != 0) {
                        size += entry_size(by_id[i]);
                        count++;
                }
        *ret_count = count;
        return size;
}

static void index_fill(uint8_t *buf, const char *org, Secret *const *by_id, size_t n, uint32_t count) {
        uint8_t *p = buf;
        memcpy(p, INDEX_MAGIC, 8);
        p = put_u32(p + 8, INDEX_VERSION);
        p = put_str(p, org);
        p = put_u32(p, count);
        for (size_t i = 0; i < n; i++)
                if (by_id[i]->stamp.ino != 0)
                        p = put_entry(p, by_id[i]);
        crypto_generichash(p, INDEX_SUM_BYTES, buf, (size_t) (p - buf), NULL, 0);
}

int org_index_format(const char *org, Secret *const *by_id, size_t n, uint8_t **ret, size_t *ret_len) {
        uint32_t count;

        if (!org_name_valid(org))
                return -EINVAL;
        size_t size = index_size(org, by_id, n, &count);
        uint8_t *buf = malloc(size);
        if (!buf)
                return -ENOMEM;
        index_fill(buf, org, by_id, n, count);
        *ret = buf;
        *ret_len = size;
        return 0;
}

int store_save_org_index(int state_fd, const char *org, Secret *const *by_id, size_t n) {
        uint32_t count;

        if (!org_name_valid(org))
                return -EINVAL;
        _cleanup_free_ char *path = strdup_printf("orgs/%s/index", org);
        if (!path)
                return -ENOMEM;
        /* Megabytes for a large org: mapped and unmapped directly, so the
         * memory goes back at once (from malloc it could stay in the heap:
         * glibc raises its mmap threshold after a large free). */
        size_t size = index_size(org, by_id, n, &count);
        uint8_t *buf = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (buf == MAP_FAILED)
                return -ENOMEM;
        index_fill(buf, org, by_id, n, count);
        /* No directory is created: an org without records has no index. */
        int r = write_file_atomic_at(state_fd, path, buf, size, 0600);
        munmap(buf, size);
        return r;
}

/* Reading: a cursor that refuses to step past the end. */

typedef struct Cursor {
        const uint8_t *p, *end;
} Cursor;

static bool get_u32(Cursor *c, uint32_t *ret) {
        uint32_t v;
        if ((size_t) (c->end - c->p) < sizeof v)
                return false;
        memcpy(&v, c->p, sizeof v);
        c->p += sizeof v;
        *ret = le32toh(v);
        return true;
}

static bool get_u64(Cursor *c, uint64_t *ret) {
        uint64_t v;
        if ((size_t) (c->end - c->p) < sizeof v)
                return false;
        memcpy(&v, c->p, sizeof v);
        c->p += sizeof v;
        *ret = le64toh(v);
        return true;
}

/* A length-prefixed string of at most max bytes without NUL. Sets *ret to
 * NULL when the bytes are malformed, and returns -ENOMEM only for memory. */
static int get_str(Cursor *c, size_t max, char **ret) {
        uint32_t n;
        *ret = NULL;
        if (!get_u32(c, &n) || n > max || (size_t) (c->end - c->p) < n || memchr(c->p, 0, n))
                return 0;
        char *s = malloc((size_t) n + 1);
        if (!s)
                return -ENOMEM;
        memcpy(s, c->p, n);
        s[n] = 0;
        c->p += n;
        *ret = s;
        return 0;
}

/* The same string as get_str reads, left in place: *ret points into the
 * index's bytes. False when malformed. */
typedef struct View {
        const char *p;
        size_t len;
} View;

static bool get_view(Cursor *c, size_t max, View *ret) {
        uint32_t n;
        if (!get_u32(c, &n) || n > max || (size_t) (c->end - c->p) < n || memchr(c->p, 0, n))
                return false;
        *ret = (View) { (const char *) c->p, n };
        c->p += n;
        return true;
}

static int index_fail(char **ret_error, const char *what) {
        if (ret_error) {
                free(*ret_error);
                *ret_error = strdup(what);
        }
        return -EBADMSG;
}

static int get_refs(Cursor *c, Secret *s, char **ret_error) {
        uint32_t n;
        if (!get_u32(c, &n) || n > OV_REFERENCES_MAX)
                return index_fail(ret_error, "bad reference count");
        if (n == 0)
                return 0;
        s->refs = calloc(n, sizeof(Reference));
        if (!s->refs)
                return -ENOMEM;
        while (s->n_refs < n) {
                Reference *ref = &s->refs[s->n_refs++];     /* counted first: secret_free frees it */
                if (get_str(c, OV_REFERENCE_TEXT_MAX, &ref->feature) < 0 ||
                    (ref->feature && get_str(c, OV_REFERENCE_TEXT_MAX, &ref->target) < 0))
                        return -ENOMEM;
                if (!ref->target || !get_u64(c, &ref->created))
                        return index_fail(ret_error, "malformed reference");
        }
        return 0;
}

/* Version 2's tail: reminders, who set the value (*ret_by), the earlier
 * values. */
static int get_life(Cursor *c, Secret *s, View *ret_by, char **ret_error) {
        uint32_t flags, n;

        if (!get_u32(c, &flags) || (flags & ~FLAG_LEGACY_AD) || !get_u64(c, &s->expires) ||
            !get_u64(c, &s->rotate_every) || !get_u64(c, &s->value_set))
                return index_fail(ret_error, "malformed entry");
        s->legacy_ad = flags & FLAG_LEGACY_AD;
        if (!get_view(c, OV_SET_BY_MAX, ret_by) || !get_u32(c, &n) || n > OV_VERSIONS_MAX)
                return index_fail(ret_error, "malformed entry");
        if (n == 0)
                return 0;
        s->previous = calloc(n, sizeof(SecretValue));
        if (!s->previous)
                return -ENOMEM;
        while (s->n_previous < n) {
                SecretValue *v = &s->previous[s->n_previous++];     /* counted first: secret_free frees it */
                if (!get_u32(c, &v->version) || !get_u32(c, &v->key_id) || !get_u64(c, &v->set))
                        return index_fail(ret_error, "malformed earlier value");
                if (get_str(c, NONCE_B64_MAX, &v->nonce) < 0 ||
                    (v->nonce && get_str(c, CIPHERTEXT_B64_MAX, &v->ciphertext) < 0) ||
                    (v->ciphertext && get_str(c, OV_SET_BY_MAX, &v->by) < 0))
                        return -ENOMEM;
                if (!v->by)
                        return index_fail(ret_error, "malformed earlier value");
        }
        return 0;
}

/* Steps over a string, the way get_str reads one. */
static bool skip_str(Cursor *c, size_t max) {
        uint32_t n;
        if (!get_u32(c, &n) || n > max || (size_t) (c->end - c->p) < n || memchr(c->p, 0, n))
                return false;
        c->p += n;
        return true;
}

/* Steps over the rest of an entry after its id: a skipped entry is walked,
 * not built, so an index of records that all changed costs no memory. */
static bool skip_entry_rest(Cursor *c) {
        uint64_t u64;
        uint32_t u32, n_refs;

        if (!skip_str(c, NAME_BYTES_MAX) || !skip_str(c, OV_ID_MAX) || !get_u64(c, &u64) || !get_u64(c, &u64) ||
            !get_u32(c, &u32) || !get_u32(c, &u32) || !skip_str(c, NONCE_B64_MAX) ||
            !skip_str(c, CIPHERTEXT_B64_MAX) || !get_u32(c, &n_refs) || n_refs > OV_REFERENCES_MAX)
                return false;
        for (uint32_t i = 0; i < n_refs; i++)
                if (!skip_str(c, OV_REFERENCE_TEXT_MAX) || !skip_str(c, OV_REFERENCE_TEXT_MAX) || !get_u64(c, &u64))
                        return false;
        uint32_t n_previous;
        if (!get_u32(c, &u32) || !get_u64(c, &u64) || !get_u64(c, &u64) || !get_u64(c, &u64) ||
            !skip_str(c, OV_SET_BY_MAX) || !get_u32(c, &n_previous) || n_previous > OV_VERSIONS_MAX)
                return false;
        for (uint32_t i = 0; i < n_previous; i++)
                if (!get_u32(c, &u32) || !get_u32(c, &u32) || !get_u64(c, &u64) || !skip_str(c, NONCE_B64_MAX) ||
                    !skip_str(c, CIPHERTEXT_B64_MAX) || !skip_str(c, OV_SET_BY_MAX))
                        return false;
        return true;
}

/* One entry: its stamp and id, then, when keep() wants it (or there is no
 * keep), the secret, checked like a record; else *ret stays NULL. id gets
 * the entry's id (OV_ID_MAX + 1 bytes) for the order check. */
static int get_entry(Cursor *c, org_index_keep_t keep, void *userdata, char *id, Secret **ret, char **ret_error) {
        _cleanup_secret_ Secret *s = NULL;
        RecordStamp stamp = {};
        uint64_t mtime_sec;
        uint32_t mtime_nsec, id_len;
        int r;

        *ret = NULL;
        if (!get_u64(c, &stamp.ino) || !get_u64(c, &stamp.size) || !get_u64(c, &mtime_sec) ||
            !get_u32(c, &mtime_nsec) || !get_u32(c, &id_len) || id_len > OV_ID_MAX ||
            (size_t) (c->end - c->p) < id_len)
                return index_fail(ret_error, "malformed entry");
        if (stamp.ino == 0 || mtime_nsec >= 1000000000)
                return index_fail(ret_error, "bad stamp");
        stamp.mtime_sec = (int64_t) mtime_sec;
        stamp.mtime_nsec = mtime_nsec;
        memcpy(id, c->p, id_len);
        id[id_len] = 0;
        c->p += id_len;
        if (strlen(id) != id_len || !secret_id_valid(id))
                return index_fail(ret_error, "invalid id");
        if (keep && !keep(id, &stamp, userdata))
                return skip_entry_rest(c) ? 0 : index_fail(ret_error, "malformed entry");

        /* The strings are read in place and copied into the secret's one
         * block (secret_set_strings) once the entry is whole. */
        View name, type, nonce, ct, by;
        s = calloc(1, sizeof(Secret));
        if (!s)
                return -ENOMEM;
        s->stamp = stamp;
        if (!get_view(c, NAME_BYTES_MAX, &name) || !get_view(c, OV_ID_MAX, &type) || !get_u64(c, &s->created) ||
            !get_u64(c, &s->updated) || !get_u32(c, &s->version) || !get_u32(c, &s->key_id) ||
            !get_view(c, NONCE_B64_MAX, &nonce) || !get_view(c, CIPHERTEXT_B64_MAX, &ct))
                return index_fail(ret_error, "malformed entry");
        r = get_refs(c, s, ret_error);
        if (r < 0)
                return r;
        r = get_life(c, s, &by, ret_error);
        if (r < 0)
                return r;
        const char *str[6] = { id, name.p, type.p, nonce.p, ct.p, by.p };
        const size_t len[6] = { id_len, name.len, type.len, nonce.len, ct.len, by.len };
        r = secret_set_strings(s, str, len);
        if (r < 0)
                return r;
        r = secret_check(s, ret_error);
        if (r < 0)
                return r;
        *ret = s;
        s = NULL;
        return 0;
}

static void free_secrets(Secret **a, size_t n) {
        for (size_t i = 0; i < n; i++)
                secret_free(a[i]);
        free(a);
}

int org_index_parse_some(const uint8_t *data, size_t len, const char *org, org_index_keep_t keep, void *userdata,
                         Secret ***ret, size_t *ret_n, char **ret_error) {
        uint8_t sum[INDEX_SUM_BYTES];
        _cleanup_free_ char *index_org = NULL;
        char id[OV_ID_MAX + 1], prev[OV_ID_MAX + 1] = "";
        uint32_t version, count;
        Secret **secrets = NULL;
        size_t n = 0;
        int r = 0;

        if (len < INDEX_HEADER_MIN + INDEX_SUM_BYTES || memcmp(data, INDEX_MAGIC, 8) != 0)
                return index_fail(ret_error, "not an org index");
        Cursor c = { .p = data + 8, .end = data + len - INDEX_SUM_BYTES };
        crypto_generichash(sum, sizeof sum, data, len - INDEX_SUM_BYTES, NULL, 0);
        if (memcmp(sum, c.end, sizeof sum) != 0)
                return index_fail(ret_error, "checksum mismatch");
        if (!get_u32(&c, &version) || version != INDEX_VERSION)
                return index_fail(ret_error, "unsupported version");
        if (get_str(&c, OV_ORG_MAX, &index_org) < 0)
                return -ENOMEM;
        if (!index_org || !org || strcmp(index_org, org) != 0)
                return index_fail(ret_error, "index of another org");
        if (!get_u32(&c, &count) || count > (size_t) (c.end - c.p) / ENTRY_FIXED)
                return index_fail(ret_error, "bad entry count");
        if (count > 0 && !(secrets = calloc(count, sizeof(Secret *))))
                return -ENOMEM;
        for (uint32_t i = 0; i < count && r >= 0; i++) {
                r = get_entry(&c, keep, userdata, id, &secrets[n], ret_error);
                if (r >= 0 && i > 0 && strcmp(prev, id) >= 0)
                        r = index_fail(ret_error, "entries out of order or duplicate");
                if (secrets[n])
                        n++;
                if (r >= 0)
                        strcpy(prev, id);
        }
        if (r >= 0 && c.p != c.end)
                r = index_fail(ret_error, "trailing bytes");
        if (r < 0) {
                free_secrets(secrets, n);
                return r;
        }
        *ret = secrets;
        *ret_n = n;
        return 0;
}

int org_index_parse(const uint8_t *data, size_t len, const char *org, Secret ***ret, size_t *ret_n,
                    char **ret_error) {
        return org_index_parse_some(data, len, org, NULL, NULL, ret, ret_n, ret_error);
}
