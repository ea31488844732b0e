/* SPDX-License-Identifier: Apache-2.0 */
/* pam_orgvault's one request to orgvaultd: ResolveForUser (docs/API.md). */
#pragma once

#include <systemd/sd-bus.h>

/* The system bus's fixed address: sd_bus_open_system() would take
 * $DBUS_SYSTEM_BUS_ADDRESS, and su, sudo and cron run PAM with environments a
 * user controls. */
#define PAM_OV_SYSTEM_BUS_ADDRESS "unix:path=/run/dbus/system_bus_socket"
#define PAM_OV_CALL_TIMEOUT_USEC (25 * 1000000ULL)   /* covers an activation */
#define PAM_OV_VALUE_MAX (1024 * 1024)

/* Connects to address (NULL: the system bus). Returns 0 or -errno. */
int pam_vault_connect(const char *address, sd_bus **ret);

/* Asks for one credential on behalf of user, naming the PAM service for the
 * audit trail. 0 with the value in *ret_value (malloc'd, the caller wipes and
 * frees it) and its length; else -errno with error set when the daemon
 * answered with a D-Bus error. */
int pam_vault_resolve(sd_bus *bus, const char *user, const char *service, const char *credential,
                      char **ret_value, size_t *ret_len, sd_bus_error *error);
