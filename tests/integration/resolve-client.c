/* SPDX-License-Identifier: Apache-2.0 */
/* Calls Resolve(org, id) the way a consumer does and prints the value read
 * from the returned fd. Checks what docs/API.md promises of that fd: a memfd
 * sealed against write, grow and shrink, readable from its start.
 *
 *   resolve-client BUS-ADDRESS ORG ID
 *
 * Exit 0: value on stdout. Exit 1: the call failed; the D-Bus error name is
 * on stderr. Exit 3: the fd broke a promise (message on stderr). */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <systemd/sd-bus.h>

#define VALUE_MAX (1024 * 1024)

static int check_fd(int fd) {
        int seals = fcntl(fd, F_GET_SEALS);
        const int want = F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK;

        if (seals < 0) {
                fprintf(stderr, "F_GET_SEALS failed (not a memfd?): %s\n", strerror(errno));
                return -1;
        }
        if ((seals & want) != want) {
                fprintf(stderr, "seals 0x%x lack write/grow/shrink (0x%x)\n", (unsigned) seals, (unsigned) want);
                return -1;
        }
        if (write(fd, "x", 1) >= 0 || pwrite(fd, "x", 1, 0) >= 0) {
                fprintf(stderr, "the fd accepted a write\n");
                return -1;
        }
        return 0;
}

int main(int argc, char *argv[]) {
        sd_bus *bus = NULL;
        sd_bus_message *reply = NULL;
        sd_bus_error error = SD_BUS_ERROR_NULL;
        int r, fd, ret = 1;

        if (argc != 4) {
                fprintf(stderr, "usage: resolve-client BUS-ADDRESS ORG ID\n");
                return 2;
        }
        r = sd_bus_new(&bus);
        if (r >= 0)
                r = sd_bus_set_address(bus, argv[1]);
        if (r >= 0)
                r = sd_bus_set_bus_client(bus, 1);
        if (r >= 0)
                r = sd_bus_negotiate_fds(bus, 1);
        if (r >= 0)
                r = sd_bus_start(bus);
        if (r < 0) {
                fprintf(stderr, "cannot connect to %s: %s\n", argv[1], strerror(-r));
                goto out;
        }
        r = sd_bus_call_method(bus, "io.orgvault.Vault1", "/io/orgvault/Vault1", "io.orgvault.Vault1.Manager",
                               "Resolve", &error, &reply, "ss", argv[2], argv[3]);
        if (r < 0) {
                fprintf(stderr, "%s: %s\n", error.name ?: "error", error.message ?: strerror(-r));
                goto out;
        }
        r = sd_bus_message_read(reply, "h", &fd);
        if (r < 0) {
                fprintf(stderr, "reply is not 'h': %s\n", strerror(-r));
                goto out;
        }
        ret = 3;
        if (check_fd(fd) < 0)
                goto out;

        struct stat st;
        static char buf[VALUE_MAX];
        size_t len = 0;
        if (fstat(fd, &st) < 0 || st.st_size <= 0 || st.st_size > VALUE_MAX) {
                fprintf(stderr, "the fd holds no value (or too much)\n");
                goto out;
        }
        /* read(), as a consumer would: the daemon must leave the offset at 0. */
        for (;;) {
                ssize_t n = read(fd, buf + len, sizeof(buf) - len);
                if (n < 0) {
                        fprintf(stderr, "read: %s\n", strerror(errno));
                        goto out;
                }
                if (n == 0)
                        break;
                len += (size_t) n;
        }
        if (len != (size_t) st.st_size) {
                fprintf(stderr, "read %zu of %lld bytes: the fd offset was not at the start\n", len,
                        (long long) st.st_size);
                goto out;
        }
        if (fwrite(buf, 1, len, stdout) != len)
                goto out;
        ret = 0;
out:
        sd_bus_error_free(&error);
        sd_bus_message_unref(reply);
        sd_bus_flush_close_unref(bus);
        return ret;
}
