/* SPDX-License-Identifier: Apache-2.0 */
/* libpq through dlopen() (pq-dl.h): the daemon maps it, and what it
 * depends on, only when its store is postgresql. */

#include <dlfcn.h>
#include <errno.h>

#define PQ_DL_IMPLEMENTATION
#include "pq-dl.h"
#include "util.h"

/* The soname the build's headers belong to (libpq's ABI has been 5 since
 * PostgreSQL 8.2). */
#define PQ_SONAME "libpq.so.5"

#define PQ_DL_DEFINE(f) __typeof__(f) *pq_dl_##f;
PQ_DL_FUNCTIONS(PQ_DL_DEFINE)
#undef PQ_DL_DEFINE

int pq_dl_open(char **ret_error) {
        static void *handle;

        if (handle)
                return 0;
        /* RTLD_NOW: a missing symbol shows here, not at the first call. */
        void *h = dlopen(PQ_SONAME, RTLD_NOW | RTLD_LOCAL);
        if (!h) {
                if (ret_error)
                        *ret_error = strdup_printf("The postgresql store needs %s: %s", PQ_SONAME, dlerror());
                return -EOPNOTSUPP;
        }
#define PQ_DL_LOAD(f)                                                                                  \
        if (!(pq_dl_##f = (__typeof__(f) *) dlsym(h, #f))) {                                           \
                if (ret_error)                                                                         \
                        *ret_error = strdup_printf("The postgresql store needs %s, which lacks %s",    \
                                                   PQ_SONAME, #f);                                     \
                dlclose(h);                                                                            \
                return -EOPNOTSUPP;                                                                    \
        }
        PQ_DL_FUNCTIONS(PQ_DL_LOAD)
#undef PQ_DL_LOAD
        handle = h;
        return 0;
}
