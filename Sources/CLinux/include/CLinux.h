#ifndef IOMMU_WATCH_CLINUX_H
#define IOMMU_WATCH_CLINUX_H
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <sys/fsuid.h>

/// openat2(2) confined beneath `dirfd`: `..` and symlinks that would leave it fail with EXDEV,
/// absolute symlinks too. glibc has no wrapper and Swift cannot call the variadic syscall(2).
int iw_open_beneath(int dirfd, const char *path, int flags);

/// O_PATH needs _GNU_SOURCE, which Swift's Glibc module does not define.
static const int IW_O_PATH = O_PATH;

/// setfsuid(2) for the calling thread only. Tests use it to see permission errors while running as
/// root: a non-zero filesystem uid drops CAP_DAC_OVERRIDE from this thread's effective set.
static inline int iw_setfsuid(unsigned int uid) { return setfsuid(uid); }

#endif
