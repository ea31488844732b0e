/* SPDX-License-Identifier: Apache-2.0 */
/* Checks a secret's fields against its type: bounds, unknown and missing
 * fields, normalisation, then the type's rules (order: docs/TYPES.md).
 * Messages name the field and come from the type data; they never quote a
 * value, because values are secret. */

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "secret-types.h"
#include "value-mistakes.h"

static int add_issue(FieldIssue **list, size_t *n, const char *field, const char *fmt, ...) _printf_(4, 5);
static int add_issue(FieldIssue **list, size_t *n, const char *field, const char *fmt, ...) {
        char buf[1024];
        va_list ap;
        FieldIssue *nl;

        va_start(ap, fmt);
        vsnprintf(buf, sizeof buf, fmt, ap);
        va_end(ap);
        nl = realloc(*list, (*n + 1) * sizeof(FieldIssue));
        if (!nl)
                return -ENOMEM;
        *list = nl;
        nl[*n] = (FieldIssue) { .field = strdup(field), .message = strdup(buf) };
        if (!nl[*n].field || !nl[*n].message) {
                free(nl[*n].field);
                free(nl[*n].message);
                return -ENOMEM;
        }
        (*n)++;
        return 0;
}

#define error_at(res, field, ...) add_issue(&(res)->errors, &(res)->n_errors, field, __VA_ARGS__)
#define warning_at(res, field, ...) add_issue(&(res)->warnings, &(res)->n_warnings, field, __VA_ARGS__)

static bool is_ascii_space(char c) {
        return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static void ascii_lower(char *s, size_t from, size_t to) {
        for (size_t i = from; i < to; i++)
                if (s[i] >= 'A' && s[i] <= 'Z')
                        s[i] = (char) (s[i] - 'A' + 'a');
}

static char *trim_copy(const char *s) {
        size_t n;

        while (is_ascii_space(*s))
                s++;
        n = strlen(s);
        while (n > 0 && is_ascii_space(s[n - 1]))
                n--;
        return strndup(s, n);
}

/* Offsets into "scheme://userinfo@host:port/path?query#fragment". */
typedef struct UrlParts {
        size_t scheme_end, host_start, host_end, authority_end;
        bool has_port;
} UrlParts;

static bool url_split(const char *s, UrlParts *u) {
        const char *sep = strstr(s, "://");
        size_t a;

        if (!sep || sep == s)
                return false;
        *u = (UrlParts) { .scheme_end = (size_t) (sep - s) };
        a = u->scheme_end + 3;
        u->authority_end = a + strcspn(s + a, "/?#");
        u->host_start = a;
        for (size_t i = a; i < u->authority_end; i++)
                if (s[i] == '@')
                        u->host_start = i + 1;
        u->host_end = u->host_start;
        if (s[u->host_start] == '[') {
                while (u->host_end < u->authority_end && s[u->host_end] != ']')
                        u->host_end++;
                if (u->host_end < u->authority_end)
                        u->host_end++;
        } else
                while (u->host_end < u->authority_end && s[u->host_end] != ':')
                        u->host_end++;
        u->has_port = u->host_end < u->authority_end && s[u->host_end] == ':';
        return true;
}

/* Scheme and host are case-insensitive, the rest of a URL is not; a bare
 * "/" path is dropped so "https://h/" and "https://h" store the same. */
static void normalise_url(char *s) {
        UrlParts u;

        if (!url_split(s, &u))
                return;
        ascii_lower(s, 0, u.scheme_end);
        /* An IPv6 zone id ("[fe80::1%25eth0]") names an interface: keep its case. */
        size_t host_end = u.host_end;
        if (s[u.host_start] == '[') {
                const char *zone = memchr(s + u.host_start, '%', u.host_end - u.host_start);
                if (zone)
                        host_end = (size_t) (zone - s);
        }
        ascii_lower(s, u.host_start, host_end);
        if (s[u.authority_end] == '/' && s[u.authority_end + 1] == 0)
                s[u.authority_end] = 0;
}

static bool url_port_valid(const char *s) {
        UrlParts u;
        unsigned long port = 0;
        size_t i;

        if (!url_split(s, &u) || !u.has_port)
                return true;
        for (i = u.host_end + 1; i < u.authority_end; i++) {
                if (s[i] < '0' || s[i] > '9' || i - u.host_end > 5)
                        return false;
                port = port * 10 + (unsigned long) (s[i] - '0');
        }
        return i > u.host_end + 1 && port >= 1 && port <= 65535;
}

/* The article for "does not look like a/an <label>". */
static const char *article(const char *label) {
        return strchr("AEIOUaeiou", label[0]) ? "an" : "a";
}

static void join_allowed(char *const *allowed, char *buf, size_t size) {
        size_t len = 0;

        buf[0] = 0;
        for (char *const *a = allowed; a && *a && len < size; a++)
                len += (size_t) snprintf(buf + len, size - len, "%s%s", a == allowed ? "" : ", ", *a);
}

/* Checks one normalised, non-empty value. Returns 1 when it passed, 0 when an
 * error was recorded, -ENOMEM. */
static int check_value(const TypeField *f, const char *v, ValidationResult *res) {
        int k;

        if (f->kind == FIELD_ENUM && !strv_contains(f->allowed, v)) {
                char list[512];
                join_allowed(f->allowed, list, sizeof list);
                k = error_at(res, f->id, "must be one of: %s", list);
                return k < 0 ? k : 0;
        }
        /* A matching reject_if rule names the mistake, so it wins over the
         * generic message of the hard pattern. */
        for (size_t i = 0; i < f->n_reject_if; i++) {
                if ((k = type_rule_match(&f->reject_if[i], v)) < 0)
                        return k;
                if (k) {
                        k = error_at(res, f->id, "%s", f->reject_if[i].message);
                        return k < 0 ? k : 0;
                }
        }
        /* Not a URL at all (a key pasted into the URL field): say that, in
         * the words of what the field expects. */
        if (f->kind == FIELD_URL && !strstr(v, "://")) {
                if (f->pattern.message)
                        k = error_at(res, f->id, "is not a URL: %s", f->pattern.message);
                else
                        k = error_at(res, f->id, "is not a URL; a %s starts with https:// or http://", f->label);
                return k < 0 ? k : 0;
        }
        if (f->has_pattern && (k = type_rule_match(&f->pattern, v)) < 0)
                return k;
        if (f->has_pattern && !k) {
                if (f->pattern.message)
                        k = error_at(res, f->id, "does not look like %s %s: %s", article(f->label), f->label,
                                     f->pattern.message);
                else
                        k = error_at(res, f->id, "does not look like %s %s", article(f->label), f->label);
                return k < 0 ? k : 0;
        }
        if (f->kind == FIELD_URL && !url_port_valid(v)) {
                k = error_at(res, f->id, "the port must be a number from 1 to 65535");
                return k < 0 ? k : 0;
        }
        for (size_t i = 0; i < f->n_hints; i++)
                if ((k = type_rule_match(&f->hints[i], v)) < 0 ||
                    (k == 0 && (k = warning_at(res, f->id, "%s", f->hints[i].message)) < 0))
                        return k;
        for (size_t i = 0; i < f->n_warn_if; i++)
                if ((k = type_rule_match(&f->warn_if[i], v)) < 0 ||
                    (k == 1 && (k = warning_at(res, f->id, "%s", f->warn_if[i].message)) < 0))
                        return k;
        return 1;
}

/* Validates one field's raw value and, when it passes, stores the normalised
 * form in `out`. */
static int validate_field(const TypeField *f, json_t *raw, json_t *out, ValidationResult *res) {
        _cleanup_secret_free_ char *v = NULL;
        char msg[512];
        const char *s;
        int k;

        if (!raw) {
                if (!f->required)
                        return 0;
                return error_at(res, f->id, "%s is required", f->label);
        }
        if (!json_is_string(raw))
                return error_at(res, f->id, "must be a string");
        s = json_string_value(raw);
        if (json_string_length(raw) > OV_FIELD_MAX)
                return error_at(res, f->id, "is longer than %d bytes", OV_FIELD_MAX);
        if (strlen(s) != json_string_length(raw))
                return error_at(res, f->id, "contains control characters");
        if (value_find_invisible(s, msg, sizeof msg))
                return error_at(res, f->id, "%s", msg);
        v = trim_copy(s);
        if (!v)
                return -ENOMEM;
        if (v[0] == 0)
                return f->required ? error_at(res, f->id, "%s is required", f->label) : 0;
        if (!utf8_text_valid(v, NULL))
                return error_at(res, f->id, "is not valid UTF-8 text or contains control characters");
        if (value_find_mistake(v, f->label, msg, sizeof msg))
                return error_at(res, f->id, "%s", msg);

        if (f->kind == FIELD_URL)
                normalise_url(v);
        else if (f->kind == FIELD_ENUM)
                ascii_lower(v, 0, strlen(v));

        k = check_value(f, v, res);
        if (k <= 0)
                return k;
        return json_object_set_new(out, f->id, json_string(v)) < 0 ? -ENOMEM : 0;
}

/* Bounds on the whole value and names of unknown fields. Returns 1 when the
 * fields may be checked one by one, 0 when an error was recorded, -ENOMEM. */
static int check_shape(const SecretType *t, json_t *fields, ValidationResult *res) {
        const char *key;
        json_t *v;
        size_t total = 0;
        int k;

        if (!json_is_object(fields)) {
                k = error_at(res, "", "the fields must be a JSON object");
                return k < 0 ? k : 0;
        }
        if (json_object_size(fields) > OV_FIELDS_MAX) {
                k = error_at(res, "", "too many fields (at most %d)", OV_FIELDS_MAX);
                return k < 0 ? k : 0;
        }
        json_object_foreach(fields, key, v) {
                total += strlen(key) + (json_is_string(v) ? json_string_length(v) : 0);
                if (secret_type_field(t, key))
                        continue;
                if (strlen(key) > OV_ID_MAX || !utf8_text_valid(key, NULL))
                        k = error_at(res, "", "a field name is not valid");
                else
                        k = error_at(res, key, "unknown field for type %s", t->id);
                if (k < 0)
                        return k;
        }
        if (total > OV_VALUE_MAX) {
                k = error_at(res, "", "the fields are larger than %d bytes in all", OV_VALUE_MAX);
                return k < 0 ? k : 0;
        }
        return 1;
}

/* Normalised values include secrets: wipe them before jansson frees them,
 * unless someone else still holds a reference. */
static void normalized_wipe_and_unref(json_t *o) {
        const char *key;
        json_t *v;

        if (!o)
                return;
        if (o->refcount == 1)
                json_object_foreach(o, key, v)
                        if (json_is_string(v))
                                explicit_bzero((char *) json_string_value(v), json_string_length(v));
        json_decref(o);
}

static void normalized_wipe_and_unrefp(json_t **o) { normalized_wipe_and_unref(*o); }

int secret_type_validate(const SecretType *t, json_t *fields, ValidationResult *res) {
        _cleanup_(normalized_wipe_and_unrefp) json_t *out = json_object();
        int k;

        *res = (ValidationResult) {};
        if (!out)
                return -ENOMEM;
        k = check_shape(t, fields, res);
        for (size_t i = 0; k > 0 && i < t->n_fields; i++) {
                int r = validate_field(&t->fields[i], json_object_get(fields, t->fields[i].id), out, res);
                if (r < 0)
                        k = r;
        }
        if (k < 0) {
                validation_result_clear(res);
                return k;
        }
        if (res->n_errors == 0) {
                res->normalized = out;
                out = NULL;
        }
        return 0;
}

static void issues_free(FieldIssue *l, size_t n) {
        for (size_t i = 0; i < n; i++) {
                free(l[i].field);
                free(l[i].message);
        }
        free(l);
}

void validation_result_clear(ValidationResult *res) {
        if (!res)
                return;
        issues_free(res->errors, res->n_errors);
        issues_free(res->warnings, res->n_warnings);
        normalized_wipe_and_unref(res->normalized);
        *res = (ValidationResult) {};
}

char *validation_errors_to_string(const ValidationResult *res) {
        size_t size = 1;
        char *s, *p;

        for (size_t i = 0; i < res->n_errors; i++)
                size += strlen(res->errors[i].field) + strlen(res->errors[i].message) + 4;
        s = p = malloc(size);
        if (!s)
                return NULL;
        *p = 0;
        for (size_t i = 0; i < res->n_errors; i++) {
                const FieldIssue *e = &res->errors[i];
                p = stpcpy(p, i > 0 ? "; " : "");
                if (e->field[0])
                        p = stpcpy(stpcpy(p, e->field), ": ");
                p = stpcpy(p, e->message);
        }
        return s;
}
