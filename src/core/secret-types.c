/* SPDX-License-Identifier: Apache-2.0 */
/* Loads secret types from types.d JSON files (format: docs/TYPES.md) into a
 * registry sorted by id. Every pattern is checked here (a file with one
 * that does not compile is refused) and compiled at its first match
 * (type_rule_match). */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "secret-types.h"

#define TYPE_FILE_MAX (1024 * 1024)
#define TYPE_FILE_SUFFIX ".json"

static const char *const field_kind_table[] = {
        [FIELD_URL] = "url",
        [FIELD_SECRET] = "secret",
        [FIELD_TEXT] = "text",
        [FIELD_ENUM] = "enum",
};

static const char *const categories[] = { "notification", "ai", "telephony" };

static const char *const type_keys[] = { "id", "name", "category", "used_by", "notes", "fields", NULL };
static const char *const field_keys[] = { "id", "label", "kind", "required", "secret", "description", "pattern",
                                          "pattern_message", "reject_if", "hints", "warn_if", "allowed", NULL };
static const char *const rule_keys[] = { "pattern", "message", NULL };

const char *field_kind_to_string(FieldKind k) {
        if ((size_t) k >= ELEMENTSOF(field_kind_table))
                return NULL;
        return field_kind_table[k];
}

static int field_kind_from_string(const char *s) {
        for (size_t i = 0; i < ELEMENTSOF(field_kind_table); i++)
                if (strcmp(s, field_kind_table[i]) == 0)
                        return (int) i;
        return -EINVAL;
}

/* [a-z0-9] then up to `max - 1` of [a-z0-9] or `extra`. */
static bool slug_ok(const char *s, size_t max, const char *extra) {
        size_t n = strlen(s);
        if (n == 0 || n > max)
                return false;
        for (size_t i = 0; i < n; i++) {
                bool alnum = (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9');
                if (!alnum && (i == 0 || !strchr(extra, s[i])))
                        return false;
        }
        return true;
}

static bool type_id_valid(const char *s) { return slug_ok(s, OV_ID_MAX, "-"); }
static bool field_id_valid(const char *s) { return slug_ok(s, OV_ID_MAX, "_"); }
static bool feature_valid(const char *s) { return slug_ok(s, OV_ID_MAX, "-"); }

static void type_rule_done(TypeRule *r) {
        if (r->re) {
                regfree(r->re);
                free(r->re);
        }
        free(r->pattern);
        free(r->message);
        *r = (TypeRule) {};
}

static void type_rules_free(TypeRule *rules, size_t n) {
        for (size_t i = 0; i < n; i++)
                type_rule_done(&rules[i]);
        free(rules);
}

static void type_field_done(TypeField *f) {
        free(f->id);
        free(f->label);
        free(f->description);
        type_rule_done(&f->pattern);
        type_rules_free(f->reject_if, f->n_reject_if);
        type_rules_free(f->hints, f->n_hints);
        type_rules_free(f->warn_if, f->n_warn_if);
        strv_free(f->allowed);
}

void secret_type_free(SecretType *t) {
        if (!t)
                return;
        free(t->id);
        free(t->name);
        free(t->category);
        strv_free(t->used_by);
        strv_free(t->notes);
        for (size_t i = 0; i < t->n_fields; i++)
                type_field_done(&t->fields[i]);
        free(t->fields);
        free(t->source);
        free(t);
}

static void secret_type_freep(SecretType **t) { secret_type_free(*t); }

/* Parsing context: the file being read and the first problem found. */
typedef struct Parser {
        const char *path;
        char *error;
} Parser;

static int parse_fail(Parser *p, const char *fmt, ...) _printf_(2, 3);
static int parse_fail(Parser *p, const char *fmt, ...) {
        char buf[512];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(buf, sizeof buf, fmt, ap);
        va_end(ap);
        free(p->error);
        p->error = strdup_printf("%s: %s", p->path, buf);
        return p->error ? -EINVAL : -ENOMEM;
}

static int check_keys(Parser *p, json_t *o, const char *const *known, const char *where) {
        const char *key;
        json_t *v;

        json_object_foreach(o, key, v) {
                bool found = false;
                for (size_t i = 0; known[i]; i++)
                        found = found || strcmp(key, known[i]) == 0;
                if (!found)
                        return parse_fail(p, "%s: unknown key \"%s\"", where, key);
        }
        return 0;
}

/* A display string: present (unless optional), non-empty, UTF-8 text. */
static int get_text(Parser *p, json_t *o, const char *key, const char *where, bool optional, char **ret) {
        json_t *v = json_object_get(o, key);
        const char *s;

        if (!v) {
                if (!optional)
                        return parse_fail(p, "%s: missing key \"%s\"", where, key);
                *ret = NULL;
                return 0;
        }
        if (!json_is_string(v))
                return parse_fail(p, "%s: \"%s\" must be a string", where, key);
        s = json_string_value(v);
        if (s[0] == 0 || strlen(s) != json_string_length(v) || !utf8_text_valid(s, NULL))
                return parse_fail(p, "%s: \"%s\" must be non-empty text without control characters", where, key);
        *ret = strdup(s);
        return *ret ? 0 : -ENOMEM;
}

static int get_bool(Parser *p, json_t *o, const char *key, const char *where, bool *ret) {
        json_t *v = json_object_get(o, key);

        if (!v)
                return parse_fail(p, "%s: missing key \"%s\"", where, key);
        if (!json_is_boolean(v))
                return parse_fail(p, "%s: \"%s\" must be true or false", where, key);
        *ret = json_is_true(v);
        return 0;
}

/* An optional array of text; `valid` (may be NULL) checks each entry.
 * Always returns a vector (possibly empty) so users need no NULL checks. */
static int get_strv(Parser *p, json_t *o, const char *key, const char *where, bool (*valid)(const char *),
                    const char *valid_what, char ***ret) {
        json_t *a = json_object_get(o, key), *v;
        _cleanup_strv_free_ char **l = calloc(1, sizeof(char *));
        size_t i;

        if (!l)
                return -ENOMEM;
        if (a && !json_is_array(a))
                return parse_fail(p, "%s: \"%s\" must be an array of strings", where, key);
        json_array_foreach(a, i, v) {
                const char *s = json_string_value(v);
                if (!s || s[0] == 0 || strlen(s) != json_string_length(v) || !utf8_text_valid(s, NULL))
                        return parse_fail(p, "%s: \"%s\"[%zu] must be non-empty text", where, key, i);
                if (valid && !valid(s))
                        return parse_fail(p, "%s: \"%s\"[%zu] \"%s\" is not %s", where, key, i, s, valid_what);
                if (strv_contains(l, s))
                        return parse_fail(p, "%s: \"%s\" lists \"%s\" twice", where, key, s);
                if (strv_push(&l, s) < 0)
                        return -ENOMEM;
        }
        *ret = l;
        l = NULL;
        return 0;
}

static int compile_rule(Parser *p, const char *pattern, const char *message, const char *where, TypeRule *r) {
        const char *problem = regex_pattern_problem(pattern);
        if (problem)
                return parse_fail(p, "%s: %s", where, problem);
        /* Checked in its cheap form (regex_check_form) and dropped:
         * type_rule_match() compiles the pattern itself at its first use. */
        _cleanup_free_ char *form = regex_check_form(pattern);
        if (!form)
                return -ENOMEM;
        regex_t re;
        int rc = regcomp(&re, form, REG_EXTENDED | REG_NOSUB);
        if (rc != 0) {
                char why[256];
                regerror(rc, &re, why, sizeof why);
                return parse_fail(p, "%s: bad regular expression: %s", where, why);
        }
        regfree(&re);
        r->pattern = strdup(pattern);
        r->message = message ? strdup(message) : NULL;
        if (!r->pattern || (message && !r->message))
                return -ENOMEM;
        return 0;
}

int type_rule_match(const TypeRule *r, const char *s) {
        if (!r->re) {
                regex_t *re = malloc(sizeof(regex_t));
                if (!re)
                        return -ENOMEM;
                /* It compiled when its file loaded, so only memory can fail. */
                if (regcomp(re, r->pattern, REG_EXTENDED | REG_NOSUB) != 0) {
                        free(re);
                        return -ENOMEM;
                }
                ((TypeRule *) r)->re = re;      /* a cache: the rule stays the same rule */
        }
        return regexec(r->re, s, 0, NULL, 0) == 0;
}

static int parse_rule(Parser *p, json_t *o, const char *where, TypeRule *r) {
        _cleanup_free_ char *pattern = NULL, *message = NULL;
        int k;

        if (!json_is_object(o))
                return parse_fail(p, "%s: must be an object with \"pattern\" and \"message\"", where);
        if ((k = check_keys(p, o, rule_keys, where)) < 0 ||
            (k = get_text(p, o, "pattern", where, false, &pattern)) < 0 ||
            (k = get_text(p, o, "message", where, false, &message)) < 0)
                return k;
        return compile_rule(p, pattern, message, where, r);
}

static int parse_rules(Parser *p, json_t *field, const char *key, const char *field_where, TypeRule **ret,
                       size_t *ret_n) {
        json_t *a = json_object_get(field, key), *v;
        size_t i;

        *ret = NULL;
        *ret_n = 0;
        if (!a)
                return 0;
        if (!json_is_array(a))
                return parse_fail(p, "%s: \"%s\" must be an array of {\"pattern\", \"message\"}", field_where, key);
        if (json_array_size(a) == 0)
                return 0;
        *ret = calloc(json_array_size(a), sizeof(TypeRule));
        if (!*ret)
                return -ENOMEM;
        json_array_foreach(a, i, v) {
                char where[256];
                snprintf(where, sizeof where, "%s: %s[%zu]", field_where, key, i);
                int k = parse_rule(p, v, where, &(*ret)[i]);
                if (k < 0)
                        return k;
                (*ret_n)++;
        }
        return 0;
}

static bool has_upper(const char *s) {
        for (; *s; s++)
                if (*s >= 'A' && *s <= 'Z')
                        return true;
        return false;
}

static bool lower_case_value(const char *s) { return !has_upper(s); }

/* Fills *f; on failure the caller frees what was set (type_field_done). */
static int parse_field(Parser *p, json_t *o, size_t index, TypeField *f) {
        _cleanup_free_ char *kind = NULL, *pattern = NULL, *pattern_message = NULL;
        char where[128], fwhere[192];
        int k;

        snprintf(where, sizeof where, "fields[%zu]", index);
        if (!json_is_object(o))
                return parse_fail(p, "%s: must be an object", where);
        if ((k = get_text(p, o, "id", where, false, &f->id)) < 0)
                return k;
        if (!field_id_valid(f->id))
                return parse_fail(p, "%s: invalid field id \"%s\" (expected [a-z0-9][a-z0-9_]{0,63})", where, f->id);
        snprintf(fwhere, sizeof fwhere, "field \"%s\"", f->id);
        if ((k = check_keys(p, o, field_keys, fwhere)) < 0 ||
            (k = get_text(p, o, "label", fwhere, false, &f->label)) < 0 ||
            (k = get_text(p, o, "kind", fwhere, false, &kind)) < 0 ||
            (k = get_bool(p, o, "required", fwhere, &f->required)) < 0 ||
            (k = get_bool(p, o, "secret", fwhere, &f->secret)) < 0 ||
            (k = get_text(p, o, "description", fwhere, true, &f->description)) < 0 ||
            (k = get_text(p, o, "pattern", fwhere, true, &pattern)) < 0 ||
            (k = get_text(p, o, "pattern_message", fwhere, true, &pattern_message)) < 0)
                return k;
        if (!f->description && !(f->description = strdup("")))
                return -ENOMEM;

        k = field_kind_from_string(kind);
        if (k < 0)
                return parse_fail(p, "%s: unknown kind \"%s\" (expected url, secret, text or enum)", fwhere, kind);
        f->kind = (FieldKind) k;
        if (f->kind == FIELD_SECRET && !f->secret)
                return parse_fail(p, "%s: kind \"secret\" needs \"secret\": true", fwhere);

        if (pattern) {
                char pwhere[256];
                snprintf(pwhere, sizeof pwhere, "%s: pattern", fwhere);
                if ((k = compile_rule(p, pattern, pattern_message, pwhere, &f->pattern)) < 0)
                        return k;
                f->has_pattern = true;
        } else if (pattern_message)
                return parse_fail(p, "%s: \"pattern_message\" without \"pattern\"", fwhere);

        if ((k = parse_rules(p, o, "reject_if", fwhere, &f->reject_if, &f->n_reject_if)) < 0 ||
            (k = parse_rules(p, o, "hints", fwhere, &f->hints, &f->n_hints)) < 0 ||
            (k = parse_rules(p, o, "warn_if", fwhere, &f->warn_if, &f->n_warn_if)) < 0)
                return k;

        if (f->kind == FIELD_ENUM) {
                if (!json_object_get(o, "allowed"))
                        return parse_fail(p, "%s: kind \"enum\" needs \"allowed\"", fwhere);
                if ((k = get_strv(p, o, "allowed", fwhere, lower_case_value, "lower-case", &f->allowed)) < 0)
                        return k;
                if (!f->allowed[0])
                        return parse_fail(p, "%s: \"allowed\" must not be empty", fwhere);
        } else if (json_object_get(o, "allowed"))
                return parse_fail(p, "%s: \"allowed\" is only for kind \"enum\"", fwhere);
        return 0;
}

static int parse_fields(Parser *p, json_t *doc, SecretType *t) {
        json_t *a = json_object_get(doc, "fields"), *v;
        size_t i;

        if (!a)
                return parse_fail(p, "missing key \"fields\"");
        if (!json_is_array(a) || json_array_size(a) == 0)
                return parse_fail(p, "\"fields\" must be a non-empty array");
        if (json_array_size(a) > OV_FIELDS_MAX)
                return parse_fail(p, "\"fields\" has %zu entries, at most %d are allowed", json_array_size(a),
                                  OV_FIELDS_MAX);
        t->fields = calloc(json_array_size(a), sizeof(TypeField));
        if (!t->fields)
                return -ENOMEM;
        json_array_foreach(a, i, v) {
                TypeField *f = &t->fields[i];
                int k = parse_field(p, v, i, f);
                t->n_fields++;  /* count it even when half-filled, so it gets freed */
                if (k < 0)
                        return k;
                for (size_t j = 0; j < i; j++)
                        if (strcmp(t->fields[j].id, f->id) == 0)
                                return parse_fail(p, "duplicate field id \"%s\"", f->id);
        }
        return 0;
}

static bool category_valid(const char *s) {
        for (size_t i = 0; i < ELEMENTSOF(categories); i++)
                if (strcmp(s, categories[i]) == 0)
                        return true;
        return false;
}

static int parse_type(Parser *p, json_t *doc, SecretType *t) {
        int k;

        if (!json_is_object(doc))
                return parse_fail(p, "the file must hold a JSON object");
        if ((k = check_keys(p, doc, type_keys, "type")) < 0 ||
            (k = get_text(p, doc, "id", "type", false, &t->id)) < 0)
                return k;
        if (!type_id_valid(t->id))
                return parse_fail(p, "invalid type id \"%s\" (expected [a-z0-9][a-z0-9-]{0,63})", t->id);
        if ((k = get_text(p, doc, "name", "type", false, &t->name)) < 0 ||
            (k = get_text(p, doc, "category", "type", false, &t->category)) < 0)
                return k;
        if (strlen(t->name) > OV_NAME_MAX)
                return parse_fail(p, "\"name\" is longer than %d bytes", OV_NAME_MAX);
        if (!category_valid(t->category))
                return parse_fail(p, "unknown category \"%s\" (expected notification, ai or telephony)", t->category);
        if (!json_object_get(doc, "used_by"))
                return parse_fail(p, "missing key \"used_by\"");
        if ((k = get_strv(p, doc, "used_by", "type", feature_valid, "a feature name ([a-z0-9][a-z0-9-]*)",
                          &t->used_by)) < 0 ||
            (k = get_strv(p, doc, "notes", "type", NULL, NULL, &t->notes)) < 0)
                return k;
        return parse_fields(p, doc, t);
}

int secret_type_load_file(const char *path, SecretType **ret, char **ret_error) {
        _cleanup_(secret_type_freep) SecretType *t = NULL;
        _cleanup_free_ char *text = NULL;
        _cleanup_json_ json_t *doc = NULL;
        Parser p = { .path = path };
        json_error_t jerr;
        size_t len;
        int k;

        *ret_error = NULL;
        k = read_file_at(AT_FDCWD, path, TYPE_FILE_MAX, &text, &len);
        if (k < 0) {
                *ret_error = strdup_printf("%s: cannot read: %s", path,
                                           k == -EFBIG ? "larger than 1 MiB" : strerror(-k));
                return *ret_error ? k : -ENOMEM;
        }
        doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
        if (!doc) {
                k = parse_fail(&p, "bad JSON at line %d, column %d: %s", jerr.line, jerr.column, jerr.text);
        } else if (!(t = calloc(1, sizeof *t)))
                k = -ENOMEM;
        else if ((k = parse_type(&p, doc, t)) == 0 && !(t->source = strdup(path)))
                k = -ENOMEM;
        if (k < 0) {
                *ret_error = p.error;
                return k;
        }
        *ret = t;
        t = NULL;
        return 0;
}

void type_registry_free(TypeRegistry *r) {
        if (!r)
                return;
        for (size_t i = 0; i < r->n_types; i++)
                secret_type_free(r->types[i]);
        free(r->types);
        free(r);
}

static int report(char ***errors, char *msg) {
        _cleanup_free_ char *m = msg;

        if (!m)
                return -ENOMEM;
        if (!errors) {
                log_warning("Skipping secret type: %s", m);
                return 0;
        }
        return strv_push(errors, m);
}

static SecretType **registry_slot(TypeRegistry *r, const char *id) {
        for (size_t i = 0; i < r->n_types; i++)
                if (strcmp(r->types[i]->id, id) == 0)
                        return &r->types[i];
        return NULL;
}

static bool wanted_name(const char *name) {
        size_t n = strlen(name), s = strlen(TYPE_FILE_SUFFIX);
        return name[0] != '.' && n > s && strcmp(name + n - s, TYPE_FILE_SUFFIX) == 0;
}

static int compare_strings(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

/* Loads <dir>/types.d/ *.json in name order. A type from an earlier dir is
 * replaced; the same id twice within one dir is an error. */
static int load_dir(TypeRegistry *r, const char *base, char ***errors) {
        _cleanup_free_ char *dir = strdup_printf("%s/types.d", base);
        _cleanup_strv_free_ char **names = NULL, **seen = NULL;
        DIR *d;
        struct dirent *de;

        if (!dir)
                return -ENOMEM;
        d = opendir(dir);
        if (!d) {
                if (errno == ENOENT)
                        return 0;
                return report(errors, strdup_printf("%s: cannot open: %s", dir, strerror(errno)));
        }
        while ((de = readdir(d)))
                if (wanted_name(de->d_name) && strv_push(&names, de->d_name) < 0) {
                        closedir(d);
                        return -ENOMEM;
                }
        closedir(d);
        if (!names)
                return 0;
        qsort(names, strv_length(names), sizeof(char *), compare_strings);

        for (char **n = names; *n; n++) {
                _cleanup_free_ char *path = strdup_printf("%s/%s", dir, *n);
                char *error = NULL;
                SecretType *t = NULL, **slot;
                int k;

                if (!path)
                        return -ENOMEM;
                k = secret_type_load_file(path, &t, &error);
                if (k == -ENOMEM) {
                        free(error);
                        return k;
                }
                if (k < 0) {
                        if ((k = report(errors, error)) < 0)
                                return k;
                        continue;
                }
                slot = registry_slot(r, t->id);
                if (strv_contains(seen, t->id)) {
                        k = report(errors, strdup_printf("%s: duplicate type id \"%s\" (already in %s)", path,
                                                         t->id, (*slot)->source));
                        secret_type_free(t);
                        if (k < 0)
                                return k;
                        continue;
                }
                if (strv_push(&seen, t->id) < 0) {
                        secret_type_free(t);
                        return -ENOMEM;
                }
                if (slot) {
                        log_info("Secret type %s from %s overrides %s", t->id, path, (*slot)->source);
                        secret_type_free(*slot);
                        *slot = t;
                        continue;
                }
                SecretType **nt = realloc(r->types, (r->n_types + 1) * sizeof(SecretType *));
                if (!nt) {
                        secret_type_free(t);
                        return -ENOMEM;
                }
                r->types = nt;
                r->types[r->n_types++] = t;
        }
        return 0;
}

static int compare_types(const void *a, const void *b) {
        return strcmp((*(SecretType *const *) a)->id, (*(SecretType *const *) b)->id);
}

int type_registry_load(TypeRegistry **ret, const char *data_dir, const char *config_dir, char ***ret_errors) {
        _cleanup_(type_registry_freep) TypeRegistry *r = calloc(1, sizeof *r);
        int k;

        if (!r)
                return -ENOMEM;
        if (data_dir && (k = load_dir(r, data_dir, ret_errors)) < 0)
                return k;
        if (config_dir && (k = load_dir(r, config_dir, ret_errors)) < 0)
                return k;
        if (r->n_types > 0)
                qsort(r->types, r->n_types, sizeof(SecretType *), compare_types);
        *ret = r;
        r = NULL;
        return 0;
}

const SecretType *type_registry_find(const TypeRegistry *r, const char *id) {
        size_t lo = 0, hi;

        if (!r || !id)
                return NULL;
        hi = r->n_types;
        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                int c = strcmp(id, r->types[mid]->id);
                if (c == 0)
                        return r->types[mid];
                if (c < 0)
                        hi = mid;
                else
                        lo = mid + 1;
        }
        return NULL;
}

const TypeField *secret_type_field(const SecretType *t, const char *field_id) {
        for (size_t i = 0; t && field_id && i < t->n_fields; i++)
                if (strcmp(t->fields[i].id, field_id) == 0)
                        return &t->fields[i];
        return NULL;
}

bool secret_type_used_by(const SecretType *t, const char *feature) {
        return t && feature && strv_contains(t->used_by, feature);
}
