/* SPDX-License-Identifier: Apache-2.0 */
/* What a secret picker does: ask the ObjectManager for the objects it may
 * see, then print each signal the vault sends this connection, one line
 * each, until SIGTERM:
 *
 *   <path>: <interface>.<member> <object path or invalidated properties>
 *
 * Usage: watch-client ADDRESS    (prints "ready" once subscribed) */

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <systemd/sd-bus.h>

static int print_signal(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        const char *interface = sd_bus_message_get_interface(m), *member = sd_bus_message_get_member(m);
        uint8_t type = 0;

        if (sd_bus_message_get_type(m, &type) < 0 || type != SD_BUS_MESSAGE_SIGNAL || !interface || !member ||
            strncmp(interface, "org.freedesktop.DBus.", 21) != 0 || strcmp(interface, "org.freedesktop.DBus") == 0)
                return 0;
        printf("%s: %s.%s", sd_bus_message_get_path(m), interface, member);
        if (strcmp(member, "InterfacesAdded") == 0 || strcmp(member, "InterfacesRemoved") == 0) {
                const char *path;
                if (sd_bus_message_read(m, "o", &path) >= 0)
                        printf(" %s", path);
        } else if (strcmp(member, "PropertiesChanged") == 0) {
                const char *iface, *name;
                if (sd_bus_message_read(m, "s", &iface) >= 0 && sd_bus_message_skip(m, "a{sv}") >= 0 &&
                    sd_bus_message_enter_container(m, 'a', "s") >= 0)
                        while (sd_bus_message_read(m, "s", &name) > 0)
                                printf(" '%s'", name);
        }
        putchar('\n');
        fflush(stdout);
        return 0;
}

int main(int argc, char *argv[]) {
        sd_bus_message *reply = NULL;
        sd_bus_error error = SD_BUS_ERROR_NULL;
        sd_bus *bus = NULL;
        int r;

        if (argc != 2) {
                fprintf(stderr, "Usage: %s ADDRESS\n", argv[0]);
                return 2;
        }
        signal(SIGTERM, SIG_DFL);
        r = sd_bus_new(&bus);
        if (r >= 0)
                r = sd_bus_set_address(bus, argv[1]);
        if (r >= 0)
                r = sd_bus_set_bus_client(bus, 1);
        if (r >= 0)
                r = sd_bus_start(bus);
        if (r >= 0)
                r = sd_bus_add_filter(bus, NULL, print_signal, NULL);
        if (r < 0) {
                fprintf(stderr, "Cannot connect to %s: %s\n", argv[1], strerror(-r));
                return 1;
        }
        r = sd_bus_call_method(bus, "io.orgvault.Vault1", "/io/orgvault/Vault1", "org.freedesktop.DBus.ObjectManager",
                               "GetManagedObjects", &error, &reply, NULL);
        if (r < 0) {
                fprintf(stderr, "GetManagedObjects: %s\n", error.message ?: strerror(-r));
                return 1;
        }
        sd_bus_message_unref(reply);
        printf("ready\n");
        fflush(stdout);
        for (;;) {
                r = sd_bus_process(bus, NULL);
                if (r < 0)
                        return 1;
                if (r == 0 && sd_bus_wait(bus, UINT64_MAX) < 0)
                        return 1;
        }
}
