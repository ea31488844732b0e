/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "pipeline.h"

typedef struct Run Run;

/* One in-flight position; reused by the next call when its reply arrives. */
typedef struct Slot {
        Run *run;
        uint64_t started;
} Slot;

struct Run {
        sd_bus *bus;
        const RunSpec *spec;
        Stats *stats;
        uint64_t deadline;
        uint64_t issued;
        unsigned in_flight;
        int fatal;
};

uint64_t mono_usec(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000u + (uint64_t) ts.tv_nsec / 1000u;
}

void stats_clear(Stats *s) {
        free(s->lat);
        *s = (Stats) {};
}

int stats_add(Stats *s, uint64_t latency_usec) {
        if (s->n_lat == s->allocated) {
                size_t n = s->allocated ? s->allocated * 2 : 4096;
                uint64_t *l = realloc(s->lat, n * sizeof(uint64_t));
                if (!l)
                        return -ENOMEM;
                s->lat = l;
                s->allocated = n;
        }
        s->lat[s->n_lat++] = latency_usec;
        s->calls++;
        return 0;
}

static int cmp_u64(const void *a, const void *b) {
        uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;
        return x < y ? -1 : x > y;
}

/* One line per figure; run-bench reads the key=value pairs. */
void stats_print(const char *label, unsigned depth, Stats *s) {
        double p50 = 0, p99 = 0, secs = (double) s->usec / 1e6;
        if (s->n_lat > 0) {
                qsort(s->lat, s->n_lat, sizeof(uint64_t), cmp_u64);
                p50 = (double) s->lat[(s->n_lat - 1) * 50 / 100];
                p99 = (double) s->lat[(s->n_lat - 1) * 99 / 100];
        }
        printf("RESULT op=%s depth=%u calls=%llu errors=%llu secs=%.3f rate=%.1f p50=%.0f p99=%.0f\n",
               label, depth, (unsigned long long) s->calls, (unsigned long long) s->errors,
               secs, secs > 0 ? (double) s->calls / secs : 0, p50, p99);
        if (s->errors > 0)
                fprintf(stderr, "%s: %llu failed calls, first: %s\n", label,
                        (unsigned long long) s->errors, s->first_error);
        fflush(stdout);
}

static void note_error(Stats *s, const char *name, const char *message) {
        if (s->errors++ == 0)
                snprintf(s->first_error, sizeof s->first_error, "%s: %s", name, message);
}

static bool run_may_issue(const Run *run) {
        if (run->fatal < 0)
                return false;
        if (run->spec->max_calls > 0 && run->issued >= run->spec->max_calls)
                return false;
        return run->deadline == 0 || mono_usec() < run->deadline;
}

static int issue(Run *run, Slot *slot);

static int on_reply(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        Slot *slot = userdata;
        Run *run = slot->run;
        uint64_t t = mono_usec() - slot->started;

        run->in_flight--;
        if (sd_bus_message_is_method_error(reply, NULL)) {
                const sd_bus_error *err = sd_bus_message_get_error(reply);
                note_error(run->stats, err->name, err->message ? err->message : "");
        } else if (run->spec->check && run->spec->check(reply, run->spec->userdata) < 0)
                note_error(run->stats, "bench", "reply did not check out");
        int r = stats_add(run->stats, t);
        if (r >= 0 && run_may_issue(run))
                r = issue(run, slot);
        if (r < 0)
                run->fatal = r;
        return 0;
}

static int issue(Run *run, Slot *slot) {
        sd_bus_message *m = NULL;
        int r = run->spec->build(run->bus, run->stats->calls + run->in_flight, &m, run->spec->userdata);
        if (r < 0)
                return r;
        slot->started = mono_usec();
        r = sd_bus_call_async(run->bus, NULL, m, on_reply, slot, 60 * 1000000ULL);
        sd_bus_message_unref(m);
        if (r < 0)
                return r;
        run->issued++;
        run->in_flight++;
        return 0;
}

int run_pipelined(sd_bus *bus, const RunSpec *spec, Stats *stats) {
        Run run = { .bus = bus, .spec = spec, .stats = stats };
        unsigned depth = spec->depth ? spec->depth : 1;
        Slot *slots = calloc(depth, sizeof(Slot));
        int r = 0;

        if (!slots)
                return -ENOMEM;
        uint64_t start = mono_usec();
        if (spec->seconds > 0)
                run.deadline = start + (uint64_t) (spec->seconds * 1e6);
        for (unsigned k = 0; k < depth && run_may_issue(&run); k++) {
                slots[k].run = &run;
                r = issue(&run, &slots[k]);
                if (r < 0)
                        goto finish;
        }
        while (run.in_flight > 0 && run.fatal >= 0) {
                r = sd_bus_process(bus, NULL);
                if (r < 0)
                        goto finish;
                if (r > 0)
                        continue;
                r = sd_bus_wait(bus, UINT64_MAX);
                if (r < 0)
                        goto finish;
        }
        r = run.fatal;
finish:
        stats->usec += mono_usec() - start;
        free(slots);
        return r;
}

#define RECORD_SIZE 600          /* about one sealed Slack webhook record */

static int durable_write(int dir_fd, uint64_t i, const char *data, size_t len) {
        char tmp[64], name[64];
        snprintf(tmp, sizeof tmp, ".#floor-%06llu.json.tmp", (unsigned long long) i);
        snprintf(name, sizeof name, "floor-%06llu.json", (unsigned long long) i);
        int fd = openat(dir_fd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0)
                return -errno;
        int r = write(fd, data, len) == (ssize_t) len ? 0 : -EIO;
        if (r == 0 && fsync(fd) < 0)
                r = -errno;
        if (close(fd) < 0 && r == 0)
                r = -errno;
        if (r == 0 && renameat(dir_fd, tmp, dir_fd, name) < 0)
                r = -errno;
        if (r == 0 && fsync(dir_fd) < 0)
                r = -errno;
        return r;
}

int run_fsync_floor(int dir_fd, unsigned count, Stats *stats) {
        char data[RECORD_SIZE];
        memset(data, 'x', sizeof data);
        data[sizeof data - 1] = '\n';
        uint64_t start = mono_usec();
        int r = 0;
        for (unsigned k = 0; k < count && r >= 0; k++) {
                uint64_t t = mono_usec();
                r = durable_write(dir_fd, stats->calls, data, sizeof data);
                if (r >= 0)
                        r = stats_add(stats, mono_usec() - t);
        }
        stats->usec += mono_usec() - start;
        return r;
}
