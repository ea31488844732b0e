/* SPDX-License-Identifier: Apache-2.0 */
/* Reading the policy files (docs/POLICY.md) into a PolicyState:
 * actions.json (which roles hold each action) and orgs.d/<org>.json (who
 * holds which role in one org). User and group names are resolved through
 * NSS here, at load, so the checks made on every call never do. Anything
 * wrong fails closed: a broken org file closes its org (and is recorded as
 * a problem), a broken actions.json fails the load. */

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "policy-internal.h"

#define POLICY_FILE_MAX (1024 * 1024)

static const char *const action_ids[] = {
        ACTION_LIST, ACTION_ADD, ACTION_UPDATE, ACTION_DELETE,
        ACTION_REFERENCE, ACTION_RESOLVE, ACTION_ROTATE, ACTION_MANAGE,
};
_Static_assert(ELEMENTSOF(action_ids) == N_ACTIONS, "N_ACTIONS counts the action ids");

static const struct {
        const char *name;
        Role role;
} role_names[] = {
        { "member", ROLE_MEMBER },
        { "admin", ROLE_ADMIN },
        { "consumer", ROLE_CONSUMER },
        { "root", ROLE_ROOT },
};


static void idset_clear(IdSet *s) {
        free(s->uids);
        free(s->gids);
        *s = (IdSet) {};
}

static void consumer_entry_clear(ConsumerEntry *e) {
        free(e->pub.name);
        strv_free(e->pub.units);
        strv_free(e->pub.users);
        free(e->pub.uids);
        strv_free(e->pub.features);
        idset_clear(&e->ids);
        *e = (ConsumerEntry) {};
}

static void org_clear(PolicyOrg *o) {
        free(o->name);
        idset_clear(&o->members);
        idset_clear(&o->admins);
        for (size_t i = 0; i < o->n_consumers; i++)
                consumer_entry_clear(&o->consumers[i]);
        free(o->consumers);
        *o = (PolicyOrg) {};
}

void policy_state_clear(PolicyState *st) {
        for (size_t i = 0; i < st->n_orgs; i++)
                org_clear(&st->orgs[i]);
        free(st->orgs);
        strv_free(st->problems);
        *st = (PolicyState) {};
}

/* Sets *reason and returns -EINVAL (or -ENOMEM when the message can't be made). */
_printf_(2, 3) static int reject(char **reason, const char *fmt, ...) {
        va_list ap;
        char *s = NULL;

        va_start(ap, fmt);
        int r = vasprintf(&s, fmt, ap);
        va_end(ap);
        if (r < 0)
                return -ENOMEM;
        free(*reason);
        *reason = s;
        return -EINVAL;
}

static int strv_cmp(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

static int org_cmp(const void *a, const void *b) {
        return strcmp(((const PolicyOrg *) a)->name, ((const PolicyOrg *) b)->name);
}

static int id_push(uint32_t **ids, size_t *n, uint32_t id) {
        uint32_t *l = reallocarray(*ids, *n + 1, sizeof(uint32_t));
        if (!l)
                return -ENOMEM;
        l[(*n)++] = id;
        *ids = l;
        return 0;
}

/* An array of non-empty strings. */
static int parse_strings(json_t *v, const char *what, char ***ret, char **reason) {
        _cleanup_strv_free_ char **l = strv_new_empty();
        size_t i;
        json_t *e;

        if (!l)
                return -ENOMEM;
        if (!json_is_array(v))
                return reject(reason, "%s must be an array of strings", what);
        json_array_foreach(v, i, e) {
                if (!json_is_string(e) || json_string_length(e) == 0)
                        return reject(reason, "%s[%zu] must be a non-empty string", what, i);
                if (strv_push(&l, json_string_value(e)) < 0)
                        return -ENOMEM;
        }
        *ret = l;
        l = NULL;
        return 0;
}

/* An array of uids or gids: integers 0 .. 2^32-2 ((uid_t) -1 means "none"). */
static int parse_ids(json_t *v, const char *what, uint32_t **ret, size_t *ret_n, char **reason) {
        _cleanup_free_ uint32_t *ids = NULL;
        size_t n = 0, i;
        json_t *e;

        if (!json_is_array(v))
                return reject(reason, "%s must be an array of numbers", what);
        json_array_foreach(v, i, e) {
                if (!json_is_integer(e) || json_integer_value(e) < 0 ||
                    json_integer_value(e) >= (json_int_t) UINT32_MAX)
                        return reject(reason, "%s[%zu] must be a number from 0 to %u", what, i, UINT32_MAX - 1);
                if (id_push(&ids, &n, (uint32_t) json_integer_value(e)) < 0)
                        return -ENOMEM;
        }
        free(*ret);
        *ret = ids;
        *ret_n = n;
        ids = NULL;
        return 0;
}

/* Names resolve to ids now; an unknown name matches nobody and is noted. */
static int resolve_users(char **names, const char *file, const char *what, IdSet *set, char ***notes) {
        for (char **u = names; u && *u; u++) {
                struct passwd *pw;

                errno = 0;
                pw = getpwnam(*u);
                if (!pw) {
                        if (strv_push_printf(notes, "%s: unknown user \"%s\" in %s, ignored", file, *u, what) < 0)
                                return -ENOMEM;
                        continue;
                }
                if (id_push(&set->uids, &set->n_uids, pw->pw_uid) < 0)
                        return -ENOMEM;
        }
        return 0;
}

static int resolve_groups(char **names, const char *file, const char *what, IdSet *set, char ***notes) {
        for (char **g = names; g && *g; g++) {
                struct group *gr;

                errno = 0;
                gr = getgrnam(*g);
                if (!gr) {
                        if (strv_push_printf(notes, "%s: unknown group \"%s\" in %s, ignored", file, *g, what) < 0)
                                return -ENOMEM;
                        continue;
                }
                if (id_push(&set->gids, &set->n_gids, gr->gr_gid) < 0)
                        return -ENOMEM;
        }
        return 0;
}

/* "members" or "admins": { users, groups, uids, gids }, each optional. */
static int parse_id_set(json_t *v, const char *file, const char *what, IdSet *set, char ***notes, char **reason) {
        const char *key;
        json_t *e;
        int r;

        if (!json_is_object(v))
                return reject(reason, "\"%s\" must be an object", what);
        json_object_foreach(v, key, e) {
                _cleanup_strv_free_ char **names = NULL;
                _cleanup_free_ uint32_t *ids = NULL;
                _cleanup_free_ char *path = strdup_printf("%s.%s", what, key);
                size_t n = 0;

                if (!path)
                        return -ENOMEM;
                if (strcmp(key, "users") == 0 || strcmp(key, "groups") == 0) {
                        r = parse_strings(e, path, &names, reason);
                        if (r < 0)
                                return r;
                        r = key[0] == 'u' ? resolve_users(names, file, path, set, notes)
                                          : resolve_groups(names, file, path, set, notes);
                } else if (strcmp(key, "uids") == 0 || strcmp(key, "gids") == 0) {
                        r = parse_ids(e, path, &ids, &n, reason);
                        for (size_t i = 0; r >= 0 && i < n; i++)
                                r = key[0] == 'u' ? id_push(&set->uids, &set->n_uids, ids[i])
                                                  : id_push(&set->gids, &set->n_gids, ids[i]);
                } else
                        r = reject(reason, "unknown key \"%s\" in \"%s\"", key, what);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* One entry of "consumers": a service, matched by unit or by uid. */
static int parse_consumer(json_t *v, const char *file, const char *what, ConsumerEntry *c, char ***notes, char **reason) {
        const char *key;
        json_t *e;
        int r;

        if (!json_is_object(v))
                return reject(reason, "%s must be an object", what);
        json_object_foreach(v, key, e) {
                _cleanup_free_ char *path = strdup_printf("%s.%s", what, key);

                if (!path)
                        return -ENOMEM;
                if (strcmp(key, "name") == 0) {
                        if (!json_is_string(e) || json_string_length(e) == 0)
                                return reject(reason, "%s must be a non-empty string", path);
                        c->pub.name = strdup(json_string_value(e));
                        r = c->pub.name ? 0 : -ENOMEM;
                } else if (strcmp(key, "units") == 0)
                        r = parse_strings(e, path, &c->pub.units, reason);
                else if (strcmp(key, "users") == 0) {
                        r = parse_strings(e, path, &c->pub.users, reason);
                        if (r >= 0)
                                r = resolve_users(c->pub.users, file, path, &c->ids, notes);
                } else if (strcmp(key, "uids") == 0) {
                        r = parse_ids(e, path, &c->pub.uids, &c->pub.n_uids, reason);
                        for (size_t i = 0; r >= 0 && i < c->pub.n_uids; i++)
                                r = id_push(&c->ids.uids, &c->ids.n_uids, c->pub.uids[i]);
                } else if (strcmp(key, "features") == 0) {
                        r = parse_strings(e, path, &c->pub.features, reason);
                        if (r >= 0 && !c->pub.features[0])
                                r = reject(reason, "%s must name at least one feature", path);
                } else
                        r = reject(reason, "unknown key \"%s\" in %s", key, what);
                if (r < 0)
                        return r;
        }
        if (!c->pub.name)
                return reject(reason, "%s has no \"name\"", what);
        if (!c->pub.features)
                return reject(reason, "%s (\"%s\") has no \"features\"", what, c->pub.name);
        /* Absent lists are empty, so callers can walk every vector. */
        if (!c->pub.units && !(c->pub.units = strv_new_empty()))
                return -ENOMEM;
        if (!c->pub.users && !(c->pub.users = strv_new_empty()))
                return -ENOMEM;
        return 0;
}

static int parse_consumers(json_t *v, const char *file, PolicyOrg *o, char ***notes, char **reason) {
        size_t i;
        json_t *e;
        int r;

        if (!json_is_array(v))
                return reject(reason, "\"consumers\" must be an array");
        o->consumers = calloc(json_array_size(v) + 1, sizeof(ConsumerEntry));
        if (!o->consumers)
                return -ENOMEM;
        json_array_foreach(v, i, e) {
                _cleanup_free_ char *what = strdup_printf("consumers[%zu]", i);

                if (!what)
                        return -ENOMEM;
                o->n_consumers = i + 1;
                r = parse_consumer(e, file, what, &o->consumers[i], notes, reason);
                if (r < 0)
                        return r;
                for (size_t j = 0; j < i; j++)
                        if (strcmp(o->consumers[j].pub.name, o->consumers[i].pub.name) == 0)
                                return reject(reason, "two consumers are named \"%s\"", o->consumers[i].pub.name);
        }
        return 0;
}

static int parse_org(json_t *doc, const char *stem, const char *file, PolicyOrg *o, char ***notes, char **reason) {
        const char *key, *name;
        json_t *e;
        int r;

        if (!json_is_object(doc))
                return reject(reason, "the file must hold a JSON object");
        e = json_object_get(doc, "org");
        if (!json_is_string(e))
                return reject(reason, "\"org\" must be a string");
        name = json_string_value(e);
        if (!org_name_valid(name))
                return reject(reason, "\"org\" is not a valid org name ([a-z0-9][a-z0-9-]{0,62})");
        if (strcmp(name, stem) != 0)
                return reject(reason, "\"org\" is \"%s\" but the file is named for \"%s\"", name, stem);

        json_object_foreach(doc, key, e) {
                if (strcmp(key, "org") == 0)
                        r = 0;
                else if (strcmp(key, "members") == 0)
                        r = parse_id_set(e, file, "members", &o->members, notes, reason);
                else if (strcmp(key, "admins") == 0)
                        r = parse_id_set(e, file, "admins", &o->admins, notes, reason);
                else if (strcmp(key, "consumers") == 0)
                        r = parse_consumers(e, file, o, notes, reason);
                else
                        r = reject(reason, "unknown key \"%s\"", key);
                if (r < 0)
                        return r;
        }
        return 0;
}

static const char *read_error_string(int r) {
        switch (r) {
        case -EBADF:
                return "not a regular file";
        case -EFBIG:
                return "larger than 1 MiB";
        case -ELOOP:
                return "a symbolic link (not followed)";
        default:
                return strerror(-r);
        }
}

/* One orgs.d entry into *o (open, or closed when broken) from its bytes, or
 * from read_r < 0 when it could not be read. Returns 1 when *o holds an
 * org, 0 when the file names no valid org. */
static int org_from_read(const char *dir, const char *name, int read_r, const char *buf, size_t len,
                         PolicyOrg *o, char ***problems) {
        _cleanup_free_ char *stem = strndup(name, strlen(name) - strlen(".json"));
        _cleanup_free_ char *file = strdup_printf("%s/%s", dir, name);
        _cleanup_free_ char *reason = NULL;
        _cleanup_strv_free_ char **notes = NULL;
        _cleanup_json_ json_t *doc = NULL;
        json_error_t jerr;
        int r;

        if (!stem || !file)
                return -ENOMEM;
        if (!org_name_valid(stem))
                return strv_push_printf(problems, "%s: \"%s\" is not a valid org name ([a-z0-9][a-z0-9-]{0,62}), file ignored",
                                        file, stem);

        if (read_r < 0)
                r = reject(&reason, "cannot read: %s", read_error_string(read_r));
        else {
                doc = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
                if (!doc)
                        r = reject(&reason, "line %d: %s", jerr.line, jerr.text);
                else
                        r = parse_org(doc, stem, file, o, &notes, &reason);
        }
        if (r == -ENOMEM)
                return r;

        if (r < 0)
                org_clear(o);   /* nothing of a broken file counts: the org stays, closed */
        o->name = stem;
        stem = NULL;
        if (r < 0)
                return strv_push_printf(problems, "%s: %s; org \"%s\" is closed", file, reason, o->name) < 0 ? -ENOMEM : 1;
        o->open = true;
        for (char **n = notes; n && *n; n++)
                if (strv_push(problems, *n) < 0)
                        return -ENOMEM;
        return 1;
}

int policy_org_from_text(const char *dir, const char *name, const char *buf, size_t len, PolicyOrg *o,
                         char ***problems) {
        return org_from_read(dir, name, 0, buf, len, o, problems);
}

/* Reads and parses one orgs.d entry (a name that is no org is not read). */
static int load_org_file(int dir_fd, const char *dir, const char *name, PolicyOrg *o, char ***problems) {
        _cleanup_free_ char *buf = NULL;
        size_t n = strlen(name) - strlen(".json"), len = 0;
        char stem[OV_ORG_MAX + 2];
        int r = 0;

        if (n < sizeof stem) {
                memcpy(stem, name, n);
                stem[n] = 0;
                if (org_name_valid(stem))
                        r = read_file_at(dir_fd, name, POLICY_FILE_MAX, &buf, &len);
        }
        if (r == -ENOMEM)
                return r;
        return org_from_read(dir, name, r, buf, len, o, problems);
}

static bool is_policy_file_name(const char *name) {
        size_t n = strlen(name);

        return name[0] != '.' && n > strlen(".json") && strcmp(name + n - strlen(".json"), ".json") == 0;
}

int policy_list_files(DIR *d, char ***ret) {
        _cleanup_strv_free_ char **names = strv_new_empty();
        struct dirent *de;

        if (!names)
                return -ENOMEM;
        for (;;) {
                errno = 0;
                de = readdir(d);
                if (!de)
                        break;
                if (is_policy_file_name(de->d_name) && strv_push(&names, de->d_name) < 0)
                        return -ENOMEM;
        }
        if (errno != 0)
                return -errno;
        qsort(names, strv_length(names), sizeof(char *), strv_cmp);
        *ret = names;
        names = NULL;
        return 0;
}

static int load_orgs(const char *config_dir, PolicyState *st) {
        _cleanup_free_ char *dir = strdup_printf("%s/orgs.d", config_dir);
        _cleanup_strv_free_ char **names = NULL;
        _cleanup_(closedirp) DIR *d = NULL;
        int r;

        if (!dir)
                return -ENOMEM;
        d = opendir(dir);
        if (!d) {
                if (errno == ENOENT)
                        return 0;       /* no orgs yet */
                return strv_push_printf(&st->problems, "%s: cannot open: %s; every org is closed", dir, strerror(errno));
        }
        r = policy_list_files(d, &names);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return strv_push_printf(&st->problems, "%s: cannot list: %s; every org is closed", dir, strerror(-r));

        st->orgs = calloc(strv_length(names) + 1, sizeof(PolicyOrg));
        if (!st->orgs)
                return -ENOMEM;
        for (char **n = names; *n; n++) {
                r = load_org_file(dirfd(d), dir, *n, &st->orgs[st->n_orgs], &st->problems);
                if (r < 0) {
                        org_clear(&st->orgs[st->n_orgs]);
                        return r;
                }
                if (r > 0)
                        st->n_orgs++;
        }
        qsort(st->orgs, st->n_orgs, sizeof(PolicyOrg), org_cmp);
        return 0;
}

int policy_action_index(const char *id) {
        for (size_t i = 0; i < N_ACTIONS; i++)
                if (strcmp(action_ids[i], id) == 0)
                        return (int) i;
        return -1;
}

static int parse_action(json_t *a, const char *id, unsigned *ret_roles, char **reason) {
        bool has_description = false, has_roles = false;
        unsigned mask = 0;
        const char *key;
        json_t *e;

        if (!json_is_object(a))
                return reject(reason, "action \"%s\" must be an object", id);
        json_object_foreach(a, key, e) {
                if (strcmp(key, "description") == 0) {
                        if (!json_is_string(e) || json_string_length(e) == 0)
                                return reject(reason, "%s.description must be a non-empty string", id);
                        has_description = true;
                } else if (strcmp(key, "roles") == 0) {
                        size_t i;
                        json_t *r;

                        if (!json_is_array(e))
                                return reject(reason, "%s.roles must be an array of role names", id);
                        json_array_foreach(e, i, r) {
                                size_t k;

                                for (k = 0; k < ELEMENTSOF(role_names); k++)
                                        if (json_is_string(r) && strcmp(json_string_value(r), role_names[k].name) == 0)
                                                break;
                                if (k == ELEMENTSOF(role_names))
                                        return reject(reason, "%s.roles[%zu] must be one of member, admin, consumer, root", id, i);
                                mask |= role_names[k].role;
                        }
                        has_roles = true;
                } else
                        return reject(reason, "unknown key \"%s\" in action \"%s\"", key, id);
        }
        if (!has_description || !has_roles)
                return reject(reason, "action \"%s\" needs \"description\" and \"roles\"", id);
        /* No person may read a value back (docs/POLICY.md), whatever the file says. */
        if (strcmp(id, ACTION_RESOLVE) == 0 && (mask & ~(unsigned) ROLE_CONSUMER))
                return reject(reason, "%s may be held by consumers only", id);
        *ret_roles = mask;
        return 0;
}

static int parse_actions(json_t *doc, unsigned roles[static N_ACTIONS], char **reason) {
        bool seen[N_ACTIONS] = {};
        const char *key;
        json_t *actions, *e;
        int r;

        if (!json_is_object(doc))
                return reject(reason, "the file must hold a JSON object");
        json_object_foreach(doc, key, e)
                if (strcmp(key, "actions") != 0)
                        return reject(reason, "unknown key \"%s\"", key);
        actions = json_object_get(doc, "actions");
        if (!json_is_object(actions))
                return reject(reason, "\"actions\" must be an object");
        json_object_foreach(actions, key, e) {
                int i = policy_action_index(key);

                if (i < 0)
                        return reject(reason, "unknown action \"%s\"", key);
                r = parse_action(e, key, &roles[i], reason);
                if (r < 0)
                        return r;
                seen[i] = true;
        }
        for (size_t i = 0; i < N_ACTIONS; i++)
                if (!seen[i])
                        return reject(reason, "action \"%s\" is missing", action_ids[i]);
        return 0;
}

int policy_actions_load(const char *data_dir, unsigned roles[static N_ACTIONS], char **ret_error) {
        _cleanup_free_ char *path = strdup_printf("%s/actions.json", data_dir);
        _cleanup_free_ char *buf = NULL, *reason = NULL;
        _cleanup_json_ json_t *doc = NULL;
        json_error_t jerr;
        size_t len;
        int r;

        if (!path)
                return -ENOMEM;
        r = read_file_at(AT_FDCWD, path, POLICY_FILE_MAX, &buf, &len);
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                if (reject(&reason, "cannot read: %s", read_error_string(r)) == -ENOMEM)
                        return -ENOMEM;
        } else {
                doc = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
                if (!doc)
                        r = reject(&reason, "line %d: %s", jerr.line, jerr.text);
                else
                        r = parse_actions(doc, roles, &reason);
        }
        if (r == -ENOMEM || !reason)
                return r;
        *ret_error = strdup_printf("%s: %s", path, reason);
        return *ret_error ? r : -ENOMEM;
}

int policy_state_load(const char *config_dir, const char *data_dir, PolicyState *ret, char **ret_error) {
        _cleanup_(policy_state_clear) PolicyState st = {};
        int r;

        r = policy_actions_load(data_dir, st.action_roles, ret_error);
        if (r < 0)
                return r;
        r = load_orgs(config_dir, &st);
        if (r < 0)
                return r;
        for (char **m = st.problems; m && *m; m++)
                log_warning("Policy: %s", *m);
        *ret = st;
        st = (PolicyState) {};
        return 0;
}

