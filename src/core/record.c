/* SPDX-License-Identifier: Apache-2.0 */
/* A secret's record <-> JSON (docs/FORMAT.md). The parser sees files from
 * disk that may be truncated, edited or hostile: it checks every key, type
 * and bound and refuses anything it does not know. */

#include <errno.h>
#include <string.h>
#include <sodium.h>

#include "store.h"

#define RECORD_ALG "xchacha20poly1305-ietf"
#define NONCE_BYTES crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define TAG_BYTES crypto_aead_xchacha20poly1305_ietf_ABYTES
/* Base64 of the sealed value: the fields' JSON (64 KiB of values, escaped)
 * plus the tag, with room to spare. */
#define CIPHERTEXT_B64_MAX (1024 * 1024)

void secret_value_clear(SecretValue *v) {
        free(v->nonce);
        free(v->ciphertext);
        free(v->by);
        *v = (SecretValue) {};
}

uint64_t secret_rotate_by(const Secret *s) {
        if (s->rotate_every == 0)
                return 0;
        return s->value_set > UINT64_MAX - s->rotate_every ? UINT64_MAX : s->value_set + s->rotate_every;
}

/* The six strings a block holds, in its order. */
#define SECRET_STRINGS(s) { &(s)->id, &(s)->name, &(s)->type, &(s)->nonce, &(s)->ciphertext, &(s)->value_by }

int secret_set_strings(Secret *s, const char *const str[static 6], const size_t len[static 6]) {
        char **field[6] = SECRET_STRINGS(s);
        size_t total = 0;

        for (size_t i = 0; i < 6; i++)
                total += len[i] + 1;
        char *block = malloc(total), *p = block;
        if (!block)
                return -ENOMEM;
        for (size_t i = 0; i < 6; i++) {
                memcpy(p, str[i], len[i]);
                p[len[i]] = 0;
                *field[i] = p;
                p += len[i] + 1;
        }
        s->strings_packed = true;       /* the block starts at id */
        return 0;
}

int secret_pack_strings(Secret *s) {
        char **field[6] = SECRET_STRINGS(s);
        const char *str[6];
        size_t len[6];

        if (s->strings_packed)
                return 0;
        for (size_t i = 0; i < 6; i++) {
                str[i] = *field[i];
                len[i] = strlen(str[i]);
        }
        char *old[6];
        for (size_t i = 0; i < 6; i++)
                old[i] = *field[i];
        int r = secret_set_strings(s, str, len);
        if (r < 0)
                return r;
        for (size_t i = 0; i < 6; i++)
                free(old[i]);
        return 0;
}

int secret_own_strings(Secret *s) {
        char **field[6] = SECRET_STRINGS(s);
        char *copy[6] = {};

        if (!s->strings_packed)
                return 0;
        char *block = s->id;
        for (size_t i = 0; i < 6; i++)
                if (*field[i] && !(copy[i] = strdup(*field[i]))) {
                        for (size_t j = 0; j < i; j++)
                                free(copy[j]);
                        return -ENOMEM;
                }
        for (size_t i = 0; i < 6; i++)
                *field[i] = copy[i];
        free(block);
        s->strings_packed = false;
        return 0;
}

void secret_free(Secret *s) {
        if (!s)
                return;
        for (size_t i = 0; i < s->n_previous; i++)
                secret_value_clear(&s->previous[i]);
        free(s->previous);
        if (s->strings_packed)
                free(s->id);            /* the block */
        else {
                free(s->value_by);
                free(s->id);
                free(s->name);
                free(s->type);
                free(s->nonce);
                free(s->ciphertext);
        }
        for (size_t i = 0; i < s->n_refs; i++) {
                free(s->refs[i].feature);
                free(s->refs[i].target);
        }
        free(s->refs);
        free(s->last_used_by);
        free(s);
}

/* A record not yet migrated keeps format 1's shape: its value's AD says
 * format 1, and format 1 has no room for versions or reminders. */
static json_t *secret_to_json_v1(const Secret *s, const char *org, json_t *refs) {
        return json_pack("{s:i, s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:O, s:{s:s, s:I, s:s, s:s}}",
                         "format", 1,
                         "org", org,
                         "id", s->id,
                         "name", s->name,
                         "type", s->type,
                         "created", (json_int_t) s->created,
                         "updated", (json_int_t) s->updated,
                         "version", (json_int_t) s->version,
                         "references", refs,
                         "value",
                         "alg", RECORD_ALG,
                         "key_id", (json_int_t) s->key_id,
                         "nonce", s->nonce,
                         "ciphertext", s->ciphertext);
}

json_t *secret_to_json(const Secret *s, const char *org) {
        _cleanup_json_ json_t *refs = json_array(), *previous = json_array();
        if (!refs || !previous)
                return NULL;
        for (size_t i = 0; i < s->n_refs; i++)
                if (json_array_append_new(refs, json_pack("{s:s, s:s, s:I}",
                                                          "feature", s->refs[i].feature,
                                                          "target", s->refs[i].target,
                                                          "created", (json_int_t) s->refs[i].created)) < 0)
                        return NULL;
        if (s->legacy_ad)
                return secret_to_json_v1(s, org, refs);
        for (size_t i = 0; i < s->n_previous; i++) {
                const SecretValue *p = &s->previous[i];
                if (json_array_append_new(previous, json_pack("{s:I, s:s, s:I, s:s, s:s, s:I, s:s}",
                                                              "version", (json_int_t) p->version,
                                                              "alg", RECORD_ALG,
                                                              "key_id", (json_int_t) p->key_id,
                                                              "nonce", p->nonce,
                                                              "ciphertext", p->ciphertext,
                                                              "set", (json_int_t) p->set,
                                                              "by", p->by ?: "")) < 0)
                        return NULL;
        }
        return json_pack("{s:i, s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:O, s:{s:s, s:I, s:s, s:s, s:I, s:s}, s:O}",
                         "format", OV_RECORD_FORMAT,
                         "org", org,
                         "id", s->id,
                         "name", s->name,
                         "type", s->type,
                         "created", (json_int_t) s->created,
                         "updated", (json_int_t) s->updated,
                         "version", (json_int_t) s->version,
                         "expires", (json_int_t) s->expires,
                         "rotate_every", (json_int_t) s->rotate_every,
                         "references", refs,
                         "value",
                         "alg", RECORD_ALG,
                         "key_id", (json_int_t) s->key_id,
                         "nonce", s->nonce,
                         "ciphertext", s->ciphertext,
                         "set", (json_int_t) s->value_set,
                         "by", s->value_by ?: "",
                         "previous", previous);
}

static int fail(char **ret_error, const char *fmt, ...) _printf_(2, 3);
static int fail(char **ret_error, const char *fmt, ...) {
        if (ret_error) {
                va_list ap;
                char *m = NULL;
                va_start(ap, fmt);
                if (vasprintf(&m, fmt, ap) < 0)
                        m = NULL;
                va_end(ap);
                free(*ret_error);
                *ret_error = m;
        }
        return -EBADMSG;
}

/* Every key of o must be in keys[], and every one of keys[] must be there. */
static int check_keys(json_t *o, const char *what, const char *const *keys, size_t n, char **ret_error) {
        const char *k;
        json_t *val;

        if (!json_is_object(o))
                return fail(ret_error, "%s is not an object", what);
        json_object_foreach(o, k, val) {
                bool known = false;
                for (size_t i = 0; i < n && !known; i++)
                        known = strcmp(k, keys[i]) == 0;
                if (!known)
                        return fail(ret_error, "%s has an unknown key", what);
        }
        for (size_t i = 0; i < n; i++)
                if (!json_object_get(o, keys[i]))
                        return fail(ret_error, "%s lacks \"%s\"", what, keys[i]);
        return 0;
}

static int get_uint(json_t *o, const char *key, uint64_t min, uint64_t max, uint64_t *ret, char **ret_error) {
        json_t *v = json_object_get(o, key);
        if (!json_is_integer(v))
                return fail(ret_error, "\"%s\" is not an integer", key);
        json_int_t i = json_integer_value(v);
        if (i < 0 || (uint64_t) i < min || (uint64_t) i > max)
                return fail(ret_error, "\"%s\" is out of range", key);
        *ret = (uint64_t) i;
        return 0;
}

static int get_string(json_t *o, const char *key, const char **ret, char **ret_error) {
        json_t *v = json_object_get(o, key);
        if (!json_is_string(v))
                return fail(ret_error, "\"%s\" is not a string", key);
        *ret = json_string_value(v);
        return 0;
}

static bool b64_char(unsigned char c) {
        /* A table: the org index checks every ciphertext at load. */
        static const bool alphabet[256] = {
                ['A' ... 'Z'] = true, ['a' ... 'z'] = true, ['0' ... '9'] = true, ['+'] = true, ['/'] = true,
        };
        return alphabet[c];
}

/* Standard base64 with padding; n = decoded length. */
static bool b64_shape_valid(const char *s, size_t max, size_t *ret_n) {
        size_t len = strlen(s), pad = 0;
        if (len == 0 || len % 4 != 0 || len > max)
                return false;
        if (s[len - 1] == '=')
                pad = s[len - 2] == '=' ? 2 : 1;
        for (size_t i = 0; i < len - pad; i++)
                if (!b64_char((unsigned char) s[i]))
                        return false;
        *ret_n = len / 4 * 3 - pad;
        return true;
}

/* Same rule as a secret id: types ship as files named after their id. */
static bool type_id_valid(const char *s) { return secret_id_valid(s); }

bool reference_text_valid(const char *s) {
        return s && *s && strlen(s) <= OV_REFERENCE_TEXT_MAX && utf8_text_valid(s, NULL);
}

static int parse_references(json_t *a, Secret *s, char **ret_error) {
        static const char *const keys[] = { "feature", "target", "created" };

        if (!json_is_array(a))
                return fail(ret_error, "\"references\" is not an array");
        size_t n = json_array_size(a);
        if (n > OV_REFERENCES_MAX)
                return fail(ret_error, "more than %d references", OV_REFERENCES_MAX);
        if (n == 0)
                return 0;
        s->refs = calloc(n, sizeof(Reference));
        if (!s->refs)
                return -ENOMEM;

        for (size_t i = 0; i < n; i++) {
                json_t *r = json_array_get(a, i);
                const char *feature = NULL, *target = NULL;
                uint64_t created = 0;
                int k;

                k = check_keys(r, "a reference", keys, ELEMENTSOF(keys), ret_error);
                if (k < 0)
                        return k;
                if (get_string(r, "feature", &feature, ret_error) < 0 ||
                    get_string(r, "target", &target, ret_error) < 0 ||
                    get_uint(r, "created", 0, INT64_MAX, &created, ret_error) < 0)
                        return -EBADMSG;
                if (!reference_text_valid(feature) || !reference_text_valid(target))
                        return fail(ret_error, "reference %zu has an invalid feature or target", i);
                for (size_t j = 0; j < s->n_refs; j++)
                        if (strcmp(s->refs[j].feature, feature) == 0 && strcmp(s->refs[j].target, target) == 0)
                                return fail(ret_error, "reference %zu is a duplicate", i);
                s->refs[i].feature = strdup(feature);
                s->refs[i].target = strdup(target);
                s->refs[i].created = created;
                s->n_refs++;
                if (!s->refs[i].feature || !s->refs[i].target)
                        return -ENOMEM;
        }
        return 0;
}

static bool set_by_valid(const char *s) {
        return s && strlen(s) <= OV_SET_BY_MAX && (!*s || utf8_text_valid(s, NULL));
}

/* A sealed value's keys: format 1's four, format 2's six (with when and by
 * whom it was set), and a kept earlier value's seven (with its version). */
static int parse_sealed(json_t *v, const char *what, unsigned format, bool with_version, SecretValue *ret,
                        char **ret_error) {
        static const char *const keys[] = { "alg", "key_id", "nonce", "ciphertext", "set", "by", "version" };
        const char *alg = NULL, *nonce = NULL, *ct = NULL, *by = "";
        uint64_t key_id = 0, set = 0, version = 0;
        size_t n;
        int r;

        r = check_keys(v, what, keys, format == 1 ? 4 : with_version ? 7 : 6, ret_error);
        if (r < 0)
                return r;
        if (get_string(v, "alg", &alg, ret_error) < 0 ||
            get_uint(v, "key_id", 1, UINT32_MAX, &key_id, ret_error) < 0 ||
            get_string(v, "nonce", &nonce, ret_error) < 0 ||
            get_string(v, "ciphertext", &ct, ret_error) < 0)
                return -EBADMSG;
        if (format != 1 && (get_uint(v, "set", 0, INT64_MAX, &set, ret_error) < 0 ||
                            get_string(v, "by", &by, ret_error) < 0))
                return -EBADMSG;
        if (with_version && get_uint(v, "version", 1, UINT32_MAX, &version, ret_error) < 0)
                return -EBADMSG;
        if (strcmp(alg, RECORD_ALG) != 0)
                return fail(ret_error, "unknown \"alg\"");
        if (!b64_shape_valid(nonce, 64, &n) || n != NONCE_BYTES)
                return fail(ret_error, "\"nonce\" is not %d bytes of base64", NONCE_BYTES);
        if (!b64_shape_valid(ct, CIPHERTEXT_B64_MAX, &n) || n < TAG_BYTES)
                return fail(ret_error, "\"ciphertext\" is not valid base64 of a sealed value");
        if (!set_by_valid(by))
                return fail(ret_error, "\"by\" is not text of at most %d bytes", OV_SET_BY_MAX);

        ret->version = (uint32_t) version;
        ret->key_id = (uint32_t) key_id;
        ret->set = set;
        ret->nonce = strdup(nonce);
        ret->ciphertext = strdup(ct);
        ret->by = strdup(by);
        if (!ret->nonce || !ret->ciphertext || !ret->by)
                return -ENOMEM;
        return 0;
}

static int parse_value(json_t *v, unsigned format, Secret *s, char **ret_error) {
        SecretValue val = {};
        int r = parse_sealed(v, "\"value\"", format, false, &val, ret_error);
        if (r < 0) {
                secret_value_clear(&val);
                return r;
        }
        s->key_id = val.key_id;
        s->nonce = TAKE_PTR(val.nonce);
        s->ciphertext = TAKE_PTR(val.ciphertext);
        s->value_by = TAKE_PTR(val.by);
        s->value_set = format == 1 ? s->updated : val.set;
        return 0;
}

/* Earlier values, newest first, each older than the one before. */
static int parse_previous(json_t *a, Secret *s, char **ret_error) {
        if (!json_is_array(a))
                return fail(ret_error, "\"previous\" is not an array");
        size_t n = json_array_size(a);
        if (n > OV_VERSIONS_MAX)
                return fail(ret_error, "more than %d earlier values", OV_VERSIONS_MAX);
        if (n == 0)
                return 0;
        s->previous = calloc(n, sizeof(SecretValue));
        if (!s->previous)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                int r = parse_sealed(json_array_get(a, i), "an earlier value", OV_RECORD_FORMAT, true,
                                     &s->previous[i], ret_error);
                s->n_previous++;
                if (r < 0)
                        return r;
                uint32_t above = i == 0 ? s->version : s->previous[i - 1].version;
                if (s->previous[i].version >= above)
                        return fail(ret_error, "earlier value %zu is not older than the one before it", i);
        }
        return 0;
}

int secret_from_json(json_t *j, const char *org, Secret **ret, char **ret_error) {
        static const char *const keys[] = {
                "format", "org", "id", "name", "type", "created", "updated", "version", "references", "value",
                "expires", "rotate_every", "previous",
        };
        _cleanup_secret_ Secret *s = NULL;
        const char *j_org = NULL, *id = NULL, *name = NULL, *type = NULL;
        uint64_t format = 0, version = 0;
        int r;

        /* The format first: it says which keys the record must have. */
        if (!json_is_object(j))
                return fail(ret_error, "the record is not an object");
        if (get_uint(j, "format", 0, UINT32_MAX, &format, ret_error) < 0)
                return -EBADMSG;
        if (format != 1 && format != OV_RECORD_FORMAT)
                return fail(ret_error, "unsupported format %llu", (unsigned long long) format);
        r = check_keys(j, "the record", keys, format == 1 ? 10 : ELEMENTSOF(keys), ret_error);
        if (r < 0)
                return r;

        s = calloc(1, sizeof(Secret));
        if (!s)
                return -ENOMEM;
        if (get_string(j, "org", &j_org, ret_error) < 0 ||
            get_string(j, "id", &id, ret_error) < 0 ||
            get_string(j, "name", &name, ret_error) < 0 ||
            get_string(j, "type", &type, ret_error) < 0 ||
            get_uint(j, "created", 0, INT64_MAX, &s->created, ret_error) < 0 ||
            get_uint(j, "updated", 0, INT64_MAX, &s->updated, ret_error) < 0 ||
            get_uint(j, "version", 1, UINT32_MAX, &version, ret_error) < 0)
                return -EBADMSG;
        if (format != 1 && (get_uint(j, "expires", 0, INT64_MAX, &s->expires, ret_error) < 0 ||
                            get_uint(j, "rotate_every", 0, INT64_MAX, &s->rotate_every, ret_error) < 0))
                return -EBADMSG;
        s->legacy_ad = format == 1;
        if (!org || strcmp(j_org, org) != 0)
                return fail(ret_error, "record belongs to another org");
        if (!secret_id_valid(id))
                return fail(ret_error, "invalid \"id\"");
        if (!display_name_valid(name))
                return fail(ret_error, "invalid \"name\"");
        if (!type_id_valid(type))
                return fail(ret_error, "invalid \"type\"");
        s->version = (uint32_t) version;

        s->id = strdup(id);
        s->name = strdup(name);
        s->type = strdup(type);
        if (!s->id || !s->name || !s->type)
                return -ENOMEM;
        r = parse_references(json_object_get(j, "references"), s, ret_error);
        if (r < 0)
                return r;
        r = parse_value(json_object_get(j, "value"), (unsigned) format, s, ret_error);
        if (r < 0)
                return r;
        if (format != 1) {
                r = parse_previous(json_object_get(j, "previous"), s, ret_error);
                if (r < 0)
                        return r;
        }
        r = secret_pack_strings(s);
        if (r < 0)
                return r;

        *ret = s;
        s = NULL;
        return 0;
}

int secret_parse_text(const char *text, size_t len, const char *org, Secret **ret, char **ret_error) {
        json_error_t err;
        _cleanup_json_ json_t *j = json_loadb(text, len, JSON_REJECT_DUPLICATES, &err);
        if (!j)
                return fail(ret_error, "not valid JSON: line %d: %s", err.line, err.text);
        return secret_from_json(j, org, ret, ret_error);
}

int secret_check(const Secret *s, char **ret_error) {
        size_t n;

        if (!s->id || !secret_id_valid(s->id))
                return fail(ret_error, "invalid \"id\"");
        if (!s->name || !display_name_valid(s->name))
                return fail(ret_error, "invalid \"name\"");
        if (!s->type || !type_id_valid(s->type))
                return fail(ret_error, "invalid \"type\"");
        if (s->created > INT64_MAX || s->updated > INT64_MAX || s->version == 0 || s->key_id == 0)
                return fail(ret_error, "a number is out of range");
        if (!s->nonce || !b64_shape_valid(s->nonce, 64, &n) || n != NONCE_BYTES)
                return fail(ret_error, "\"nonce\" is not %d bytes of base64", NONCE_BYTES);
        if (!s->ciphertext || !b64_shape_valid(s->ciphertext, CIPHERTEXT_B64_MAX, &n) || n < TAG_BYTES)
                return fail(ret_error, "\"ciphertext\" is not valid base64 of a sealed value");
        if (s->expires > INT64_MAX || s->rotate_every > INT64_MAX || s->value_set > INT64_MAX ||
            !set_by_valid(s->value_by ?: ""))
                return fail(ret_error, "a number is out of range");
        if (s->n_previous > OV_VERSIONS_MAX || (s->legacy_ad && (s->n_previous > 0 || s->expires || s->rotate_every)))
                return fail(ret_error, "bad earlier values");
        for (size_t i = 0; i < s->n_previous; i++) {
                const SecretValue *p = &s->previous[i];
                uint32_t above = i == 0 ? s->version : s->previous[i - 1].version;
                if (p->version == 0 || p->version >= above || p->key_id == 0 || p->set > INT64_MAX ||
                    !set_by_valid(p->by ?: "") || !p->nonce || !b64_shape_valid(p->nonce, 64, &n) ||
                    n != NONCE_BYTES || !p->ciphertext || !b64_shape_valid(p->ciphertext, CIPHERTEXT_B64_MAX, &n) ||
                    n < TAG_BYTES)
                        return fail(ret_error, "earlier value %zu is invalid", i);
        }
        if (s->n_refs > OV_REFERENCES_MAX)
                return fail(ret_error, "more than %d references", OV_REFERENCES_MAX);
        for (size_t i = 0; i < s->n_refs; i++) {
                const Reference *r = &s->refs[i];
                if (!reference_text_valid(r->feature) || !reference_text_valid(r->target) || r->created > INT64_MAX)
                        return fail(ret_error, "reference %zu is invalid", i);
                for (size_t j = 0; j < i; j++)
                        if (strcmp(s->refs[j].feature, r->feature) == 0 && strcmp(s->refs[j].target, r->target) == 0)
                                return fail(ret_error, "reference %zu is a duplicate", i);
        }
        return 0;
}
