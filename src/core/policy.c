/* SPDX-License-Identifier: Apache-2.0 */
/* The policy engine (docs/POLICY.md): the decisions made on every call, and
 * noticing when the files change. Reading the files is policy-parse.c; here
 * the checks only scan small arrays and never allocate. Anything wrong fails
 * closed: a broken org file closes its org, a broken actions.json denies
 * every action. The decisions are at the bottom of this file. */

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>

#include "log.h"
#include "policy-internal.h"

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

static void fingerprint_clear(Fingerprint *f) {
        for (size_t i = 0; i < f->n; i++)
                free(f->stamps[i].name);
        free(f->stamps);
        *f = (Fingerprint) {};
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
        _cleanup_(closedirp) DIR *d = NULL;
        int r;

        if (!actions || !dir)
                return -ENOMEM;
        if (stamp_push(&f, AT_FDCWD, actions, NULL, false) < 0 ||
            stamp_push(&f, AT_FDCWD, dir, NULL, true) < 0)
                return -ENOMEM;
        d = opendir(dir);
        if (d) {
                r = policy_list_files(d, &names);
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
                log_debug("Policy: no inotify (%m); files are checked on every call");
        p->watching = watch_dirs(p);
        r = fingerprint_take(p, &p->fingerprint);
        if (r < 0)
                return r;
        r = policy_state_load(config_dir, data_dir, &p->state, &error);
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

int policy_new_from_state(Policy **ret, PolicyState *st) {
        Policy *p = calloc(1, sizeof(Policy));
        if (!p)
                return -ENOMEM;
        p->inotify_fd = -1;
        p->state = *st;
        *st = (PolicyState) {};
        *ret = p;
        return 0;
}

void policy_free(Policy *p) {
        if (!p)
                return;
        policy_state_clear(&p->state);
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

        if (!p->config_dir)
                return 0;        /* policy_new_from_state: nothing to reload from */
        r = fingerprint_take(p, &now);
        if (r < 0)
                return r;
        if (fingerprint_equal(&now, &p->fingerprint))
                return 0;

        r = policy_state_load(p->config_dir, p->data_dir, &st, &error);
        /* Fail closed: with no usable actions.json nobody may do anything. */
        policy_state_clear(&p->state);
        if (r == -ENOMEM)
                return r;       /* fingerprint kept, so the next call retries */
        if (r < 0) {
                const char *why = error ?: "actions.json is unusable";

                log_error("Policy: %s; every action is denied until it is fixed", why);
                if (strv_push_printf(&p->state.problems, "%s; every action is denied until it is fixed", why) < 0)
                        return -ENOMEM;
        } else {
                p->state = st;
                log_info("Policy reloaded: %zu org file%s, %zu problem%s", st.n_orgs, st.n_orgs == 1 ? "" : "s",
                         strv_length(st.problems), strv_length(st.problems) == 1 ? "" : "s");
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

static const PolicyOrg *find_open_org(const Policy *p, const char *org) {
        size_t lo = 0, hi = p->state.n_orgs;

        if (!org)
                return NULL;
        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                const PolicyOrg *o = &p->state.orgs[mid];
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

/* uid_t and gid_t are both 32-bit ids: one search for either list. */
static bool id_listed(const uint32_t *l, size_t n, uint32_t id) {
        for (size_t i = 0; i < n; i++)
                if (l[i] == id)
                        return true;
        return false;
}

static bool id_set_match(const IdSet *s, const Caller *c) {
        if (id_listed(s->uids, s->n_uids, c->uid))
                return true;
        for (size_t i = 0; i < c->n_gids; i++)
                if (id_listed(s->gids, s->n_gids, c->gids[i]))
                        return true;
        return false;
}

static const Consumer *org_consumer(const PolicyOrg *o, const Caller *c) {
        for (size_t i = 0; i < o->n_consumers; i++) {
                const ConsumerEntry *e = &o->consumers[i];

                if (c->unit ? strv_contains(e->pub.units, c->unit) : id_listed(e->ids.uids, e->ids.n_uids, c->uid))
                        return &e->pub;
        }
        return NULL;
}

unsigned policy_roles(const Policy *p, const char *org, const Caller *c) {
        const PolicyOrg *o = find_open_org(p, org);
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
        int i = action ? policy_action_index(action) : -1;
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
        const PolicyOrg *o = find_open_org(p, org);

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

/* An absent secret: NotFound to whoever may list the org, else the same
 * AccessDenied as a forbidden one. */
static int absent(const Policy *p, const char *org, const char *id, const Caller *c, OvError *e) {
        if (policy_may(p, org, ACTION_LIST, c))
                return ov_error_set(e, OV_ERR_NOT_FOUND, "No secret %s in org %s", id, org);
        return ov_error_set(e, OV_ERR_ACCESS_DENIED, "no such secret");
}

int policy_may_resolve(const Policy *p, const char *org, const char *id, const Caller *c,
                       bool exists, const SecretType *t, const Consumer **ret_consumer, OvError *e) {
        const Consumer *k = policy_consumer(p, org, c);

        if (!k || !policy_may(p, org, ACTION_RESOLVE, c))
                return ov_error_set(e, OV_ERR_ACCESS_DENIED, "%s%s is no consumer of org %s",
                                    c && c->unit ? "unit " : "the caller", c && c->unit ? c->unit : "", org);
        if (!exists)
                return absent(p, org, id, c, e);
        if (!consumer_may_use_type(k, t))
                return ov_error_set(e, OV_ERR_ACCESS_DENIED, "consumer features do not use the type");
        if (ret_consumer)
                *ret_consumer = k;
        return 0;
}

/* The feature must be one the type is used by: refused naming the valid ones. */
static int check_feature_of_type(const SecretType *t, const char *feature, OvError *e) {
        _cleanup_free_ char *valid = NULL;

        if (!t)
                return ov_error_set(e, OV_ERR_INVALID_ARGS,
                                    "The secret's type is not defined by any type file, so no feature uses it");
        if (secret_type_used_by(t, feature))
                return 0;
        valid = strv_join(t->used_by, ", ");
        return ov_error_set(e, OV_ERR_INVALID_ARGS, "Feature %s does not use type %s; its features: %s",
                            feature, t->id, valid ?: "(out of memory)");
}

int policy_may_reference(const Policy *p, const char *org, const char *id, const Caller *c,
                         bool exists, const SecretType *t, const char *feature, bool add, OvError *e) {
        if (!policy_may(p, org, ACTION_REFERENCE, c))
                return ov_error_set(e, OV_ERR_ACCESS_DENIED, "%s", ACTION_REFERENCE);
        if (policy_roles(p, org, c) & ROLE_ADMIN) {
                if (!exists)
                        return absent(p, org, id, c, e);
                /* Removing is always allowed: it is how a reference made
                 * before this rule (or before a type file changed) goes. */
                return add ? check_feature_of_type(t, feature, e) : 0;
        }

        const Consumer *k = policy_consumer(p, org, c);
        if (!k)
                return ov_error_set(e, OV_ERR_ACCESS_DENIED, "the caller is no consumer of org %s", org);
        if (!exists)
                return absent(p, org, id, c, e);
        if (!consumer_may_use_type(k, t))
                return ov_error_set(e, OV_ERR_ACCESS_DENIED, "consumer features do not use the type");
        if (!strv_contains(k->features, feature))
                return ov_error_set(e, OV_ERR_ACCESS_DENIED, "reference for a feature the consumer does not have");
        return check_feature_of_type(t, feature, e);
}

int policy_caller_orgs(const Policy *p, const Caller *c, char ***ret_orgs, char ***ret_roles) {
        _cleanup_strv_free_ char **orgs = strv_new_empty(), **roles = strv_new_empty();

        if (!orgs || !roles)
                return -ENOMEM;
        for (size_t i = 0; i < p->state.n_orgs; i++) {
                const PolicyOrg *o = &p->state.orgs[i];
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

