/* SPDX-License-Identifier: Apache-2.0 */
/* orgvaultd: the vault service. Parses its flags (docs/API.md), opens the
 * vault and policy, serves io.orgvault.Vault1 on the bus and the credential
 * socket, and exits when idle: it releases its bus name first, so a call
 * that comes in meanwhile activates a fresh instance, answers what was
 * already queued, writes lazy state and leaves. */

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <systemd/sd-daemon.h>

#include "audit.h"
#include "bus-open.h"
#include "bus-manager.h"
#include "credential-socket.h"
#include "store-copy.h"
#include "log.h"

#define USEC_PER_SEC 1000000ULL
#define USAGE_FLUSH_USEC (60 * USEC_PER_SEC)
#define SECONDS_MAX (10U * 365 * 24 * 3600)
#define DAYS_MAX (100U * 365)

typedef struct Options {
        const char *state_dir;
        const char *store;
        const char *copy_from, *copy_to;         /* --copy-store: copy and exit */
        bool copy_verify_only;
        const char *config_dir;
        const char *data_dir;
        const char *runtime_dir;
        const char *bus_address;
        const char *audit_log;
        KeyMode key_mode;
        unsigned idle_timeout_sec;
        unsigned keyring_timeout_sec;
        unsigned trash_days;
        unsigned keep_versions;
        unsigned lock_timeout_sec;
} Options;

typedef struct Daemon {
        Manager manager;
        CredentialServer *credentials;
        sd_event_source *idle_timer;     /* NULL with --idle-timeout=0 */
        sd_event_source *flush_timer;    /* armed only while usage is unwritten */
        sd_event_source *policy_source;  /* the policy's inotify fd */
        sd_event_source *store_source;   /* a shared store's change notifications */
        sd_event_source *store_timer;    /* reconnects a shared store that went away */
        uint64_t store_generation;
        uint64_t idle_usec;
        bool exiting;
} Daemon;

static void help(void) {
        printf("Usage: %s [OPTIONS...]\n"
               "\n"
               "Keeps an organization's credentials encrypted on disk and hands them only to\n"
               "the services allowed to use them. Serves io.orgvault.Vault1 on the bus and\n"
               "systemd's LoadCredential= socket. Normally started by D-Bus or socket\n"
               "activation through orgvaultd.service, not by hand.\n"
               "\n"
               "Paths:\n"
               "      --state-dir=DIR        Records, org keys and master.key\n"
               "                             (default: %s)\n"
               "      --store=URI            Keep records, org keys and usage in PostgreSQL,\n"
               "                             shared by every host given the same URI\n"
               "                             (postgresql://host/db?sslmode=verify-full, no\n"
               "                             password: it comes from the credential\n"
               "                             orgvault.pg-password or libpq's PGPASSFILE).\n"
               "                             The master key stays local (--key-mode).\n"
               "                             Default: the files of --state-dir\n"
               "      --config-dir=DIR       orgs.d/*.json role policy and local types.d/\n"
               "                             (default: %s)\n"
               "      --data-dir=DIR         Shipped types.d/ and actions.json\n"
               "                             (default: %s)\n"
               "      --runtime-dir=DIR      Where credential.sock is bound when the daemon\n"
               "                             is not socket-activated (default: %s)\n"
               "      --audit-log=FILE       Also append audit records to FILE as JSON lines\n"
               "                             (default: journal only)\n"
               "\n"
               "Service:\n"
               "      --bus-address=ADDRESS  Serve on this D-Bus address instead of the\n"
               "                             system bus (e.g. unix:path=/tmp/scratch/bus)\n"
               "      --key-mode=MODE        Where the master key comes from: keyfile\n"
               "                             (default), credential ($CREDENTIALS_DIRECTORY/\n"
               "                             orgvault.master-key) or passphrase (starts sealed\n"
               "                             until Unseal)\n"
               "      --idle-timeout=SEC     Exit after SEC seconds without a call or a\n"
               "                             connection; 0 never exits (default: 30)\n"
               "      --lock-timeout=SEC     Another orgvaultd on the same state dir (one still\n"
               "                             finishing its idle exit): wait up to SEC seconds\n"
               "                             for it to exit, then give up (default: 15)\n"
               "      --keyring-timeout=SEC  Cache unwrapped keys in the service user's kernel\n"
               "                             keyring for SEC seconds so the next activation\n"
               "                             starts unsealed; 0 disables the cache\n"
               "                             (default: 900)\n"
               "      --log-level=LEVEL      debug, info, notice, warning or err\n"
               "                             (default: info)\n"
               "\n"
               "A secret's life:\n"
               "      --trash-days=DAYS      Purge deleted secrets from the trash DAYS days\n"
               "                             after their deletion; 0 keeps them until purged\n"
               "                             (default: 30)\n"
               "      --keep-versions=N      Keep each secret's N earlier values for rollback;\n"
               "                             older ones are destroyed (0-100, default: 10)\n"
               "\n"
               "Moving between stores (no key needed, ciphertext copied as it is):\n"
               "      --copy-store=FROM --to=TO\n"
               "                             Copy every org (records, key document, usage)\n"
               "                             from one store to the other, then read the\n"
               "                             target back and compare; each is a state\n"
               "                             directory or a postgresql:// URI. An org the\n"
               "                             target holds already is refused. Exits.\n"
               "      --verify               With --copy-store: only compare, write nothing\n"
               "\n"
               "  -h --help                  Show this help and exit\n"
               "     --version               Show the version and exit\n"
               "\n"
               "Signals: SIGTERM and SIGINT exit cleanly (lazy state is written first).\n"
               "See orgvaultd(8) and orgvaultctl(1).\n",
               program_invocation_short_name, DEFAULT_STATE_DIR, DEFAULT_CONFIG_DIR, DEFAULT_DATA_DIR,
               DEFAULT_RUNTIME_DIR);
}

static int parse_seconds(const char *s, unsigned *ret) {
        char *end = NULL;
        unsigned long v;

        if (!s || *s < '0' || *s > '9')
                return -EINVAL;
        errno = 0;
        v = strtoul(s, &end, 10);
        if (errno != 0 || *end != 0 || v > SECONDS_MAX)
                return -ERANGE;
        *ret = (unsigned) v;
        return 0;
}

static int parse_log_level(const char *s) {
        static const struct {
                const char *name;
                int level;
        } levels[] = {
                { "debug", LOG_DEBUG }, { "info", LOG_INFO }, { "notice", LOG_NOTICE },
                { "warning", LOG_WARNING }, { "err", LOG_ERR }, { "error", LOG_ERR },
        };
        for (size_t i = 0; i < ELEMENTSOF(levels); i++)
                if (strcmp(levels[i].name, s) == 0)
                        return levels[i].level;
        return -EINVAL;
}

/* Returns 1 to run, 0 to exit successfully (--help, --version), <0 on error. */
static int parse_argv(int argc, char *argv[], Options *o) {
        enum {
                ARG_STORE = 0x80, ARG_COPY_STORE, ARG_TO, ARG_VERIFY, ARG_STATE_DIR = 0x100, ARG_CONFIG_DIR, ARG_DATA_DIR, ARG_RUNTIME_DIR, ARG_BUS_ADDRESS,
                ARG_KEY_MODE, ARG_IDLE_TIMEOUT, ARG_AUDIT_LOG, ARG_KEYRING_TIMEOUT, ARG_LOCK_TIMEOUT, ARG_LOG_LEVEL,
                ARG_VERSION, ARG_TRASH_DAYS, ARG_KEEP_VERSIONS,
        };
        static const struct option options[] = {
                { "help",            no_argument,       NULL, 'h' },
                { "version",         no_argument,       NULL, ARG_VERSION },
                { "state-dir",       required_argument, NULL, ARG_STATE_DIR },
                { "store",           required_argument, NULL, ARG_STORE },
                { "copy-store",      required_argument, NULL, ARG_COPY_STORE },
                { "to",              required_argument, NULL, ARG_TO },
                { "verify",          no_argument,       NULL, ARG_VERIFY },
                { "config-dir",      required_argument, NULL, ARG_CONFIG_DIR },
                { "data-dir",        required_argument, NULL, ARG_DATA_DIR },
                { "runtime-dir",     required_argument, NULL, ARG_RUNTIME_DIR },
                { "bus-address",     required_argument, NULL, ARG_BUS_ADDRESS },
                { "key-mode",        required_argument, NULL, ARG_KEY_MODE },
                { "idle-timeout",    required_argument, NULL, ARG_IDLE_TIMEOUT },
                { "audit-log",       required_argument, NULL, ARG_AUDIT_LOG },
                { "keyring-timeout", required_argument, NULL, ARG_KEYRING_TIMEOUT },
                { "lock-timeout",    required_argument, NULL, ARG_LOCK_TIMEOUT },
                { "log-level",       required_argument, NULL, ARG_LOG_LEVEL },
                { "trash-days",      required_argument, NULL, ARG_TRASH_DAYS },
                { "keep-versions",   required_argument, NULL, ARG_KEEP_VERSIONS },
                {}
        };
        int c, level;

        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help();
                        return 0;
                case ARG_VERSION:
                        printf("orgvaultd %s\n", PACKAGE_VERSION);
                        return 0;
                case ARG_STORE:
                        o->store = optarg;
                        break;
                case ARG_COPY_STORE:
                        o->copy_from = optarg;
                        break;
                case ARG_TO:
                        o->copy_to = optarg;
                        break;
                case ARG_VERIFY:
                        o->copy_verify_only = true;
                        break;
                case ARG_STATE_DIR:
                        o->state_dir = optarg;
                        break;
                case ARG_CONFIG_DIR:
                        o->config_dir = optarg;
                        break;
                case ARG_DATA_DIR:
                        o->data_dir = optarg;
                        break;
                case ARG_RUNTIME_DIR:
                        o->runtime_dir = optarg;
                        break;
                case ARG_BUS_ADDRESS:
                        o->bus_address = optarg;
                        break;
                case ARG_AUDIT_LOG:
                        o->audit_log = optarg;
                        break;
                case ARG_KEY_MODE:
                        if (key_mode_from_string(optarg, &o->key_mode) < 0) {
                                log_error("Invalid --key-mode=%s: expected keyfile, credential or passphrase", optarg);
                                return -EINVAL;
                        }
                        break;
                case ARG_IDLE_TIMEOUT:
                        if (parse_seconds(optarg, &o->idle_timeout_sec) < 0) {
                                log_error("Invalid --idle-timeout=%s: expected seconds", optarg);
                                return -EINVAL;
                        }
                        break;
                case ARG_KEYRING_TIMEOUT:
                        if (parse_seconds(optarg, &o->keyring_timeout_sec) < 0) {
                                log_error("Invalid --keyring-timeout=%s: expected seconds", optarg);
                                return -EINVAL;
                        }
                        break;
                case ARG_TRASH_DAYS:
                        if (parse_seconds(optarg, &o->trash_days) < 0 || o->trash_days > DAYS_MAX) {
                                log_error("Invalid --trash-days=%s: expected 0-%u days", optarg, DAYS_MAX);
                                return -EINVAL;
                        }
                        break;
                case ARG_KEEP_VERSIONS:
                        if (parse_seconds(optarg, &o->keep_versions) < 0 || o->keep_versions > OV_VERSIONS_MAX) {
                                log_error("Invalid --keep-versions=%s: expected 0-%d", optarg, OV_VERSIONS_MAX);
                                return -EINVAL;
                        }
                        break;
                case ARG_LOCK_TIMEOUT:
                        if (parse_seconds(optarg, &o->lock_timeout_sec) < 0) {
                                log_error("Invalid --lock-timeout=%s: expected seconds", optarg);
                                return -EINVAL;
                        }
                        break;
                case ARG_LOG_LEVEL:
                        level = parse_log_level(optarg);
                        if (level < 0) {
                                log_error("Invalid --log-level=%s: expected debug, info, notice, warning or err", optarg);
                                return -EINVAL;
                        }
                        log_set_max_level(level);
                        break;
                case '?':
                        return -EINVAL;
                default:
                        return -EINVAL;
                }
        if (optind < argc) {
                log_error("%s takes no arguments; see --help", program_invocation_short_name);
                return -EINVAL;
        }
        for (const char **dir = (const char *[]) { o->state_dir, o->config_dir, o->data_dir, o->runtime_dir, NULL };
             *dir; dir++)
                if (!**dir) {
                        log_error("Directory flags take a non-empty path");
                        return -EINVAL;
                }
        return 1;
}

/* Secrets live in this process's memory: no core dumps, no ptrace by
 * non-root peers of the same uid. */
static int harden_process(void) {
        if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
                return -errno;
        if (setrlimit(RLIMIT_CORE, &(struct rlimit) { 0, 0 }) < 0)
                return -errno;
        umask(0077);
        json_wipe_on_free();
        return 0;
}

/* Idle exit */

static int on_name_released(sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Daemon *d = userdata;
        return sd_event_exit(d->manager.event, 0);
}

/* Writes lazy state, gives up the bus name and exits once the bus has
 * answered: calls queued before the release are still dispatched first. */
static void begin_exit(Daemon *d, const char *why) {
        int r;

        if (d->exiting)
                return;
        d->exiting = true;
        log_info("Exiting: %s", why);
        (void) vault_flush_usage(d->manager.vault);
        r = sd_bus_release_name_async(d->manager.bus, NULL, OV_BUS_NAME, on_name_released, d);
        if (r < 0) {
                log_warning_errno(r, "Cannot release %s: %m", OV_BUS_NAME);
                (void) sd_event_exit(d->manager.event, 0);
        }
}

static int on_idle(sd_event_source *s, uint64_t usec, void *userdata) {
        begin_exit(userdata, "idle");
        return 0;
}

static int on_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        begin_exit(userdata, si->ssi_signo == SIGTERM ? "SIGTERM" : "SIGINT");
        return 0;
}

static void note_activity(void *userdata) {
        Daemon *d = userdata;

        if (!d->idle_timer || d->exiting)
                return;
        (void) sd_event_source_set_time_relative(d->idle_timer, d->idle_usec);
        (void) sd_event_source_set_enabled(d->idle_timer, SD_EVENT_ONESHOT);
}

/* A credential may name a staged change: it is made durable first. */
static void on_credential_activity(void *userdata) {
        Daemon *d = userdata;
        manager_before_read(&d->manager);
        note_activity(d);
}

static int on_bus_message(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Daemon *d = userdata;
        /* Calls keep the daemon up; the bus's signals (NameOwnerChanged of
         * every client on the system) must not. */
        uint8_t type = 0;
        if (sd_bus_message_get_type(m, &type) >= 0 && type == SD_BUS_MESSAGE_METHOD_CALL) {
                note_activity(d);
                /* Nothing may read a change before it is durable. */
                manager_before_call(&d->manager, m);
        }
        return 0;        /* let sd-bus dispatch it */
}

/* Lazy usage (LastUsed) */

static int on_flush(sd_event_source *s, uint64_t usec, void *userdata) {
        Daemon *d = userdata;
        (void) vault_flush_usage(d->manager.vault);
        return 0;
}

/* After each dispatch: arm the once-a-minute flush when a use is unwritten. */
static int on_post(sd_event_source *s, void *userdata) {
        Daemon *d = userdata;
        int enabled = SD_EVENT_OFF;

        (void) sd_event_source_get_enabled(d->flush_timer, &enabled);
        if (enabled != SD_EVENT_OFF || !vault_usage_dirty(d->manager.vault))
                return 0;
        (void) sd_event_source_set_time_relative(d->flush_timer, USAGE_FLUSH_USEC);
        return sd_event_source_set_enabled(d->flush_timer, SD_EVENT_ONESHOT);
}

/* Policy edits: applied as soon as inotify reports them, ahead of any call
 * that is ready at the same time (the source outranks the bus). */
static int on_policy_changed(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        Daemon *d = userdata;
        int r = policy_refresh(d->manager.policy);
        if (r < 0)
                log_warning_errno(r, "Policy reload failed, keeping the old one: %m");
        return 0;
}

/* A shared store: other hosts' changes arrive on its fd; while it is
 * gone, a timer reconnects (the vault serves what it loaded meanwhile). */

#define STORE_RETRY_USEC (1 * USEC_PER_SEC)

static int on_store_event(sd_event_source *s, int fd, uint32_t revents, void *userdata);

static void store_rewatch(Daemon *d) {
        Manager *m = &d->manager;
        uint64_t gen = 0;
        int fd = -1;

        if (vault_store_watch(m->vault, &fd, &gen) < 0 || gen == d->store_generation)
                return;
        d->store_source = sd_event_source_disable_unref(d->store_source);
        d->store_generation = gen;
        if (fd >= 0 && sd_event_add_io(m->event, &d->store_source, fd, EPOLLIN, on_store_event, d) < 0)
                log_warning("Cannot watch the store for changes; retrying");
        else if (fd >= 0)
                (void) sd_event_source_set_priority(d->store_source, SD_EVENT_PRIORITY_NORMAL - 5);
}

static int on_store_event(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        Daemon *d = userdata;
        (void) vault_store_process(d->manager.vault);
        store_rewatch(d);
        return 0;
}

static int on_store_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        Daemon *d = userdata;
        /* Also with a watch in place: a reload that failed (the database
         * was away) is retried here, not only on the next notification. */
        (void) vault_store_process(d->manager.vault);
        store_rewatch(d);
        (void) sd_event_source_set_time_relative(s, STORE_RETRY_USEC);
        return sd_event_source_set_enabled(s, SD_EVENT_ON);
}

static int setup_store_watch(Daemon *d) {
        Manager *m = &d->manager;
        uint64_t gen = 0;
        int fd = -1;
        int r = vault_store_watch(m->vault, &fd, &gen);
        if (r < 0 || gen == 0)
                return 0;        /* no other writers */
        store_rewatch(d);
        return sd_event_add_time_relative(m->event, &d->store_timer, CLOCK_MONOTONIC, STORE_RETRY_USEC, 0,
                                          on_store_timer, d);
}

/* Set-up */

static int setup_event(Daemon *d, const Options *o) {
        Manager *m = &d->manager;
        sigset_t mask;
        int r;

        r = sd_event_default(&m->event);
        if (r < 0)
                return r;
        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
                return -errno;
        r = sd_event_add_signal(m->event, NULL, SIGTERM, on_signal, d);
        if (r >= 0)
                r = sd_event_add_signal(m->event, NULL, SIGINT, on_signal, d);
        if (r >= 0)
                r = sd_event_add_time_relative(m->event, &d->flush_timer, CLOCK_MONOTONIC, USAGE_FLUSH_USEC, 0,
                                               on_flush, d);
        if (r >= 0)
                r = sd_event_source_set_enabled(d->flush_timer, SD_EVENT_OFF);
        if (r >= 0)
                r = sd_event_add_post(m->event, NULL, on_post, d);
        if (r >= 0 && policy_watch_fd(m->policy) >= 0) {
                r = sd_event_add_io(m->event, &d->policy_source, policy_watch_fd(m->policy), EPOLLIN,
                                    on_policy_changed, d);
                if (r >= 0)
                        r = sd_event_source_set_priority(d->policy_source, SD_EVENT_PRIORITY_NORMAL - 10);
        }
        if (r >= 0)
                r = setup_store_watch(d);
        if (r >= 0 && o->idle_timeout_sec > 0) {
                d->idle_usec = o->idle_timeout_sec * USEC_PER_SEC;
                r = sd_event_add_time_relative(m->event, &d->idle_timer, CLOCK_MONOTONIC, d->idle_usec, 0,
                                               on_idle, d);
        }
        return r;
}

static int setup_bus(Daemon *d, const Options *o) {
        Manager *m = &d->manager;
        int r;

        r = bus_open(o->bus_address, "orgvaultd", &m->bus);
        if (r < 0) {
                log_error_errno(r, "Cannot connect to %s: %m", o->bus_address ?: "the system bus");
                return r;
        }
        r = sd_bus_attach_event(m->bus, m->event, SD_EVENT_PRIORITY_NORMAL);
        if (r >= 0)
                r = sd_bus_set_exit_on_disconnect(m->bus, 1);
        if (r >= 0)
                r = sd_bus_add_filter(m->bus, NULL, on_bus_message, d);
        if (r >= 0)
                r = bus_manager_register(m);
        if (r >= 0)
                r = bus_lifecycle_register(m);
        if (r >= 0)
                r = bus_secrets_register(m);
        if (r >= 0)
                r = manager_watch_peers(m);
        if (r < 0) {
                log_error_errno(r, "Cannot register the bus objects: %m");
                return r;
        }
        vault_set_event_callback(m->vault, bus_secrets_on_vault_event, m);
        r = sd_bus_request_name(m->bus, OV_BUS_NAME, 0);
        if (r < 0)
                log_error_errno(r, "Cannot own %s: %m", OV_BUS_NAME);
        return r;
}

static int load_policy_and_vault(Daemon *d, const Options *o) {
        Manager *m = &d->manager;
        _cleanup_free_ char *policy_error = NULL;
        OvError e = {};
        int r;

        r = type_registry_load(&m->types, o->data_dir, o->config_dir, &m->type_errors);
        if (r < 0) {
                log_error_errno(r, "Cannot load secret types: %m");
                return r;
        }
        for (char **p = m->type_errors; p && *p; p++)
                log_error("Skipped a secret type file: %s", *p);
        r = policy_load(&m->policy, o->config_dir, o->data_dir, &policy_error);
        if (r < 0) {
                log_error("Cannot load the policy: %s", policy_error ?: strerror(-r));
                return r;
        }
        r = vault_open(&m->vault, &(VaultConfig) {
                .state_dir = o->state_dir,
                .store = o->store,
                .key_mode = o->key_mode,
                .keyring_timeout_sec = o->keyring_timeout_sec,
                .trash_days = o->trash_days,
                .keep_versions = o->keep_versions,
                .lock_timeout_usec = o->lock_timeout_sec * USEC_PER_SEC,
        }, m->types, &e);
        if (r < 0) {
                log_error("Cannot open the vault in %s%s: %s", o->state_dir,
                          o->store ? " with its store" : "", e.message);
                return r;
        }
        if (vault_is_sealed(m->vault))
                log_notice("The vault is sealed until Unseal");
        return 0;
}

static void daemon_done(Daemon *d) {
        Manager *m = &d->manager;

        credential_server_free(d->credentials);
        if (m->bus)
                manager_free_group_commit(m);   /* answers the held calls */
        manager_forget_peers(m);
        if (m->vault)
                vault_set_event_callback(m->vault, NULL, NULL);
        sd_bus_flush_close_unref(m->bus);
        sd_event_source_unref(d->idle_timer);
        sd_event_source_unref(d->flush_timer);
        sd_event_source_unref(d->policy_source);
        sd_event_source_disable_unref(d->store_source);
        sd_event_source_disable_unref(d->store_timer);
        vault_free(m->vault);    /* writes lazy usage, wipes keys */
        policy_free(m->policy);
        type_registry_free(m->types);
        strv_free(m->type_errors);
        sd_event_unref(m->event);
        audit_close();
}

/* --copy-store=FROM --to=TO [--verify]: the store's contents only, no
 * bus, no key. */
static int copy_store(const Options *o) {
        _cleanup_free_ char *error = NULL;
        StoreCopyResult res = {};

        if (!o->copy_from || !o->copy_to) {
                log_error("--copy-store=FROM needs --to=TO (and the other way round)");
                return -EINVAL;
        }
        int r = store_copy(o->copy_from, o->copy_to, o->copy_verify_only, &res, &error);
        if (r < 0) {
                log_error("%s failed: %s", o->copy_verify_only ? "Verifying" : "Copying", error ?: strerror(-r));
                return r;
        }
        printf("%s %u org(s), %u record(s), %u key document(s): target matches the source\n",
               o->copy_verify_only ? "Verified" : "Copied", res.orgs, res.records, res.key_documents);
        return 0;
}

static int run(int argc, char *argv[]) {
        Options o = {
                .state_dir = DEFAULT_STATE_DIR,
                .config_dir = DEFAULT_CONFIG_DIR,
                .data_dir = DEFAULT_DATA_DIR,
                .runtime_dir = DEFAULT_RUNTIME_DIR,
                .key_mode = KEY_MODE_KEYFILE,
                .idle_timeout_sec = 30,
                .keyring_timeout_sec = 900,
                .trash_days = 30,
                .keep_versions = 10,
                .lock_timeout_sec = 15,
        };
        _cleanup_(daemon_done) Daemon d = {};
        int r;

        r = parse_argv(argc, argv, &o);
        if (r <= 0)
                return r;
        if (o.copy_from || o.copy_to)
                return copy_store(&o);
        r = harden_process();
        if (r < 0) {
                log_error_errno(r, "Cannot disable core dumps: %m");
                return r;
        }
        r = audit_open(o.audit_log);
        if (r < 0) {
                log_error_errno(r, "Cannot open the audit log %s: %m", o.audit_log);
                return r;
        }
        r = load_policy_and_vault(&d, &o);
        if (r < 0)
                return r;
        r = setup_event(&d, &o);
        if (r < 0) {
                log_error_errno(r, "Cannot set up the event loop: %m");
                return r;
        }
        r = setup_bus(&d, &o);
        if (r < 0)
                return r;
        r = manager_setup_group_commit(&d.manager);
        if (r < 0) {
                log_error("Cannot set up group commit: %s", strerror(-r));
                return r;
        }
        r = credential_server_new(&d.credentials, d.manager.event, d.manager.vault, d.manager.policy,
                                  d.manager.types, o.runtime_dir, on_credential_activity, &d);
        if (r < 0)
                log_warning_errno(r, "Serving without the credential socket: %m");

        (void) sd_notify(0, "READY=1\nSTATUS=Serving " OV_BUS_NAME);
        log_info("Serving %s%s%s", OV_BUS_NAME, o.bus_address ? " on " : "", o.bus_address ?: "");
        r = sd_event_loop(d.manager.event);
        (void) sd_notify(0, "STOPPING=1");
        if (r < 0)
                log_error_errno(r, "Event loop failed: %m");
        return r;
}

int main(int argc, char *argv[]) {
        return run(argc, argv) < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
