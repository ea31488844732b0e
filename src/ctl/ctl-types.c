/* SPDX-License-Identifier: Apache-2.0 */
/* The types and describe-type verbs, and the type lookups add and update use. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl-output.h"
#include "ctl-types.h"

void type_infos_free(TypeInfo *t, size_t n) {
        for (size_t i = 0; t && i < n; i++) {
                free(t[i].id);
                free(t[i].name);
                free(t[i].category);
                free(t[i].used_by);
        }
        free(t);
}

void field_infos_free(FieldInfo *f, size_t n) {
        for (size_t i = 0; f && i < n; i++) {
                free(f[i].id);
                free(f[i].label);
                free(f[i].kind);
                free(f[i].description);
                strv_free(f[i].allowed);
        }
        free(f);
}

static int read_error(int r, const char *what) {
        return ctl_fail(CTL_EXIT_FAILURE, "Failed to read %s from orgvaultd: %s.", what, strerror(-r));
}

int ctl_list_types(Ctl *c, const char *feature, TypeInfo **ret, size_t *ret_n) {
        sd_bus_message *reply = NULL;
        TypeInfo *types = NULL;
        size_t n = 0;
        const char *id, *name, *category, *used_by;
        int r;

        r = ctl_call(c, "listing secret types", NULL, &reply, "ListTypes", "s", feature ?: "");
        if (r > 0)
                return r;
        r = sd_bus_message_enter_container(reply, 'a', "(ssss)");
        while (r >= 0 && (r = sd_bus_message_read(reply, "(ssss)", &id, &name, &category, &used_by)) > 0) {
                TypeInfo *nt = reallocarray(types, n + 1, sizeof *nt);
                if (!nt) {
                        r = -ENOMEM;
                        break;
                }
                types = nt;
                types[n] = (TypeInfo) { strdup(id), strdup(name), strdup(category), strdup(used_by) };
                n++;
                if (!types[n - 1].id || !types[n - 1].name || !types[n - 1].category || !types[n - 1].used_by)
                        r = -ENOMEM;
        }
        sd_bus_message_unref(reply);
        if (r < 0) {
                type_infos_free(types, n);
                return read_error(r, "the secret types");
        }
        *ret = types;
        *ret_n = n;
        return 0;
}

static int read_field(sd_bus_message *m, FieldInfo *f) {
        const char *id, *label, *kind, *description, *v;
        int required, secret, r;

        r = sd_bus_message_enter_container(m, 'r', "sssbbsas");
        if (r <= 0)
                return r;
        r = sd_bus_message_read(m, "sssbbs", &id, &label, &kind, &required, &secret, &description);
        if (r < 0)
                return r;
        *f = (FieldInfo) { strdup(id), strdup(label), strdup(kind), strdup(description), required, secret, NULL };
        if (!f->id || !f->label || !f->kind || !f->description)
                return -ENOMEM;
        r = sd_bus_message_enter_container(m, 'a', "s");
        while (r >= 0 && (r = sd_bus_message_read(m, "s", &v)) > 0)
                if (strv_push(&f->allowed, v) < 0)
                        return -ENOMEM;
        if (r < 0)
                return r;
        r = sd_bus_message_exit_container(m);
        if (r < 0)
                return r;
        r = sd_bus_message_exit_container(m);
        return r < 0 ? r : 1;
}

int ctl_describe_type(Ctl *c, const char *type, FieldInfo **ret, size_t *ret_n) {
        sd_bus_message *reply = NULL;
        FieldInfo *fields = NULL;
        size_t n = 0;
        int r;

        r = ctl_call(c, "describing a secret type", NULL, &reply, "DescribeType", "s", type);
        if (r > 0)
                return r;
        r = sd_bus_message_enter_container(reply, 'a', "(sssbbsas)");
        while (r >= 0) {
                FieldInfo *nf = reallocarray(fields, n + 1, sizeof *nf);
                if (!nf) {
                        r = -ENOMEM;
                        break;
                }
                fields = nf;
                fields[n] = (FieldInfo) {};
                r = read_field(reply, &fields[n]);
                if (r != 0)
                        n++;    /* a half-read entry needs freeing too */
                if (r <= 0)
                        break;
        }
        sd_bus_message_unref(reply);
        if (r < 0) {
                field_infos_free(fields, n);
                return read_error(r, "the type's fields");
        }
        *ret = fields;
        *ret_n = n;
        return 0;
}

static json_t *features_json(const char *comma_list) {
        json_t *a = json_array();
        const char *p = comma_list;

        while (a && p && *p) {
                size_t len = strcspn(p, ",");
                if (len > 0 && json_array_append_new(a, json_stringn(p, len)) < 0) {
                        json_decref(a);
                        return NULL;
                }
                p += len;
                p += *p == ',';
                p += strspn(p, " ");
        }
        return a;
}

/* Whether the comma list holds feature. */
static bool used_by_has(const char *list, const char *feature) {
        size_t len = strlen(feature);

        for (const char *p = list; p && *p; p += strcspn(p, ",") + (p[strcspn(p, ",")] == ',')) {
                if (strncmp(p, feature, len) == 0 && (p[len] == ',' || p[len] == 0))
                        return true;
        }
        return false;
}

static int compare_str(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

/* Prints the sorted, distinct features of the types, comma-separated. */
static void print_features(FILE *f, const TypeInfo *t, size_t n) {
        _cleanup_strv_free_ char **seen = NULL;

        for (size_t i = 0; i < n; i++)
                for (const char *p = t[i].used_by; p && *p;) {
                        size_t len = strcspn(p, ",");
                        _cleanup_free_ char *one = strndup(p, len);
                        if (one && !strv_contains(seen, one))
                                (void) strv_push(&seen, one);
                        p += len + (p[len] == ',');
                }
        if (seen)
                qsort(seen, strv_length(seen), sizeof *seen, compare_str);
        for (size_t i = 0; seen && seen[i]; i++)
                fprintf(f, "%s%s", i > 0 ? ", " : "", seen[i]);
}

int ctl_check_filters(Ctl *c) {
        TypeInfo *types = NULL;
        size_t n = 0;
        bool type_ok = !c->type_filter, feature_ok = !c->feature_filter;
        int r;

        if (type_ok && feature_ok)
                return 0;
        r = ctl_list_types(c, "", &types, &n);
        if (r > 0)
                return r;
        for (size_t i = 0; i < n; i++) {
                type_ok = type_ok || strcmp(types[i].id, c->type_filter) == 0;
                feature_ok = feature_ok || used_by_has(types[i].used_by, c->feature_filter);
        }
        r = 0;
        fflush(stdout);
        if (!type_ok) {
                fprintf(stderr, "Unknown type \"%s\" for --type; the types are: ", c->type_filter);
                for (size_t i = 0; i < n; i++)
                        fprintf(stderr, "%s%s", i > 0 ? ", " : "", types[i].id);
                fputs(" (see 'orgvaultctl types').\n", stderr);
                r = CTL_EXIT_NOT_FOUND;
        } else if (!feature_ok) {
                fprintf(stderr, "Unknown feature \"%s\" for --feature: no type is used by it; the features are: ",
                        c->feature_filter);
                print_features(stderr, types, n);
                fputs(".\n", stderr);
                r = CTL_EXIT_NOT_FOUND;
        }
        type_infos_free(types, n);
        return r;
}

int verb_types(Ctl *c) {
        static const char *const headers[] = { "TYPE", "NAME", "CATEGORY", "USED BY" };
        _cleanup_table_ Table *t = NULL;
        TypeInfo *types = NULL;
        size_t n = 0;
        int r;

        r = ctl_check_filters(c);
        if (r > 0)
                return r;
        r = ctl_list_types(c, c->feature_filter, &types, &n);
        if (r > 0)
                return r;
        pager_open(c->pager);
        if (c->json != JSON_OFF) {
                _cleanup_json_ json_t *doc = json_array();
                for (size_t i = 0; doc && i < n; i++)
                        if (json_array_append_new(doc, json_pack("{s:s,s:s,s:s,s:o*}", "id", types[i].id, "name", types[i].name,
                                                                  "category", types[i].category, "used_by",
                                                                  features_json(types[i].used_by))) < 0) {
                                json_decref(doc);
                                doc = NULL;
                        }
                type_infos_free(types, n);
                return json_print(doc, c->json);
        }

        t = table_new(headers, ELEMENTSOF(headers));
        for (size_t i = 0; t && i < n; i++)
                if (table_add(t, types[i].id) < 0 || table_add(t, types[i].name) < 0 ||
                    table_add(t, types[i].category) < 0 || table_add(t, types[i].used_by) < 0)
                        r = CTL_EXIT_FAILURE;
        type_infos_free(types, n);
        if (!t || r > 0)
                return ctl_fail(CTL_EXIT_FAILURE, "Out of memory.");
        table_print(t, c->legend);
        if (c->legend)
                printf("\n%zu type%s listed.\n", table_rows(t), table_rows(t) == 1 ? "" : "s");
        return 0;
}

static json_t *fields_json(const FieldInfo *f, size_t n) {
        json_t *a = json_array();

        for (size_t i = 0; a && i < n; i++) {
                json_t *allowed = strv_json(f[i].allowed);
                if (json_array_append_new(a, json_pack("{s:s,s:s,s:s,s:b,s:b,s:s,s:o*}", "id", f[i].id, "label", f[i].label,
                                                       "kind", f[i].kind, "required", f[i].required, "secret",
                                                       f[i].secret, "description", f[i].description, "allowed",
                                                       allowed)) < 0) {
                        json_decref(a);
                        return NULL;
                }
        }
        return a;
}

/* The type's notes (DescribeTypeNotes), e.g. the Twilio US1 rule. */
static int type_notes(Ctl *c, const char *type, char ***ret) {
        sd_bus_message *reply = NULL;
        int r;

        r = ctl_call(c, "describing a secret type", NULL, &reply, "DescribeTypeNotes", "s", type);
        if (r > 0)
                return r;
        r = sd_bus_message_read_strv(reply, ret);
        sd_bus_message_unref(reply);
        return r < 0 ? read_error(r, "the type's notes") : 0;
}

static void print_field(const FieldInfo *f, size_t label_width) {
        printf("  %s%-*s%s  %s (%s, %s%s)\n", ansi_highlight(), (int) label_width, f->label, ansi_normal(), f->id, f->kind,
               f->required ? "required" : "optional", f->secret ? ", secret: typed with no echo, never shown" : "");
        if (*f->description)
                printf("  %*s  %s\n", (int) label_width, "", f->description);
        if (f->allowed && f->allowed[0]) {
                printf("  %*s  Allowed values:", (int) label_width, "");
                for (size_t j = 0; f->allowed[j]; j++)
                        printf("%s %s", j > 0 ? "," : "", f->allowed[j]);
                putchar('\n');
        }
}

int verb_describe_type(Ctl *c) {
        const char *type = c->args[0];
        TypeInfo *types = NULL;
        FieldInfo *fields = NULL;
        size_t n_types = 0, n_fields = 0, label_width = 0;
        const TypeInfo *info = NULL;
        _cleanup_strv_free_ char **notes = NULL;
        int r;

        r = ctl_describe_type(c, type, &fields, &n_fields);
        if (r > 0)
                return r;
        r = type_notes(c, type, &notes);
        if (r > 0) {
                field_infos_free(fields, n_fields);
                return r;
        }
        r = ctl_list_types(c, "", &types, &n_types);
        if (r > 0) {
                field_infos_free(fields, n_fields);
                return r;
        }
        for (size_t i = 0; i < n_types; i++)
                if (strcmp(types[i].id, type) == 0)
                        info = &types[i];

        pager_open(c->pager);
        if (c->json != JSON_OFF) {
                _cleanup_json_ json_t *doc = json_pack("{s:s,s:s?,s:s?,s:o*,s:o*,s:o*}", "id", type, "name",
                                                       info ? info->name : NULL, "category", info ? info->category : NULL,
                                                       "used_by", features_json(info ? info->used_by : ""), "fields",
                                                       fields_json(fields, n_fields), "notes", strv_json(notes));
                r = json_print(doc, c->json);
        } else {
                printf("%s%s%s — %s\n", ansi_highlight(), type, ansi_normal(), info ? info->name : type);
                if (info)
                        printf("    Category: %s\n     Used by: %s\n", info->category, info->used_by);
                printf("\nFields, in the order add asks for them:\n");
                for (size_t i = 0; i < n_fields; i++)
                        if (text_width(fields[i].label) > label_width)
                                label_width = text_width(fields[i].label);
                for (size_t i = 0; i < n_fields; i++)
                        print_field(&fields[i], label_width);
                if (notes && notes[0]) {
                        printf("\nNotes:\n");
                        for (size_t i = 0; notes[i]; i++)
                                printf("  - %s\n", notes[i]);
                }
        }
        field_infos_free(fields, n_fields);
        type_infos_free(types, n_types);
        return r;
}
