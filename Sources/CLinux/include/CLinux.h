#ifndef IOMMU_WATCH_CLINUX_H
#define IOMMU_WATCH_CLINUX_H
// Only declarations here: defining _GNU_SOURCE in a header Swift imports would change glibc's own
// structs (fd_set) against the Glibc module. The definitions in CLinux.c see the GNU names.

/// openat2(2) confined beneath `dirfd`: `..` and symlinks that would leave it fail with EXDEV,
/// absolute symlinks too. glibc has no wrapper and Swift cannot call the variadic syscall(2).
int iw_open_beneath(int dirfd, const char *path, int flags);

/// O_PATH, which <fcntl.h> shows only with _GNU_SOURCE.
extern const int IW_O_PATH;

/// How `iw_open_regular` finds the file (flags; 0 is a plain openat(2)).
enum {
    /// Resolve `path` with openat2(RESOLVE_BENEATH): links are followed only while they stay
    /// beneath `dirfd`.
    IW_OPEN_BENEATH = 1,
    /// A link as the last component is not followed (O_NOFOLLOW): it is reported as a link.
    IW_OPEN_NOFOLLOW = 2,
    /// `dirfd` is on sysfs or procfs (`iw_is_kernel_filesystem`), which hold only regular files,
    /// folders and links: the file is opened directly, without the O_PATH check and reopen.
    IW_OPEN_KERNEL_FS = 4,
};

/// 1 when `fd` lies on sysfs or procfs, where no FIFO, socket or device node can exist.
int iw_is_kernel_filesystem(int fd);

/// Returned by `iw_open_regular` for an entry that exists but is no regular file.
#define IW_NOT_REGULAR (-2)

/// Opens `path` for reading only if it is a regular file, with O_NONBLOCK, and never opens a FIFO,
/// socket or device node (a FIFO would block; a device node's driver can act on open):
/// - one name in a folder: fstatat(2) first, which opens nothing, then the open, then a check that
///   the inode is the same (else -1 with ESTALE);
/// - a path resolved with IW_OPEN_BENEATH: an O_PATH descriptor is checked with fstat(2) and the same
///   inode reopened through /proc/self/fd, as systemd's fd_reopen() does (by name again, and checked
///   again, where /proc is missing);
/// - with IW_OPEN_KERNEL_FS: opened directly.
/// Returns the descriptor; -1 with errno set; or IW_NOT_REGULAR with `*mode` holding st_mode.
int iw_open_regular(int dirfd, const char *path, int how, unsigned int *mode);

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
