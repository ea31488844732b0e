/* SPDX-License-Identifier: Apache-2.0 */
/* What policy.c (watching, reloading, deciding) and policy-parse.c (reading
 * the files into a PolicyState) share. Private to the two. */
#pragma once

#include <dirent.h>

#include "policy.h"

#define N_ACTIONS 8              /* the ACTION_* ids of policy.h */

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

typedef struct PolicyOrg {
        char *name;
        bool open;               /* false: its file is broken, nobody has a role */
        IdSet members;
        IdSet admins;
        ConsumerEntry *consumers;
        size_t n_consumers;
} PolicyOrg;

/* What one load produced. All zero (no orgs, no action held) is "closed". */
typedef struct PolicyState {
        unsigned action_roles[N_ACTIONS];
        PolicyOrg *orgs;               /* sorted by name */
        size_t n_orgs;
        char **problems;
} PolicyState;


/* Loads everything into *ret; fails only for actions.json (message in
 * *ret_error) or lack of memory. Problems with org files are logged and
 * kept in ret->problems. */
int policy_state_load(const char *config_dir, const char *data_dir, PolicyState *ret, char **ret_error);
void policy_state_clear(PolicyState *st);
/* The parts of a load, for fuzz-policy (no files or directories per input):
 * actions.json's roles, and one orgs.d entry's bytes into *o as the load
 * parses it (1: *o holds an org, 0: the name is no org; problems appended). */
int policy_actions_load(const char *data_dir, unsigned roles[static N_ACTIONS], char **ret_error);
int policy_org_from_text(const char *dir, const char *name, const char *buf, size_t len, PolicyOrg *o,
                         char ***problems);
/* A Policy deciding over st (taken), watching nothing: never reloads. */
int policy_new_from_state(Policy **ret, PolicyState *st);
/* Index of an action id in PolicyState.action_roles, or -1. */
int policy_action_index(const char *id);
/* The *.json entries of an orgs.d directory, sorted. */
int policy_list_files(DIR *d, char ***ret);

static inline void closedirp(DIR **d) {
        if (*d)
                closedir(*d);
}
