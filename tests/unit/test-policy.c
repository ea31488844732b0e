/* SPDX-License-Identifier: Apache-2.0 */
/* The policy engine against real files, real NSS users and groups, and the
 * shipped policy/actions.json: every way to hold a role, every action for
 * every role, broken files closing only their org, and reloads. */

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "check-main.h"
#include "policy.h"

#define USER_ALICE "ovtest-alice"        /* member by user name */
#define USER_BOB "ovtest-bob"            /* admin by user name */
#define USER_SVC "ovtest-svc"            /* consumer by user name */
#define GROUP_MEMBERS "ovtest-members"
#define GROUP_ADMINS "ovtest-admins"
#define UID_MEMBER 61001                 /* ids no NSS needs to know */
#define GID_MEMBER 62001
#define UID_ADMIN 61002
#define GID_ADMIN 62002
#define UID_CONSUMER 63001
#define UID_OUTSIDER 64001
#define GID_OUTSIDER 64002

static char tmp[] = "/tmp/ovtest-policy-XXXXXX";
static char config_dir[256];
static char data_dir[256];
static char orgs_dir[512];

static const char acme_json[] =
        "{\"org\": \"acme\",\n"
        " \"members\": {\"users\": [\"" USER_ALICE "\"], \"groups\": [\"" GROUP_MEMBERS "\"],\n"
        "               \"uids\": [61001], \"gids\": [62001]},\n"
        " \"admins\": {\"users\": [\"" USER_BOB "\"], \"groups\": [\"" GROUP_ADMINS "\"],\n"
        "              \"uids\": [61002], \"gids\": [62002]},\n"
        " \"consumers\": [\n"
        "   {\"name\": \"alerts\", \"units\": [\"acme-alertd.service\"], \"uids\": [63001], \"features\": [\"alerts\"]},\n"
        "   {\"name\": \"surveys\", \"users\": [\"" USER_SVC "\"], \"features\": [\"surveys\", \"call-center-surveys\"]}\n"
        " ]}\n";

/* ---- fixtures ---- */

static void write_text(const char *dir, const char *name, const char *text) {
        char path[PATH_MAX];
        FILE *f;

        snprintf(path, sizeof path, "%s/%s", dir, name);
        f = fopen(path, "we");
        ck_assert_ptr_nonnull(f);
        ck_assert_int_ge(fputs(text, f), 0);
        ck_assert_int_eq(fclose(f), 0);
}

/* Moves a file's mtime into the future so a rewrite within the same clock
 * tick is still a change. */
static void bump_mtime(const char *dir, const char *name, time_t ahead) {
        char path[PATH_MAX];
        struct timespec ts[2] = { { .tv_nsec = UTIME_OMIT }, { .tv_sec = time(NULL) + ahead } };

        snprintf(path, sizeof path, "%s/%s", dir, name);
        ck_assert_int_eq(utimensat(AT_FDCWD, path, ts, 0), 0);
}

static void copy_shipped_actions(void) {
        const char *src = getenv("SOURCE_ROOT");
        char path[PATH_MAX], *buf = NULL;
        size_t len = 0;
        FILE *f;

        ck_assert_msg(src != NULL, "SOURCE_ROOT must point at the source tree");
        snprintf(path, sizeof path, "%s/policy/actions.json", src);
        f = fopen(path, "re");
        ck_assert_msg(f != NULL, "cannot open %s", path);
        ck_assert_int_eq(getdelim(&buf, &len, '\0', f) > 0, 1);
        fclose(f);
        write_text(data_dir, "actions.json", buf);
        free(buf);
}

static void setup(void) {
        strcpy(tmp, "/tmp/ovtest-policy-XXXXXX");
        ck_assert_ptr_nonnull(mkdtemp(tmp));
        snprintf(config_dir, sizeof config_dir, "%s/etc", tmp);
        snprintf(data_dir, sizeof data_dir, "%s/share", tmp);
        snprintf(orgs_dir, sizeof orgs_dir, "%s/orgs.d", config_dir);
        ck_assert_int_eq(mkdir(config_dir, 0755), 0);
        ck_assert_int_eq(mkdir(data_dir, 0755), 0);
        ck_assert_int_eq(mkdir(orgs_dir, 0755), 0);
        copy_shipped_actions();
        write_text(orgs_dir, "acme.json", acme_json);
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
        return remove(path);
}

static void teardown(void) {
        nftw(tmp, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static Policy *load_ok(void) {
        Policy *p = NULL;
        char *error = NULL;
        int r = policy_load(&p, config_dir, data_dir, &error);

        ck_assert_msg(r == 0, "policy_load: %d %s", r, error ? error : "");
        ck_assert_ptr_nonnull(p);
        ck_assert_ptr_null(error);
        return p;
}

static bool problem_mentions(const Policy *p, const char *what) {
        for (char *const *m = policy_problems(p); *m; m++)
                if (strstr(*m, what))
                        return true;
        return false;
}

static uid_t uid_of(const char *user) {
        struct passwd *pw = getpwnam(user);

        ck_assert_msg(pw != NULL, "user %s missing", user);
        return pw->pw_uid;
}

static gid_t gid_of(const char *group) {
        struct group *gr = getgrnam(group);

        ck_assert_msg(gr != NULL, "group %s missing", group);
        return gr->gr_gid;
}

static const gid_t outsider_gids[] = { GID_OUTSIDER };
#define CALLER(u) ((Caller) { .uid = (u), .gids = outsider_gids, .n_gids = 1 })

/* ---- who holds a role ---- */

START_TEST(test_member_by_user) {
        _cleanup_(policy_freep) Policy *p = load_ok();
        Caller c = CALLER(uid_of(USER_ALICE));

        ck_assert_uint_eq(policy_roles(p, "acme", &c), ROLE_MEMBER);
        ck_assert_str_eq(role_to_string(policy_roles(p, "acme", &c)), "member");
}
END_TEST

START_TEST(test_member_by_group) {
        _cleanup_(policy_freep) Policy *p = load_ok();
        /* the group is a supplementary one, not the first */
        gid_t gids[] = { GID_OUTSIDER, gid_of(GROUP_MEMBERS) };
        Caller c = { .uid = UID_OUTSIDER, .gids = gids, .n_gids = 2 };

        ck_assert_uint_eq(policy_roles(p, "acme", &c), ROLE_MEMBER);
        c.n_gids = 1;
        ck_assert_uint_eq(policy_roles(p, "acme", &c), 0);
}
END_TEST

START_TEST(test_member_by_uid_and_gid) {
        _cleanup_(policy_freep) Policy *p = load_ok();
        gid_t gids[] = { GID_MEMBER };
        Caller by_uid = CALLER(UID_MEMBER);
        Caller by_gid = { .uid = UID_OUTSIDER, .gids = gids, .n_gids = 1 };

        ck_assert_uint_eq(policy_roles(p, "acme", &by_uid), ROLE_MEMBER);
        ck_assert_uint_eq(policy_roles(p, "acme", &by_gid), ROLE_MEMBER);
}
END_TEST

START_TEST(test_admin_implies_member) {
        _cleanup_(policy_freep) Policy *p = load_ok();
        gid_t admin_group[] = { gid_of(GROUP_ADMINS) };
        gid_t admin_gid[] = { GID_ADMIN };
        Caller callers[] = {
                CALLER(uid_of(USER_BOB)),
                { .uid = UID_OUTSIDER, .gids = admin_group, .n_gids = 1 },
                CALLER(UID_ADMIN),
                { .uid = UID_OUTSIDER, .gids = admin_gid, .n_gids = 1 },
        };

        for (size_t i = 0; i < ELEMENTSOF(callers); i++) {
                ck_assert_uint_eq(policy_roles(p, "acme", &callers[i]), ROLE_ADMIN | ROLE_MEMBER);
                ck_assert_str_eq(role_to_string(policy_roles(p, "acme", &callers[i])), "admin");
                ck_assert(policy_may(p, "acme", ACTION_LIST, &callers[i]));
        }
}
END_TEST

START_TEST(test_root_is_admin_of_open_orgs_only) {
        _cleanup_(policy_freep) Policy *p = NULL;
        Caller root = CALLER(0);

        write_text(orgs_dir, "bare.json", "{\"org\": \"bare\"}");
        write_text(orgs_dir, "broken.json", "{\"org\": ");
        p = load_ok();
        ck_assert_uint_eq(policy_roles(p, "acme", &root), ROLE_ROOT | ROLE_ADMIN | ROLE_MEMBER);
        ck_assert_uint_eq(policy_roles(p, "bare", &root), ROLE_ROOT | ROLE_ADMIN | ROLE_MEMBER);
        ck_assert_uint_eq(policy_roles(p, "nope", &root), 0);
        ck_assert_uint_eq(policy_roles(p, "broken", &root), 0);
        ck_assert(!policy_may(p, "nope", ACTION_LIST, &root));
        ck_assert(!policy_may(p, "broken", ACTION_ADD, &root));
        /* a consumer of none unless listed */
        ck_assert_ptr_null(policy_consumer(p, "acme", &root));
        ck_assert(!policy_may(p, "acme", ACTION_RESOLVE, &root));
}
END_TEST

START_TEST(test_root_consumer_when_listed) {
        _cleanup_(policy_freep) Policy *p = NULL;
        Caller root = CALLER(0);
        const Consumer *k;

        write_text(orgs_dir, "ops.json",
                   "{\"org\": \"ops\", \"consumers\": [{\"name\": \"cron\", \"users\": [\"root\"], \"features\": [\"alerts\"]}]}");
        p = load_ok();
        k = policy_consumer(p, "ops", &root);
        ck_assert_ptr_nonnull(k);
        ck_assert_str_eq(k->name, "cron");
        ck_assert_uint_eq(policy_roles(p, "ops", &root), ROLE_ROOT | ROLE_ADMIN | ROLE_MEMBER | ROLE_CONSUMER);
        ck_assert(policy_may(p, "ops", ACTION_RESOLVE, &root));
        ck_assert(!policy_may(p, "acme", ACTION_RESOLVE, &root));
}
END_TEST

START_TEST(test_unknown_org_and_outsider) {
        _cleanup_(policy_freep) Policy *p = load_ok();
        Caller out = CALLER(UID_OUTSIDER);
        Caller alice = CALLER(uid_of(USER_ALICE));
        Caller bob = CALLER(uid_of(USER_BOB));
        Caller svc = CALLER(UID_CONSUMER);

        ck_assert_uint_eq(policy_roles(p, "acme", &out), 0);
        ck_assert_str_eq(role_to_string(0), "none");
        for (size_t i = 0; i < 2; i++) {
                const char *org = i == 0 ? "nope" : "not a valid name";

                ck_assert_uint_eq(policy_roles(p, org, &alice), 0);
                ck_assert_uint_eq(policy_roles(p, org, &bob), 0);
                ck_assert_uint_eq(policy_roles(p, org, &svc), 0);
                ck_assert_ptr_null(policy_consumer(p, org, &svc));
                ck_assert(!policy_org_exists(p, org));
        }
        ck_assert_uint_eq(policy_roles(p, NULL, &bob), 0);
        ck_assert(policy_org_exists(p, "acme"));
}
END_TEST

/* ---- consumers ---- */

START_TEST(test_consumer_by_uid_user_and_unit) {
        _cleanup_(policy_freep) Policy *p = load_ok();
        Caller by_uid = CALLER(UID_CONSUMER);
        Caller by_user = CALLER(uid_of(USER_SVC));
        /* the credential socket: systemd (uid 0) speaks for a unit */
        Caller unit = { .uid = 0, .unit = "acme-alertd.service" };
        Caller other_unit = { .uid = 0, .unit = "other.service" };
        Caller uid_with_unit = { .uid = UID_CONSUMER, .unit = "other.service" };
        const Consumer *k;

        k = policy_consumer(p, "acme", &by_uid);
        ck_assert_ptr_nonnull(k);
        ck_assert_str_eq(k->name, "alerts");
        ck_assert_uint_eq(policy_roles(p, "acme", &by_uid), ROLE_CONSUMER);
        ck_assert_str_eq(role_to_string(ROLE_CONSUMER), "consumer");

        k = policy_consumer(p, "acme", &by_user);
        ck_assert_ptr_nonnull(k);
        ck_assert_str_eq(k->name, "surveys");
        ck_assert_str_eq(k->features[1], "call-center-surveys");
        ck_assert_ptr_null(k->features[2]);

        k = policy_consumer(p, "acme", &unit);
        ck_assert_ptr_nonnull(k);
        ck_assert_str_eq(k->name, "alerts");
        /* root's own roles don't travel with a unit */
        ck_assert_uint_eq(policy_roles(p, "acme", &unit), ROLE_CONSUMER);
        ck_assert(!policy_may(p, "acme", ACTION_ADD, &unit));
        ck_assert(!policy_may(p, NULL, ACTION_MANAGE, &unit));

        ck_assert_ptr_null(policy_consumer(p, "acme", &other_unit));
        ck_assert_uint_eq(policy_roles(p, "acme", &other_unit), 0);
        ck_assert_ptr_null(policy_consumer(p, "acme", &uid_with_unit));
}
END_TEST

START_TEST(test_consumer_features_vs_type) {
        _cleanup_(policy_freep) Policy *p = load_ok();
        Caller alerts = CALLER(UID_CONSUMER);
        Caller surveys = CALLER(uid_of(USER_SVC));
        char *slack_used_by[] = { "alerts", NULL };
        char *elevenlabs_used_by[] = { "call-center-surveys", NULL };
        char *openai_used_by[] = { "news", "surveys", "ai", NULL };
        SecretType slack = { .id = "slack-webhook", .used_by = slack_used_by };
        SecretType elevenlabs = { .id = "elevenlabs-api-key", .used_by = elevenlabs_used_by };
        SecretType openai = { .id = "openai-api-key", .used_by = openai_used_by };
        const Consumer *a = policy_consumer(p, "acme", &alerts);
        const Consumer *s = policy_consumer(p, "acme", &surveys);

        ck_assert_ptr_nonnull(a);
        ck_assert_ptr_nonnull(s);
        ck_assert(consumer_may_use_type(a, &slack));
        ck_assert(!consumer_may_use_type(a, &elevenlabs));
        ck_assert(!consumer_may_use_type(a, &openai));
        ck_assert(!consumer_may_use_type(s, &slack));
        ck_assert(consumer_may_use_type(s, &elevenlabs));
        ck_assert(consumer_may_use_type(s, &openai));
        ck_assert(!consumer_may_use_type(NULL, &slack));
}
END_TEST

/* ---- the consumer rules of Resolve, the credential socket and references ---- */

static char *slack_used_by[] = { "alerts", NULL };
static char *openai_used_by[] = { "news", "surveys", "ai", NULL };
static char *infobip_used_by[] = { "call-center-surveys", NULL };
static SecretType t_slack = { .id = "slack-webhook", .used_by = slack_used_by };
static SecretType t_openai = { .id = "openai-api-key", .used_by = openai_used_by };
static SecretType t_infobip = { .id = "infobip", .used_by = infobip_used_by };

/* The named error of a refused rule, OV_OK when allowed. */
static OvErrorCode resolve_verdict(const Policy *p, const Caller *c, bool exists, const SecretType *t,
                                   const char **ret_name) {
        const Consumer *k = NULL;
        OvError e = {};
        int r = policy_may_resolve(p, "acme", "x", c, exists, t, &k, &e);

        ck_assert_int_eq(r < 0, e.code != OV_OK);
        ck_assert(r >= 0 || e.message[0]);
        if (ret_name)
                *ret_name = k ? k->name : NULL;
        return r < 0 ? e.code : OV_OK;
}

START_TEST(test_may_resolve) {
        _cleanup_(policy_freep) Policy *p = load_ok();
        Caller alerts = CALLER(UID_CONSUMER), surveys = CALLER(uid_of(USER_SVC));
        Caller unit = { .uid = 0, .unit = "acme-alertd.service" };
        Caller member = CALLER(UID_MEMBER), admin = CALLER(UID_ADMIN), root = CALLER(0);
        const char *name = NULL;

        ck_assert_int_eq(resolve_verdict(p, &alerts, true, &t_slack, &name), OV_OK);
        ck_assert_str_eq(name, "alerts");
        ck_assert_int_eq(resolve_verdict(p, &unit, true, &t_slack, &name), OV_OK);
        ck_assert_str_eq(name, "alerts");
        ck_assert_int_eq(resolve_verdict(p, &surveys, true, &t_openai, &name), OV_OK);
        ck_assert_str_eq(name, "surveys");
        /* A type none of its features uses, or an unknown type. */
        ck_assert_int_eq(resolve_verdict(p, &alerts, true, &t_openai, NULL), OV_ERR_ACCESS_DENIED);
        ck_assert_int_eq(resolve_verdict(p, &surveys, true, &t_slack, NULL), OV_ERR_ACCESS_DENIED);
        ck_assert_int_eq(resolve_verdict(p, &unit, true, NULL, NULL), OV_ERR_ACCESS_DENIED);
        /* No person gets a value, whatever the type. */
        ck_assert_int_eq(resolve_verdict(p, &member, true, &t_slack, NULL), OV_ERR_ACCESS_DENIED);
        ck_assert_int_eq(resolve_verdict(p, &admin, true, &t_slack, NULL), OV_ERR_ACCESS_DENIED);
        ck_assert_int_eq(resolve_verdict(p, &root, true, &t_slack, NULL), OV_ERR_ACCESS_DENIED);
        /* An absent id answers like a forbidden one to a consumer (who may
         * not list), on the bus and on the socket alike. */
        ck_assert_int_eq(resolve_verdict(p, &alerts, false, NULL, NULL), OV_ERR_ACCESS_DENIED);
        ck_assert_int_eq(resolve_verdict(p, &unit, false, NULL, NULL), OV_ERR_ACCESS_DENIED);
        ck_assert_int_eq(resolve_verdict(p, &member, false, NULL, NULL), OV_ERR_ACCESS_DENIED);
}
END_TEST

/* A consumer that is also a member may list, so it is told NotFound. */
START_TEST(test_may_resolve_absent_to_a_lister) {
        static const char both_json[] =
                "{\"org\": \"acme\", \"members\": {\"uids\": [63001]},\n"
                " \"consumers\": [{\"name\": \"alerts\", \"uids\": [63001], \"features\": [\"alerts\"]}]}\n";
        write_text(orgs_dir, "acme.json", both_json);
        _cleanup_(policy_freep) Policy *p = load_ok();
        Caller both = CALLER(UID_CONSUMER);

        ck_assert_int_eq(resolve_verdict(p, &both, false, NULL, NULL), OV_ERR_NOT_FOUND);
        ck_assert_int_eq(resolve_verdict(p, &both, true, &t_slack, NULL), OV_OK);
}
END_TEST

static OvErrorCode reference_verdict(const Policy *p, const Caller *c, bool exists, const SecretType *t,
                                     const char *feature, bool add, char *ret_message, size_t size) {
        OvError e = {};
        int r = policy_may_reference(p, "acme", "x", c, exists, t, feature, add, &e);

        ck_assert_int_eq(r < 0, e.code != OV_OK);
        if (ret_message)
                snprintf(ret_message, size, "%s", e.message);
        return r < 0 ? e.code : OV_OK;
}

START_TEST(test_may_reference) {
        _cleanup_(policy_freep) Policy *p = load_ok();
        Caller alerts = CALLER(UID_CONSUMER), surveys = CALLER(uid_of(USER_SVC));
        Caller member = CALLER(UID_MEMBER), admin = CALLER(UID_ADMIN), root = CALLER(0);
        Caller outsider = CALLER(UID_OUTSIDER);
        char msg[1024];

        for (int add = 0; add <= 1; add++) {
                /* A consumer, for its own feature, on a type that feature uses. */
                ck_assert_int_eq(reference_verdict(p, &alerts, true, &t_slack, "alerts", add, NULL, 0), OV_OK);
                ck_assert_int_eq(reference_verdict(p, &surveys, true, &t_openai, "surveys", add, NULL, 0), OV_OK);
                ck_assert_int_eq(reference_verdict(p, &surveys, true, &t_infobip, "call-center-surveys", add,
                                                   NULL, 0), OV_OK);
                /* surveyd may not pin a Slack webhook, in any feature's name. */
                ck_assert_int_eq(reference_verdict(p, &surveys, true, &t_slack, "alerts", add, NULL, 0),
                                 OV_ERR_ACCESS_DENIED);
                ck_assert_int_eq(reference_verdict(p, &surveys, true, &t_slack, "surveys", add, NULL, 0),
                                 OV_ERR_ACCESS_DENIED);
                /* Nor reference for a feature it does not have. */
                ck_assert_int_eq(reference_verdict(p, &alerts, true, &t_slack, "surveys", add, NULL, 0),
                                 OV_ERR_ACCESS_DENIED);
                /* Its own feature, on a type it uses, but not one that feature uses. */
                ck_assert_int_eq(reference_verdict(p, &surveys, true, &t_openai, "call-center-surveys", add,
                                                   msg, sizeof msg), OV_ERR_INVALID_ARGS);
                ck_assert_ptr_nonnull(strstr(msg, "news, surveys, ai"));
                /* An absent id is AccessDenied to a consumer, as a forbidden one. */
                ck_assert_int_eq(reference_verdict(p, &surveys, false, NULL, "surveys", add, NULL, 0),
                                 OV_ERR_ACCESS_DENIED);
                ck_assert_int_eq(reference_verdict(p, &alerts, false, NULL, "alerts", add, NULL, 0),
                                 OV_ERR_ACCESS_DENIED);
                /* Admins (root too) are told NotFound; members and outsiders are refused. */
                ck_assert_int_eq(reference_verdict(p, &admin, false, NULL, "alerts", add, NULL, 0),
                                 OV_ERR_NOT_FOUND);
                ck_assert_int_eq(reference_verdict(p, &root, false, NULL, "alerts", add, NULL, 0),
                                 OV_ERR_NOT_FOUND);
                ck_assert_int_eq(reference_verdict(p, &member, true, &t_slack, "alerts", add, NULL, 0),
                                 OV_ERR_ACCESS_DENIED);
                ck_assert_int_eq(reference_verdict(p, &outsider, false, NULL, "alerts", add, NULL, 0),
                                 OV_ERR_ACCESS_DENIED);
                ck_assert_int_eq(reference_verdict(p, &admin, true, &t_slack, "alerts", add, NULL, 0), OV_OK);
        }
        /* For admins too, a new reference names a feature the type is used
         * by; the refusal lists the valid ones. Removing is always allowed. */
        ck_assert_int_eq(reference_verdict(p, &admin, true, &t_infobip, "alerts", true, msg, sizeof msg),
                         OV_ERR_INVALID_ARGS);
        ck_assert_ptr_nonnull(strstr(msg, "alerts"));
        ck_assert_ptr_nonnull(strstr(msg, "call-center-surveys"));
        ck_assert_int_eq(reference_verdict(p, &root, true, &t_infobip, "bogus", true, NULL, 0), OV_ERR_INVALID_ARGS);
        ck_assert_int_eq(reference_verdict(p, &admin, true, NULL, "alerts", true, NULL, 0), OV_ERR_INVALID_ARGS);
        ck_assert_int_eq(reference_verdict(p, &admin, true, &t_infobip, "alerts", false, NULL, 0), OV_OK);
}
END_TEST

/* ---- actions ---- */

/* The defaults of the shipped actions.json, per role: each caller below holds
 * exactly one way in. */
START_TEST(test_every_action_for_every_role) {
        _cleanup_(policy_freep) Policy *p = load_ok();
        static const char *const actions[] = {
                ACTION_LIST, ACTION_ADD, ACTION_UPDATE, ACTION_DELETE,
                ACTION_REFERENCE, ACTION_RESOLVE, ACTION_ROTATE, ACTION_MANAGE,
        };
        enum { MEMBER, ADMIN, CONSUMER, ROOT, OUTSIDER, N_CALLERS };
        /* rows follow actions[], columns the callers */
        static const bool expected[][N_CALLERS] = {
                /* list */      { true,  true,  false, true,  false },
                /* add */       { false, true,  false, true,  false },
                /* update */    { false, true,  false, true,  false },
                /* delete */    { false, true,  false, true,  false },
                /* reference */ { false, true,  true,  true,  false },
                /* resolve */   { false, false, true,  false, false },
                /* rotate */    { false, true,  false, true,  false },
                /* manage */    { false, false, false, true,  false },
        };
        Caller callers[N_CALLERS] = {
                [MEMBER] = CALLER(uid_of(USER_ALICE)),
                [ADMIN] = CALLER(uid_of(USER_BOB)),
                [CONSUMER] = CALLER(UID_CONSUMER),
                [ROOT] = CALLER(0),
                [OUTSIDER] = CALLER(UID_OUTSIDER),
        };

        for (size_t a = 0; a < ELEMENTSOF(actions); a++)
                for (size_t c = 0; c < N_CALLERS; c++) {
                        /* vault-wide actions take no org */
                        const char *org = strcmp(actions[a], ACTION_MANAGE) == 0 ? NULL : "acme";

                        ck_assert_msg(policy_may(p, org, actions[a], &callers[c]) == expected[a][c],
                                      "%s for caller %zu: expected %d", actions[a], c, expected[a][c]);
                        /* and never in an org that does not exist */
                        ck_assert(!policy_may(p, "nope", actions[a], &callers[c]));
                }
        ck_assert(!policy_may(p, "acme", "io.orgvault.secret.frobnicate", &callers[ROOT]));
        ck_assert(!policy_may(p, "acme", ACTION_LIST, NULL));
}
END_TEST

/* policy_may follows the file, not built-in defaults. */
START_TEST(test_actions_json_is_enforced) {
        _cleanup_(policy_freep) Policy *p = NULL;
        Caller alice = CALLER(uid_of(USER_ALICE));
        Caller bob = CALLER(uid_of(USER_BOB));

        write_text(data_dir, "actions.json",
                   "{\"actions\": {"
                   "\"io.orgvault.secret.list\": {\"description\": \"x\", \"roles\": [\"admin\"]},"
                   "\"io.orgvault.secret.add\": {\"description\": \"x\", \"roles\": [\"member\"]},"
                   "\"io.orgvault.secret.update\": {\"description\": \"x\", \"roles\": []},"
                   "\"io.orgvault.secret.delete\": {\"description\": \"x\", \"roles\": []},"
                   "\"io.orgvault.secret.reference\": {\"description\": \"x\", \"roles\": []},"
                   "\"io.orgvault.secret.resolve\": {\"description\": \"x\", \"roles\": [\"consumer\"]},"
                   "\"io.orgvault.org.rotate-keys\": {\"description\": \"x\", \"roles\": []},"
                   "\"io.orgvault.vault.manage\": {\"description\": \"x\", \"roles\": []}}}");
        p = load_ok();
        ck_assert(!policy_may(p, "acme", ACTION_LIST, &alice));
        ck_assert(policy_may(p, "acme", ACTION_LIST, &bob));
        ck_assert(policy_may(p, "acme", ACTION_ADD, &alice));
        ck_assert(!policy_may(p, "acme", ACTION_UPDATE, &bob));
        ck_assert(!policy_may(p, NULL, ACTION_MANAGE, &CALLER(0)));
}
END_TEST

static void assert_actions_refused(const char *text, const char *why) {
        Policy *p = NULL;
        char *error = NULL;

        write_text(data_dir, "actions.json", text);
        ck_assert_int_lt(policy_load(&p, config_dir, data_dir, &error), 0);
        ck_assert_ptr_null(p);
        ck_assert_ptr_nonnull(error);
        ck_assert_msg(strstr(error, "actions.json") && strstr(error, why), "message \"%s\" lacks \"%s\"", error, why);
        free(error);
}

START_TEST(test_broken_actions_json_fails_load) {
        char path[PATH_MAX];

        assert_actions_refused("{\"actions\": ", "line");
        assert_actions_refused("[]", "JSON object");
        assert_actions_refused("{\"actions\": {}, \"extra\": 1}", "unknown key \"extra\"");
        assert_actions_refused("{\"actions\": {\"io.orgvault.secret.list\": {\"description\": \"x\", \"roles\": [\"member\"]}}}",
                               "is missing");
        assert_actions_refused("{\"actions\": {\"io.orgvault.secret.list\": {\"description\": \"x\", \"roles\": [\"owner\"]}}}",
                               "roles[0]");
        assert_actions_refused("{\"actions\": {\"io.orgvault.secret.peek\": {\"description\": \"x\", \"roles\": []}}}",
                               "unknown action");
        assert_actions_refused("{\"actions\": {\"io.orgvault.secret.list\": {\"roles\": [\"member\"]}}}",
                               "description");
        /* the shipped file with resolve opened to people */
        assert_actions_refused("{\"actions\": {\"io.orgvault.secret.resolve\": {\"description\": \"x\", \"roles\": [\"consumer\", \"admin\"]}}}",
                               "consumers only");
        assert_actions_refused("{\"actions\": {\"io.orgvault.secret.resolve\": {\"description\": \"x\", \"roles\": [\"root\"]}}}",
                               "consumers only");
        snprintf(path, sizeof path, "%s/actions.json", data_dir);
        ck_assert_int_eq(unlink(path), 0);
        {
                Policy *p = NULL;
                char *error = NULL;

                ck_assert_int_eq(policy_load(&p, config_dir, data_dir, &error), -ENOENT);
                ck_assert_ptr_nonnull(error);
                ck_assert_ptr_nonnull(strstr(error, "actions.json"));
                free(error);
        }
}
END_TEST

/* ---- broken org files ---- */

START_TEST(test_broken_files_close_their_org) {
        static const struct {
                const char *file, *org, *text, *why;
        } broken[] = {
                { "badjson.json", "badjson", "{\"org\": \"badjson\",", "line" },
                { "mismatch.json", "mismatch", "{\"org\": \"acme\"}", "named for" },
                { "badname.json", "badname", "{\"org\": \"Bad_Name\"}", "not a valid org name" },
                { "types.json", "types", "{\"org\": \"types\", \"members\": {\"users\": \"" USER_ALICE "\"}}", "members.users" },
                { "negative.json", "negative", "{\"org\": \"negative\", \"admins\": {\"uids\": [-1]}}", "admins.uids[0]" },
                { "unknownkey.json", "unknownkey", "{\"org\": \"unknownkey\", \"owners\": {}}", "unknown key \"owners\"" },
                { "nested.json", "nested", "{\"org\": \"nested\", \"members\": {\"user\": []}}", "unknown key \"user\"" },
                { "nofeatures.json", "nofeatures",
                  "{\"org\": \"nofeatures\", \"consumers\": [{\"name\": \"x\", \"uids\": [0], \"features\": []}]}", "at least one feature" },
                { "dupconsumer.json", "dupconsumer",
                  "{\"org\": \"dupconsumer\", \"consumers\": [{\"name\": \"x\", \"features\": [\"a\"]}, {\"name\": \"x\", \"features\": [\"b\"]}]}",
                  "two consumers" },
                { "dupkey.json", "dupkey", "{\"org\": \"dupkey\", \"members\": {}, \"members\": {}}", "duplicate" },
                { "array.json", "array", "[]", "JSON object" },
        };
        _cleanup_(policy_freep) Policy *p = NULL;
        _cleanup_strv_free_ char **names = NULL;
        Caller root = CALLER(0);
        Caller alice = CALLER(uid_of(USER_ALICE));
        char path[PATH_MAX];

        for (size_t i = 0; i < ELEMENTSOF(broken); i++)
                write_text(orgs_dir, broken[i].file, broken[i].text);
        write_text(orgs_dir, "Bad_Name.json", "{\"org\": \"Bad_Name\"}");
        /* ignored: not *.json, or hidden (editor temp files) */
        write_text(orgs_dir, "README", "not json");
        write_text(orgs_dir, "acme.json~", "{");
        write_text(orgs_dir, ".#acme.json", "{");
        p = load_ok();

        for (size_t i = 0; i < ELEMENTSOF(broken); i++) {
                snprintf(path, sizeof path, "%s/%s", orgs_dir, broken[i].file);
                ck_assert_uint_eq(policy_roles(p, broken[i].org, &root), 0);
                ck_assert(!policy_org_exists(p, broken[i].org));
                ck_assert_msg(problem_mentions(p, path), "no problem for %s", path);
                for (char *const *m = policy_problems(p); *m; m++)
                        if (strstr(*m, path))
                                ck_assert_msg(strstr(*m, broken[i].why) && strstr(*m, "closed"),
                                              "problem \"%s\" lacks \"%s\"", *m, broken[i].why);
        }
        ck_assert(problem_mentions(p, "Bad_Name.json: \"Bad_Name\" is not a valid org name"));
        ck_assert_uint_eq(strv_length(policy_problems(p)), ELEMENTSOF(broken) + 1);
        /* neighbours keep working */
        ck_assert_uint_eq(policy_roles(p, "acme", &alice), ROLE_MEMBER);
        ck_assert(policy_may(p, "acme", ACTION_ADD, &root));
        names = policy_org_names(p);
        ck_assert_ptr_nonnull(names);
        ck_assert_uint_eq(strv_length(names), 1);
        ck_assert_str_eq(names[0], "acme");
}
END_TEST

START_TEST(test_unknown_names_are_reported_not_fatal) {
        _cleanup_(policy_freep) Policy *p = NULL;
        Caller alice = CALLER(uid_of(USER_ALICE));

        write_text(orgs_dir, "beta.json",
                   "{\"org\": \"beta\", \"members\": {\"users\": [\"ovtest-nosuchuser\", \"" USER_ALICE "\"],"
                   " \"groups\": [\"ovtest-nosuchgroup\"]},"
                   " \"consumers\": [{\"name\": \"c\", \"users\": [\"ovtest-nosuchsvc\"], \"features\": [\"alerts\"]}]}");
        p = load_ok();
        ck_assert(policy_org_exists(p, "beta"));
        ck_assert_uint_eq(policy_roles(p, "beta", &alice), ROLE_MEMBER);
        ck_assert(problem_mentions(p, "unknown user \"ovtest-nosuchuser\" in members.users"));
        ck_assert(problem_mentions(p, "unknown group \"ovtest-nosuchgroup\" in members.groups"));
        ck_assert(problem_mentions(p, "unknown user \"ovtest-nosuchsvc\" in consumers[0].users"));
        ck_assert_uint_eq(strv_length(policy_problems(p)), 3);
}
END_TEST

START_TEST(test_no_orgs_dir) {
        _cleanup_(policy_freep) Policy *p = NULL;
        _cleanup_strv_free_ char **names = NULL;
        char path[PATH_MAX];

        snprintf(path, sizeof path, "%s/acme.json", orgs_dir);
        ck_assert_int_eq(unlink(path), 0);
        ck_assert_int_eq(rmdir(orgs_dir), 0);
        p = load_ok();
        names = policy_org_names(p);
        ck_assert_ptr_nonnull(names);
        ck_assert_ptr_null(names[0]);
        ck_assert_ptr_null(policy_problems(p)[0]);
        ck_assert_uint_eq(policy_roles(p, "acme", &CALLER(0)), 0);
        ck_assert(policy_may(p, NULL, ACTION_MANAGE, &CALLER(0)));
}
END_TEST

/* ---- listing ---- */

START_TEST(test_caller_orgs_sorted_with_role) {
        _cleanup_(policy_freep) Policy *p = NULL;
        _cleanup_strv_free_ char **orgs = NULL, **roles = NULL;
        _cleanup_strv_free_ char **names = NULL;
        Caller alice = CALLER(uid_of(USER_ALICE));
        Caller root = CALLER(0);

        write_text(orgs_dir, "zeta.json", "{\"org\": \"zeta\", \"admins\": {\"users\": [\"" USER_ALICE "\"]}}");
        write_text(orgs_dir, "a-b.json", "{\"org\": \"a-b\", \"consumers\": [{\"name\": \"x\", \"uids\": [" "63001" "], \"features\": [\"alerts\"]}]}");
        write_text(orgs_dir, "closed.json", "{");
        p = load_ok();

        ck_assert_int_eq(policy_caller_orgs(p, &alice, &orgs, &roles), 0);
        ck_assert_uint_eq(strv_length(orgs), 2);
        ck_assert_str_eq(orgs[0], "acme");
        ck_assert_str_eq(roles[0], "member");
        ck_assert_str_eq(orgs[1], "zeta");
        ck_assert_str_eq(roles[1], "admin");
        strv_free(orgs);
        strv_free(roles);

        ck_assert_int_eq(policy_caller_orgs(p, &root, &orgs, &roles), 0);
        ck_assert_uint_eq(strv_length(orgs), 3);
        ck_assert_str_eq(orgs[0], "a-b");
        ck_assert_str_eq(orgs[1], "acme");
        ck_assert_str_eq(orgs[2], "zeta");
        for (size_t i = 0; i < 3; i++)
                ck_assert_str_eq(roles[i], "admin");
        strv_free(orgs);
        strv_free(roles);

        ck_assert_int_eq(policy_caller_orgs(p, &CALLER(UID_CONSUMER), &orgs, &roles), 0);
        ck_assert_uint_eq(strv_length(orgs), 2);
        ck_assert_str_eq(orgs[0], "a-b");
        ck_assert_str_eq(roles[0], "consumer");
        ck_assert_str_eq(orgs[1], "acme");
        ck_assert_str_eq(roles[1], "consumer");
        strv_free(orgs);
        strv_free(roles);

        ck_assert_int_eq(policy_caller_orgs(p, &CALLER(UID_OUTSIDER), &orgs, &roles), 0);
        ck_assert_ptr_null(orgs[0]);
        ck_assert_ptr_null(roles[0]);

        names = policy_org_names(p);
        ck_assert_uint_eq(strv_length(names), 3);
        ck_assert_str_eq(names[0], "a-b");
        ck_assert_str_eq(names[2], "zeta");
}
END_TEST

/* ---- reload ---- */

START_TEST(test_reload_when_changed) {
        _cleanup_(policy_freep) Policy *p = load_ok();
        Caller newcomer = CALLER(UID_OUTSIDER);
        char path[PATH_MAX];

        ck_assert_int_eq(policy_reload_if_changed(p), 0);
        ck_assert_uint_eq(policy_roles(p, "acme", &newcomer), 0);

        /* an in-place edit */
        write_text(orgs_dir, "acme.json", "{\"org\": \"acme\", \"admins\": {\"uids\": [64001]}}");
        bump_mtime(orgs_dir, "acme.json", 10);
        ck_assert_int_eq(policy_reload_if_changed(p), 1);
        ck_assert_uint_eq(policy_roles(p, "acme", &newcomer), ROLE_ADMIN | ROLE_MEMBER);
        ck_assert_uint_eq(policy_roles(p, "acme", &CALLER(uid_of(USER_ALICE))), 0);
        ck_assert_int_eq(policy_reload_if_changed(p), 0);

        /* a new file, then its removal */
        write_text(orgs_dir, "beta.json", "{\"org\": \"beta\", \"members\": {\"uids\": [64001]}}");
        ck_assert_int_eq(policy_reload_if_changed(p), 1);
        ck_assert_uint_eq(policy_roles(p, "beta", &newcomer), ROLE_MEMBER);
        snprintf(path, sizeof path, "%s/beta.json", orgs_dir);
        ck_assert_int_eq(unlink(path), 0);
        ck_assert_int_eq(policy_reload_if_changed(p), 1);
        ck_assert(!policy_org_exists(p, "beta"));

        /* a file that breaks closes its org, a fix reopens it */
        write_text(orgs_dir, "acme.json", "{\"org\": \"acme\", \"admins\": {\"uids\": \"64001\"}}");
        bump_mtime(orgs_dir, "acme.json", 20);
        ck_assert_int_eq(policy_reload_if_changed(p), 1);
        ck_assert_uint_eq(policy_roles(p, "acme", &newcomer), 0);
        ck_assert_uint_eq(policy_roles(p, "acme", &CALLER(0)), 0);
        ck_assert(problem_mentions(p, "acme.json"));
        write_text(orgs_dir, "acme.json", acme_json);
        bump_mtime(orgs_dir, "acme.json", 30);
        ck_assert_int_eq(policy_reload_if_changed(p), 1);
        ck_assert_uint_eq(policy_roles(p, "acme", &CALLER(uid_of(USER_ALICE))), ROLE_MEMBER);
        ck_assert_ptr_null(policy_problems(p)[0]);
}
END_TEST

START_TEST(test_reload_with_broken_actions_fails_closed) {
        _cleanup_(policy_freep) Policy *p = load_ok();
        Caller root = CALLER(0);
        Caller bob = CALLER(uid_of(USER_BOB));

        ck_assert(policy_may(p, "acme", ACTION_ADD, &bob));
        write_text(data_dir, "actions.json", "{\"actions\": {");
        bump_mtime(data_dir, "actions.json", 10);
        ck_assert_int_eq(policy_reload_if_changed(p), 1);
        ck_assert(!policy_may(p, "acme", ACTION_ADD, &bob));
        ck_assert(!policy_may(p, "acme", ACTION_LIST, &root));
        ck_assert(!policy_may(p, NULL, ACTION_MANAGE, &root));
        ck_assert_uint_eq(policy_roles(p, "acme", &root), 0);
        ck_assert(!policy_org_exists(p, "acme"));
        ck_assert(problem_mentions(p, "actions.json"));
        ck_assert_int_eq(policy_reload_if_changed(p), 0);

        copy_shipped_actions();
        bump_mtime(data_dir, "actions.json", 20);
        ck_assert_int_eq(policy_reload_if_changed(p), 1);
        ck_assert(policy_may(p, "acme", ACTION_ADD, &bob));
        ck_assert_ptr_null(policy_problems(p)[0]);
}
END_TEST

/* ---- refresh: inotify says when to look ---- */

/* Is the watch fd readable right now? */
static bool watch_ready(const Policy *p) {
        struct pollfd pfd = { .fd = policy_watch_fd(p), .events = POLLIN };

        ck_assert_int_ge(pfd.fd, 0);
        ck_assert_int_ge(poll(&pfd, 1, 0), 0);
        return pfd.revents & POLLIN;
}

static void rename_in(const char *dir, const char *from, const char *to) {
        char a[PATH_MAX], b[PATH_MAX];

        snprintf(a, sizeof a, "%s/%s", dir, from);
        snprintf(b, sizeof b, "%s/%s", dir, to);
        ck_assert_int_eq(rename(a, b), 0);
}

START_TEST(test_refresh_follows_edits) {
        _cleanup_(policy_freep) Policy *p = load_ok();
        Caller newcomer = CALLER(UID_OUTSIDER);
        Caller bob = CALLER(uid_of(USER_BOB));

        ck_assert(!watch_ready(p));
        ck_assert_int_eq(policy_refresh(p), 0);

        /* an editor's save: a temp file renamed over the original */
        write_text(orgs_dir, ".acme.json.swp", "{\"org\": \"acme\", \"members\": {\"uids\": [64001]}}");
        rename_in(orgs_dir, ".acme.json.swp", "acme.json");
        ck_assert(watch_ready(p));
        ck_assert_int_eq(policy_refresh(p), 1);
        ck_assert_uint_eq(policy_roles(p, "acme", &newcomer), ROLE_MEMBER);
        ck_assert(!watch_ready(p));
        ck_assert_int_eq(policy_refresh(p), 0);

        /* rewritten in place (same size, mtime moved), then chmod'ed: an
         * event each time, a reload only when the stat differs */
        write_text(orgs_dir, "acme.json", "{\"org\": \"acme\", \"admins\": {\"uids\": [64001]}}");
        bump_mtime(orgs_dir, "acme.json", 10);
        ck_assert_int_eq(policy_refresh(p), 1);
        ck_assert_uint_eq(policy_roles(p, "acme", &newcomer), ROLE_ADMIN | ROLE_MEMBER);

        /* actions.json replaced: the data dir is watched too */
        write_text(data_dir, "actions.json.new", "{\"actions\": {");
        rename_in(data_dir, "actions.json.new", "actions.json");
        ck_assert_int_eq(policy_refresh(p), 1);
        ck_assert(!policy_may(p, "acme", ACTION_LIST, &bob));
        copy_shipped_actions();
        ck_assert_int_eq(policy_refresh(p), 1);

        /* a new org file, then its removal */
        write_text(orgs_dir, "beta.json", "{\"org\": \"beta\", \"members\": {\"uids\": [64001]}}");
        ck_assert_int_eq(policy_refresh(p), 1);
        ck_assert_uint_eq(policy_roles(p, "beta", &newcomer), ROLE_MEMBER);
        char path[PATH_MAX];
        snprintf(path, sizeof path, "%s/beta.json", orgs_dir);
        ck_assert_int_eq(unlink(path), 0);
        ck_assert_int_eq(policy_refresh(p), 1);
        ck_assert(!policy_org_exists(p, "beta"));
        ck_assert_int_eq(policy_refresh(p), 0);
}
END_TEST

/* orgs.d may come later, and go and come back: its parent is watched. */
START_TEST(test_refresh_orgs_dir_appears) {
        char path[PATH_MAX], moved[300];
        Caller newcomer = CALLER(UID_OUTSIDER);

        snprintf(path, sizeof path, "%s/acme.json", orgs_dir);
        ck_assert_int_eq(unlink(path), 0);
        ck_assert_int_eq(rmdir(orgs_dir), 0);
        _cleanup_(policy_freep) Policy *p = load_ok();
        ck_assert(!policy_org_exists(p, "acme"));
        ck_assert_int_eq(policy_refresh(p), 0);

        ck_assert_int_eq(mkdir(orgs_dir, 0755), 0);
        ck_assert_int_eq(policy_refresh(p), 1);        /* the directory is new */
        /* a file made in the new directory after that refresh is seen by
         * the watch the refresh added */
        write_text(orgs_dir, "acme.json", "{\"org\": \"acme\", \"members\": {\"uids\": [64001]}}");
        ck_assert(watch_ready(p));
        ck_assert_int_eq(policy_refresh(p), 1);
        ck_assert_uint_eq(policy_roles(p, "acme", &newcomer), ROLE_MEMBER);

        /* the whole directory swapped for another */
        snprintf(moved, sizeof moved, "%s/orgs.d.old", config_dir);
        ck_assert_int_eq(rename(orgs_dir, moved), 0);
        ck_assert_int_eq(policy_refresh(p), 1);
        ck_assert(!policy_org_exists(p, "acme"));
        ck_assert_int_eq(mkdir(orgs_dir, 0755), 0);
        write_text(orgs_dir, "beta.json", "{\"org\": \"beta\", \"admins\": {\"uids\": [64001]}}");
        ck_assert_int_eq(policy_refresh(p), 1);
        ck_assert_uint_eq(policy_roles(p, "beta", &newcomer), ROLE_ADMIN | ROLE_MEMBER);
        write_text(orgs_dir, "gamma.json", "{\"org\": \"gamma\", \"members\": {\"uids\": [64001]}}");
        ck_assert_int_eq(policy_refresh(p), 1);
        ck_assert(policy_org_exists(p, "gamma"));
        /* the old directory is no longer watched: edits there change nothing */
        write_text(moved, "delta.json", "{\"org\": \"delta\", \"members\": {\"uids\": [64001]}}");
        ck_assert_int_eq(policy_refresh(p), 0);
        ck_assert(!policy_org_exists(p, "delta"));
        snprintf(path, sizeof path, "%s/delta.json", moved);
        ck_assert_int_eq(unlink(path), 0);
        snprintf(path, sizeof path, "%s/acme.json", moved);
        ck_assert_int_eq(unlink(path), 0);
        ck_assert_int_eq(rmdir(moved), 0);
}
END_TEST

/* ---- users and groups for the NSS cases ---- */

static int run(const char *const argv[]) {
        pid_t pid = fork();
        int status;

        if (pid < 0)
                return -1;
        if (pid == 0) {
                int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
                if (null >= 0) {
                        dup2(null, STDOUT_FILENO);
                        dup2(null, STDERR_FILENO);
                }
                execvp(argv[0], (char *const *) argv);
                _exit(127);
        }
        if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status))
                return -1;
        return WEXITSTATUS(status);
}

/* groupadd/useradd exit 9 when the name exists; other test suites may hold
 * the passwd lock for a moment, so retry a little. */
static void ensure_account(bool group, const char *name) {
        const char *const gargv[] = { "groupadd", "-r", name, NULL };
        const char *const uargv[] = { "useradd", "-r", "-M", "-N", "-s", "/usr/sbin/nologin", name, NULL };

        for (int i = 0; i < 20; i++) {
                int r = run(group ? gargv : uargv);
                if (r == 0 || r == 9)
                        return;
                usleep(100 * 1000);
        }
        fprintf(stderr, "cannot create %s %s\n", group ? "group" : "user", name);
}

int main(void) {
        Suite *s = suite_create("policy");
        TCase *tc = tcase_create("policy");

        ensure_account(true, GROUP_MEMBERS);
        ensure_account(true, GROUP_ADMINS);
        ensure_account(false, USER_ALICE);
        ensure_account(false, USER_BOB);
        ensure_account(false, USER_SVC);

        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, test_member_by_user);
        tcase_add_test(tc, test_member_by_group);
        tcase_add_test(tc, test_member_by_uid_and_gid);
        tcase_add_test(tc, test_admin_implies_member);
        tcase_add_test(tc, test_root_is_admin_of_open_orgs_only);
        tcase_add_test(tc, test_root_consumer_when_listed);
        tcase_add_test(tc, test_unknown_org_and_outsider);
        tcase_add_test(tc, test_consumer_by_uid_user_and_unit);
        tcase_add_test(tc, test_consumer_features_vs_type);
        tcase_add_test(tc, test_may_resolve);
        tcase_add_test(tc, test_may_resolve_absent_to_a_lister);
        tcase_add_test(tc, test_may_reference);
        tcase_add_test(tc, test_every_action_for_every_role);
        tcase_add_test(tc, test_actions_json_is_enforced);
        tcase_add_test(tc, test_broken_actions_json_fails_load);
        tcase_add_test(tc, test_broken_files_close_their_org);
        tcase_add_test(tc, test_unknown_names_are_reported_not_fatal);
        tcase_add_test(tc, test_no_orgs_dir);
        tcase_add_test(tc, test_caller_orgs_sorted_with_role);
        tcase_add_test(tc, test_reload_when_changed);
        tcase_add_test(tc, test_reload_with_broken_actions_fails_closed);
        tcase_add_test(tc, test_refresh_follows_edits);
        tcase_add_test(tc, test_refresh_orgs_dir_appears);
        suite_add_tcase(s, tc);
        return check_main_run(s);
}
