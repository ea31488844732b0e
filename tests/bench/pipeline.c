/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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
        uint64_t deadline;
        uint64_t issued, answered, errors;
        unsigned in_flight;
        uint64_t *lat;
        size_t lat_n, lat_allocated;
        int fatal;
        char first_error[256];
};

uint64_t mono_usec(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000u + (uint64_t) ts.tv_nsec / 1000u;
}

static int cmp_u64(const void *a, const void *b) {
        uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;
        return x < y ? -1 : x > y;
}

void latency_summary(uint64_t *lat, uint64_t n, double *ret_p50, double *ret_p99) {
        if (n == 0) {
                *ret_p50 = *ret_p99 = 0;
                return;
        }
        qsort(lat, n, sizeof(uint64_t), cmp_u64);
        *ret_p50 = (double) lat[(n - 1) * 50 / 100];
        *ret_p99 = (double) lat[(n - 1) * 99 / 100];
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
        run->answered++;
        if (sd_bus_message_is_method_error(reply, NULL)) {
                const sd_bus_error *err = sd_bus_message_get_error(reply);
                if (run->errors++ == 0)
                        snprintf(run->first_error, sizeof run->first_error, "%s: %s",
                                 err->name, err->message ? err->message : "");
        } else if (run->spec->check && run->spec->check(reply, run->spec->userdata) < 0) {
                if (run->errors++ == 0)
                        snprintf(run->first_error, sizeof run->first_error, "reply did not check out");
        }
        if (run->lat_n == run->lat_allocated) {
                size_t n = run->lat_allocated ? run->lat_allocated * 2 : 4096;
                uint64_t *l = realloc(run->lat, n * sizeof(uint64_t));
                if (!l) {
                        run->fatal = -ENOMEM;
                        return 0;
                }
                run->lat = l;
                run->lat_allocated = n;
        }
        run->lat[run->lat_n++] = t;
        if (run_may_issue(run)) {
                int r = issue(run, slot);
                if (r < 0)
                        run->fatal = r;
        }
        return 0;
}

static int issue(Run *run, Slot *slot) {
        sd_bus_message *m = NULL;
        int r = run->spec->build(run->bus, run->issued, &m, run->spec->userdata);
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

int run_pipelined(sd_bus *bus, const RunSpec *spec, RunResult *ret) {
        Run run = { .bus = bus, .spec = spec };
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
        if (r >= 0) {
                *ret = (RunResult) { .calls = run.answered, .errors = run.errors };
                ret->seconds = (double) (mono_usec() - start) / 1e6;
                ret->rate = ret->seconds > 0 ? (double) run.answered / ret->seconds : 0;
                latency_summary(run.lat, run.lat_n, &ret->p50_us, &ret->p99_us);
                memcpy(ret->first_error, run.first_error, sizeof ret->first_error);
        }
        free(run.lat);
        free(slots);
        return r;
}

/* One line per measurement; run-bench reads the key=value pairs. */
void print_result(const char *label, unsigned depth, const RunResult *r) {
        printf("RESULT op=%s depth=%u calls=%llu errors=%llu secs=%.3f rate=%.1f p50=%.0f p99=%.0f\n",
               label, depth, (unsigned long long) r->calls, (unsigned long long) r->errors,
               r->seconds, r->rate, r->p50_us, r->p99_us);
        if (r->errors > 0)
                fprintf(stderr, "%s: %llu failed calls, first: %s\n", label,
                        (unsigned long long) r->errors, r->first_error);
        fflush(stdout);
}
