/* SPDX-License-Identifier: Apache-2.0 */
/* The D-Bus client half of pam_orgvault. The connection lives only inside
 * one pam_sm_open_session call: sd-bus objects must not cross a fork, and
 * PAM applications fork right after the session opens. */

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pam-vault.h"

#define BUS_NAME "io.orgvault.Vault1"
#define BUS_PATH "/io/orgvault/Vault1"
#define BUS_IFACE "io.orgvault.Vault1.Manager"

int pam_vault_connect(const char *address, sd_bus **ret) {
        sd_bus *bus = NULL;
        int r;

        r = sd_bus_new(&bus);
        if (r < 0)
                return r;
        r = sd_bus_set_address(bus, address ?: PAM_OV_SYSTEM_BUS_ADDRESS);
        if (r >= 0)
                r = sd_bus_set_bus_client(bus, 1);
        if (r >= 0)
                r = sd_bus_set_description(bus, "pam_orgvault");
        if (r >= 0)
                r = sd_bus_start(bus);
        if (r < 0) {
                sd_bus_unref(bus);
                return r;
        }
        *ret = bus;
        return 0;
}

/* Reads the sealed memfd the daemon handed over, from offset 0. */
static int read_value_fd(int fd, char **ret, size_t *ret_len) {
        struct stat st;
        char *buf;
        size_t done = 0;

        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode) || st.st_size < 0 || st.st_size > PAM_OV_VALUE_MAX)
                return -EBADMSG;
        buf = malloc((size_t) st.st_size + 1);
        if (!buf)
                return -ENOMEM;
        while (done < (size_t) st.st_size) {
                ssize_t n = pread(fd, buf + done, (size_t) st.st_size - done, (off_t) done);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0) {
                        int r = n < 0 ? -errno : -EBADMSG;
                        explicit_bzero(buf, done);
                        free(buf);
                        return r;
                }
                done += (size_t) n;
        }
        buf[done] = 0;
        *ret = buf;
        *ret_len = done;
        return 0;
}

int pam_vault_resolve(sd_bus *bus, const char *user, const char *service, const char *credential,
                      char **ret_value, size_t *ret_len, sd_bus_error *error) {
        sd_bus_message *m = NULL, *reply = NULL;
        int fd, r;

        r = sd_bus_message_new_method_call(bus, &m, BUS_NAME, BUS_PATH, BUS_IFACE, "ResolveForUser");
        if (r >= 0)
                r = sd_bus_message_append(m, "sss", user, service, credential);
        if (r >= 0)
                r = sd_bus_call(bus, m, PAM_OV_CALL_TIMEOUT_USEC, error, &reply);
        if (r >= 0)
                r = sd_bus_message_read(reply, "h", &fd);
        if (r >= 0)
                r = read_value_fd(fd, ret_value, ret_len);
        sd_bus_message_unref(reply);   /* closes fd */
        sd_bus_message_unref(m);
        return r;
}
