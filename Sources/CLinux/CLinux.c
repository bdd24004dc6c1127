#define _GNU_SOURCE
#include "CLinux.h"
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/fsuid.h>
#include <sys/syscall.h>
#include <unistd.h>

const int IW_O_PATH = O_PATH;

int iw_open_beneath(int dirfd, const char *path, int flags) {
    struct open_how how;
    memset(&how, 0, sizeof how);
    how.flags = (unsigned long long)(flags | O_CLOEXEC);
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
    long fd = syscall(SYS_openat2, dirfd, path, &how, sizeof how);
    return (int)fd;
}

int iw_setfsuid(unsigned int uid) { return setfsuid(uid); }

static int open_path(int dirfd, const char *path, int how, int flags) {
    if (how & IW_OPEN_NOFOLLOW) flags |= O_NOFOLLOW;
    if (how & IW_OPEN_BENEATH) return iw_open_beneath(dirfd, path, flags);
    return openat(dirfd, path, flags | O_CLOEXEC);
}

/// `fd` when it is a regular file; otherwise closes it and returns -1 (fstat failed, errno set) or
/// IW_NOT_REGULAR (with `*mode`).
static int keep_if_regular(int fd, unsigned int *mode) {
    struct stat status;
    if (fstat(fd, &status) != 0) {
        int error = errno;
        close(fd);
        errno = error;
        return -1;
    }
    if (!S_ISREG(status.st_mode)) {
        close(fd);
        *mode = status.st_mode;
        return IW_NOT_REGULAR;
    }
    return fd;
}

int iw_is_kernel_filesystem(int fd) {
    struct statfs status;
    if (fstatfs(fd, &status) != 0) return 0;
    return status.f_type == SYSFS_MAGIC || status.f_type == PROC_SUPER_MAGIC;
}

int iw_open_regular(int dirfd, const char *path, int how, unsigned int *mode) {
    if (how & IW_OPEN_KERNEL_FS) {
        // sysfs and procfs hold no FIFO, socket or device node: open directly.
        int fd = open_path(dirfd, path, how, O_RDONLY | O_NONBLOCK | O_NOCTTY);
        if (fd < 0 && errno == ELOOP && (how & IW_OPEN_NOFOLLOW)) {
            *mode = S_IFLNK;
            return IW_NOT_REGULAR;
        }
        if (fd < 0) return -1;
        return keep_if_regular(fd, mode);
    }
    if (!(how & IW_OPEN_BENEATH)) {
        // One name in a folder: its type by fstatat(2), which opens nothing; then the open, and the
        // inode checked to be the same one, in case the entry was replaced in between. (Only such a
        // race, with someone changing the root while it is read, could make the open reach a device.)
        struct stat before;
        if (fstatat(dirfd, path, &before, (how & IW_OPEN_NOFOLLOW) ? AT_SYMLINK_NOFOLLOW : 0) != 0) return -1;
        if (!S_ISREG(before.st_mode)) {
            *mode = before.st_mode;
            return IW_NOT_REGULAR;
        }
        int fd = open_path(dirfd, path, how, O_RDONLY | O_NONBLOCK | O_NOCTTY);
        if (fd < 0) return -1;
        struct stat after;
        if (fstat(fd, &after) != 0 || after.st_dev != before.st_dev || after.st_ino != before.st_ino || !S_ISREG(after.st_mode)) {
            close(fd);
            errno = ESTALE;
            return -1;
        }
        return fd;
    }
    // A path of several components, resolved beneath dirfd: fstatat(2) cannot confine it, so an
    // O_PATH descriptor is checked and reopened.
    int handle = open_path(dirfd, path, how, O_PATH);
    if (handle < 0) return -1;
    handle = keep_if_regular(handle, mode);
    if (handle < 0) return handle;
    char proc_path[64];
    snprintf(proc_path, sizeof proc_path, "/proc/self/fd/%d", handle);
    int fd = open(proc_path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    int error = errno;
    close(handle);
    if (fd >= 0) return fd;
    if (error != ENOENT) {
        errno = error;
        return -1;
    }
    // No /proc: open by name. Between the check and this open the entry could have been replaced, so
    // the type is checked again before anything is read; O_NONBLOCK keeps a FIFO from waiting.
    fd = open_path(dirfd, path, how, O_RDONLY | O_NONBLOCK | O_NOCTTY);
    if (fd < 0) return -1;
    return keep_if_regular(fd, mode);
}
