#ifndef IOMMU_WATCH_CLINUX_H
#define IOMMU_WATCH_CLINUX_H
// Only declarations here: defining _GNU_SOURCE in a header Swift imports would change glibc's own
// structs (fd_set) against the Glibc module. The definitions in CLinux.c see the GNU names.

/// openat2(2) confined beneath `dirfd`: `..` and symlinks that would leave it fail with EXDEV,
/// absolute symlinks too. glibc has no wrapper and Swift cannot call the variadic syscall(2).
int iw_open_beneath(int dirfd, const char *path, int flags);

/// O_PATH, which <fcntl.h> shows only with _GNU_SOURCE.
extern const int IW_O_PATH;

/// setfsuid(2) for the calling thread only. Tests use it to see permission errors while running as
/// root: a non-zero filesystem uid drops CAP_DAC_OVERRIDE from this thread's effective set.
int iw_setfsuid(unsigned int uid);

#include <stddef.h>

enum {
    IW_GUNZIP_OK = 0,
    IW_GUNZIP_CORRUPT = 1,
    IW_GUNZIP_TRUNCATED = 2,
    IW_GUNZIP_TOO_LARGE = 3,
    IW_GUNZIP_TRAILING = 4,
};

/// Inflates one gzip member (`/proc/config.gz`) into `output`, never past `output_capacity`.
/// Returns one of IW_GUNZIP_*; `*output_length` is what was written.
int iw_gunzip(const unsigned char *input, size_t input_length, unsigned char *output, size_t output_capacity, size_t *output_length);

#endif
