/* SPDX-License-Identifier: Apache-2.0 */
/* Does what systemd does for LoadCredential=ID:/path/to/socket: binds the
 * abstract address "\0<random hex>/unit/<unit>/<id>", connects, shuts down
 * its write side and reads to EOF (at most 1 MiB), then prints what it got.
 *
 *   cred-client SOCKET UNIT CREDENTIAL-ID
 *   cred-client --address=ADDR SOCKET     bind ADDR ('@' first = abstract; "" = no bind)
 *   cred-client --stall=SEC ...           connect, then neither shut down nor read for SEC
 *
 * Exits 0 when the read reached EOF (an empty credential included). */

#include <errno.h>
#include <getopt.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define CREDENTIAL_MAX (1024 * 1024)

static int bind_address(int fd, const char *addr) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        size_t n = strlen(addr);

        if (n > sizeof(sa.sun_path)) {
                fprintf(stderr, "address too long for sun_path (%zu bytes)\n", n);
                return -1;
        }
        memcpy(sa.sun_path, addr, n);
        if (addr[0] == '@')
                sa.sun_path[0] = 0;
        if (bind(fd, (struct sockaddr *) &sa, (socklen_t) (offsetof(struct sockaddr_un, sun_path) + n)) < 0) {
                perror("bind");
                return -1;
        }
        return 0;
}

int main(int argc, char *argv[]) {
        static const struct option options[] = {
                { "address", required_argument, NULL, 'a' },
                { "stall",   required_argument, NULL, 's' },
                {}
        };
        const char *address = NULL;
        char generated[256];
        unsigned stall = 0;
        int c;

        while ((c = getopt_long(argc, argv, "", options, NULL)) >= 0)
                switch (c) {
                case 'a': address = optarg; break;
                case 's': stall = (unsigned) strtoul(optarg, NULL, 10); break;
                default: return 2;
                }
        if (argc - optind != (address ? 1 : 3)) {
                fprintf(stderr, "usage: cred-client [--stall=SEC] SOCKET UNIT CREDENTIAL-ID | --address=ADDR SOCKET\n");
                return 2;
        }
        const char *path = argv[optind];
        if (!address) {
                uint64_t rnd;
                if (getrandom(&rnd, sizeof(rnd), 0) != sizeof(rnd))
                        return 1;
                snprintf(generated, sizeof(generated), "@%016llx/unit/%s/%s",
                         (unsigned long long) rnd, argv[optind + 1], argv[optind + 2]);
                address = generated;
        }

        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0) {
                perror("socket");
                return 1;
        }
        if (address[0] && bind_address(fd, address) < 0)
                return 1;
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        if (strlen(path) >= sizeof(sa.sun_path))
                return 2;
        strcpy(sa.sun_path, path);
        if (connect(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0) {
                perror("connect");
                return 1;
        }
        if (stall > 0) {
                /* Tells the test it is connected (it waits for this line). */
                fputs("connected\n", stdout);
                fflush(stdout);
                sleep(stall);
                return 0;
        }
        (void) shutdown(fd, SHUT_WR);

        static char buf[CREDENTIAL_MAX];
        size_t len = 0;
        for (;;) {
                if (len == sizeof(buf)) {
                        fprintf(stderr, "credential larger than 1 MiB\n");
                        return 1;
                }
                ssize_t n = read(fd, buf + len, sizeof(buf) - len);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        perror("read");
                        return 1;
                }
                if (n == 0)
                        break;
                len += (size_t) n;
        }
        close(fd);
        if (fwrite(buf, 1, len, stdout) != len)
                return 1;
        return 0;
}
