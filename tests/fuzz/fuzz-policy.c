/* SPDX-License-Identifier: Apache-2.0 */
/* An org policy file (orgs.d/<org>.json): policy_load on a scratch config
 * dir holding the fuzzed file, with the shipped actions.json, then the checks
 * every call makes, for a few callers. */

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz-common.h"
#include "policy.h"

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

static char *config_dir;
static SecretType *slack;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
        _cleanup_free_ char *error = NULL;

        fuzz_setup();
        if (mkdir_p_at(fuzz_dir_fd(), "orgs.d", 0700) < 0)
                abort();
        config_dir = strdup(fuzz_dir());
        if (!config_dir ||
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
        _cleanup_free_ char *error = NULL;

        fuzz_write_file("orgs.d/" FUZZ_ORG ".json", data, size);
        if (policy_load(&p, config_dir, FUZZ_DATA_DIR, &error) < 0)
                return 0;

        (void) policy_problems(p);
        (void) policy_org_exists(p, FUZZ_ORG);
        names = policy_org_names(p);
        for (size_t i = 0; i < ELEMENTSOF(callers); i++)
                check_caller(p, &callers[i]);
        return 0;
}
