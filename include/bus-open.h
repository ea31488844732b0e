/* SPDX-License-Identifier: Apache-2.0 */
/* Connecting to the bus orgvault lives on, for the daemon and the CLI. */
#pragma once

#include <systemd/sd-bus.h>

/* The system bus when address is NULL, else a client connection to the bus
 * at address (a private dbus-daemon: tools/dev-run, the tests). 0 or -errno. */
int bus_open(const char *address, const char *description, sd_bus **ret);
