/* SPDX-License-Identifier: Apache-2.0 */
/* Pipelined method calls on one sd-bus connection: keeps `depth` calls in
 * flight until a deadline or a call count, and records each call's latency. */
#pragma once

#include <stdint.h>
#include <systemd/sd-bus.h>

/* Builds call number i (0, 1, ...) of a run. */
typedef int (*build_call_fn)(sd_bus *bus, uint64_t i, sd_bus_message **ret, void *userdata);
/* Checks a successful reply; a negative return counts the call as failed. */
typedef int (*check_reply_fn)(sd_bus_message *reply, void *userdata);

typedef struct RunSpec {
        unsigned depth;          /* calls in flight */
        uint64_t max_calls;      /* 0 = no limit */
        double seconds;          /* stop issuing after this long; 0 = no limit */
        build_call_fn build;
        check_reply_fn check;    /* may be NULL */
        void *userdata;
} RunSpec;

typedef struct RunResult {
        uint64_t calls, errors;
        double seconds;
        double rate;             /* answered calls per second */
        double p50_us, p99_us;
        char first_error[256];
} RunResult;

uint64_t mono_usec(void);
int run_pipelined(sd_bus *bus, const RunSpec *spec, RunResult *ret);
/* Percentiles of n latencies (sorts them in place). */
void latency_summary(uint64_t *lat, uint64_t n, double *ret_p50, double *ret_p99);
void print_result(const char *label, unsigned depth, const RunResult *r);
