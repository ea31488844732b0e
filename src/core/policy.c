/* SPDX-License-Identifier: Apache-2.0 */
/* The policy engine (docs/POLICY.md): actions.json says which roles hold each
 * action; orgs.d/<org>.json says who holds which role in one org. Files are
 * parsed and user/group names resolved through NSS when the policy is loaded,
 * so the checks made on every call only scan small arrays and never allocate.
 * Anything wrong fails closed: a broken org file closes its org, a broken
 * actions.json denies every action. */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>

#include "log.h"
#include "policy.h"

#define POLICY_FILE_MAX (1024 * 1024)

static const char *const action_ids[] = {
        ACTION_LIST, ACTION_ADD, ACTION_UPDATE, ACTION_DELETE,
        ACTION_REFERENCE, ACTION_RESOLVE, ACTION_ROTATE, ACTION_MANAGE,
};
#define N_ACTIONS ELEMENTSOF(action_ids)

static const struct {
        const char *name;
        Role role;
} role_names[] = {
        { "member", ROLE_MEMBER },
        { "admin", ROLE_ADMIN },
        { "consumer", ROLE_CONSUMER },
        { "root", ROLE_ROOT },
};

/* Who holds a role: the uids and gids listed plus the names resolved at load. */
typedef struct IdSet {
        uid_t *uids;
        size_t n_uids;
        gid_t *gids;
        size_t n_gids;
} IdSet;

typedef struct ConsumerEntry {
        Consumer pub;
        IdSet ids;               /* pub.uids plus the resolved pub.users */
} ConsumerEntry;

typedef struct Org {
        char *name;
        bool open;               /* false: its file is broken, nobody has a role */
        IdSet members;
        IdSet admins;
        ConsumerEntry *consumers;
        size_t n_consumers;
} Org;

/* What one load produced. All zero (no orgs, no action held) is "closed". */
typedef struct PolicyState {
        unsigned action_roles[N_ACTIONS];
        Org *orgs;               /* sorted by name */
        size_t n_orgs;
        char **problems;
} PolicyState;

/* The stat of one watched path; a change in any field means reload. */
typedef struct FileStamp {
        char *name;              /* entry of orgs.d, NULL for the fixed paths */
        int err;
        dev_t dev;
        ino_t ino;
        off_t size;
        struct timespec mtim;
        struct timespec ctim;
} FileStamp;

typedef struct Fingerprint {
        FileStamp *stamps;
        size_t n;
} Fingerprint;

/* What an edit of a policy file looks like in its directory: written in
 * place, replaced by rename, created, removed or chmod'ed; and the directory
 * itself going away. */
#define WATCH_MASK (IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_CLOSE_WRITE | IN_MODIFY | \
                    IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR)

struct Policy {
        char *config_dir;
        char *data_dir;
        PolicyState state;
        Fingerprint fingerprint;
        int inotify_fd;          /* -1: no inotify, every refresh stats */
        bool watching;           /* data dir, config dir and (if it exists) orgs.d are watched */
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

static void org_clear(Org *o) {
        free(o->name);
        idset_clear(&o->members);
        idset_clear(&o->admins);
        for (size_t i = 0; i < o->n_consumers; i++)
                consumer_entry_clear(&o->consumers[i]);
        free(o->consumers);
        *o = (Org) {};
}

static void state_clear(PolicyState *st) {
        for (size_t i = 0; i < st->n_orgs; i++)
                org_clear(&st->orgs[i]);
        free(st->orgs);
        strv_free(st->problems);
        *st = (PolicyState) {};
}

static void fingerprint_clear(Fingerprint *f) {
        for (size_t i = 0; i < f->n; i++)
                free(f->stamps[i].name);
        free(f->stamps);
        *f = (Fingerprint) {};
}

static void dirp(DIR **d) {
        if (*d)
                closedir(*d);
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

_printf_(2, 3) static int strv_push_printf(char ***l, const char *fmt, ...) {
        va_list ap;
        _cleanup_free_ char *s = NULL;

        va_start(ap, fmt);
        int r = vasprintf(&s, fmt, ap);
        va_end(ap);
        if (r < 0)
                return -ENOMEM;
        return strv_push(l, s);
}

static char **strv_new_empty(void) {
        return calloc(1, sizeof(char *));
}

static int strv_cmp(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

static int org_cmp(const void *a, const void *b) {
        return strcmp(((const Org *) a)->name, ((const Org *) b)->name);
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

static int parse_consumers(json_t *v, const char *file, Org *o, char ***notes, char **reason) {
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

static int parse_org(json_t *doc, const char *stem, const char *file, Org *o, char ***notes, char **reason) {
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

/* Reads and parses one orgs.d entry into *o (open, or closed when broken).
 * Returns 1 when *o holds an org, 0 when the file names no valid org. */
static int load_org_file(int dir_fd, const char *dir, const char *name, Org *o, char ***problems) {
        _cleanup_free_ char *stem = strndup(name, strlen(name) - strlen(".json"));
        _cleanup_free_ char *file = strdup_printf("%s/%s", dir, name);
        _cleanup_free_ char *buf = NULL, *reason = NULL;
        _cleanup_strv_free_ char **notes = NULL;
        _cleanup_json_ json_t *doc = NULL;
        json_error_t jerr;
        size_t len;
        int r;

        if (!stem || !file)
                return -ENOMEM;
        if (!org_name_valid(stem))
                return strv_push_printf(problems, "%s: \"%s\" is not a valid org name ([a-z0-9][a-z0-9-]{0,62}), file ignored",
                                        file, stem);

        r = read_file_at(dir_fd, name, POLICY_FILE_MAX, &buf, &len);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                r = reject(&reason, "cannot read: %s", read_error_string(r));
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

static bool is_policy_file_name(const char *name) {
        size_t n = strlen(name);

        return name[0] != '.' && n > strlen(".json") && strcmp(name + n - strlen(".json"), ".json") == 0;
}

/* The *.json entries of an orgs.d directory, sorted. */
static int list_policy_files(DIR *d, char ***ret) {
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
        _cleanup_(dirp) DIR *d = NULL;
        int r;

        if (!dir)
                return -ENOMEM;
        d = opendir(dir);
        if (!d) {
                if (errno == ENOENT)
                        return 0;       /* no orgs yet */
                return strv_push_printf(&st->problems, "%s: cannot open: %s; every org is closed", dir, strerror(errno));
        }
        r = list_policy_files(d, &names);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return strv_push_printf(&st->problems, "%s: cannot list: %s; every org is closed", dir, strerror(-r));

        st->orgs = calloc(strv_length(names) + 1, sizeof(Org));
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
        qsort(st->orgs, st->n_orgs, sizeof(Org), org_cmp);
        return 0;
}

static int action_index(const char *id) {
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
                int i = action_index(key);

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

static int load_actions(const char *data_dir, unsigned roles[static N_ACTIONS], char **ret_error) {
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

/* Loads everything into *ret; fails only for actions.json (message in
 * *ret_error) or lack of memory. */
static int state_load(const char *config_dir, const char *data_dir, PolicyState *ret, char **ret_error) {
        _cleanup_(state_clear) PolicyState st = {};
        int r;

        r = load_actions(data_dir, st.action_roles, ret_error);
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

/* Directories are watched for identity only: their times change whenever an
 * editor drops a swap file, and the entries are compared by name anyway. */
static int stamp_push(Fingerprint *f, int dir_fd, const char *path, const char *name, bool is_dir) {
        FileStamp *l = reallocarray(f->stamps, f->n + 1, sizeof(FileStamp));
        FileStamp *s;
        struct stat st;

        if (!l)
                return -ENOMEM;
        f->stamps = l;
        s = &l[f->n];
        *s = (FileStamp) {};
        if (name && !(s->name = strdup(name)))
                return -ENOMEM;
        f->n++;
        if (fstatat(dir_fd, path, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                s->err = errno;
                return 0;
        }
        s->dev = st.st_dev;
        s->ino = st.st_ino;
        if (!is_dir) {
                s->size = st.st_size;
                s->mtim = st.st_mtim;
                s->ctim = st.st_ctim;
        }
        return 0;
}

static int fingerprint_take(const Policy *p, Fingerprint *ret) {
        _cleanup_(fingerprint_clear) Fingerprint f = {};
        _cleanup_free_ char *actions = strdup_printf("%s/actions.json", p->data_dir);
        _cleanup_free_ char *dir = strdup_printf("%s/orgs.d", p->config_dir);
        _cleanup_strv_free_ char **names = NULL;
        _cleanup_(dirp) DIR *d = NULL;
        int r;

        if (!actions || !dir)
                return -ENOMEM;
        if (stamp_push(&f, AT_FDCWD, actions, NULL, false) < 0 ||
            stamp_push(&f, AT_FDCWD, dir, NULL, true) < 0)
                return -ENOMEM;
        d = opendir(dir);
        if (d) {
                r = list_policy_files(d, &names);
                if (r < 0)
                        return r;
                for (char **n = names; *n; n++)
                        if (stamp_push(&f, dirfd(d), *n, *n, false) < 0)
                                return -ENOMEM;
        }
        *ret = f;
        f = (Fingerprint) {};
        return 0;
}

static bool timespec_eq(const struct timespec *a, const struct timespec *b) {
        return a->tv_sec == b->tv_sec && a->tv_nsec == b->tv_nsec;
}

static bool fingerprint_equal(const Fingerprint *a, const Fingerprint *b) {
        if (a->n != b->n)
                return false;
        for (size_t i = 0; i < a->n; i++) {
                const FileStamp *x = &a->stamps[i], *y = &b->stamps[i];

                if ((x->name || y->name) && (!x->name || !y->name || strcmp(x->name, y->name) != 0))
                        return false;
                if (x->err != y->err || x->dev != y->dev || x->ino != y->ino || x->size != y->size ||
                    !timespec_eq(&x->mtim, &y->mtim) || !timespec_eq(&x->ctim, &y->ctim))
                        return false;
        }
        return true;
}

/* Watches the directories holding actions.json and orgs.d/, and orgs.d/ when
 * it exists (its parent shows it appear). Directories, not files: editors
 * replace files by rename, which a watch on the file would miss. Watching a
 * path again after a change is how a recreated orgs.d/ is picked up. */
static bool watch_dirs(Policy *p) {
        _cleanup_free_ char *orgs = strdup_printf("%s/orgs.d", p->config_dir);

        if (!orgs || p->inotify_fd < 0)
                return false;
        if (inotify_add_watch(p->inotify_fd, p->data_dir, WATCH_MASK) < 0 ||
            inotify_add_watch(p->inotify_fd, p->config_dir, WATCH_MASK) < 0)
                return false;
        return inotify_add_watch(p->inotify_fd, orgs, WATCH_MASK) >= 0 || errno == ENOENT;
}

/* Reads every queued event; 1 when there was one (what it says doesn't
 * matter: the stat fingerprint decides), 0 when none, -errno. */
static int drain_events(int fd) {
        _Alignas(struct inotify_event) char buf[4096];
        int got = 0;

        for (;;) {
                ssize_t n = read(fd, buf, sizeof buf);
                if (n > 0) {
                        got = 1;
                        continue;
                }
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 && errno != EAGAIN)
                        return -errno;
                return got;
        }
}

int policy_load(Policy **ret, const char *config_dir, const char *data_dir, char **ret_error) {
        _cleanup_(policy_freep) Policy *p = calloc(1, sizeof(Policy));
        _cleanup_free_ char *error = NULL;
        int r;

        if (!p)
                return -ENOMEM;
        p->inotify_fd = -1;
        p->config_dir = strdup(config_dir);
        p->data_dir = strdup(data_dir);
        if (!p->config_dir || !p->data_dir)
                return -ENOMEM;
        /* Watched, then stamped, then read: a change made during the load is
         * seen next time. Without inotify every refresh stats. */
        p->inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
        if (p->inotify_fd < 0)
                log_debug("Policy: no inotify (%s); files are checked on every call", strerror(errno));
        p->watching = watch_dirs(p);
        r = fingerprint_take(p, &p->fingerprint);
        if (r < 0)
                return r;
        r = state_load(config_dir, data_dir, &p->state, &error);
        if (r < 0) {
                if (ret_error) {
                        *ret_error = error;
                        error = NULL;
                }
                return r;
        }
        *ret = p;
        p = NULL;
        return 0;
}

void policy_free(Policy *p) {
        if (!p)
                return;
        state_clear(&p->state);
        fingerprint_clear(&p->fingerprint);
        if (p->inotify_fd >= 0)
                close(p->inotify_fd);
        free(p->config_dir);
        free(p->data_dir);
        free(p);
}

int policy_reload_if_changed(Policy *p) {
        _cleanup_(fingerprint_clear) Fingerprint now = {};
        _cleanup_free_ char *error = NULL;
        PolicyState st = {};
        int r;

        r = fingerprint_take(p, &now);
        if (r < 0)
                return r;
        if (fingerprint_equal(&now, &p->fingerprint))
                return 0;

        r = state_load(p->config_dir, p->data_dir, &st, &error);
        /* Fail closed: with no usable actions.json nobody may do anything. */
        state_clear(&p->state);
        if (r == -ENOMEM)
                return r;       /* fingerprint kept, so the next call retries */
        if (r < 0) {
                const char *why = error ?: "actions.json is unusable";

                log_error("Policy: %s; every action is denied until it is fixed", why);
                if (strv_push_printf(&p->state.problems, "%s; every action is denied until it is fixed", why) < 0)
                        return -ENOMEM;
        } else {
                p->state = st;
                log_info("Policy reloaded: %zu org files, %zu problems", st.n_orgs, strv_length(st.problems));
        }
        fingerprint_clear(&p->fingerprint);
        p->fingerprint = now;
        now = (Fingerprint) {};
        return 1;
}

int policy_watch_fd(const Policy *p) {
        return p->inotify_fd;
}

int policy_refresh(Policy *p) {
        if (p->inotify_fd >= 0) {
                int r = drain_events(p->inotify_fd);
                if (r == 0 && p->watching)
                        return 0;       /* nothing happened in the watched directories */
                /* Something did (or a watch is missing): watch again, then stat,
                 * so a change after the stat still queues an event. */
                p->watching = r >= 0 && watch_dirs(p);
        }
        return policy_reload_if_changed(p);
}

char *const *policy_problems(const Policy *p) {
        static char *const none[] = { NULL };

        return p->state.problems ?: none;
}

static const Org *find_open_org(const Policy *p, const char *org) {
        size_t lo = 0, hi = p->state.n_orgs;

        if (!org)
                return NULL;
        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                const Org *o = &p->state.orgs[mid];
                int c = strcmp(org, o->name);

                if (c == 0)
                        return o->open ? o : NULL;
                if (c < 0)
                        hi = mid;
                else
                        lo = mid + 1;
        }
        return NULL;
}

static bool uid_listed(const uid_t *l, size_t n, uid_t u) {
        for (size_t i = 0; i < n; i++)
                if (l[i] == u)
                        return true;
        return false;
}

static bool id_set_match(const IdSet *s, const Caller *c) {
        if (uid_listed(s->uids, s->n_uids, c->uid))
                return true;
        for (size_t i = 0; i < c->n_gids; i++)
                if (uid_listed(s->gids, s->n_gids, c->gids[i]))
                        return true;
        return false;
}

static const Consumer *org_consumer(const Org *o, const Caller *c) {
        for (size_t i = 0; i < o->n_consumers; i++) {
                const ConsumerEntry *e = &o->consumers[i];

                if (c->unit ? strv_contains(e->pub.units, c->unit) : uid_listed(e->ids.uids, e->ids.n_uids, c->uid))
                        return &e->pub;
        }
        return NULL;
}

unsigned policy_roles(const Policy *p, const char *org, const Caller *c) {
        const Org *o = find_open_org(p, org);
        unsigned roles = 0;

        if (!o || !c)
                return 0;
        if (org_consumer(o, c))
                roles |= ROLE_CONSUMER;
        /* On the credential socket the peer is systemd (uid 0) speaking for a
         * unit: only the unit's consumer entry counts. */
        if (c->unit)
                return roles;
        if (c->uid == 0)
                roles |= ROLE_ROOT | ROLE_ADMIN | ROLE_MEMBER;
        if (id_set_match(&o->admins, c))
                roles |= ROLE_ADMIN | ROLE_MEMBER;
        else if (id_set_match(&o->members, c))
                roles |= ROLE_MEMBER;
        return roles;
}

bool policy_may(const Policy *p, const char *org, const char *action, const Caller *c) {
        int i = action ? action_index(action) : -1;
        unsigned roles;

        if (i < 0 || !c)
                return false;
        if (org)
                roles = policy_roles(p, org, c);
        else
                roles = !c->unit && c->uid == 0 ? ROLE_ROOT : 0;
        return (roles & p->state.action_roles[i]) != 0;
}

const Consumer *policy_consumer(const Policy *p, const char *org, const Caller *c) {
        const Org *o = find_open_org(p, org);

        return o && c ? org_consumer(o, c) : NULL;
}

bool consumer_may_use_type(const Consumer *k, const SecretType *t) {
        if (!k || !t)
                return false;
        for (char **f = k->features; f && *f; f++)
                if (secret_type_used_by(t, *f))
                        return true;
        return false;
}

int policy_caller_orgs(const Policy *p, const Caller *c, char ***ret_orgs, char ***ret_roles) {
        _cleanup_strv_free_ char **orgs = strv_new_empty(), **roles = strv_new_empty();

        if (!orgs || !roles)
                return -ENOMEM;
        for (size_t i = 0; i < p->state.n_orgs; i++) {
                const Org *o = &p->state.orgs[i];
                unsigned r = policy_roles(p, o->name, c);

                if (r == 0)
                        continue;
                if (strv_push(&orgs, o->name) < 0 || strv_push(&roles, role_to_string(r)) < 0)
                        return -ENOMEM;
        }
        *ret_orgs = orgs;
        *ret_roles = roles;
        orgs = roles = NULL;
        return 0;
}

bool policy_org_exists(const Policy *p, const char *org) {
        return find_open_org(p, org) != NULL;
}

char **policy_org_names(const Policy *p) {
        _cleanup_strv_free_ char **names = strv_new_empty();
        char **ret;

        if (!names)
                return NULL;
        for (size_t i = 0; i < p->state.n_orgs; i++)
                if (p->state.orgs[i].open && strv_push(&names, p->state.orgs[i].name) < 0)
                        return NULL;
        ret = names;
        names = NULL;
        return ret;
}

const char *role_to_string(unsigned roles) {
        if (roles & ROLE_ADMIN)
                return "admin";
        if (roles & ROLE_MEMBER)
                return "member";
        if (roles & ROLE_CONSUMER)
                return "consumer";
        if (roles & ROLE_ROOT)
                return "root";
        return "none";
}
