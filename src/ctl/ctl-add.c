/* SPDX-License-Identifier: Apache-2.0 */
/* add and update: the product's Add flow on a terminal (type, each field by
 * its label, display name), or {"field": "value"} from stdin. Values come
 * only from the terminal or stdin, travel in messages marked sensitive, and
 * are wiped after use. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "ctl-output.h"
#include "ctl-tty.h"
#include "ctl-types.h"

#define FIELDS_JSON_MAX (4 * OV_VALUE_MAX)   /* room for keys and JSON escapes */

/* The values being collected: one per field of the type, or the keys and
 * values of a --fields-json document. */
typedef struct Values {
        size_t n;
        char **keys;
        char **values;           /* NULL or "": not given */
} Values;

static void values_clear(Values *v) {
        for (size_t i = 0; v->values && v->keys && i < v->n; i++) {
                free(v->keys[i]);
                free_secret_string(v->values[i]);
        }
        free(v->values);
        free(v->keys);
        *v = (Values) {};
}

static int values_init(Values *v, size_t n) {
        *v = (Values) { n, calloc(n ?: 1, sizeof *v->keys), calloc(n ?: 1, sizeof *v->values) };
        return v->keys && v->values ? 0 : -ENOMEM;
}

static int append_fields(sd_bus_message *m, const Values *v) {
        int r = sd_bus_message_open_container(m, 'a', "{ss}");

        for (size_t i = 0; r >= 0 && i < v->n; i++)
                if (v->values[i] && *v->values[i])
                        r = sd_bus_message_append(m, "{ss}", v->keys[i], v->values[i]);
        return r < 0 ? r : sd_bus_message_close_container(m);
}

/* AddSecret or UpdateSecret (when id_for_update is set). validate: the
 * "Next" step, the same call with validate_only (UpdateSecretWithOptions
 * for an update), which saves nothing; the name may still be empty then. */
static int call_with_values(Ctl *c, const char *type, const char *name, const char *id, const char *id_for_update,
                            const Values *v, bool validate, sd_bus_error *e, sd_bus_message **reply) {
        sd_bus_message *m = NULL;
        int r;

        bool options = validate || c->has_expires || c->has_rotate_every;
        r = sd_bus_message_new_method_call(c->bus, &m, OV_BUS_NAME, OV_BUS_PATH, OV_BUS_IFACE,
                                           !id_for_update ? "AddSecret" :
                                           options ? "UpdateSecretWithOptions" : "UpdateSecret");
        if (r >= 0)
                r = sd_bus_message_sensitive(m);        /* wiped when freed */
        if (r >= 0 && id_for_update)
                r = sd_bus_message_append(m, "ss", c->org, id_for_update);
        else if (r >= 0)
                r = sd_bus_message_append(m, "sss", c->org, type, name ?: "");
        if (r >= 0)
                r = append_fields(m, v);
        if (r >= 0 && (!id_for_update || options)) {
                r = sd_bus_message_open_container(m, 'a', "{sv}");
                if (r >= 0 && id && !id_for_update)
                        r = sd_bus_message_append(m, "{sv}", "id", "s", id);
                if (r >= 0 && validate)
                        r = sd_bus_message_append(m, "{sv}", "validate_only", "b", 1);
                if (r >= 0 && c->has_expires)
                        r = sd_bus_message_append(m, "{sv}", "expires", "t", c->expires);
                if (r >= 0 && c->has_rotate_every)
                        r = sd_bus_message_append(m, "{sv}", "rotate_every", "t",
                                                  (uint64_t) c->rotate_every_days * 86400ULL * 1000000ULL);
                if (r >= 0)
                        r = sd_bus_message_close_container(m);
        }
        if (r >= 0)
                r = sd_bus_call(c->bus, m, 0, e, reply);
        sd_bus_message_unref(m);
        return r;
}

/* What a non-admin's add or update sends instead of asking for values: a
 * validate_only call with no values, which can save nothing; the daemon
 * decides (it refuses and audits it exactly as a real add or update). */
static int call_without_values(Ctl *c, const char *doing, const char *type, const char *name,
                               const char *id_for_update) {
        sd_bus_error e = SD_BUS_ERROR_NULL;
        const Values none = {};
        int r;

        /* AddSecret checks its arguments' shape before the role: placeholders
         * that pass it when the type or name were to be asked. */
        r = call_with_values(c, type ?: "-", name ?: "-", NULL, id_for_update, &none, true, &e, NULL);
        if (r >= 0)
                return ctl_fail(CTL_EXIT_FAILURE, "Failed %s: the daemon accepted no values.", doing);
        r = ctl_bus_fail(c, &e, r, doing, "admin");
        sd_bus_error_free(&e);
        return r;
}

/* Reads {"field": "value", ...} from fd (stdin or --fields-json=FILE);
 * what names it in messages. Parse errors give only a position: jansson's
 * text may quote the value. */
static int read_fields_json(int fd, const char *what, Values *ret) {
        _cleanup_json_ json_t *doc = NULL;
        json_error_t err;
        char *buf;
        size_t len = 0;
        ssize_t n;
        const char *key;
        json_t *val;
        int r = 0;

        buf = malloc(FIELDS_JSON_MAX + 1);
        if (!buf)
                return ctl_fail(CTL_EXIT_FAILURE, "Out of memory.");
        while (len <= FIELDS_JSON_MAX && (n = read(fd, buf + len, FIELDS_JSON_MAX + 1 - len)) != 0) {
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        r = ctl_fail(CTL_EXIT_FAILURE, "Failed to read %s: %s.", what, strerror(errno));
                        break;
                }
                len += (size_t) n;
        }
        if (r == 0 && len > FIELDS_JSON_MAX)
                r = ctl_fail(CTL_EXIT_USAGE, "The fields document in %s is larger than %d bytes.", what,
                             FIELDS_JSON_MAX);
        if (r == 0) {
                doc = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &err);
                if (!doc)
                        r = ctl_fail(CTL_EXIT_USAGE,
                                     "%s is not a JSON object of strings (error at line %d, column %d); expected {\"field\": \"value\"}.",
                                     what, err.line, err.column);
        }
        explicit_bzero(buf, len);
        free(buf);
        if (r > 0)
                return r;

        if (!json_is_object(doc))
                r = ctl_fail(CTL_EXIT_USAGE, "%s must hold a JSON object: {\"field\": \"value\"}.", what);
        else if (values_init(ret, json_object_size(doc)) < 0)
                r = ctl_fail(CTL_EXIT_FAILURE, "Out of memory.");
        else {
                size_t i = 0;
                json_object_foreach(doc, key, val) {
                        if (!json_is_string(val)) {
                                r = ctl_fail(CTL_EXIT_USAGE, "Field \"%s\" in %s must be a JSON string.", key, what);
                                break;
                        }
                        ret->keys[i] = strdup(key);
                        ret->values[i] = strndup(json_string_value(val), json_string_length(val));
                        if (!ret->keys[i] || !ret->values[i]) {
                                r = ctl_fail(CTL_EXIT_FAILURE, "Out of memory.");
                                break;
                        }
                        i++;
                }
        }
        /* Wipe jansson's copies of the values. */
        json_object_foreach(doc, key, val)
                if (json_is_string(val))
                        explicit_bzero((char *) json_string_value(val), json_string_length(val));
        if (r > 0)
                values_clear(ret);
        return r;
}

static bool allowed_value(const FieldInfo *f, const char *value) {
        size_t skip = strspn(value, " \t"), len = strlen(value + skip);

        while (len > 0 && (value[skip + len - 1] == ' ' || value[skip + len - 1] == '\t'))
                len--;
        for (size_t i = 0; f->allowed[i]; i++)
                if (strlen(f->allowed[i]) == len && strncasecmp(f->allowed[i], value + skip, len) == 0)
                        return true;
        return false;
}

static void print_allowed(int tty, const FieldInfo *f) {
        for (size_t j = 0; f->allowed[j]; j++)
                tty_printf(tty, "%s%s", j > 0 ? ", " : "", f->allowed[j]);
}

/* Asks one field until it passes the checks the CLI mirrors (required,
 * allowed values); the daemon checks everything else. */
static int prompt_field(int tty, const FieldInfo *f, const char *heading, const char *reason, char **ret) {
        _cleanup_free_ char *prompt = NULL;
        bool has_allowed = f->allowed && f->allowed[0];

        tty_printf(tty, "\n%s\n", f->label);
        if (*f->description)
                tty_printf(tty, "  %s\n", f->description);
        if (has_allowed) {
                tty_printf(tty, "  Allowed values: ");
                print_allowed(tty, f);
                tty_printf(tty, "\n");
        }
        if (reason)
                tty_printf(tty, "  %s: %s\n", heading, reason);
        prompt = strdup_printf("%s%s%s: ", f->label, f->required ? "" : " (optional, Enter to skip)",
                               f->secret ? " (input is not shown)" : "");
        if (!prompt)
                return ctl_fail(CTL_EXIT_FAILURE, "Out of memory.");

        for (;;) {
                char *value = NULL;
                int r = tty_read_line(tty, prompt, f->secret, &value);

                if (r == -ECANCELED)
                        return ctl_fail(CTL_EXIT_CANCELLED, "Cancelled; nothing was saved.");
                if (r == -E2BIG) {
                        tty_printf(tty, "  Rejected: longer than %d bytes.\n", OV_FIELD_MAX);
                        continue;
                }
                if (r < 0)
                        return ctl_fail(CTL_EXIT_FAILURE, "Failed to read from the terminal: %s.", strerror(-r));
                if (!*value && f->required) {
                        tty_printf(tty, "  Rejected: %s is required.\n", f->label);
                        free_secret_string(value);
                        continue;
                }
                if (*value && has_allowed && !allowed_value(f, value)) {
                        tty_printf(tty, "  Rejected: %s must be one of: ", f->label);
                        print_allowed(tty, f);
                        tty_printf(tty, ".\n");
                        free_secret_string(value);
                        continue;
                }
                *ret = value;
                return 0;
        }
}

/* InvalidField names fields as "field: reason; field: reason" (reasons may
 * hold "; " themselves). Sets reasons[i] for each named field; returns how
 * many were named. */
static size_t split_invalid_field(const char *msg, const FieldInfo *f, size_t n, char **reasons) {
        size_t found = 0;
        ssize_t cur = -1;
        const char *start = NULL;

        for (const char *p = msg;; p++) {
                ssize_t hit = -1;
                size_t len = 0;

                if (*p && (p == msg || (p - msg >= 2 && p[-2] == ';' && p[-1] == ' ')))
                        for (size_t i = 0; i < n; i++) {
                                len = strlen(f[i].id);
                                if (strncmp(p, f[i].id, len) == 0 && p[len] == ':' && p[len + 1] == ' ') {
                                        hit = (ssize_t) i;
                                        break;
                                }
                        }
                if (hit >= 0 || !*p) {
                        if (cur >= 0 && !reasons[cur]) {
                                const char *end = *p ? p - 2 : p;
                                reasons[cur] = strndup(start, (size_t) (end - start));
                                found += reasons[cur] != NULL;
                        }
                        if (!*p)
                                return found;
                        cur = hit;
                        start = p + len + 2;
                }
        }
}

/* A warning is "field_id: text" or plain text; the field's index or -1. */
static ssize_t warning_field(const char *w, const FieldInfo *f, size_t n, const char **ret_text) {
        for (size_t i = 0; i < n; i++) {
                size_t len = strlen(f[i].id);
                if (strncmp(w, f[i].id, len) == 0 && w[len] == ':' && w[len + 1] == ' ') {
                        *ret_text = w + len + 2;
                        return (ssize_t) i;
                }
        }
        *ret_text = w;
        return -1;
}

/* Prints warnings with the field's label, skipping those already shown. */
static void print_warnings(char **warnings, char **shown, const FieldInfo *f, size_t n) {
        for (char **w = warnings; w && *w; w++) {
                const char *text;
                ssize_t i;

                if (strv_contains(shown, *w))
                        continue;
                i = warning_field(*w, f, n, &text);
                if (i >= 0)
                        fprintf(stderr, "Warning: %s: %s\n", f[i].label, text);
                else
                        fprintf(stderr, "Warning: %s\n", text);
        }
}

/* The numbered type list of the Add flow, grouped like the product page. */
static int pick_type(Ctl *c, int tty, char **ret) {
        static const char *const groups[][2] = {
                { "notification", "Notification integrations" },
                { "ai", "AI providers" },
                { "telephony", "Telephony providers" },
        };
        TypeInfo *types = NULL;
        _cleanup_free_ size_t *order = NULL;
        size_t n = 0, k = 0;
        int r;

        r = ctl_list_types(c, c->feature_filter, &types, &n);
        if (r > 0)
                return r;
        order = calloc(n ?: 1, sizeof *order);
        if (!order) {
                type_infos_free(types, n);
                return ctl_fail(CTL_EXIT_FAILURE, "Out of memory.");
        }
        tty_printf(tty, "Secret types:\n");
        for (size_t g = 0; g <= ELEMENTSOF(groups); g++) {
                bool heading = false;
                for (size_t i = 0; i < n; i++) {
                        bool known = false, here;
                        for (size_t h = 0; h < ELEMENTSOF(groups); h++)
                                known = known || strcmp(types[i].category, groups[h][0]) == 0;
                        here = g < ELEMENTSOF(groups) ? strcmp(types[i].category, groups[g][0]) == 0 : !known;
                        if (!here)
                                continue;
                        if (!heading)
                                tty_printf(tty, "  %s\n", g < ELEMENTSOF(groups) ? groups[g][1] : "Other");
                        heading = true;
                        order[k++] = i;
                        tty_printf(tty, "  %3zu) %s (%s), used by %s\n", k, types[i].name, types[i].id, types[i].used_by);
                }
        }
        for (r = -1; r < 0;) {
                _cleanup_(free_secret_stringp) char *answer = NULL;
                _cleanup_free_ char *prompt = strdup_printf("Type [1-%zu or id]: ", k);
                char *end;
                unsigned long pick;
                int q;

                if (!prompt) {
                        r = ctl_fail(CTL_EXIT_FAILURE, "Out of memory.");
                        break;
                }
                q = tty_read_line(tty, prompt, false, &answer);
                if (q == -ECANCELED) {
                        r = ctl_fail(CTL_EXIT_CANCELLED, "Cancelled; nothing was saved.");
                        break;
                }
                if (q < 0 && q != -E2BIG) {
                        r = ctl_fail(CTL_EXIT_FAILURE, "Failed to read from the terminal: %s.", strerror(-q));
                        break;
                }
                pick = q == 0 ? strtoul(answer, &end, 10) : 0;
                if (q == 0 && *answer && !*end && pick >= 1 && pick <= k) {
                        *ret = strdup(types[order[pick - 1]].id);
                        r = 0;
                }
                for (size_t i = 0; q == 0 && r < 0 && i < n; i++)
                        if (strcmp(answer, types[i].id) == 0) {
                                *ret = strdup(types[i].id);
                                r = 0;
                        }
                if (r < 0)
                        tty_printf(tty, "  Pick a number from 1 to %zu, or a type id.\n", k);
                else if (!*ret)
                        r = ctl_fail(CTL_EXIT_FAILURE, "Out of memory.");
        }
        type_infos_free(types, n);
        return r;
}

/* Asks the fields listed in reasons (all of them when reasons is NULL);
 * heading says what the reasons are ("Rejected", "Warning"). */
static int prompt_fields(int tty, const FieldInfo *f, size_t n, Values *v, const char *heading, char **reasons) {
        for (size_t i = 0; i < n; i++) {
                char *value = NULL;
                int r;

                if (reasons && !reasons[i])
                        continue;
                r = prompt_field(tty, &f[i], heading, reasons ? reasons[i] : NULL, &value);
                if (r > 0)
                        return r;
                free_secret_string(v->values[i]);
                v->values[i] = value;
        }
        return 0;
}

static int prompt_name(int tty, char **ret) {
        for (;;) {
                char *name = NULL;
                int r = tty_read_line(tty, "\nDisplay name (how the secret appears in lists): ", false, &name);

                if (r == -ECANCELED)
                        return ctl_fail(CTL_EXIT_CANCELLED, "Cancelled; nothing was saved.");
                if (r < 0 && r != -E2BIG)
                        return ctl_fail(CTL_EXIT_FAILURE, "Failed to read from the terminal: %s.", strerror(-r));
                if (r == 0 && display_name_valid(name)) {
                        *ret = name;
                        return 0;
                }
                tty_printf(tty, "  Rejected: use 1 to %d characters of text, no control characters.\n", OV_NAME_MAX);
                free(name);
        }
}

/* State shared by add and update. */
typedef struct AddState {
        const char *type;
        const char *update_id;           /* update: the secret's id */
        const char *display;             /* update: its name, for messages */
        FieldInfo *fields;
        size_t n_fields;
        Values values;
        char *name;
        bool name_asked;
        char **accepted;                 /* warnings the admin accepted at "Next" */
        int tty;
} AddState;

/* On InvalidField from a terminal session: asks the fields the message
 * names again. Returns 0 when it asked (call again), -1 when the error
 * names no field (report it), or an exit code. */
static int reask_invalid(AddState *s, const sd_bus_error *e) {
        _cleanup_free_ char **reasons = NULL;
        size_t named;
        int r;

        if (s->tty < 0 || !sd_bus_error_has_name(e, "io.orgvault.Vault1.Error.InvalidField"))
                return -1;
        reasons = calloc(s->n_fields ?: 1, sizeof *reasons);
        if (!reasons)
                return ctl_fail(CTL_EXIT_FAILURE, "Out of memory.");
        named = split_invalid_field(e->message ?: "", s->fields, s->n_fields, reasons);
        if (named == 0)
                return -1;
        r = prompt_fields(s->tty, s->fields, s->n_fields, &s->values, "Rejected", reasons);
        for (size_t i = 0; i < s->n_fields; i++)
                free(reasons[i]);
        return r;
}

/* The "Next" step: the daemon validates the values (saving nothing) and a
 * rejected field is asked again, until they pass. Returns the warnings. */
static int validate_loop(Ctl *c, AddState *s, char ***ret_warnings) {
        const char *doing = s->update_id ? "replacing a secret's value" : "adding secrets";

        for (;;) {
                _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
                sd_bus_error e = SD_BUS_ERROR_NULL;
                int r;

                r = call_with_values(c, s->type, s->name, c->id, s->update_id, &s->values, true, &e, &reply);
                if (r >= 0) {
                        r = sd_bus_message_skip(reply, s->update_id ? "u" : "s");
                        if (r >= 0)
                                r = sd_bus_message_read_strv(reply, ret_warnings);
                        if (r < 0)
                                return ctl_fail(CTL_EXIT_FAILURE, "Failed to read orgvaultd's reply: %s.", strerror(-r));
                        return 0;
                }
                int q = reask_invalid(s, &e);
                if (q < 0)
                        q = ctl_bus_fail(c, &e, r, doing, "admin");
                sd_bus_error_free(&e);
                if (q > 0)
                        return q;
        }
}

/* Shows the warnings of "Next" and asks whether to go on with these values.
 * --yes accepts. "No" asks the fields the warnings name again (returns -1:
 * validate again); with no field named, or no terminal, nothing is saved. */
static int confirm_warnings(Ctl *c, AddState *s, char **warnings) {
        _cleanup_(free_secret_stringp) char *answer = NULL;
        _cleanup_free_ char **reasons = NULL;
        size_t named = 0;
        int r;

        if (strv_length(warnings) == 0)
                return 0;
        if (c->json == JSON_OFF || !c->yes)
                print_warnings(warnings, NULL, s->fields, s->n_fields);
        if (c->yes)
                return 0;
        if (s->tty < 0)
                return ctl_fail(CTL_EXIT_CANCELLED,
                                "Nothing was saved: check the %s above, or pass --yes to save the value%s anyway.",
                                warnings[1] ? "warnings" : "warning", s->n_fields > 1 ? "s" : "");
        for (;;) {
                r = tty_read_line(s->tty, "Save with this value anyway? [y/N] ", false, &answer);
                if (r == -ECANCELED)
                        return ctl_fail(CTL_EXIT_CANCELLED, "Cancelled; nothing was saved.");
                if (r == 0 && (!*answer || strcasecmp(answer, "n") == 0 || strcasecmp(answer, "no") == 0))
                        break;
                if (r == 0 && (strcasecmp(answer, "y") == 0 || strcasecmp(answer, "yes") == 0))
                        return 0;
                if (r < 0 && r != -E2BIG)
                        return ctl_fail(CTL_EXIT_FAILURE, "Failed to read from the terminal: %s.", strerror(-r));
                free_secret_string(answer);
                answer = NULL;
                tty_printf(s->tty, "  Answer y or n.\n");
        }

        reasons = calloc(s->n_fields ?: 1, sizeof *reasons);
        if (!reasons)
                return ctl_fail(CTL_EXIT_FAILURE, "Out of memory.");
        for (char **w = warnings; *w; w++) {
                const char *text;
                ssize_t i = warning_field(*w, s->fields, s->n_fields, &text);
                if (i >= 0 && !reasons[i] && (reasons[i] = strdup(text)))
                        named++;
        }
        if (named > 0) {
                tty_printf(s->tty, "Enter the value again (^D cancels; nothing is saved).\n");
                r = prompt_fields(s->tty, s->fields, s->n_fields, &s->values, "Warning", reasons);
        } else
                r = ctl_fail(CTL_EXIT_CANCELLED, "Cancelled; nothing was saved.");
        for (size_t i = 0; i < s->n_fields; i++)
                free(reasons[i]);
        return r > 0 ? r : -1;
}

/* After "Next": ask the display name, save, and on NameExists ask the name
 * again; a field the daemon rejects now (the type changed meanwhile) is
 * asked again too. */
static int save_loop(Ctl *c, AddState *s, sd_bus_message **reply) {
        const char *doing = s->update_id ? "replacing a secret's value" : "adding secrets";

        for (;;) {
                sd_bus_error e = SD_BUS_ERROR_NULL;
                int r, q;

                if (!s->update_id && !s->name) {
                        r = prompt_name(s->tty, &s->name);
                        if (r > 0)
                                return r;
                        s->name_asked = true;
                }
                r = call_with_values(c, s->type, s->name, c->id, s->update_id, &s->values, false, &e, reply);
                if (r >= 0)
                        return 0;

                q = reask_invalid(s, &e);
                if (q < 0 && s->name_asked && sd_bus_error_has_name(&e, "io.orgvault.Vault1.Error.NameExists")) {
                        tty_printf(s->tty, "  Rejected: %s\n", e.message ?: "that name is taken");
                        free(s->name);
                        s->name = NULL;
                        q = 0;
                }
                if (q < 0)
                        q = ctl_bus_fail(c, &e, r, doing, "admin");
                sd_bus_error_free(&e);
                if (q > 0)
                        return q;
        }
}

static void add_state_clear(AddState *s) {
        field_infos_free(s->fields, s->n_fields);
        values_clear(&s->values);
        free(s->name);
        strv_free(s->accepted);
        if (s->tty >= 0)
                close(s->tty);
}

/* Fills s->values from stdin or the terminal; opens the terminal. */
static int collect_values(Ctl *c, AddState *s) {
        int r;

        if (c->fields_json) {
                if (strcmp(c->fields_json, "-") == 0)
                        return read_fields_json(STDIN_FILENO, "standard input", &s->values);
                /* A file (only its name is on the command line, never a value). */
                _cleanup_close_ int fd = open(c->fields_json, O_RDONLY | O_CLOEXEC | O_NOCTTY);
                if (fd < 0)
                        return ctl_fail(CTL_EXIT_USAGE, "Cannot open --fields-json file %s: %s.", c->fields_json,
                                        strerror(errno));
                _cleanup_free_ char *what = strdup_printf("file %s", c->fields_json);
                if (!what)
                        return ctl_fail(CTL_EXIT_FAILURE, "Out of memory.");
                return read_fields_json(fd, what, &s->values);
        }
        if (values_init(&s->values, s->n_fields) < 0)
                return ctl_fail(CTL_EXIT_FAILURE, "Out of memory.");
        for (size_t i = 0; i < s->n_fields; i++)
                if (!(s->values.keys[i] = strdup(s->fields[i].id)))
                        return ctl_fail(CTL_EXIT_FAILURE, "Out of memory.");
        r = prompt_fields(s->tty, s->fields, s->n_fields, &s->values, NULL, NULL);
        return r;
}

static int open_terminal(Ctl *c, AddState *s) {
        if (c->fields_json)
                return 0;
        s->tty = tty_open();
        if (s->tty < 0)
                return ctl_fail(CTL_EXIT_USAGE,
                                "No terminal to ask the values on; pipe {\"field\": \"value\"} into --fields-json - instead.");
        return 0;
}

static int finish_saved(Ctl *c, AddState *s, sd_bus_message *reply) {
        _cleanup_strv_free_ char **warnings = NULL;
        const char *id = NULL;
        uint32_t version = 0;
        int r;

        if (s->update_id)
                r = sd_bus_message_read(reply, "u", &version);
        else
                r = sd_bus_message_read(reply, "s", &id);
        if (r >= 0)
                r = sd_bus_message_read_strv(reply, &warnings);
        if (r < 0)
                return ctl_fail(CTL_EXIT_FAILURE, "Saved, but failed to read orgvaultd's reply: %s.", strerror(-r));

        if (c->json != JSON_OFF) {
                _cleanup_json_ json_t *list = strv_json(warnings);
                _cleanup_json_ json_t *doc = s->update_id
                        ? json_pack("{s:s,s:I,s:O}", "id", s->update_id, "version", (json_int_t) version, "warnings", list)
                        : json_pack("{s:s,s:O}", "id", id, "warnings", list);
                return json_print(doc, c->json);
        }
        print_warnings(warnings, s->accepted, s->fields, s->n_fields);  /* new since "Next" */
        if (s->update_id) {
                fprintf(stderr, "Replaced the value of \"%s\" (%s); it is now version %" PRIu32 ".\n", s->display,
                        s->update_id, version);
                return 0;
        }
        fprintf(stderr, "Added \"%s\" to org %s. Its id:\n", s->name, c->org);
        printf("%s\n", id);
        return 0;
}

/* What add and update share once the type's fields are known, in the
 * page's order: ask (or read) the values; "Next" (validate, re-asking a
 * rejected field; show the warnings and confirm); the display name; save;
 * say what was saved. */
static int prompt_and_save(Ctl *c, AddState *s) {
        sd_bus_message *reply = NULL;
        int r;

        r = collect_values(c, s);
        while (r == 0) {
                strv_free(s->accepted);
                s->accepted = NULL;
                r = validate_loop(c, s, &s->accepted);
                if (r == 0)
                        r = confirm_warnings(c, s, s->accepted);
                if (r == 0)
                        break;
                if (r < 0)
                        r = 0;          /* values asked again: validate them */
        }
        if (r == 0)
                r = save_loop(c, s, &reply);
        if (r == 0)
                r = finish_saved(c, s, reply);
        sd_bus_message_unref(reply);
        return r;
}

int verb_add(Ctl *c) {
        _cleanup_free_ char *picked = NULL;
        AddState s = { .tty = -1 };
        bool admin = true;
        int r;

        if (c->fields_json && (c->n_args == 0 || !c->name))
                return ctl_fail(CTL_EXIT_USAGE, "add --fields-json needs TYPE and --name=NAME: 'orgvaultctl add TYPE --name=NAME --fields-json FILE' (or - for standard input).");
        if (c->name && !display_name_valid(c->name))
                return ctl_fail(CTL_EXIT_USAGE, "Invalid display name \"%s\": use 1 to %d characters of text, no control characters.",
                                c->name, OV_NAME_MAX);
        if (c->id && !secret_id_valid(c->id))
                return ctl_fail(CTL_EXIT_USAGE, "Invalid id \"%s\": use lower-case letters, digits, '-' and '_' (at most %d).",
                                c->id, OV_ID_MAX);
        r = ctl_need_org(c);
        if (r == 0)
                r = ctl_is_admin(c, &admin);
        if (r == 0 && !admin) {
                r = call_without_values(c, "adding secrets", c->n_args > 0 ? c->args[0] : NULL, c->name, NULL);
                goto out;
        }
        if (r == 0)
                r = open_terminal(c, &s);
        if (r == 0 && c->n_args == 0)
                r = pick_type(c, s.tty, &picked);
        if (r > 0)
                goto out;
        s.type = c->n_args > 0 ? c->args[0] : picked;
        r = ctl_describe_type(c, s.type, &s.fields, &s.n_fields);
        if (r > 0)
                goto out;
        if (s.tty >= 0)
                tty_printf(s.tty, "Adding a secret of type %s to org %s. ^D or ^C cancels; nothing is saved until the end.\n",
                           s.type, c->org);
        if (c->name && !(s.name = strdup(c->name))) {
                r = ctl_fail(CTL_EXIT_FAILURE, "Out of memory.");
                goto out;
        }
        r = prompt_and_save(c, &s);
out:
        add_state_clear(&s);
        return r;
}

int verb_update(Ctl *c) {
        SecretRef ref = {};
        AddState s = { .tty = -1 };
        bool admin = true;
        int r;

        r = ctl_find_secret(c, c->args[0], &ref);
        if (r == 0)
                r = ctl_is_admin(c, &admin);
        if (r == 0 && !admin) {
                r = call_without_values(c, "replacing a secret's value", NULL, NULL, ref.id);
                goto out;
        }
        if (r == 0)
                r = open_terminal(c, &s);
        if (r == 0)
                r = ctl_describe_type(c, ref.type, &s.fields, &s.n_fields);
        if (r > 0)
                goto out;
        s.type = ref.type;
        s.update_id = ref.id;
        s.display = ref.name;
        if (s.tty >= 0)
                tty_printf(s.tty, "Replacing the value of \"%s\" (%s, %s). ^D or ^C cancels; nothing changes until the end.\n",
                           ref.name, ref.id, ref.type);
        r = prompt_and_save(c, &s);
out:
        add_state_clear(&s);
        secret_ref_clear(&ref);
        return r;
}
