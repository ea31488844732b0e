/* SPDX-License-Identifier: Apache-2.0 */
/* An org policy file (orgs.d/<org>.json): the bytes go through the parser a
 * policy load uses for each orgs.d entry (policy_org_from_text), with the
 * shipped actions.json read once, then the checks every call makes, for a
 * few callers. No file or directory per input: policy_load's own file
 * handling (listing, reading, inotify) is covered by test-policy and costs
 * more than the parse it feeds. */

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz-common.h"
#include "policy-internal.h"

static const char *const actions[] = {
        ACTION_LIST, ACTION_ADD, ACTION_UPDATE, ACTION_DELETE,
        ACTION_REFERENCE, ACTION_RESOLVE, ACTION_ROTATE, ACTION_MANAGE,
};

static const gid_t gids_user[] = { 1000, 100 };
static const gid_t gids_none[] = { 65534 };
static const Caller callers[] = {
        { .uid = 0, .gids = NULL, .n_gids = 0 },
        { .uid = 1000, .gids = gids_user, .n_gids = ELEMENTSOF(gids_user) },
        { .uid = 65534, .gids = gids_none, .n_gids = ELEMENTSOF(gids_none) },
        { .uid = 0, .unit = "acme-alertd.service" },
};

static unsigned action_roles[N_ACTIONS];
static SecretType *slack;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
        _cleanup_free_ char *error = NULL;

        fuzz_setup();
        if (policy_actions_load(FUZZ_DATA_DIR, action_roles, &error) < 0 ||
            secret_type_load_file(FUZZ_DATA_DIR "/types.d/slack-webhook.json", &slack, &error) < 0) {
                fprintf(stderr, "fuzz setup: %s\n", error ? error : "out of memory");
                abort();
        }
        return 0;
}

static void check_caller(const Policy *p, const Caller *c) {
        _cleanup_strv_free_ char **orgs = NULL, **roles = NULL;
        unsigned r = policy_roles(p, FUZZ_ORG, c);

        (void) role_to_string(r);
        for (size_t i = 0; i < ELEMENTSOF(actions); i++) {
                (void) policy_may(p, FUZZ_ORG, actions[i], c);
                (void) policy_may(p, NULL, actions[i], c);
        }
        const Consumer *k = policy_consumer(p, FUZZ_ORG, c);
        if (k)
                (void) consumer_may_use_type(k, slack);
        /* The consumer rules: a grant names a consumer; a refusal is named. */
        for (int exists = 0; exists <= 1; exists++) {
                const Consumer *granted = NULL;
                OvError e = {}, e2 = {};
                if (policy_may_resolve(p, FUZZ_ORG, "x", c, exists, slack, &granted, &e) == 0 ? !granted
                                                                                            : e.code == OV_OK)
                        abort();
                if ((policy_may_reference(p, FUZZ_ORG, "x", c, exists, slack, "alerts", exists, &e2) < 0) !=
                    (e2.code != OV_OK))
                        abort();
        }
        if (policy_caller_orgs(p, c, &orgs, &roles) == 0 && strv_length(orgs) != strv_length(roles))
                abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_(policy_freep) Policy *p = NULL;
        _cleanup_strv_free_ char **names = NULL;
        _cleanup_(policy_state_clear) PolicyState st = {};
        int r;

        memcpy(st.action_roles, action_roles, sizeof action_roles);
        st.orgs = calloc(1, sizeof(PolicyOrg));
        if (!st.orgs)
                abort();
        r = policy_org_from_text("orgs.d", FUZZ_ORG ".json", (const char *) data, size, &st.orgs[0], &st.problems);
        if (r < 0)
                return 0;        /* out of memory */
        st.n_orgs = (size_t) r;
        if (policy_new_from_state(&p, &st) < 0)
                abort();

        (void) policy_problems(p);
        (void) policy_org_exists(p, FUZZ_ORG);
        names = policy_org_names(p);
        for (size_t i = 0; i < ELEMENTSOF(callers); i++)
                check_caller(p, &callers[i]);
        return 0;
}
