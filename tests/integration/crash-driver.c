/* SPDX-License-Identifier: Apache-2.0 */
/* Crash-consistency driver for test-crash.sh.
 *
 * Each trial runs a burst of AddSecret / UpdateSecret / RenameSecret /
 * DeleteSecret (to the trash) / RotateKeys / RestoreSecret / PurgeSecret /
 * RollbackSecret calls, one at a time, as an admin of ORG, and
 * SIGKILLs orgvaultd a random 0..50 ms into the burst. Every third trial
 * is a batched burst instead: rounds of up to BATCH adds, updates and
 * renames of distinct secrets all in flight at once, so the daemon commits
 * them as one group (store-batch.h) and the kill lands in group commits; any
 * of the calls cut off may or may not have happened. A call counts as
 * acknowledged when its success reply arrived. The next call re-activates
 * the daemon, which then must show every acknowledged call (the one call in
 * flight at the kill may or may not have happened), open every record,
 * quarantine nothing, leave no temp file and no half-rotated org.
 *
 * usage: crash-driver BUS-ADDRESS STATE-DIR ORG TRIALS SEED ADMIN CONSUMER
 * (ADMIN: a user who is admin of ORG; CONSUMER: one whose features include
 * slack-webhook's)
 *
 * Runs as root: it connects as ADMIN and CONSUMER by taking their ids for
 * the length of connect() and the bus handshake (dbus-daemon reads the
 * peer's credentials there). Prints one line per problem and a last line of
 * counters; exits 0 when it found no problem. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "util.h"

#define VAULT_NAME "io.orgvault.Vault1"
#define VAULT_PATH "/io/orgvault/Vault1"
#define VAULT_IFACE "io.orgvault.Vault1.Manager"
#define MAX_SECRETS 12
#define MAX_TRASH 12
#define KILL_WINDOW_USEC 50000
#define CALL_TIMEOUT_USEC (30 * 1000000ULL)
#define MAX_PRINTED_PROBLEMS 40

#define _cleanup_bus_ _cleanup_(sd_bus_flush_close_unrefp)
#define _cleanup_msg_ _cleanup_(sd_bus_message_unrefp)
#define _cleanup_event_ _cleanup_(sd_event_unrefp)

#define BATCH 8                 /* calls in flight in a batched burst */
#define HISTORY 4               /* earlier values the model follows (the daemon keeps 10) */

typedef struct Entry {
        char id[48];
        char name[96];
        uint32_t version;
        char value[128];         /* the webhook_url field */
        /* earlier values, newest first: what a rollback may bring back */
        uint32_t hist_version[HISTORY];
        char hist_value[HISTORY][128];
        size_t n_hist;
} Entry;

typedef struct Model {
        Entry e[MAX_SECRETS + 1];
        size_t n;
        Entry trash[MAX_TRASH + 1];      /* deleted, restorable */
        size_t n_trash;
} Model;

typedef enum OpKind { OP_ADD, OP_UPDATE, OP_RENAME, OP_DELETE, OP_ROTATE, OP_RESTORE, OP_PURGE, OP_ROLLBACK, _OP_MAX } OpKind;
static const char *const op_names[_OP_MAX] = { "add", "update", "rename", "delete", "rotate-keys", "restore", "purge",
                                               "rollback" };

typedef struct Op {
        OpKind kind;
        Entry target;            /* id, and the new name or value */
} Op;

/* Problems by kind; the script asserts each is zero. */
typedef struct Counters {
        unsigned trials, acked, acked_by_kind[_OP_MAX];
        unsigned killed_in_flight, in_flight_by_kind[_OP_MAX], in_flight_applied;
        unsigned lost, call_errors, wrong_replies, unreadable, quarantined, temp_files, mid_rotation;
        unsigned batched_trials, acked_batched, killed_in_batch;     /* kills with >= 2 batched calls in flight */
} Counters;

static const char *arg_address, *arg_state_dir, *arg_org, *arg_admin, *arg_consumer;
static Counters counters;
static unsigned problems_printed;
static const char *cut_off = "nothing";   /* the call the last kill cut off */
static uint64_t rng_state;

static void problem(unsigned trial, const char *fmt, ...) _printf_(2, 3);
static void problem(unsigned trial, const char *fmt, ...) {
        va_list ap;
        if (problems_printed++ >= MAX_PRINTED_PROBLEMS)
                return;
        printf("trial %u: ", trial);
        va_start(ap, fmt);
        vprintf(fmt, ap);
        va_end(ap);
        putchar('\n');
        fflush(stdout);
}

/* xorshift64*: reproducible from the seed the script prints. */
static uint64_t rnd(void) {
        rng_state ^= rng_state >> 12;
        rng_state ^= rng_state << 25;
        rng_state ^= rng_state >> 27;
        return rng_state * 2685821657736338717ULL;
}

static unsigned rnd_below(unsigned n) { return (unsigned) (rnd() % n); }

/* A fake Slack webhook whose last 24 characters vary ([a-z0-9] only). */
static void fake_value(char *buf, size_t size) {
        static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
        char token[25];
        for (size_t i = 0; i < 24; i++)
                token[i] = alphabet[rnd_below(sizeof alphabet - 1)];
        token[24] = 0;
        snprintf(buf, size, "https://hooks.slack.com/services/TFAKE0000/BFAKE0000/%s", token);
}

/* Connecting as another user */

static int bus_open_as(const char *user, sd_bus **ret) {
        _cleanup_bus_ sd_bus *bus = NULL;
        gid_t saved_groups[256], groups[256];
        int n_saved = getgroups(ELEMENTSOF(saved_groups), saved_groups), n_groups = ELEMENTSOF(groups);
        const struct passwd *pw = NULL;
        const char *unique;
        int r;

        if (user) {
                pw = getpwnam(user);
                if (!pw || n_saved < 0 || getgrouplist(user, pw->pw_gid, groups, &n_groups) < 0)
                        return -ENOENT;
                if (setgroups((size_t) n_groups, groups) < 0 || setresgid(-1, pw->pw_gid, -1) < 0 ||
                    setresuid(-1, pw->pw_uid, -1) < 0)
                        return -errno;
        }
        r = sd_bus_new(&bus);
        if (r >= 0)
                r = sd_bus_set_address(bus, arg_address);
        if (r >= 0)
                r = sd_bus_set_bus_client(bus, true);
        if (r >= 0)
                r = sd_bus_negotiate_fds(bus, true);
        if (r >= 0)
                r = sd_bus_start(bus);
        if (r >= 0)
                r = sd_bus_get_unique_name(bus, &unique);   /* waits for the handshake */
        if (user && (setresuid(-1, 0, -1) < 0 || setresgid(-1, 0, -1) < 0 ||
                     setgroups((size_t) n_saved, saved_groups) < 0)) {
                perror("cannot return to root");
                exit(2);
        }
        if (r < 0)
                return r;
        *ret = bus;
        bus = NULL;
        return 0;
}

/* The model */

static Entry *model_find(Model *m, const char *id) {
        for (size_t i = 0; i < m->n; i++)
                if (strcmp(m->e[i].id, id) == 0)
                        return &m->e[i];
        return NULL;
}

static Entry *model_find_trash(Model *m, const char *id) {
        for (size_t i = 0; i < m->n_trash; i++)
                if (strcmp(m->trash[i].id, id) == 0)
                        return &m->trash[i];
        return NULL;
}

/* The current value becomes the newest earlier one; value the new current. */
static void push_value(Entry *e, const char *value) {
        memmove(e->hist_version + 1, e->hist_version, (HISTORY - 1) * sizeof e->hist_version[0]);
        memmove(e->hist_value + 1, e->hist_value, (HISTORY - 1) * sizeof e->hist_value[0]);
        e->hist_version[0] = e->version;
        memcpy(e->hist_value[0], e->value, sizeof e->value);
        if (e->n_hist < HISTORY)
                e->n_hist++;
        e->version++;
        snprintf(e->value, sizeof e->value, "%s", value);
}

static void model_apply(Model *m, const Op *op) {
        Entry *e = model_find(m, op->target.id), *t = model_find_trash(m, op->target.id);
        char value[128];

        switch (op->kind) {
        case OP_ADD:
                m->e[m->n] = op->target;
                m->e[m->n++].version = 1;
                break;
        case OP_UPDATE:
                push_value(e, op->target.value);
                break;
        case OP_ROLLBACK:
                for (size_t i = 0; i < e->n_hist; i++)
                        if (e->hist_version[i] == op->target.version) {
                                memcpy(value, e->hist_value[i], sizeof value);
                                push_value(e, value);
                                break;
                        }
                break;
        case OP_RENAME:
                memcpy(e->name, op->target.name, sizeof e->name);
                break;
        case OP_DELETE:
                m->trash[m->n_trash++] = *e;
                *e = m->e[--m->n];
                break;
        case OP_RESTORE:
                m->e[m->n++] = *t;
                *t = m->trash[--m->n_trash];
                break;
        case OP_PURGE:
                *t = m->trash[--m->n_trash];
                break;
        default:
                break;
        }
}

/* "" when equal, else what differs (expected is the model). */
static void model_diff(const Model *expected, Model *actual, char *buf, size_t size) {
        buf[0] = 0;
        for (size_t i = 0; i < expected->n; i++) {
                const Entry *x = &expected->e[i];
                const Entry *a = model_find(actual, x->id);
                if (!a)
                        snprintf(buf, size, "%s is missing", x->id);
                else if (strcmp(a->name, x->name) != 0)
                        snprintf(buf, size, "%s is named \"%s\", expected \"%s\"", x->id, a->name, x->name);
                else if (a->version != x->version)
                        snprintf(buf, size, "%s has version %" PRIu32 ", expected %" PRIu32, x->id, a->version, x->version);
                else if (strcmp(a->value, x->value) != 0)
                        snprintf(buf, size, "%s resolves to another value than the acknowledged one", x->id);
                if (buf[0])
                        return;
        }
        if (actual->n != expected->n)
                snprintf(buf, size, "%zu secrets on disk, expected %zu", actual->n, expected->n);
        for (size_t i = 0; !buf[0] && i < expected->n_trash; i++) {
                const Entry *x = &expected->trash[i];
                const Entry *a = model_find_trash(actual, x->id);
                if (!a)
                        snprintf(buf, size, "%s is missing from the trash", x->id);
                else if (strcmp(a->name, x->name) != 0)
                        snprintf(buf, size, "%s is in the trash as \"%s\", expected \"%s\"", x->id, a->name, x->name);
        }
        if (!buf[0] && actual->n_trash != expected->n_trash)
                snprintf(buf, size, "%zu secrets in the trash, expected %zu", actual->n_trash, expected->n_trash);
}

static bool has_history(const Model *m) {
        for (size_t i = 0; i < m->n; i++)
                if (m->e[i].n_hist > 0)
                        return true;
        return false;
}

static void pick_op(const Model *m, unsigned trial, unsigned seq, Op *op) {
        static const unsigned weights[_OP_MAX] = { 30, 30, 15, 15, 10, 10, 8, 12 };
        unsigned total = 0, roll;

        *op = (Op) {};
        for (OpKind k = 0; k < _OP_MAX; k++)
                total += weights[k];
        do {
                roll = rnd_below(total);
                op->kind = OP_ADD;
                while (roll >= weights[op->kind])
                        roll -= weights[op->kind++];
        } while ((op->kind == OP_ADD && m->n >= MAX_SECRETS) ||
                 ((op->kind == OP_UPDATE || op->kind == OP_RENAME || op->kind == OP_DELETE) && m->n == 0) ||
                 (op->kind == OP_DELETE && m->n_trash >= MAX_TRASH) ||
                 (op->kind == OP_RESTORE && (m->n_trash == 0 || m->n >= MAX_SECRETS)) ||
                 (op->kind == OP_PURGE && m->n_trash == 0) ||
                 (op->kind == OP_ROLLBACK && !has_history(m)));

        if (op->kind == OP_ADD) {
                snprintf(op->target.id, sizeof op->target.id, "c%u-%u", trial, seq);
                snprintf(op->target.name, sizeof op->target.name, "Crash %u.%u", trial, seq);
                fake_value(op->target.value, sizeof op->target.value);
        } else if (op->kind == OP_ROLLBACK) {
                do
                        op->target = m->e[rnd_below((unsigned) m->n)];
                while (op->target.n_hist == 0);
                op->target.version = op->target.hist_version[rnd_below((unsigned) op->target.n_hist)];
        } else if (op->kind == OP_RESTORE || op->kind == OP_PURGE) {
                op->target = m->trash[rnd_below((unsigned) m->n_trash)];
        } else if (op->kind != OP_ROTATE) {
                op->target = m->e[rnd_below((unsigned) m->n)];
                if (op->kind == OP_UPDATE)
                        fake_value(op->target.value, sizeof op->target.value);
                if (op->kind == OP_RENAME)
                        snprintf(op->target.name, sizeof op->target.name, "Renamed %u.%u", trial, seq);
        }
}

static int op_message(sd_bus *bus, const Op *op, sd_bus_message **ret) {
        static const char *const members[_OP_MAX] = { "AddSecret", "UpdateSecret", "RenameSecret", "DeleteSecret",
                                                       "RotateKeys", "RestoreSecret", "PurgeSecret",
                                                       "RollbackSecret" };
        _cleanup_msg_ sd_bus_message *m = NULL;
        const Entry *t = &op->target;
        int r;

        r = sd_bus_message_new_method_call(bus, &m, VAULT_NAME, VAULT_PATH, VAULT_IFACE, members[op->kind]);
        if (r < 0)
                return r;
        /* A call after the kill must not start the next daemon. */
        r = sd_bus_message_set_auto_start(m, false);
        if (r < 0)
                return r;
        switch (op->kind) {
        case OP_ADD:
                r = sd_bus_message_append(m, "sssa{ss}a{sv}", arg_org, "slack-webhook", t->name,
                                          1, "webhook_url", t->value, 1, "id", "s", t->id);
                break;
        case OP_UPDATE:
                r = sd_bus_message_append(m, "ssa{ss}", arg_org, t->id, 1, "webhook_url", t->value);
                break;
        case OP_RENAME:
                r = sd_bus_message_append(m, "sss", arg_org, t->id, t->name);
                break;
        case OP_DELETE:
                r = sd_bus_message_append(m, "ssb", arg_org, t->id, 0);
                break;
        case OP_RESTORE:
        case OP_PURGE:
                r = sd_bus_message_append(m, "ss", arg_org, t->id);
                break;
        case OP_ROLLBACK:
                r = sd_bus_message_append(m, "ssu", arg_org, t->id, t->version);
                break;
        default:
                r = sd_bus_message_append(m, "s", arg_org);
                break;
        }
        if (r < 0)
                return r;
        *ret = m;
        m = NULL;
        return 0;
}

/* One burst */

typedef struct Burst Burst;

/* A batched burst's call in flight. */
typedef struct Slot {
        Burst *b;
        Op op;
        bool pending;            /* not acknowledged: unanswered, or cut off by the kill */
} Slot;

struct Burst {
        sd_bus *bus;
        sd_event *event;
        Model *acked;            /* the state every acknowledged call made */
        Op in_flight;
        bool have_in_flight, killed;
        pid_t pid;
        unsigned trial, seq;
        bool batched;
        Slot slots[BATCH];
        unsigned n_pending;      /* calls without an answer yet */
};

static int send_next(Burst *b);

/* The reply must match what the model predicts. */
static void check_reply(Burst *b, const Op *op, sd_bus_message *reply) {
        const char *id = NULL;
        uint32_t version = 0;

        if (op->kind == OP_ADD && (sd_bus_message_read(reply, "s", &id) < 0 || strcmp(id, op->target.id) != 0)) {
                counters.wrong_replies++;
                problem(b->trial, "AddSecret %s answered id %s", op->target.id, id ?: "(unreadable)");
        }
        if (op->kind == OP_UPDATE || op->kind == OP_ROLLBACK) {
                const Entry *e = model_find(b->acked, op->target.id);
                if (sd_bus_message_read(reply, "u", &version) < 0 || version != e->version + 1) {
                        counters.wrong_replies++;
                        problem(b->trial, "UpdateSecret %s answered version %" PRIu32 ", expected %" PRIu32,
                                op->target.id, version, e->version + 1);
                }
        }
}

static int on_reply(sd_bus_message *reply, void *userdata, sd_bus_error *unused) {
        Burst *b = userdata;
        const sd_bus_error *err = sd_bus_message_get_error(reply);

        if (err && b->killed)   /* cut off by the kill: may or may not have happened */
                return sd_event_exit(b->event, 0);
        b->have_in_flight = false;
        if (err) {
                /* A refused call must leave the disk as it was. */
                counters.call_errors++;
                problem(b->trial, "%s %s failed: %s: %s", op_names[b->in_flight.kind], b->in_flight.target.id,
                        err->name, err->message);
        } else {
                check_reply(b, &b->in_flight, reply);
                model_apply(b->acked, &b->in_flight);
                counters.acked++;
                counters.acked_by_kind[b->in_flight.kind]++;
        }
        if (b->killed)
                return sd_event_exit(b->event, 0);
        return send_next(b);
}

static int send_next(Burst *b) {
        _cleanup_msg_ sd_bus_message *m = NULL;
        int r;

        pick_op(b->acked, b->trial, b->seq++, &b->in_flight);
        r = op_message(b->bus, &b->in_flight, &m);
        if (r >= 0)
                r = sd_bus_call_async(b->bus, NULL, m, on_reply, b, CALL_TIMEOUT_USEC);
        if (r < 0) {
                fprintf(stderr, "cannot send a call: %s\n", strerror(-r));
                return sd_event_exit(b->event, r);
        }
        b->have_in_flight = true;
        return 0;
}

/* A batched burst's next call for slot: an add, update or rename of a
 * secret no other call in flight touches. */
static void pick_batched_op(Burst *b, Slot *slot) {
        Model *m = b->acked;
        unsigned adds = 0;
        bool taken;

        for (unsigned k = 0; k < BATCH; k++)
                adds += b->slots[k].pending && b->slots[k].op.kind == OP_ADD;
        do {
                Op *op = &slot->op;
                unsigned roll = rnd_below(3);
                *op = (Op) {};
                if (roll == 0 || m->n == 0) {
                        op->kind = OP_ADD;
                        snprintf(op->target.id, sizeof op->target.id, "c%u-%u", b->trial, b->seq);
                        snprintf(op->target.name, sizeof op->target.name, "Crash %u.%u", b->trial, b->seq);
                        fake_value(op->target.value, sizeof op->target.value);
                } else {
                        op->kind = roll == 1 ? OP_UPDATE : OP_RENAME;
                        op->target = m->e[rnd_below((unsigned) m->n)];
                        if (op->kind == OP_UPDATE)
                                fake_value(op->target.value, sizeof op->target.value);
                        else
                                snprintf(op->target.name, sizeof op->target.name, "Renamed %u.%u", b->trial, b->seq);
                }
                b->seq++;
                taken = op->kind == OP_ADD && m->n + adds >= MAX_SECRETS;
                for (unsigned k = 0; !taken && k < BATCH; k++)
                        taken = b->slots[k].pending && strcmp(b->slots[k].op.target.id, op->target.id) == 0;
        } while (taken);
}

static int send_batch(Burst *b);

static int on_batched_reply(sd_bus_message *reply, void *userdata, sd_bus_error *unused) {
        Slot *slot = userdata;
        Burst *b = slot->b;
        const sd_bus_error *err = sd_bus_message_get_error(reply);

        b->n_pending--;
        if (err && b->killed)   /* cut off by the kill: may or may not have happened (stays pending) */
                return b->n_pending == 0 ? sd_event_exit(b->event, 0) : 0;
        slot->pending = false;
        if (err) {
                counters.call_errors++;
                problem(b->trial, "batched %s %s failed: %s: %s", op_names[slot->op.kind], slot->op.target.id,
                        err->name, err->message);
        } else {
                check_reply(b, &slot->op, reply);
                model_apply(b->acked, &slot->op);
                counters.acked++;
                counters.acked_batched++;
                counters.acked_by_kind[slot->op.kind]++;
        }
        if (b->n_pending > 0)
                return 0;
        if (b->killed)
                return sd_event_exit(b->event, 0);
        return send_batch(b);
}

/* A round: BATCH calls sent at once (the daemon reads them while it commits). */
static int send_batch(Burst *b) {
        for (unsigned k = 0; k < BATCH; k++) {
                _cleanup_msg_ sd_bus_message *m = NULL;
                Slot *slot = &b->slots[k];
                pick_batched_op(b, slot);
                slot->b = b;
                int r = op_message(b->bus, &slot->op, &m);
                if (r >= 0)
                        r = sd_bus_call_async(b->bus, NULL, m, on_batched_reply, slot, CALL_TIMEOUT_USEC);
                if (r < 0) {
                        fprintf(stderr, "cannot send a call: %s\n", strerror(-r));
                        return sd_event_exit(b->event, r);
                }
                slot->pending = true;
                b->n_pending++;
        }
        return 0;
}

static int on_kill_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        Burst *b = userdata;

        if (kill(b->pid, SIGKILL) < 0) {
                fprintf(stderr, "cannot kill orgvaultd (%d): %m\n", (int) b->pid);
                return sd_event_exit(b->event, -errno);
        }
        b->killed = true;
        if (b->batched) {
                if (b->n_pending >= 2)
                        counters.killed_in_batch++;
                if (b->n_pending > 0) {
                        counters.killed_in_flight++;
                        return 0;       /* their replies or errors end the burst */
                }
                return sd_event_exit(b->event, 0);
        }
        if (b->have_in_flight) {
                counters.killed_in_flight++;
                counters.in_flight_by_kind[b->in_flight.kind]++;
                return 0;       /* its reply or error ends the burst */
        }
        return sd_event_exit(b->event, 0);
}

/* Returns whether a call was left unanswered (in *ret_op). */
static int run_burst(sd_bus *bus, pid_t pid, unsigned trial, Model *acked, bool batched, Op *ret_ops,
                     unsigned *ret_n_in_flight) {
        _cleanup_event_ sd_event *event = NULL;
        Burst b = { .bus = bus, .acked = acked, .pid = pid, .trial = trial, .batched = batched };
        uint64_t now;
        int r;

        r = sd_event_new(&event);
        if (r < 0)
                return r;
        b.event = event;
        r = sd_bus_attach_event(bus, event, 0);
        if (r < 0)
                return r;
        /* The bus outlives this loop (read-back and the next bursts). */
        r = sd_bus_set_close_on_exit(bus, false);
        if (r < 0)
                return r;
        (void) sd_event_now(event, CLOCK_MONOTONIC, &now);
        r = sd_event_add_time(event, NULL, CLOCK_MONOTONIC, now + rnd_below(KILL_WINDOW_USEC + 1), 0, on_kill_timer, &b);
        if (r >= 0)
                r = batched ? send_batch(&b) : send_next(&b);
        if (r >= 0)
                r = sd_event_loop(event);
        (void) sd_bus_detach_event(bus);
        if (r < 0)
                return r;
        *ret_n_in_flight = 0;
        if (!batched && b.have_in_flight)
                ret_ops[(*ret_n_in_flight)++] = b.in_flight;
        for (unsigned k = 0; batched && k < BATCH; k++)
                if (b.slots[k].pending)
                        ret_ops[(*ret_n_in_flight)++] = b.slots[k].op;
        return 0;
}

/* Reading the state back */

static int call(sd_bus *bus, unsigned trial, const char *member, sd_bus_message **reply, const char *types, ...) {
        _cleanup_msg_ sd_bus_message *m = NULL;
        sd_bus_error err = SD_BUS_ERROR_NULL;
        va_list ap;
        int r;

        r = sd_bus_message_new_method_call(bus, &m, VAULT_NAME, VAULT_PATH, VAULT_IFACE, member);
        if (r >= 0 && types) {
                va_start(ap, types);
                r = sd_bus_message_appendv(m, types, ap);
                va_end(ap);
        }
        if (r >= 0)
                r = sd_bus_call(bus, m, CALL_TIMEOUT_USEC, &err, reply);
        if (r < 0) {
                counters.call_errors++;
                problem(trial, "%s failed after the restart: %s: %s", member, err.name ?: "-", err.message ?: strerror(-r));
        }
        sd_bus_error_free(&err);
        return r;
}

/* Finds KEY in an a{sv} and reads its value as an unsigned number or a string. */
static int dict_get(sd_bus_message *m, const char *key, uint64_t *ret_num, char *ret_str, size_t str_size) {
        const char *k, *contents;
        char type;
        int r, found = 0;

        r = sd_bus_message_enter_container(m, 'a', "{sv}");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
                r = sd_bus_message_read(m, "s", &k);
                if (r < 0)
                        return r;
                if (strcmp(k, key) != 0) {
                        r = sd_bus_message_skip(m, "v");
                } else {
                        r = sd_bus_message_peek_type(m, &type, &contents);
                        if (r >= 0)
                                r = sd_bus_message_enter_container(m, 'v', contents);
                        if (r >= 0) {
                                union { uint32_t u; uint64_t t; int32_t i; const char *s; } v = {};
                                r = sd_bus_message_read_basic(m, contents[0], &v);
                                if (r >= 0 && contents[0] == 'u')
                                        *ret_num = v.u;
                                else if (r >= 0 && contents[0] == 't')
                                        *ret_num = v.t;
                                else if (r >= 0 && contents[0] == 'i')
                                        *ret_num = (uint64_t) v.i;
                                else if (r >= 0 && contents[0] == 's' && ret_str)
                                        snprintf(ret_str, str_size, "%s", v.s);
                                if (r >= 0)
                                        r = sd_bus_message_exit_container(m);
                                found = 1;
                        }
                }
                if (r < 0)
                        return r;
                r = sd_bus_message_exit_container(m);
                if (r < 0)
                        return r;
        }
        if (r < 0)
                return r;
        r = sd_bus_message_exit_container(m);
        return r < 0 ? r : found;
}

/* The webhook_url of a resolved secret, read from the returned memfd. */
static int resolve_value(sd_bus *consumer, unsigned trial, const char *id, char *buf, size_t size) {
        _cleanup_msg_ sd_bus_message *reply = NULL;
        _cleanup_json_ json_t *j = NULL;
        char text[4096];
        size_t len = 0;
        ssize_t n;
        int fd, r;

        r = call(consumer, trial, "Resolve", &reply, "ss", arg_org, id);
        if (r < 0)
                return r;
        r = sd_bus_message_read(reply, "h", &fd);
        if (r < 0)
                return r;
        while (len < sizeof text - 1 && (n = pread(fd, text + len, sizeof text - 1 - len, (off_t) len)) > 0)
                len += (size_t) n;
        j = json_loadb(text, len, 0, NULL);
        explicit_bzero(text, sizeof text);
        const char *url = json_string_value(json_object_get(json_object_get(j, "fields"), "webhook_url"));
        if (!url)
                return -EBADMSG;
        snprintf(buf, size, "%s", url);
        return 0;
}

/* Temp files ("." "#" prefix) left anywhere under the state dir; each one
 * is counted and reported once, however many restarts it survives. */
static char *temp_seen[256];
static size_t n_temp_seen;

static bool temp_file_is_new(const char *path) {
        for (size_t i = 0; i < n_temp_seen; i++)
                if (strcmp(temp_seen[i], path) == 0)
                        return false;
        if (n_temp_seen < ELEMENTSOF(temp_seen))
                temp_seen[n_temp_seen++] = strdup(path);
        return true;
}

static unsigned count_temp_files(int dir_fd, const char *path, unsigned trial) {
        DIR *d = fdopendir(dup(dir_fd));
        const struct dirent *de;
        unsigned n = 0;

        if (!d)
                return 0;
        while ((de = readdir(d))) {
                char subpath[PATH_MAX];

                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                        continue;
                snprintf(subpath, sizeof subpath, "%s/%s", path, de->d_name);
                if (de->d_name[0] == '.' && de->d_name[1] == '#') {
                        if (temp_file_is_new(subpath)) {
                                n++;
                                problem(trial, "temp file %s survived the restart (the kill cut off %s)", subpath, cut_off);
                        }
                } else if (de->d_type == DT_DIR) {
                        _cleanup_close_ int sub = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                        if (sub >= 0)
                                n += count_temp_files(sub, subpath, trial);
                }
        }
        closedir(d);
        return n;
}

static bool org_mid_rotation(unsigned trial) {
        char path[PATH_MAX];
        snprintf(path, sizeof path, "%s/orgs/%s/org.json", arg_state_dir, arg_org);
        _cleanup_json_ json_t *j = json_load_file(path, 0, NULL);

        if (!j)
                return false;   /* no key yet: an org without secrets */
        if (json_object_get(j, "rotating_to")) {
                problem(trial, "orgs/%s/org.json still has \"rotating_to\" after the restart", arg_org);
                return true;
        }
        return false;
}

typedef struct Clients {
        sd_bus *root, *admin, *consumer;
} Clients;

/* Re-activates the daemon and reads the whole org back into *ret. */
static int read_state(const Clients *c, unsigned trial, Model *ret) {
        _cleanup_msg_ sd_bus_message *list = NULL, *status = NULL;
        _cleanup_close_ int state_fd = -1;
        const char *id, *name, *type;
        uint64_t created, updated, quarantined = 0;
        uint32_t refs;
        int r;

        *ret = (Model) {};
        r = call(c->admin, trial, "ListSecrets", &list, "sa{sv}", arg_org, 0);
        if (r < 0)
                return r;
        r = sd_bus_message_enter_container(list, 'a', "(sssttu)");
        while (r >= 0 && (r = sd_bus_message_read(list, "(sssttu)", &id, &name, &type, &created, &updated, &refs)) > 0) {
                _cleanup_msg_ sd_bus_message *get = NULL;
                uint64_t version = 0;
                Entry *e = &ret->e[ret->n];

                if (ret->n == MAX_SECRETS) {
                        problem(trial, "more than %d secrets listed", MAX_SECRETS);
                        return -E2BIG;
                }
                snprintf(e->id, sizeof e->id, "%s", id);
                snprintf(e->name, sizeof e->name, "%s", name);
                if (call(c->admin, trial, "GetSecret", &get, "ss", arg_org, id) < 0 ||
                    dict_get(get, "Version", &version, NULL, 0) <= 0) {
                        problem(trial, "GetSecret %s has no readable Version", id);
                        return -EBADMSG;
                }
                e->version = (uint32_t) version;
                ret->n++;
        }
        if (r < 0)
                return r;

        _cleanup_msg_ sd_bus_message *trash = NULL;
        uint64_t deleted;
        r = call(c->admin, trial, "ListTrash", &trash, "s", arg_org);
        if (r < 0)
                return r;
        r = sd_bus_message_enter_container(trash, 'a', "(ssstu)");
        while (r >= 0 && (r = sd_bus_message_read(trash, "(ssstu)", &id, &name, &type, &deleted, &refs)) > 0) {
                if (ret->n_trash == MAX_TRASH) {
                        problem(trial, "more than %d secrets in the trash", MAX_TRASH);
                        return -E2BIG;
                }
                Entry *e = &ret->trash[ret->n_trash++];
                snprintf(e->id, sizeof e->id, "%s", id);
                snprintf(e->name, sizeof e->name, "%s", name);
        }
        if (r < 0)
                return r;

        /* The org is loaded now: leftovers must be gone, rotation finished,
         * and nothing may have been found broken. Checked before any
         * Resolve, whose lazy usage write is this run's own. */
        state_fd = open(arg_state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (state_fd < 0)
                return -errno;
        counters.temp_files += count_temp_files(state_fd, ".", trial);
        counters.mid_rotation += org_mid_rotation(trial);
        if (call(c->root, trial, "Status", &status, NULL) < 0 || dict_get(status, "Quarantined", &quarantined, NULL, 0) <= 0) {
                problem(trial, "Status has no readable Quarantined");
                return -EBADMSG;
        }
        if (quarantined > 0) {
                counters.quarantined++;
                problem(trial, "Status reports %" PRIu64 " quarantined record(s)", quarantined);
        }

        for (size_t i = 0; i < ret->n; i++)
                if (resolve_value(c->consumer, trial, ret->e[i].id, ret->e[i].value, sizeof ret->e[i].value) < 0) {
                        counters.unreadable++;
                        problem(trial, "%s does not resolve after the restart", ret->e[i].id);
                }
        return 0;
}

static int daemon_pid(sd_bus *root, pid_t *ret) {
        _cleanup_msg_ sd_bus_message *reply = NULL;
        uint32_t pid;
        int r;

        r = sd_bus_call_method(root, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                               "GetConnectionUnixProcessID", NULL, &reply, "s", VAULT_NAME);
        if (r >= 0)
                r = sd_bus_message_read(reply, "u", &pid);
        if (r < 0)
                return r;
        *ret = (pid_t) pid;
        return 0;
}

/* Waits until the killed daemon has left the bus, so the next call
 * activates a fresh one. */
static int wait_gone(sd_bus *root) {
        for (unsigned i = 0; i < 10000; i++) {
                _cleanup_msg_ sd_bus_message *reply = NULL;
                int has = 1;
                int r = sd_bus_call_method(root, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                                           "NameHasOwner", NULL, &reply, "s", VAULT_NAME);
                if (r >= 0)
                        r = sd_bus_message_read(reply, "b", &has);
                if (r < 0)
                        return r;
                if (!has)
                        return 0;
                (void) nanosleep(&(struct timespec) { .tv_nsec = 1000000 }, NULL);
        }
        return -ETIMEDOUT;
}

static void print_counters(void) {
        printf("trials=%u acked=%u", counters.trials, counters.acked);
        for (OpKind k = 0; k < _OP_MAX; k++)
                printf(" acked_%s=%u", op_names[k], counters.acked_by_kind[k]);
        printf(" killed_in_flight=%u", counters.killed_in_flight);
        for (OpKind k = 0; k < _OP_MAX; k++)
                printf(" in_flight_%s=%u", op_names[k], counters.in_flight_by_kind[k]);
        printf(" batched_trials=%u acked_batched=%u killed_in_batch=%u", counters.batched_trials,
               counters.acked_batched, counters.killed_in_batch);
        printf(" in_flight_applied=%u lost=%u call_errors=%u wrong_replies=%u unreadable=%u quarantined=%u"
               " temp_files=%u mid_rotation=%u\n",
               counters.in_flight_applied, counters.lost, counters.call_errors, counters.wrong_replies,
               counters.unreadable, counters.quarantined, counters.temp_files, counters.mid_rotation);
}

static int run(unsigned trials) {
        _cleanup_bus_ sd_bus *root = NULL, *admin = NULL, *consumer = NULL;
        Model acked;
        int r;

        if ((r = bus_open_as(NULL, &root)) < 0 || (r = bus_open_as(arg_admin, &admin)) < 0 ||
            (r = bus_open_as(arg_consumer, &consumer)) < 0) {
                fprintf(stderr, "cannot connect to %s: %s\n", arg_address, strerror(-r));
                return r;
        }
        Clients c = { root, admin, consumer };

        /* Whatever is there at the start is the first model. */
        r = read_state(&c, 0, &acked);
        if (r < 0)
                return r;
        for (unsigned trial = 1; trial <= trials; trial++) {
                Model before, actual, with_op;
                Op ops[BATCH];
                unsigned n_in_flight = 0;
                bool batched = trial % 3 == 0;
                pid_t pid;
                char diff[256], diff_with_op[256];

                r = daemon_pid(root, &pid);
                if (r < 0) {
                        fprintf(stderr, "cannot find orgvaultd's pid: %s\n", strerror(-r));
                        return r;
                }
                before = acked;
                r = run_burst(admin, pid, trial, &acked, batched, ops, &n_in_flight);
                if (r < 0)
                        return r;
                r = wait_gone(root);
                if (r < 0) {
                        fprintf(stderr, "orgvaultd stays on the bus after SIGKILL: %s\n", strerror(-r));
                        return r;
                }
                counters.trials++;
                counters.batched_trials += batched;
                bool in_flight = n_in_flight > 0;
                cut_off = in_flight ? op_names[ops[0].kind] : "no call";
                if (read_state(&c, trial, &actual) < 0) {
                        print_counters();
                        return -EIO;
                }
                unsigned applied_before = counters.in_flight_applied;
                model_diff(&acked, &actual, diff, sizeof diff);
                /* Each call cut off may or may not have happened: some set
                 * of them (distinct secrets, so in any order) must explain
                 * what is on disk. */
                for (unsigned mask = 1; diff[0] && mask < (1u << n_in_flight); mask++) {
                        with_op = acked;
                        for (unsigned k = 0; k < n_in_flight; k++)
                                if (mask & (1u << k))
                                        model_apply(&with_op, &ops[k]);
                        model_diff(&with_op, &actual, diff_with_op, sizeof diff_with_op);
                        if (!diff_with_op[0]) {
                                counters.in_flight_applied++;
                                diff[0] = 0;
                        }
                }
                if (diff[0]) {
                        counters.lost++;
                        problem(trial, "after %s%s was cut off%s: %s (state before the burst had %zu secrets)",
                                in_flight ? op_names[ops[0].kind] : "no call", in_flight ? "" : " in flight",
                                n_in_flight > 1 ? " with other batched calls" : "", diff, before.n);
                }
                /* The bus shows neither a trashed value nor earlier ones:
                 * carry the model's (the one with the cut-off call when it
                 * happened). */
                Model *src = diff[0] == 0 && in_flight && counters.in_flight_applied > applied_before ? &with_op : &acked;
                for (size_t i = 0; i < actual.n_trash + actual.n; i++) {
                        Entry *a = i < actual.n_trash ? &actual.trash[i] : &actual.e[i - actual.n_trash];
                        Entry *x = model_find_trash(src, a->id);
                        if (!x)
                                x = model_find(src, a->id);
                        if (!x)
                                continue;
                        if (i < actual.n_trash) {
                                memcpy(a->value, x->value, sizeof a->value);
                                a->version = x->version;
                        }
                        memcpy(a->hist_version, x->hist_version, sizeof a->hist_version);
                        memcpy(a->hist_value, x->hist_value, sizeof a->hist_value);
                        a->n_hist = x->n_hist;
                }
                acked = actual;         /* so one problem does not cascade */
        }
        return 0;
}

int main(int argc, char **argv) {
        if (argc != 8) {
                fprintf(stderr, "usage: %s BUS-ADDRESS STATE-DIR ORG TRIALS SEED ADMIN CONSUMER\n", argv[0]);
                return 2;
        }
        arg_address = argv[1];
        arg_state_dir = argv[2];
        arg_org = argv[3];
        unsigned trials = (unsigned) strtoul(argv[4], NULL, 10);
        rng_state = strtoull(argv[5], NULL, 10) | 1;
        arg_admin = argv[6];
        arg_consumer = argv[7];

        int r = run(trials);
        for (size_t i = 0; i < n_temp_seen; i++)
                free(temp_seen[i]);
        if (r >= 0)
                print_counters();
        unsigned found = counters.lost + counters.call_errors + counters.wrong_replies + counters.unreadable +
                         counters.quarantined + counters.temp_files + counters.mid_rotation;
        return r < 0 ? 2 : found > 0 ? 1 : 0;
}
