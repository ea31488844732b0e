/* SPDX-License-Identifier: Apache-2.0 */
/* What the daemon's bus code shares: the service's state, the caller's
 * identity as the bus reports it, and the two object registrations. */
#pragma once

#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "policy.h"
#include "vault.h"

#define OV_BUS_NAME "io.orgvault.Vault1"
#define OV_OBJECT_PATH "/io/orgvault/Vault1"
#define OV_MANAGER_INTERFACE "io.orgvault.Vault1.Manager"
#define OV_SECRET_INTERFACE "io.orgvault.Vault1.Secret"
#define OV_SECRET_PREFIX "/io/orgvault/Vault1/secret"

/* A bus caller as dbus-daemon reports it (GetConnectionCredentials). */
typedef struct BusCaller {
        uid_t uid;
        pid_t pid;               /* 0 when the bus did not say */
        gid_t *gids;             /* primary + supplementary */
        size_t n_gids;
        Caller policy;           /* the same, as the policy engine takes it */
} BusCaller;

typedef struct Manager {
        sd_event *event;
        sd_bus *bus;
        Vault *vault;
        Policy *policy;
        TypeRegistry *types;
        char **type_errors;      /* malformed type files, shown by Status */
        /* The caller of the message being dispatched, asked once per message
         * (object lookups ask for it once per object). */
        sd_bus_message *caller_message;
        BusCaller caller;
} Manager;

/* The caller of m (borrowed, valid while m is dispatched). */
int manager_get_caller(Manager *m, sd_bus_message *message, const BusCaller **ret);
void manager_forget_caller(Manager *m);

int bus_manager_register(Manager *m);   /* /io/orgvault/Vault1: Manager + ObjectManager */
int bus_secrets_register(Manager *m);   /* the secret objects below it */
/* Vault event callback: announces secrets added, changed and removed. */
void bus_secrets_on_vault_event(Vault *v, VaultEvent ev, const char *org, const Secret *s, void *userdata);
