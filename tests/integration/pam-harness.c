/* SPDX-License-Identifier: Apache-2.0 */
/* Opens and closes a PAM session through a real libpam stack, the way su or
 * cron do, and looks at the session keyring as the session's user would.
 *
 *   pam-harness [--syslog=FILE] [--no-close] [--command=CMD] CONFDIR SERVICE USER [CREDENTIAL...]
 *
 * CONFDIR holds the test's service files (pam_start_confdir, so /etc/pam.d is
 * not touched). For each CREDENTIAL, a child drops to USER (its groups, gid,
 * uid) and reads key "orgvault:CREDENTIAL" from the session keyring it
 * inherited, printing its sha256, owner and permissions (never the value); a
 * second child drops to nobody in a keyring of its own and tries the same
 * key by serial. --command runs CMD with bash as USER inside the session, as
 * cron runs a job (its output goes to ours). After the session closes (and pam_end), each key is looked
 * for again. With --syslog, the harness runs in a mount namespace of its own
 * whose /dev/log is a socket it reads, so what modules log lands in FILE. */

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <keyutils.h>
#include <pwd.h>
#include <sched.h>
#include <security/pam_appl.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#define NOBODY 65534

static unsigned conv_calls;
static int log_fd = -1;
static FILE *log_out;

static int conv(int n, const struct pam_message **msg, struct pam_response **resp, void *data) {
        /* pam_orgvault must never talk to the user. */
        conv_calls += (unsigned) n;
        return PAM_CONV_ERR;
}

static const char *pam_code(int r) {
        switch (r) {
        case PAM_SUCCESS: return "PAM_SUCCESS";
        case PAM_SESSION_ERR: return "PAM_SESSION_ERR";
        case PAM_IGNORE: return "PAM_IGNORE";
        case PAM_BUF_ERR: return "PAM_BUF_ERR";
        case PAM_SYSTEM_ERR: return "PAM_SYSTEM_ERR";
        case PAM_PERM_DENIED: return "PAM_PERM_DENIED";
        case PAM_USER_UNKNOWN: return "PAM_USER_UNKNOWN";
        default: return "PAM_OTHER";
        }
}

static void die(const char *what) {
        fprintf(stderr, "pam-harness: %s: %m\n", what);
        exit(2);
}

/* A /dev of our own holding a syslog socket: modules' pam_syslog lands here.
 * The devices jobs need (null, tty, ...) are bound in from the real /dev,
 * parked for the moment under a temporary directory. */
static void log_sink_setup(const char *file) {
        static const char *const nodes[] = { "null", "zero", "full", "random", "urandom", "tty" };
        struct sockaddr_un sa = { .sun_family = AF_UNIX, .sun_path = "/dev/log" };
        char park[] = "/tmp/pam-harness-dev.XXXXXX", from[256], to[256];

        log_out = fopen(file, "ae");
        if (!log_out)
                die(file);
        if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
                die("mount namespace");
        if (!mkdtemp(park) || mount("/dev", park, NULL, MS_BIND | MS_REC, NULL) < 0)
                die("parking /dev");
        if (mount("tmpfs", "/dev", "tmpfs", MS_NOSUID, "mode=0755") < 0)
                die("tmpfs on /dev");
        for (size_t i = 0; i < sizeof(nodes) / sizeof(nodes[0]); i++) {
                snprintf(from, sizeof(from), "%s/%s", park, nodes[i]);
                snprintf(to, sizeof(to), "/dev/%s", nodes[i]);
                int fd = open(to, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
                if (fd < 0)
                        die(to);
                close(fd);
                if (mount(from, to, NULL, MS_BIND, NULL) < 0)
                        die(to);
        }
        /* Terminals for jobs: a devpts instance of our own, as containers do. */
        if (mkdir("/dev/pts", 0755) < 0 ||
            mount("devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0666,mode=0620") < 0 ||
            symlink("pts/ptmx", "/dev/ptmx") < 0)
                die("/dev/pts");
        if (umount2(park, MNT_DETACH) < 0 || rmdir(park) < 0)
                die("unparking /dev");
        log_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (log_fd < 0 || bind(log_fd, (struct sockaddr *) &sa, sizeof(sa)) < 0 || chmod("/dev/log", 0666) < 0)
                die("/dev/log");
}

static void log_sink_drain(void) {
        char buf[8192];
        ssize_t n;

        if (log_fd < 0)
                return;
        while ((n = recv(log_fd, buf, sizeof(buf) - 1, MSG_DONTWAIT)) > 0) {
                buf[n] = 0;
                fprintf(log_out, "%s\n", buf);
        }
        fflush(log_out);
}

static void drop_to(const struct passwd *pw) {
        gid_t groups[256];
        int n = 256;

        if (getgrouplist(pw->pw_name, pw->pw_gid, groups, &n) < 0)
                n = 0;
        if (setgroups((size_t) n, groups) < 0 || setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) < 0 ||
            setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) < 0)
                _exit(3);
}

/* Runs fn in a child, returning what it wrote (one line). */
static char *in_child(void (*fn)(int out, const void *arg), const void *arg) {
        static char line[1024];
        int p[2];
        pid_t pid;
        ssize_t n;

        if (pipe2(p, O_CLOEXEC) < 0)
                die("pipe");
        fflush(NULL);
        pid = fork();
        if (pid < 0)
                die("fork");
        if (pid == 0) {
                close(p[0]);
                fn(p[1], arg);
                _exit(0);
        }
        close(p[1]);
        n = read(p[0], line, sizeof(line) - 1);
        close(p[0]);
        line[n > 0 ? n : 0] = 0;
        (void) waitpid(pid, NULL, 0);
        return line;
}

typedef struct Probe {
        const struct passwd *pw;
        const char *credential;
        key_serial_t serial;     /* for the probes by serial */
} Probe;

static void sha256_hex(const void *data, size_t len, char out[65]) {
        unsigned char h[crypto_hash_sha256_BYTES];

        crypto_hash_sha256(h, data, len);
        sodium_bin2hex(out, 65, h, sizeof(h));
}

/* The timeout column /proc/keys shows for key k ("perm": none). */
static void key_timeout(key_serial_t k, char *buf, size_t size) {
        char line[512];
        FILE *f = fopen("/proc/keys", "re");

        snprintf(buf, size, "?");
        if (!f)
                return;
        while (fgets(line, sizeof(line), f)) {
                unsigned serial;
                char flags[16], usage[16], timeout[16];
                if (sscanf(line, "%x %15s %15s %15s", &serial, flags, usage, timeout) == 4 &&
                    (key_serial_t) serial == k) {
                        snprintf(buf, size, "%s", timeout);
                        break;
                }
        }
        fclose(f);
}

/* As the user, in the session keyring it inherited:
 * "<serial> sha256=<hex> describe=<type;uid;gid;perm;description> timeout=<as /proc/keys says>". */
static void probe_as_user(int out, const void *arg) {
        const Probe *p = arg;
        char desc[300], *value = NULL, *info = NULL, hex[65], timeout[16];
        key_serial_t k;
        int n;

        drop_to(p->pw);
        snprintf(desc, sizeof(desc), "orgvault:%s", p->credential);
        k = keyctl_search(KEY_SPEC_SESSION_KEYRING, "user", desc, 0);
        if (k < 0) {
                dprintf(out, "absent %s", strerrorname_np(errno));
                return;
        }
        n = keyctl_read_alloc(k, (void **) &value);
        if (n < 0) {
                dprintf(out, "unreadable %s", strerrorname_np(errno));
                return;
        }
        sha256_hex(value, (size_t) n, hex);
        if (keyctl_describe_alloc(k, &info) < 0)
                info = NULL;
        key_timeout(k, timeout, sizeof(timeout));
        dprintf(out, "%d sha256=%s describe=%s timeout=%s", (int) k, hex, info ?: "?", timeout);
}

/* As nobody, in a session keyring of its own (so not possessing the key). */
static void probe_as_other(int out, const void *arg) {
        const Probe *p = arg;
        char buf[16];

        if (keyctl_join_session_keyring(NULL) < 0 || setgroups(0, NULL) < 0 ||
            setresgid(NOBODY, NOBODY, NOBODY) < 0 || setresuid(NOBODY, NOBODY, NOBODY) < 0) {
                dprintf(out, "setup-failed");
                return;
        }
        long n = keyctl_read(p->serial, buf, sizeof(buf));
        dprintf(out, "%s", n >= 0 ? "READABLE" : strerrorname_np(errno));
}

/* As the user, after the session: the key by serial and by name. */
static void probe_after(int out, const void *arg) {
        const Probe *p = arg;
        char desc[300], buf[16];

        drop_to(p->pw);
        long n = keyctl_read(p->serial, buf, sizeof(buf));
        snprintf(desc, sizeof(desc), "orgvault:%s", p->credential);
        key_serial_t k = keyctl_search(KEY_SPEC_SESSION_KEYRING, "user", desc, 0);
        dprintf(out, "serial:%s name:%s", n >= 0 ? "READABLE" : strerrorname_np(errno),
                k >= 0 ? "FOUND" : "absent");
}

/* A job of the session: bash -c CMD as the user, in the session keyring. */
static int run_command(const struct passwd *pw, const char *cmd) {
        int status;
        pid_t pid;

        fflush(NULL);
        pid = fork();
        if (pid < 0)
                die("fork");
        if (pid == 0) {
                drop_to(pw);
                execl("/bin/bash", "bash", "-c", cmd, (char *) NULL);
                _exit(127);
        }
        if (waitpid(pid, &status, 0) < 0)
                die("waitpid");
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int main(int argc, char **argv) {
        static const struct option options[] = {
                { "syslog",   required_argument, NULL, 'l' },
                { "no-close", no_argument,       NULL, 'n' },
                { "command",  required_argument, NULL, 'c' },
                {}
        };
        const struct pam_conv pam_conversation = { conv, NULL };
        pam_handle_t *pamh = NULL;
        bool close_session = true;
        const char *command = NULL;
        key_serial_t serials[64] = {};
        int c, r;

        while ((c = getopt_long(argc, argv, "", options, NULL)) >= 0)
                switch (c) {
                case 'l':
                        log_sink_setup(optarg);
                        break;
                case 'n':
                        close_session = false;
                        break;
                case 'c':
                        command = optarg;
                        break;
                default:
                        return 2;
                }
        if (argc - optind < 3 || argc - optind - 3 > 64) {
                fprintf(stderr, "usage: pam-harness [--syslog=FILE] [--no-close] [--command=CMD] CONFDIR SERVICE USER [CREDENTIAL...]\n");
                return 2;
        }
        const char *confdir = argv[optind], *service = argv[optind + 1], *user = argv[optind + 2];
        char **creds = argv + optind + 3;
        int n_creds = argc - optind - 3;
        struct passwd *pw0 = getpwnam(user);
        if (!pw0 || sodium_init() < 0)
                die("user or libsodium");
        struct passwd pw = *pw0;
        pw.pw_name = strdup(pw0->pw_name);

        r = pam_start_confdir(service, user, &pam_conversation, confdir, &pamh);
        if (r != PAM_SUCCESS)
                die("pam_start_confdir");
        r = pam_open_session(pamh, 0);
        printf("open %s\n", pam_code(r));
        printf("conversation %u\n", conv_calls);
        char **env = pam_getenvlist(pamh);
        for (char **e = env; e && *e; e++) {
                printf("env %s\n", *e);
                free(*e);
        }
        free(env);
        log_sink_drain();

        for (int i = 0; i < n_creds; i++) {
                Probe p = { .pw = &pw, .credential = creds[i] };
                const char *line = in_child(probe_as_user, &p);
                printf("key %s %s\n", creds[i], line);
                serials[i] = atoi(line);
                if (serials[i] > 0) {
                        p.serial = serials[i];
                        printf("other %s %s\n", creds[i], in_child(probe_as_other, &p));
                }
        }
        if (command)
                printf("command exit %d\n", run_command(&pw, command));
        if (r == PAM_SUCCESS && close_session) {
                int q = pam_close_session(pamh, 0);
                printf("close %s\n", pam_code(q));
        }
        pam_end(pamh, r);
        log_sink_drain();

        for (int i = 0; i < n_creds; i++)
                if (serials[i] > 0) {
                        Probe p = { .pw = &pw, .credential = creds[i], .serial = serials[i] };
                        printf("after %s %s\n", creds[i], in_child(probe_after, &p));
                }
        free(pw.pw_name);
        return 0;
}
