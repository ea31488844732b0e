/* SPDX-License-Identifier: Apache-2.0 */
/* The benchmark client: one operation per invocation, pipelined over one
 * sd-bus connection, printed as a RESULT line for run-bench. Operations on
 * orgvaultd (io.orgvault.Vault1), on gnome-keyring-daemon (the Secret
 * Service API, org.freedesktop.secrets) and the Peer.Ping floor of either. */

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bus-open.h"
#include "pipeline.h"
#include "util.h"

#define OV_NAME "io.orgvault.Vault1"
#define OV_PATH "/io/orgvault/Vault1"
#define OV_IFACE "io.orgvault.Vault1.Manager"
#define SS_NAME "org.freedesktop.secrets"
#define SS_PATH "/org/freedesktop/secrets"
#define SS_SERVICE "org.freedesktop.Secret.Service"
#define GK_APP "orgvault-bench"

/* Every secret the bench makes: id s<5 digits>, name "Ops webhook <5 digits>"
 * (so the search "hook 0004" matches ten of them in any org of >= 50), and
 * one obviously fake value (DEVELOPERS' rule). */
#define FAKE_SLACK "https://hooks.slack.com/services/TFAKE0000/BFAKE0000/xxxxxxxxxxxxxxxxxxxxxxxx"
#define BENCH_SEARCH "hook 0004"

static void bus_unrefp(sd_bus **b) { sd_bus_flush_close_unref(*b); }
static void message_unrefp(sd_bus_message **m) { sd_bus_message_unref(*m); }
#define _cleanup_bus_ _cleanup_(bus_unrefp)
#define _cleanup_message_ _cleanup_(message_unrefp)

typedef struct Ctx {
        const char *org;
        const char *dest;        /* for ping */
        uint64_t n;              /* ids cycle over s00000 .. s<n-1> */
        uint64_t start;          /* first id of an add run */
        uint64_t seq;            /* calls built so far, over every run */
        char *gk_session;        /* Secret Service session path */
        char *gk_collection;
        char **gk_items;         /* item paths, for GetSecret */
        size_t n_gk_items;
} Ctx;

static int new_call(sd_bus *bus, const char *dest, const char *path, const char *iface,
                    const char *member, sd_bus_message **ret) {
        return sd_bus_message_new_method_call(bus, ret, dest, path, iface, member);
}

static int build_ping(sd_bus *bus, uint64_t i, sd_bus_message **ret, void *ud) {
        Ctx *c = ud;
        return new_call(bus, c->dest, "/", "org.freedesktop.DBus.Peer", "Ping", ret);
}

/* The next id of the cycle s00000 .. s<n-1>. */
static int next_id(Ctx *c, char buf[static 16]) {
        uint64_t k = c->seq++;
        return snprintf(buf, 16, "s%05llu", (unsigned long long) (c->n ? k % c->n : k));
}

static int build_ov_get(sd_bus *bus, uint64_t i, sd_bus_message **ret, void *ud) {
        Ctx *c = ud;
        char id[16];
        next_id(c, id);
        int r = new_call(bus, OV_NAME, OV_PATH, OV_IFACE, "GetSecret", ret);
        return r < 0 ? r : sd_bus_message_append(*ret, "ss", c->org, id);
}

static int build_ov_resolve(sd_bus *bus, uint64_t i, sd_bus_message **ret, void *ud) {
        Ctx *c = ud;
        char id[16];
        next_id(c, id);
        int r = new_call(bus, OV_NAME, OV_PATH, OV_IFACE, "Resolve", ret);
        return r < 0 ? r : sd_bus_message_append(*ret, "ss", c->org, id);
}

/* A consumer reads the sealed memfd; so does the bench (then wipes it). */
static int check_ov_resolve(sd_bus_message *reply, void *ud) {
        int fd;
        char buf[4096];
        int r = sd_bus_message_read(reply, "h", &fd);
        if (r < 0)
                return r;
        ssize_t n = pread(fd, buf, sizeof buf, 0);
        explicit_bzero(buf, sizeof buf);
        return n > 0 ? 0 : -EIO;
}

static int build_ov_list(sd_bus *bus, uint64_t i, sd_bus_message **ret, void *ud) {
        Ctx *c = ud;
        int r = new_call(bus, OV_NAME, OV_PATH, OV_IFACE, "ListSecrets", ret);
        return r < 0 ? r : sd_bus_message_append(*ret, "sa{sv}", c->org, 1, "search", "s", BENCH_SEARCH);
}

/* The search must find its ten secrets, or the figure measures nothing. */
static int check_ov_list(sd_bus_message *reply, void *ud) {
        Ctx *c = ud;
        unsigned n = 0;
        int r = sd_bus_message_enter_container(reply, 'a', "(sssttu)");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_skip(reply, "(sssttu)")) > 0)
                n++;
        if (r < 0)
                return r;
        return c->n < 50 || n == 10 ? 0 : -EIO;
}

static int build_ov_add(sd_bus *bus, uint64_t i, sd_bus_message **ret, void *ud) {
        Ctx *c = ud;
        char id[16], name[32];
        uint64_t k = c->start + c->seq++;
        snprintf(id, sizeof id, "s%05llu", (unsigned long long) k);
        snprintf(name, sizeof name, "Ops webhook %05llu", (unsigned long long) k);
        int r = new_call(bus, OV_NAME, OV_PATH, OV_IFACE, "AddSecret", ret);
        return r < 0 ? r : sd_bus_message_append(*ret, "sssa{ss}a{sv}", c->org, "slack-webhook", name,
                                                 1, "webhook_url", FAKE_SLACK, 1, "id", "s", id);
}

/* The first call to a name nobody owns yet makes dbus-daemon activate it;
 * ListSecrets with the bench search loads the whole org. */
static int cmd_activate(sd_bus *bus, Ctx *c) {
        _cleanup_message_ sd_bus_message *m = NULL, *reply = NULL;
        sd_bus_error error = SD_BUS_ERROR_NULL;
        int r = build_ov_list(bus, 0, &m, c);
        if (r < 0)
                return r;
        uint64_t t0 = mono_usec();
        r = sd_bus_call(bus, m, 60 * 1000000ULL, &error, &reply);
        uint64_t t = mono_usec() - t0;
        if (r < 0) {
                fprintf(stderr, "activation call failed: %s\n", error.message ? error.message : strerror(-r));
                sd_bus_error_free(&error);
                return r;
        }
        Stats stats = { .usec = t };
        r = stats_add(&stats, t);
        if (r >= 0)
                stats_print("activate", 1, &stats);
        stats_clear(&stats);
        return r;
}

/* Secret Service: a "plain" session (values travel in the clear, as in any
 * headless use of gnome-keyring) and the collection behind the default alias. */
static int gk_open(sd_bus *bus, Ctx *c) {
        _cleanup_message_ sd_bus_message *reply = NULL, *alias = NULL;
        sd_bus_error error = SD_BUS_ERROR_NULL;
        const char *path;
        int r = sd_bus_call_method(bus, SS_NAME, SS_PATH, SS_SERVICE, "OpenSession", &error, &reply,
                                   "sv", "plain", "s", "");
        if (r >= 0)
                r = sd_bus_message_skip(reply, "v");
        if (r >= 0)
                r = sd_bus_message_read(reply, "o", &path);
        if (r >= 0 && !(c->gk_session = strdup(path)))
                r = -ENOMEM;
        if (r >= 0)
                r = sd_bus_call_method(bus, SS_NAME, SS_PATH, SS_SERVICE, "ReadAlias", &error, &alias,
                                       "s", "default");
        if (r >= 0)
                r = sd_bus_message_read(alias, "o", &path);
        if (r >= 0 && strcmp(path, "/") == 0)
                r = -ENOENT;
        if (r >= 0 && !(c->gk_collection = strdup(path)))
                r = -ENOMEM;
        if (r < 0)
                fprintf(stderr, "Secret Service setup failed: %s\n", error.message ? error.message : strerror(-r));
        sd_bus_error_free(&error);
        return r;
}

static int build_gk_create(sd_bus *bus, uint64_t i, sd_bus_message **ret, void *ud) {
        Ctx *c = ud;
        char id[16], name[32];
        uint64_t k = c->start + c->seq++;
        snprintf(id, sizeof id, "s%05llu", (unsigned long long) k);
        snprintf(name, sizeof name, "Ops webhook %05llu", (unsigned long long) k);
        int r = new_call(bus, SS_NAME, c->gk_collection, "org.freedesktop.Secret.Collection", "CreateItem", ret);
        if (r >= 0)
                r = sd_bus_message_append(*ret, "a{sv}", 2,
                                          "org.freedesktop.Secret.Item.Label", "s", name,
                                          "org.freedesktop.Secret.Item.Attributes", "a{ss}", 3,
                                          "app", GK_APP, "id", id, "name", name);
        if (r >= 0)
                r = sd_bus_message_open_container(*ret, 'r', "oayays");
        if (r >= 0)
                r = sd_bus_message_append(*ret, "o", c->gk_session);
        if (r >= 0)
                r = sd_bus_message_append_array(*ret, 'y', "", 0);
        if (r >= 0)
                r = sd_bus_message_append_array(*ret, 'y', FAKE_SLACK, strlen(FAKE_SLACK));
        if (r >= 0)
                r = sd_bus_message_append(*ret, "s", "text/plain");
        if (r >= 0)
                r = sd_bus_message_close_container(*ret);
        return r < 0 ? r : sd_bus_message_append(*ret, "b", 0);
}

/* CreateItem must not need a prompt: "/" means it was stored at once. */
static int check_gk_create(sd_bus_message *reply, void *ud) {
        const char *item, *prompt;
        int r = sd_bus_message_read(reply, "oo", &item, &prompt);
        return r < 0 ? r : strcmp(prompt, "/") == 0 ? 0 : -EPERM;
}

static int build_gk_search(sd_bus *bus, uint64_t i, sd_bus_message **ret, void *ud) {
        Ctx *c = ud;
        char id[16];
        next_id(c, id);
        int r = new_call(bus, SS_NAME, SS_PATH, SS_SERVICE, "SearchItems", ret);
        return r < 0 ? r : sd_bus_message_append(*ret, "a{ss}", 2, "app", GK_APP, "id", id);
}

static int check_gk_search(sd_bus_message *reply, void *ud) {
        const char *item;
        int r = sd_bus_message_enter_container(reply, 'a', "o");
        if (r >= 0)
                r = sd_bus_message_read(reply, "o", &item);
        return r < 0 ? r : r == 0 ? -ENOENT : 0;
}

/* Every bench item of the keyring, for GetSecret. */
static int gk_collect_items(sd_bus *bus, Ctx *c) {
        _cleanup_message_ sd_bus_message *reply = NULL;
        sd_bus_error error = SD_BUS_ERROR_NULL;
        const char *item;
        int r = sd_bus_call_method(bus, SS_NAME, SS_PATH, SS_SERVICE, "SearchItems", &error, &reply,
                                   "a{ss}", 1, "app", GK_APP);
        sd_bus_error_free(&error);
        if (r >= 0)
                r = sd_bus_message_enter_container(reply, 'a', "o");
        while (r >= 0 && (r = sd_bus_message_read(reply, "o", &item)) > 0) {
                char **l = realloc(c->gk_items, (c->n_gk_items + 1) * sizeof(char *));
                if (!l)
                        return -ENOMEM;
                c->gk_items = l;
                if (!(l[c->n_gk_items] = strdup(item)))
                        return -ENOMEM;
                c->n_gk_items++;
        }
        return r < 0 ? r : c->n_gk_items > 0 ? 0 : -ENOENT;
}

static int build_gk_get(sd_bus *bus, uint64_t i, sd_bus_message **ret, void *ud) {
        Ctx *c = ud;
        int r = new_call(bus, SS_NAME, c->gk_items[i % c->n_gk_items], "org.freedesktop.Secret.Item",
                         "GetSecret", ret);
        return r < 0 ? r : sd_bus_message_append(*ret, "o", c->gk_session);
}

static int check_gk_get(sd_bus_message *reply, void *ud) {
        const char *session;
        const void *params, *value;
        size_t n_params, n_value;
        int r = sd_bus_message_enter_container(reply, 'r', "oayays");
        if (r >= 0)
                r = sd_bus_message_read(reply, "o", &session);
        if (r >= 0)
                r = sd_bus_message_read_array(reply, 'y', &params, &n_params);
        if (r >= 0)
                r = sd_bus_message_read_array(reply, 'y', &value, &n_value);
        return r < 0 ? r : n_value > 0 ? 0 : -EIO;
}

typedef struct Op {
        const char *name;
        int n_args;              /* after the op name */
        bool gk;                 /* needs a Secret Service session */
        build_call_fn build;
        check_reply_fn check;
} Op;

static const Op ops[] = {
        { "ping",       1, false, build_ping,       NULL },             /* DEST */
        { "ov-get",     2, false, build_ov_get,     NULL },             /* ORG N */
        { "ov-resolve", 2, false, build_ov_resolve, check_ov_resolve }, /* ORG N */
        { "ov-list",    2, false, build_ov_list,    check_ov_list },    /* ORG N */
        { "ov-add",     2, false, build_ov_add,     NULL },             /* ORG START */
        { "ov-activate", 2, false, NULL,            NULL },             /* ORG N */
        { "gk-create",  1, true,  build_gk_create,  check_gk_create },  /* START */
        { "gk-search",  1, true,  build_gk_search,  check_gk_search },  /* N */
        { "gk-get",     0, true,  build_gk_get,     check_gk_get },
};

static void usage(void) {
        fprintf(stderr,
                "usage: bench-client --address=ADDR [--depth=N] [--seconds=S] [--count=N] [--warmup=S]\n"
                "                    [--label=L] [--floor=ping|fsync:DIR --rounds=N] OP ARGS\n"
                "  ping DEST | ov-get ORG N | ov-resolve ORG N | ov-list ORG N | ov-add ORG START\n"
                "  ov-activate ORG N | gk-create START | gk-search N | gk-get\n"
                "--floor alternates the operation with its floor (Peer.Ping to the same peer at the same\n"
                "depth, or durable writes into DIR) over N rounds and prints both.\n");
}

static void ctx_clear(Ctx *c) {
        for (size_t k = 0; k < c->n_gk_items; k++)
                free(c->gk_items[k]);
        free(c->gk_items);
        free(c->gk_session);
        free(c->gk_collection);
}

/* Rounds of floor then operation, each a slice of the whole run. */
static int run_rounds(sd_bus *bus, const RunSpec *spec, unsigned rounds, const char *floor,
                      Ctx *ping_ctx, Stats *floor_stats, Stats *op_stats) {
        _cleanup_close_ int dir_fd = -EBADF;
        RunSpec slice = *spec, ping = *spec;
        int r;

        if (floor && strncmp(floor, "fsync:", 6) == 0) {
                dir_fd = open(floor + 6, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (dir_fd < 0)
                        return -errno;
        }
        slice.seconds /= rounds;
        slice.max_calls = (spec->max_calls + rounds - 1) / rounds;
        ping.seconds = slice.seconds;
        ping.max_calls = slice.max_calls;
        ping.build = build_ping;
        ping.check = NULL;
        ping.userdata = ping_ctx;
        for (unsigned k = 0; k < rounds; k++) {
                if (dir_fd >= 0)
                        r = run_fsync_floor(dir_fd, (unsigned) slice.max_calls, floor_stats);
                else if (floor)
                        r = run_pipelined(bus, &ping, floor_stats);
                else
                        r = 0;
                if (r >= 0)
                        r = run_pipelined(bus, &slice, op_stats);
                if (r < 0)
                        return r;
        }
        return 0;
}

int main(int argc, char *argv[]) {
        static const struct option options[] = {
                { "address", required_argument, NULL, 'a' },
                { "depth",   required_argument, NULL, 'd' },
                { "seconds", required_argument, NULL, 's' },
                { "count",   required_argument, NULL, 'n' },
                { "warmup",  required_argument, NULL, 'w' },
                { "label",   required_argument, NULL, 'l' },
                { "floor",   required_argument, NULL, 'f' },
                { "rounds",  required_argument, NULL, 'r' },
                {}
        };
        const char *address = NULL, *label = NULL, *floor = NULL;
        RunSpec spec = { .depth = 1 };
        double warmup = 0;
        unsigned rounds = 1;
        int opt;

        while ((opt = getopt_long(argc, argv, "", options, NULL)) >= 0)
                switch (opt) {
                case 'a': address = optarg; break;
                case 'd': spec.depth = (unsigned) strtoul(optarg, NULL, 10); break;
                case 's': spec.seconds = strtod(optarg, NULL); break;
                case 'n': spec.max_calls = strtoull(optarg, NULL, 10); break;
                case 'w': warmup = strtod(optarg, NULL); break;
                case 'l': label = optarg; break;
                case 'f': floor = optarg; break;
                case 'r': rounds = (unsigned) strtoul(optarg, NULL, 10); break;
                default: usage(); return 2;
                }
        if (!address || optind >= argc || rounds == 0 || spec.depth == 0 ||
            (floor && strcmp(floor, "ping") != 0 && strncmp(floor, "fsync:", 6) != 0) ||
            (floor && strncmp(floor, "fsync:", 6) == 0 && spec.max_calls == 0)) {
                usage();
                return 2;
        }
        const Op *op = NULL;
        for (size_t k = 0; k < ELEMENTSOF(ops); k++)
                if (strcmp(ops[k].name, argv[optind]) == 0)
                        op = &ops[k];
        if (!op || argc - optind - 1 != op->n_args) {
                usage();
                return 2;
        }
        char **args = argv + optind + 1;
        if (!label)
                label = op->name;

        _cleanup_bus_ sd_bus *bus = NULL;
        const char *unique;
        int r = bus_open(address, "bench-client", &bus);
        if (r >= 0)
                r = sd_bus_get_unique_name(bus, &unique);   /* waits for Hello */
        if (r < 0) {
                fprintf(stderr, "cannot connect to %s: %s\n", address, strerror(-r));
                return 1;
        }

        _cleanup_(ctx_clear) Ctx c = {};
        Ctx ping_ctx = { .dest = op->gk ? SS_NAME : OV_NAME };
        if (strcmp(op->name, "ping") == 0)
                c.dest = args[0];
        else if (strncmp(op->name, "ov-", 3) == 0) {
                c.org = args[0];
                c.n = c.start = strtoull(args[1], NULL, 10);
        } else if (op->n_args == 1)
                c.n = c.start = strtoull(args[0], NULL, 10);
        if (op->gk && gk_open(bus, &c) < 0)
                return 1;
        if (op->build == build_gk_get && (r = gk_collect_items(bus, &c)) < 0) {
                fprintf(stderr, "no bench items in the keyring: %s\n", strerror(-r));
                return 1;
        }
        if (!op->build)
                return cmd_activate(bus, &c) < 0;

        spec.build = op->build;
        spec.check = op->check;
        spec.userdata = &c;
        _cleanup_(stats_clear) Stats warm = {}, floor_stats = {}, op_stats = {};
        if (warmup > 0) {
                RunSpec w = spec;
                w.seconds = warmup;
                w.max_calls = 0;
                r = run_pipelined(bus, &w, &warm);
        }
        if (r >= 0)
                r = run_rounds(bus, &spec, rounds, floor, &ping_ctx, &floor_stats, &op_stats);
        if (r < 0) {
                fprintf(stderr, "%s failed: %s\n", label, strerror(-r));
                return 1;
        }
        if (floor) {
                char floor_label[128];
                snprintf(floor_label, sizeof floor_label, "floor-%s", label);
                stats_print(floor_label, spec.depth, &floor_stats);
        }
        stats_print(label, spec.depth, &op_stats);
        return op_stats.errors > 0 || floor_stats.errors > 0 ? 3 : 0;
}
