/* SPDX-License-Identifier: Apache-2.0 */
/* io.orgvault.Vault1.Manager (docs/API.md). Every method reads and checks its
 * arguments, asks the policy engine whether the caller (as dbus-daemon
 * reports it) may take the action in the org, then calls the vault and
 * audits the outcome. A refusal looks the same whether the org exists or
 * not, and no reply to a person ever carries a value. */

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sodium.h>

#include "audit.h"
#include "bus-manager.h"
#include "crypto.h"
#include "log.h"

#define ACCESS_DENIED_MESSAGE "Access denied"
#define FIELD_ID_MAX 64

/* Audit and errors */

void audit_call(const Call *c, AuditKind kind, const char *org, const char *id,
                       const char *outcome, const char *detail) {
        audit_emit(&(AuditEvent) {
                .kind = kind,
                .uid = c->caller ? c->caller->uid : (uid_t) -1,
                .pid = c->caller ? c->caller->pid : 0,
                .action = c->method,
                .org = org,
                .secret_id = id,
                .outcome = outcome,
                .detail = detail,
        });
}

static int invalid_args(sd_bus_error *error, const char *message) {
        return sd_bus_error_set(error, SD_BUS_ERROR_INVALID_ARGS, message);
}

int vault_error(sd_bus_error *error, int r, const OvError *e) {
        if (e->code != OV_OK)
                return sd_bus_error_set(error, ov_error_dbus_name(e->code), e->message);
        return sd_bus_error_set_errnof(error, r, "Failed: %m");
}

/* Audits the outcome of a vault operation and turns a failure into its error. */
int finish(const Call *c, AuditKind kind, const char *org, const char *id, int r, const OvError *e,
                  const char *detail, sd_bus_error *error) {
        audit_call(c, kind, org, id, r < 0 ? ov_error_dbus_name(e->code) : "ok", detail);
        return r < 0 ? vault_error(error, r, e) : 0;
}

/* Starts a call: picks up policy changes and asks the bus who calls. A caller
 * the bus can't vouch for is refused like any other. The policy watch's own
 * event source runs first when both are ready; the refresh here covers an
 * edit whose event is not dispatched yet (one read of the inotify fd). */
int call_begin(Manager *m, sd_bus_message *msg, const char *method, Call *ret, sd_bus_error *error) {
        int r;

        r = policy_refresh(m->policy);
        if (r < 0)
                log_warning_errno(r, "Policy reload failed, keeping the old one: %m");
        *ret = (Call) { .m = m, .method = method };
        r = manager_get_caller(m, msg, &ret->caller);
        if (r < 0) {
                log_warning_errno(r, "%s: cannot get the caller's credentials from the bus: %m", method);
                audit_call(ret, AUDIT_DENIED, NULL, NULL, "denied", "caller credentials unavailable");
                return sd_bus_error_set(error, SD_BUS_ERROR_ACCESS_DENIED, ACCESS_DENIED_MESSAGE);
        }
        return 0;
}

/* The one answer for no role, a role lacking the action, an unknown org, or
 * a rule of the policy refusing: audited with why, answered without. */
static int deny(const Call *c, const char *org, const char *id, const char *why, sd_bus_error *error) {
        audit_call(c, AUDIT_DENIED, org, id, "denied", why);
        return sd_bus_error_set(error, SD_BUS_ERROR_ACCESS_DENIED, ACCESS_DENIED_MESSAGE);
}

int authorize(const Call *c, const char *org, const char *action, const char *id, sd_bus_error *error) {
        if (policy_may(c->m->policy, org, action, &c->caller->policy))
                return 0;
        return deny(c, org, id, action, error);
}

/* Argument checks */

static bool text_valid(const char *s, size_t max) {
        return s && strlen(s) <= max && utf8_text_valid(s, NULL);
}

int check_org(const char *org, sd_bus_error *error) {
        return org_name_valid(org) ? 0 : invalid_args(error, "Invalid org name: [a-z0-9][a-z0-9-]{0,62}");
}

int check_org_id(const char *org, const char *id, sd_bus_error *error) {
        int r = check_org(org, error);
        if (r < 0)
                return r;
        return secret_id_valid(id) ? 0 : invalid_args(error, "Invalid secret id: [a-z0-9][a-z0-9_-]{0,63}");
}

/* Values came in a bus message: wipe each copy once it is no longer needed. */
static void wipe_string(const char *s) {
        if (s)
                sodium_memzero((char *) s, strlen(s));
}


/* Reads a{ss} into a JSON object; each value is wiped from the message
 * buffer as soon as it is copied. Bounds and field names are the
 * validator's job (it names the field); here only what JSON can't hold. */
static int read_fields(sd_bus_message *msg, json_t **ret, sd_bus_error *error) {
        json_t *fields = json_object();
        int r;

        if (!fields)
                return -ENOMEM;
        r = sd_bus_message_enter_container(msg, 'a', "{ss}");
        while (r >= 0 && (r = sd_bus_message_enter_container(msg, 'e', "ss")) > 0) {
                const char *key, *value;

                r = sd_bus_message_read(msg, "ss", &key, &value);
                if (r < 0)
                        break;
                if (!text_valid(key, FIELD_ID_MAX) || !*key) {
                        wipe_string(value);
                        json_wipe_decref(fields);
                        return invalid_args(error, "Invalid field id");
                }
                if (json_object_get(fields, key)) {
                        wipe_string(value);
                        json_wipe_decref(fields);
                        return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Field %s given twice", key);
                }
                r = json_object_set_new(fields, key, json_string(value)) < 0 ? -ENOMEM : 0;
                wipe_string(value);
                if (r >= 0)
                        r = sd_bus_message_exit_container(msg);
        }
        if (r >= 0)
                r = sd_bus_message_exit_container(msg);
        if (r < 0) {
                json_wipe_decref(fields);
                return r;
        }
        *ret = fields;
        return 0;
}

/* Reads a{sv} whose keys must all be known: name → string, uint32 or boolean. */
typedef struct OptionSpec {
        const char *name;
        char type;               /* 's', 'u', 't' or 'b' */
        void *target;            /* const char **, uint32_t *, uint64_t * or int * */
        bool *given;             /* may be NULL: set when the option is there */
} OptionSpec;

static int read_options(sd_bus_message *msg, const OptionSpec *spec, size_t n_spec, sd_bus_error *error) {
        int r;

        r = sd_bus_message_enter_container(msg, 'a', "{sv}");
        while (r >= 0 && (r = sd_bus_message_enter_container(msg, 'e', "sv")) > 0) {
                const OptionSpec *o = NULL;
                const char *key;

                r = sd_bus_message_read(msg, "s", &key);
                if (r < 0)
                        return r;
                for (size_t i = 0; i < n_spec; i++)
                        if (strcmp(spec[i].name, key) == 0)
                                o = &spec[i];
                if (!o)
                        return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Unknown option %.64s", key);
                char sig[2] = { o->type, 0 };
                r = sd_bus_message_enter_container(msg, 'v', sig);
                if (r < 0)
                        return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Option %s takes type %s", key, sig);
                r = sd_bus_message_read_basic(msg, o->type, o->target);
                if (r < 0)
                        return r;
                if (o->given)
                        *o->given = true;
                if (o->type == 's' && !text_valid(*(const char **) o->target, OV_FILTER_MAX))
                        return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                                 "Option %s must be text of at most %d bytes", key, OV_FILTER_MAX);
                r = sd_bus_message_exit_container(msg);
                if (r >= 0)
                        r = sd_bus_message_exit_container(msg);
        }
        if (r >= 0)
                r = sd_bus_message_exit_container(msg);
        return r;
}

/* Methods anyone may call */

static int method_list_orgs(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_strv_free_ char **orgs = NULL, **roles = NULL;
        Manager *m = userdata;
        Call c;
        int r;

        r = call_begin(m, msg, "ListOrgs", &c, error);
        if (r < 0)
                return r;
        r = policy_caller_orgs(m->policy, &c.caller->policy, &orgs, &roles);
        if (r < 0)
                return r;
        r = sd_bus_message_new_method_return(msg, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "(ss)");
        for (size_t i = 0; r >= 0 && orgs[i]; i++)
                r = sd_bus_message_append(reply, "(ss)", orgs[i], roles[i]);
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

static int append_used_by(sd_bus_message *reply, const SecretType *t) {
        _cleanup_free_ char *s = strv_join(t->used_by, ",");
        if (!s)
                return -ENOMEM;
        return sd_bus_message_append(reply, "s", s);
}

static int method_list_types(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        Manager *m = userdata;
        const char *feature;
        Call c;
        int r;

        r = call_begin(m, msg, "ListTypes", &c, error);
        if (r < 0)
                return r;
        r = sd_bus_message_read(msg, "s", &feature);
        if (r < 0)
                return r;
        if (!text_valid(feature, OV_FILTER_MAX))
                return invalid_args(error, "A feature is text of at most 256 bytes");

        r = sd_bus_message_new_method_return(msg, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "(ssss)");
        for (size_t i = 0; r >= 0 && i < m->types->n_types; i++) {
                const SecretType *t = m->types->types[i];
                if (*feature && !secret_type_used_by(t, feature))
                        continue;
                r = sd_bus_message_open_container(reply, 'r', "ssss");
                if (r >= 0)
                        r = sd_bus_message_append(reply, "sss", t->id, t->name, t->category);
                if (r >= 0)
                        r = append_used_by(reply, t);
                if (r >= 0)
                        r = sd_bus_message_close_container(reply);
        }
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

/* Reads the type argument of DescribeType and DescribeTypeNotes. */
static int read_type_arg(Manager *m, sd_bus_message *msg, const char *method, const SecretType **ret,
                         sd_bus_error *error) {
        const char *type;
        Call c;
        int r;

        r = call_begin(m, msg, method, &c, error);
        if (r < 0)
                return r;
        r = sd_bus_message_read(msg, "s", &type);
        if (r < 0)
                return r;
        if (!text_valid(type, OV_FILTER_MAX) || !*type)
                return invalid_args(error, "A type id is text of 1-256 bytes");
        *ret = type_registry_find(m->types, type);
        if (!*ret)
                return sd_bus_error_setf(error, ov_error_dbus_name(OV_ERR_UNKNOWN_TYPE), "Unknown secret type %s", type);
        return 0;
}

static int method_describe_type(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const SecretType *t;
        int r;

        r = read_type_arg(userdata, msg, "DescribeType", &t, error);
        if (r < 0)
                return r;
        r = sd_bus_message_new_method_return(msg, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "(sssbbsas)");
        for (size_t i = 0; r >= 0 && i < t->n_fields; i++) {
                const TypeField *f = &t->fields[i];
                r = sd_bus_message_open_container(reply, 'r', "sssbbsas");
                if (r >= 0)
                        r = sd_bus_message_append(reply, "sssbbs", f->id, f->label, field_kind_to_string(f->kind),
                                                  (int) f->required, (int) f->secret, f->description ?: "");
                if (r >= 0)
                        r = sd_bus_message_append_strv(reply, f->allowed);
                if (r >= 0)
                        r = sd_bus_message_close_container(reply);
        }
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

/* Additive to docs/API.md: the type's notes (e.g. the Twilio US1 rule), which
 * DescribeType's contract signature has no room for. */
static int method_describe_type_notes(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const SecretType *t;
        int r;

        r = read_type_arg(userdata, msg, "DescribeTypeNotes", &t, error);
        if (r < 0)
                return r;
        r = sd_bus_message_new_method_return(msg, &reply);
        if (r >= 0)
                r = sd_bus_message_append_strv(reply, t->notes);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

static int append_problems(sd_bus_message *reply, Manager *m, bool show) {
        int r = sd_bus_message_open_container(reply, 'a', "s");
        if (show) {
                for (char *const *p = policy_problems(m->policy); r >= 0 && *p; p++)
                        r = sd_bus_message_append(reply, "s", *p);
                for (char **p = m->type_errors; r >= 0 && p && *p; p++)
                        r = sd_bus_message_append(reply, "s", *p);
        }
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        return r;
}

/* Status's counts tell nobody about orgs they can't list: whoever manages
 * the vault gets every org's, anyone else those of the orgs they may list
 * (none for an outsider). Kept in memory (vault_counts): a flood of Status
 * calls costs no directory scan. */
static int status_counts(Manager *m, const Call *c, bool manager, VaultCounts *ret) {
        _cleanup_strv_free_ char **orgs = NULL, **roles = NULL, **own = NULL;
        int r;

        if (manager)
                return vault_counts(m->vault, NULL, ret);
        r = policy_caller_orgs(m->policy, &c->caller->policy, &orgs, &roles);
        if (r < 0)
                return r;
        own = calloc(1, sizeof(char *));
        if (!own)
                return -ENOMEM;
        for (char **o = orgs; o && *o; o++)
                if (policy_may(m->policy, *o, ACTION_LIST, &c->caller->policy) && strv_push(&own, *o) < 0)
                        return -ENOMEM;
        return vault_counts(m->vault, own, ret);
}

static int method_status(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        Manager *m = userdata;
        VaultCounts counts;
        VaultStatus st;
        Call c;
        int r;

        r = call_begin(m, msg, "Status", &c, error);
        if (r < 0)
                return r;
        r = vault_status(m->vault, &st);
        if (r < 0)
                return sd_bus_error_set_errnof(error, r, "Cannot read the state directory: %m");
        bool manager = policy_may(m->policy, NULL, ACTION_MANAGE, &c.caller->policy);
        r = status_counts(m, &c, manager, &counts);
        if (r < 0)
                return sd_bus_error_set_errnof(error, r, "Cannot count the secrets: %m");

        r = sd_bus_message_new_method_return(msg, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "{sv}");
        if (r >= 0)
                r = sd_bus_message_append(reply, "{sv}{sv}{sv}{sv}{sv}{sv}{sv}{sv}{sv}",
                                          "Version", "s", PACKAGE_VERSION,
                                          "Sealed", "b", (int) st.sealed,
                                          "KeyMode", "s", key_mode_to_string(st.key_mode),
                                          "Orgs", "u", counts.orgs,
                                          "Secrets", "u", counts.secrets,
                                          "Quarantined", "u", counts.quarantined,
                                          "KeyringCache", "b", (int) st.keyring_cache,
                                          "Store", "s", st.store_degraded ? "degraded" : "ok",
                                          "StoreKind", "s", st.store);
        /* Problem messages name org files: only for whoever manages the vault.
         * PolicyProblemsVisible tells an empty list from a hidden one. */
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'e', "sv");
        if (r >= 0)
                r = sd_bus_message_append(reply, "s", "PolicyProblems");
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'v', "as");
        if (r >= 0)
                r = append_problems(reply, m, manager);
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r >= 0)
                r = sd_bus_message_append(reply, "{sv}", "PolicyProblemsVisible", "b", (int) manager);
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

/* Reading an org */

static int method_list_secrets(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_free_ const Secret **list = NULL;
        SecretFilter f = {};
        Manager *m = userdata;
        const char *org;
        size_t n = 0;
        OvError e = {};
        Call c;
        int r;

        r = call_begin(m, msg, "ListSecrets", &c, error);
        if (r < 0)
                return r;
        r = sd_bus_message_read(msg, "s", &org);
        if (r < 0)
                return r;
        const OptionSpec spec[] = {
                { "search", 's', &f.search, NULL }, { "type", 's', &f.type, NULL }, { "feature", 's', &f.feature, NULL },
                { "limit", 'u', &f.limit, NULL }, { "offset", 'u', &f.offset, NULL }, { "due_within", 't', &f.due_within, NULL },
        };
        r = read_options(msg, spec, ELEMENTSOF(spec), error);
        if (r < 0)
                return r;
        r = check_org(org, error);
        if (r < 0)
                return r;
        r = authorize(&c, org, ACTION_LIST, NULL, error);
        if (r < 0)
                return r;
        r = vault_list(m->vault, org, &f, &list, &n, &e);
        if (r < 0)
                return vault_error(error, r, &e);

        r = sd_bus_message_new_method_return(msg, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "(sssttu)");
        for (size_t i = 0; r >= 0 && i < n; i++)
                r = sd_bus_message_append(reply, "(sssttu)", list[i]->id, list[i]->name, list[i]->type,
                                          list[i]->created, list[i]->updated, (uint32_t) list[i]->n_refs);
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

static int method_get_secret(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        Manager *m = userdata;
        const char *org, *id;
        const Secret *s;
        OvError e = {};
        Call c;
        int r;

        r = call_begin(m, msg, "GetSecret", &c, error);
        if (r < 0)
                return r;
        r = sd_bus_message_read(msg, "ss", &org, &id);
        if (r < 0)
                return r;
        r = check_org_id(org, id, error);
        if (r < 0)
                return r;
        r = authorize(&c, org, ACTION_LIST, id, error);
        if (r < 0)
                return r;
        r = vault_get(m->vault, org, id, &s, &e);
        if (r < 0)
                return vault_error(error, r, &e);

        r = sd_bus_message_new_method_return(msg, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "{sv}");
        if (r >= 0)
                r = sd_bus_message_append(reply, "{sv}{sv}{sv}{sv}{sv}{sv}{sv}{sv}",
                                          "Id", "s", s->id, "Name", "s", s->name, "Type", "s", s->type,
                                          "Created", "t", s->created, "Updated", "t", s->updated,
                                          "Version", "u", s->version, "LastUsed", "t", s->last_used,
                                          "LastUsedBy", "s", s->last_used_by ?: "");
        if (r >= 0)
                r = append_reminders(reply, s);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'e', "sv");
        if (r >= 0)
                r = sd_bus_message_append(reply, "s", "References");
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'v', "a(sst)");
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "(sst)");
        for (size_t i = 0; r >= 0 && i < s->n_refs; i++)
                r = sd_bus_message_append(reply, "(sst)", s->refs[i].feature, s->refs[i].target, s->refs[i].created);
        for (int k = 0; k < 4 && r >= 0; k++)
                r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

/* Changing an org */

/* AddSecret's and UpdateSecretWithOptions' reminder options. */
#define REMINDER_OPTIONS(o) { "expires", 't', &(o).expires, &(o).has_expires }, \
                            { "rotate_every", 't', &(o).rotate_every, &(o).has_rotate_every }

/* Sends reply (its first value appended) with the warnings after it. */
/* A change's empty success answer, once it is durable (audited then). */
static int reply_empty_when_durable(sd_bus_message *msg, const Call *c, AuditKind kind, const char *org,
                                    const char *id, const char *detail) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int r = sd_bus_message_new_method_return(msg, &reply);
        return r < 0 ? r : reply_when_durable(c, kind, org, id, detail, reply);
}

/* AddSecret; with the option validate_only it is the page's "Next": the
 * same authorization and checks as a real add (a name is optional then),
 * nothing written, no audit record but a refusal, and ("", warnings). */
static int method_add_secret(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_json_wipe_ json_t *fields = NULL;
        _cleanup_strv_free_ char **warnings = NULL;
        _cleanup_free_ char *new_id = NULL;
        const char *org, *type, *name, *id = NULL;
        SecretOptions opts = {};
        char by[BUS_CALLER_NAME_MAX];
        Manager *m = userdata;
        int validate_only = 0;
        OvError e = {};
        Call c;
        int r;

        r = call_begin(m, msg, "AddSecret", &c, error);
        if (r < 0)
                return r;
        r = sd_bus_message_read(msg, "sss", &org, &type, &name);
        if (r < 0)
                return r;
        r = read_fields(msg, &fields, error);
        if (r < 0)
                return r;
        const OptionSpec spec[] = { { "id", 's', &id, NULL }, { "validate_only", 'b', &validate_only, NULL }, REMINDER_OPTIONS(opts) };
        r = read_options(msg, spec, ELEMENTSOF(spec), error);
        if (r < 0)
                return r;
        r = check_org(org, error);
        if (r < 0)
                return r;
        if (!text_valid(type, OV_FILTER_MAX) || !*type)
                return invalid_args(error, "A type id is text of 1-256 bytes");
        if (!(validate_only && !*name) && !display_name_valid(name))
                return invalid_args(error, "A name is 1-128 characters of text without control characters");
        if (id && *id && !secret_id_valid(id))
                return invalid_args(error, "Invalid secret id: [a-z0-9][a-z0-9_-]{0,63}");
        r = authorize(&c, org, ACTION_ADD, id, error);
        if (r < 0)
                return r;
        opts.set_by = bus_caller_name(c.caller, by);

        if (validate_only) {
                r = vault_check_options(&opts, &e);
                if (r >= 0)
                        r = vault_check_add(m->vault, org, type, name, id, fields, &warnings, &e);
                if (r < 0)
                        return vault_error(error, r, &e);
        } else {
                r = vault_add_with(m->vault, org, type, name, id, fields, &opts, &new_id, &warnings, &e);
                if (r < 0)
                        return finish(&c, AUDIT_ADD, org, id, r, &e, type, error);
        }
        r = sd_bus_message_new_method_return(msg, &reply);
        if (r >= 0)
                r = sd_bus_message_append(reply, "s", new_id ?: "");
        if (r >= 0)
                r = sd_bus_message_append_strv(reply, warnings);
        if (r < 0)
                return r;
        if (validate_only)
                return sd_bus_send(NULL, reply, NULL);
        return reply_when_durable(&c, AUDIT_ADD, org, new_id, type, reply);
}

/* UpdateSecret, and UpdateSecretWithOptions (options: validate_only, as for
 * AddSecret; the version is then 0: nothing was written). */
static int update_secret(sd_bus_message *msg, Manager *m, bool with_options, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_json_wipe_ json_t *fields = NULL;
        _cleanup_strv_free_ char **warnings = NULL;
        const char *org, *id;
        SecretOptions opts = {};
        char by[BUS_CALLER_NAME_MAX];
        uint32_t version = 0;
        int validate_only = 0;
        OvError e = {};
        Call c;
        int r;

        r = call_begin(m, msg, with_options ? "UpdateSecretWithOptions" : "UpdateSecret", &c, error);
        if (r < 0)
                return r;
        r = sd_bus_message_read(msg, "ss", &org, &id);
        if (r < 0)
                return r;
        r = read_fields(msg, &fields, error);
        if (r < 0)
                return r;
        if (with_options) {
                const OptionSpec spec[] = { { "validate_only", 'b', &validate_only, NULL }, REMINDER_OPTIONS(opts) };
                r = read_options(msg, spec, ELEMENTSOF(spec), error);
                if (r < 0)
                        return r;
        }
        r = check_org_id(org, id, error);
        if (r < 0)
                return r;
        r = authorize(&c, org, ACTION_UPDATE, id, error);
        if (r < 0)
                return r;
        opts.set_by = bus_caller_name(c.caller, by);

        if (validate_only) {
                r = vault_check_options(&opts, &e);
                if (r >= 0)
                        r = vault_check_update(m->vault, org, id, fields, &warnings, &e);
                if (r < 0)
                        return vault_error(error, r, &e);
        } else {
                r = vault_update_with(m->vault, org, id, fields, &opts, &version, &warnings, &e);
                if (r < 0)
                        return finish(&c, AUDIT_UPDATE, org, id, r, &e, NULL, error);
        }
        r = sd_bus_message_new_method_return(msg, &reply);
        if (r >= 0)
                r = sd_bus_message_append(reply, "u", version);
        if (r >= 0)
                r = sd_bus_message_append_strv(reply, warnings);
        if (r < 0)
                return r;
        if (validate_only)
                return sd_bus_send(NULL, reply, NULL);
        return reply_when_durable(&c, AUDIT_UPDATE, org, id, NULL, reply);
}

static int method_update_secret(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        return update_secret(msg, userdata, false, error);
}

static int method_update_secret_with_options(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        return update_secret(msg, userdata, true, error);
}

static int method_rename_secret(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        const char *org, *id, *name;
        Manager *m = userdata;
        OvError e = {};
        Call c;
        int r;

        r = call_begin(m, msg, "RenameSecret", &c, error);
        if (r < 0)
                return r;
        r = sd_bus_message_read(msg, "sss", &org, &id, &name);
        if (r < 0)
                return r;
        r = check_org_id(org, id, error);
        if (r < 0)
                return r;
        if (!display_name_valid(name))
                return invalid_args(error, "A name is 1-128 characters of text without control characters");
        r = authorize(&c, org, ACTION_UPDATE, id, error);
        if (r < 0)
                return r;

        r = vault_rename(m->vault, org, id, name, &e);
        if (r < 0)
                return finish(&c, AUDIT_RENAME, org, id, r, &e, NULL, error);
        return reply_empty_when_durable(msg, &c, AUDIT_RENAME, org, id, NULL);
}

static int method_delete_secret(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        _cleanup_strv_free_ char **broken = NULL;
        _cleanup_free_ char *detail = NULL;
        const char *org, *id;
        Manager *m = userdata;
        OvError e = {};
        int force;
        Call c;
        int r;

        r = call_begin(m, msg, "DeleteSecret", &c, error);
        if (r < 0)
                return r;
        r = sd_bus_message_read(msg, "ssb", &org, &id, &force);
        if (r < 0)
                return r;
        r = check_org_id(org, id, error);
        if (r < 0)
                return r;
        r = authorize(&c, org, ACTION_DELETE, id, error);
        if (r < 0)
                return r;

        r = vault_delete(m->vault, org, id, force, &broken, &e);
        if (r >= 0 && broken && *broken) {
                _cleanup_free_ char *refs = strv_join(broken, ", ");
                detail = strdup_printf("forced; broke references: %s", refs ?: "(out of memory)");
        } else if (r < 0 && e.code == OV_ERR_IN_USE)
                detail = strdup(e.message);     /* names the references, never a value */
        r = finish(&c, AUDIT_DELETE, org, id, r, &e, detail, error);
        if (r < 0)
                return r;
        return sd_bus_reply_method_return(msg, NULL);
}

static int reference_method(sd_bus_message *msg, Manager *m, bool add, sd_bus_error *error) {
        _cleanup_free_ char *detail = NULL;
        const char *org, *id, *feature, *target;
        const Secret *s = NULL;
        OvError e = {};
        Call c;
        int r;

        r = call_begin(m, msg, add ? "AddReference" : "RemoveReference", &c, error);
        if (r < 0)
                return r;
        r = sd_bus_message_read(msg, "ssss", &org, &id, &feature, &target);
        if (r < 0)
                return r;
        r = check_org_id(org, id, error);
        if (r < 0)
                return r;
        if (!reference_text_valid(feature) || !reference_text_valid(target))
                return invalid_args(error, "Feature and target are 1-256 bytes of text without control characters");
        r = authorize(&c, org, ACTION_REFERENCE, id, error);
        if (r < 0)
                return r;
        /* Which references the caller may touch is the policy's rule
         * (policy_may_reference): it needs the secret's type, and whether
         * the secret exists at all. */
        r = vault_get(m->vault, org, id, &s, &e);
        if (r < 0 && e.code != OV_ERR_NOT_FOUND)
                return finish(&c, AUDIT_REFERENCE, org, id, r, &e, NULL, error);
        r = policy_may_reference(m->policy, org, id, &c.caller->policy, r >= 0,
                                 r >= 0 ? type_registry_find(m->types, s->type) : NULL, feature, add, &e);
        if (r < 0 && e.code == OV_ERR_ACCESS_DENIED)
                return deny(&c, org, id, e.message, error);
        if (r < 0)
                return finish(&c, AUDIT_REFERENCE, org, id, r, &e, NULL, error);

        r = add ? vault_add_reference(m->vault, org, id, feature, target, &e)
                : vault_remove_reference(m->vault, org, id, feature, target, &e);
        detail = strdup_printf("%s %s %s", add ? "add" : "remove", feature, target);
        if (r < 0)
                return finish(&c, AUDIT_REFERENCE, org, id, r, &e, detail, error);
        return reply_empty_when_durable(msg, &c, AUDIT_REFERENCE, org, id, detail);
}

static int method_add_reference(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        return reference_method(msg, userdata, true, error);
}

static int method_remove_reference(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        return reference_method(msg, userdata, false, error);
}

int bus_value_memfd(const char *data, size_t len) {
        _cleanup_close_ int fd = memfd_create("orgvault-secret", MFD_CLOEXEC | MFD_ALLOW_SEALING);
        if (fd < 0)
                return -errno;
        for (size_t done = 0; done < len;) {
                ssize_t w = write(fd, data + done, len - done);
                if (w < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                done += (size_t) w;
        }
        if (fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL) < 0)
                return -errno;
        if (lseek(fd, 0, SEEK_SET) < 0)
                return -errno;
        int ret = fd;
        fd = -1;
        return ret;
}

static int method_resolve(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        _cleanup_close_ int fd = -1;
        const char *org, *id;
        Manager *m = userdata;
        const Secret *s;
        char *json = NULL;
        size_t len = 0;
        OvError e = {};
        Call c;
        int r;

        r = call_begin(m, msg, "Resolve", &c, error);
        if (r < 0)
                return r;
        r = sd_bus_message_read(msg, "ss", &org, &id);
        if (r < 0)
                return r;
        r = check_org_id(org, id, error);
        if (r < 0)
                return r;
        r = authorize(&c, org, ACTION_RESOLVE, id, error);
        if (r < 0)
                return r;
        /* Only a consumer whose features use the secret's type, and an
         * absent id looks like a forbidden one (policy_may_resolve). */
        const Consumer *k = NULL;
        r = vault_get(m->vault, org, id, &s, &e);
        if (r < 0 && e.code != OV_ERR_NOT_FOUND)
                return finish(&c, AUDIT_RESOLVE, org, id, r, &e, NULL, error);
        r = policy_may_resolve(m->policy, org, id, &c.caller->policy, r >= 0,
                               r >= 0 ? type_registry_find(m->types, s->type) : NULL, &k, &e);
        if (r < 0 && e.code == OV_ERR_ACCESS_DENIED)
                return deny(&c, org, id, e.message, error);
        if (r < 0)
                return finish(&c, AUDIT_RESOLVE, org, id, r, &e, NULL, error);

        r = vault_resolve(m->vault, org, id, k->name, &json, &len, &e);
        if (r >= 0) {
                fd = bus_value_memfd(json, len);
                crypto_free_plain(json);
                if (fd < 0) {
                        r = ov_error_set_errno(&e, OV_ERR_STORAGE_FAILURE, fd, "Cannot hand over the value: %m");
                }
        }
        r = finish(&c, AUDIT_RESOLVE, org, id, r, &e, k->name, error);
        if (r < 0)
                return r;
        return sd_bus_reply_method_return(msg, "h", fd);
}

/* The vault as a whole */

static int method_seal(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        OvError e = {};
        Call c;
        int r;

        r = call_begin(m, msg, "Seal", &c, error);
        if (r < 0)
                return r;
        r = authorize(&c, NULL, ACTION_MANAGE, NULL, error);
        if (r < 0)
                return r;
        r = vault_seal(m->vault, &e);
        r = finish(&c, AUDIT_SEAL, NULL, NULL, r, &e, NULL, error);
        if (r < 0)
                return r;
        return sd_bus_reply_method_return(msg, NULL);
}

static int method_unseal(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        const char *passphrase;
        OvError e = {};
        Call c;
        int r;

        r = call_begin(m, msg, "Unseal", &c, error);
        if (r < 0)
                return r;
        r = sd_bus_message_read(msg, "s", &passphrase);
        if (r < 0)
                return r;
        /* Who asks comes first: a caller who may not unseal learns nothing
         * about what a passphrase may be. The bounds are master-key.c's. */
        r = authorize(&c, NULL, ACTION_MANAGE, NULL, error);
        if (r < 0) {
                wipe_string(passphrase);
                return r;
        }
        r = vault_unseal(m->vault, passphrase, strlen(passphrase), &e);
        wipe_string(passphrase);
        r = finish(&c, AUDIT_UNSEAL, NULL, NULL, r, &e, NULL, error);
        if (r < 0)
                return r;
        return sd_bus_reply_method_return(msg, NULL);
}

static int method_rotate_keys(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        const char *org;
        OvError e = {};
        Call c;
        int r;

        r = call_begin(m, msg, "RotateKeys", &c, error);
        if (r < 0)
                return r;
        r = sd_bus_message_read(msg, "s", &org);
        if (r < 0)
                return r;
        r = check_org(org, error);
        if (r < 0)
                return r;
        r = authorize(&c, org, ACTION_ROTATE, NULL, error);
        if (r < 0)
                return r;
        r = vault_rotate_keys(m->vault, org, &e);
        r = finish(&c, AUDIT_ROTATE, org, NULL, r, &e, NULL, error);
        if (r < 0)
                return r;
        return sd_bus_reply_method_return(msg, NULL);
}

static const sd_bus_vtable manager_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_METHOD_WITH_ARGS("ListOrgs", SD_BUS_NO_ARGS, SD_BUS_RESULT("a(ss)", orgs),
                                method_list_orgs, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ListTypes", SD_BUS_ARGS("s", feature), SD_BUS_RESULT("a(ssss)", types),
                                method_list_types, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("DescribeType", SD_BUS_ARGS("s", type), SD_BUS_RESULT("a(sssbbsas)", fields),
                                method_describe_type, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("DescribeTypeNotes", SD_BUS_ARGS("s", type), SD_BUS_RESULT("as", notes),
                                method_describe_type_notes, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ListSecrets", SD_BUS_ARGS("s", org, "a{sv}", filter),
                                SD_BUS_RESULT("a(sssttu)", secrets),
                                method_list_secrets, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("AddSecret",
                                SD_BUS_ARGS("s", org, "s", type, "s", name, "a{ss}", fields, "a{sv}", options),
                                SD_BUS_RESULT("s", id, "as", warnings),
                                method_add_secret, SD_BUS_VTABLE_UNPRIVILEGED | SD_BUS_VTABLE_SENSITIVE),
        SD_BUS_METHOD_WITH_ARGS("UpdateSecret", SD_BUS_ARGS("s", org, "s", id, "a{ss}", fields),
                                SD_BUS_RESULT("u", version, "as", warnings),
                                method_update_secret, SD_BUS_VTABLE_UNPRIVILEGED | SD_BUS_VTABLE_SENSITIVE),
        SD_BUS_METHOD_WITH_ARGS("UpdateSecretWithOptions",
                                SD_BUS_ARGS("s", org, "s", id, "a{ss}", fields, "a{sv}", options),
                                SD_BUS_RESULT("u", version, "as", warnings),
                                method_update_secret_with_options,
                                SD_BUS_VTABLE_UNPRIVILEGED | SD_BUS_VTABLE_SENSITIVE),
        SD_BUS_METHOD_WITH_ARGS("RenameSecret", SD_BUS_ARGS("s", org, "s", id, "s", name), SD_BUS_NO_RESULT,
                                method_rename_secret, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("DeleteSecret", SD_BUS_ARGS("s", org, "s", id, "b", force), SD_BUS_NO_RESULT,
                                method_delete_secret, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetSecret", SD_BUS_ARGS("s", org, "s", id), SD_BUS_RESULT("a{sv}", metadata),
                                method_get_secret, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("AddReference", SD_BUS_ARGS("s", org, "s", id, "s", feature, "s", target),
                                SD_BUS_NO_RESULT, method_add_reference, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("RemoveReference", SD_BUS_ARGS("s", org, "s", id, "s", feature, "s", target),
                                SD_BUS_NO_RESULT, method_remove_reference, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Resolve", SD_BUS_ARGS("s", org, "s", id), SD_BUS_RESULT("h", value),
                                method_resolve, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ResolveForUser", SD_BUS_ARGS("s", user, "s", service, "s", credential),
                                SD_BUS_RESULT("h", value), method_resolve_for_user, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Status", SD_BUS_NO_ARGS, SD_BUS_RESULT("a{sv}", status),
                                method_status, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Seal", SD_BUS_NO_ARGS, SD_BUS_NO_RESULT,
                                method_seal, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Unseal", SD_BUS_ARGS("s", passphrase), SD_BUS_NO_RESULT,
                                method_unseal, SD_BUS_VTABLE_UNPRIVILEGED | SD_BUS_VTABLE_SENSITIVE),
        SD_BUS_METHOD_WITH_ARGS("RotateKeys", SD_BUS_ARGS("s", org), SD_BUS_NO_RESULT,
                                method_rotate_keys, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END
};

int bus_manager_register(Manager *m) {
        int r = sd_bus_add_object_vtable(m->bus, NULL, OV_OBJECT_PATH, OV_MANAGER_INTERFACE, manager_vtable, m);
        if (r < 0)
                return r;
        return sd_bus_add_object_manager(m->bus, NULL, OV_OBJECT_PATH);
}
