/* SPDX-License-Identifier: Apache-2.0 */
/* LD_PRELOAD for test-commit-failure.sh: while the file $OV_FAIL_FSYNC names
 * exists, fsync and fdatasync fail with EIO, as a dying disk's do. The test
 * switches it on and off by creating and removing that file. */

#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

static int failing(void) {
        const char *flag = getenv("OV_FAIL_FSYNC");
        return flag && access(flag, F_OK) == 0;
}

int fsync(int fd) {
        static int (*real)(int);
        if (failing()) {
                errno = EIO;
                return -1;
        }
        if (!real)
                real = (int (*)(int)) dlsym(RTLD_NEXT, "fsync");
        return real(fd);
}

int fdatasync(int fd) {
        static int (*real)(int);
        if (failing()) {
                errno = EIO;
                return -1;
        }
        if (!real)
                real = (int (*)(int)) dlsym(RTLD_NEXT, "fdatasync");
        return real(fd);
}
