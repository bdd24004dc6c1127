/*
 * floor — the syscall floor of `iommu-watch scan`: exactly the reads the
 * reader makes, in its order, and nothing else (no parsing past what it takes
 * to find the next path, no model, no output but the counters).
 *
 *     cc -O2 -o floor floor.c && ./floor ROOT
 *
 * Every path is resolved beneath a dirfd of ROOT: openat2(RESOLVE_BENEATH) for
 * multi-component paths, openat(O_NOFOLLOW) for one name below a dirfd that is
 * already beneath ROOT. Files are read with a 4096-byte buffer until read()
 * returns 0, so a 4096-byte `config` costs two reads, as in the reader.
 * It prints what it read so the compiler cannot drop the work.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SYS_openat2
#define SYS_openat2 437
#endif

#define PATH_CAP 4096

static int root_fd;
static unsigned long long n_files, n_bytes, n_links, n_dirs, n_absent;

static int open_beneath(const char *path, int flags)
{
    struct open_how how = {.flags = (unsigned long long)(flags | O_CLOEXEC),
                           .resolve = RESOLVE_BENEATH};
    return (int)syscall(SYS_openat2, root_fd, path, &how, sizeof how);
}

static void fail(const char *what, const char *path)
{
    fprintf(stderr, "floor: %s %s: %s\n", what, path, strerror(errno));
    exit(2);
}

/* Read fd to EOF with a 4096-byte buffer, then close it. */
static void drain(int fd)
{
    char buf[4096];
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0)
        n_bytes += (unsigned long long)n;
    close(fd);
    n_files++;
}

/*
 * Drain a file just opened (fd from openat or openat2). A file that may be
 * absent (ENOENT) is counted, not an error.
 */
static void drain_opened(int fd, const char *path)
{
    if (fd < 0) {
        if (errno != ENOENT)
            fail("open", path);
        n_absent++;
        return;
    }
    drain(fd);
}

static void read_at(int dir_fd, const char *name)
{
    drain_opened(openat(dir_fd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC), name);
}

static void read_beneath(const char *path)
{
    drain_opened(open_beneath(path, O_RDONLY | O_NOFOLLOW), path);
}

/* readlinkat into out (NUL-terminated); returns length or -1 on ENOENT. */
static ssize_t link_at(int dir_fd, const char *name, char *out, size_t cap)
{
    ssize_t n = readlinkat(dir_fd, name, out, cap - 1);
    if (n < 0) {
        if (errno != ENOENT)
            fail("readlink", name);
        n_absent++;
        return -1;
    }
    out[n] = '\0';
    n_links++;
    return n;
}

/*
 * dir + "/" + target with "." and ".." folded lexically, as the reader turns a
 * link target into a root-relative path. Returns 0, or -1 if it would climb
 * above ROOT (openat2 would refuse it anyway).
 */
static int join(const char *dir, const char *target, char *out)
{
    char tmp[PATH_CAP];
    size_t len = 0;
    if (target[0] == '/')
        return -1;
    if ((size_t)snprintf(tmp, sizeof tmp, "%s/%s", dir, target) >= sizeof tmp)
        return -1;
    for (char *c = tmp, *next; *c; c = next) {
        next = strchrnul(c, '/');
        size_t clen = (size_t)(next - c);
        if (*next)
            next++;
        if (clen == 0 || (clen == 1 && c[0] == '.'))
            continue;
        if (clen == 2 && c[0] == '.' && c[1] == '.') {
            if (len == 0)
                return -1;
            while (len > 0 && out[len - 1] != '/')
                len--;
            if (len > 0)
                len--;
            continue;
        }
        if (len > 0)
            out[len++] = '/';
        memcpy(out + len, c, clen);
        len += clen;
    }
    out[len] = '\0';
    return 0;
}

/* Directory listing with getdents64: calls each(dir_fd, name, ctx) per entry. */
struct linux_dirent64 {
    unsigned long long d_ino;
    long long d_off;
    unsigned short d_reclen;
    unsigned char d_type;
    char d_name[];
};

static void list(int dir_fd, void (*each)(int, const char *, void *), void *ctx)
{
    char buf[32768];
    long n;
    n_dirs++;
    while ((n = syscall(SYS_getdents64, dir_fd, buf, sizeof buf)) > 0) {
        for (long off = 0; off < n;) {
            struct linux_dirent64 *d = (struct linux_dirent64 *)(buf + off);
            off += d->d_reclen;
            const char *s = d->d_name;
            if (s[0] == '.' && (s[1] == '\0' || (s[1] == '.' && s[2] == '\0')))
                continue;
            each(dir_fd, s, ctx);
        }
    }
    if (n < 0)
        fail("getdents64", "");
}

static void list_beneath(const char *path, void (*each)(int, const char *, void *),
                         void *ctx)
{
    int fd = open_beneath(path, O_RDONLY | O_DIRECTORY);
    if (fd < 0) {
        if (errno != ENOENT)
            fail("open", path);
        n_absent++;
        return;
    }
    list(fd, each, ctx);
    close(fd);
}

/* Open the directory a link in `dir` points to, beneath ROOT. */
static int open_link_target(int dir_fd, const char *dir, const char *name)
{
    char target[PATH_CAP], path[PATH_CAP];
    if (link_at(dir_fd, name, target, sizeof target) < 0)
        return -1;
    if (join(dir, target, path) < 0) {
        errno = EXDEV;
        fail("link escapes root", name);
    }
    int fd = open_beneath(path, O_PATH | O_DIRECTORY);
    if (fd < 0)
        fail("open", path);
    return fd;
}

static void iommu_unit(int dir_fd, const char *name, void *ctx)
{
    (void)ctx;
    int fd = open_link_target(dir_fd, "sys/class/iommu", name);
    if (fd < 0)
        return;
    int probe = openat(fd, "intel-iommu/cap", O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (probe >= 0) {
        drain(probe);
        read_at(fd, "intel-iommu/ecap");
    } else {
        n_absent++;
        read_at(fd, "amd-iommu/cap");
        read_at(fd, "amd-iommu/features");
    }
    close(fd);
}

static void member_link(int dir_fd, const char *name, void *ctx)
{
    char target[PATH_CAP];
    (void)ctx;
    link_at(dir_fd, name, target, sizeof target);
}

static void iommu_group(int dir_fd, const char *name, void *ctx)
{
    (void)ctx;
    int fd = openat(dir_fd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        fail("open", name);
    read_at(fd, "type");
    read_at(fd, "reserved_regions");
    read_at(fd, "name");
    int members = openat(fd, "devices", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (members < 0)
        fail("open devices of group", name);
    list(members, member_link, NULL);
    close(members);
    close(fd);
}

static const char *const device_files[] = {
    "vendor", "device", "class", "subsystem_vendor", "subsystem_device", "revision",
    "dma_mask_bits", "consistent_dma_mask_bits", "removable", "config",
};
static const char *const device_links[] = {"driver", "iommu_group", "iommu"};

static void pci_device(int dir_fd, const char *name, void *ctx)
{
    char target[PATH_CAP];
    (void)ctx;
    int fd = open_link_target(dir_fd, "sys/bus/pci/devices", name);
    if (fd < 0)
        return;
    for (size_t i = 0; i < sizeof device_files / sizeof *device_files; i++)
        read_at(fd, device_files[i]);
    for (size_t i = 0; i < sizeof device_links / sizeof *device_links; i++)
        link_at(fd, device_links[i], target, sizeof target);
    close(fd);
}

/*
 * proc/version and proc/cmdline, then boot/config-<release> (absent on most
 * roots): the release is the third word of proc/version.
 */
static void read_kernel(void)
{
    char version[4096], path[PATH_CAP];
    ssize_t len = 0, n;
    int fd = open_beneath("proc/version", O_RDONLY | O_NOFOLLOW);
    if (fd < 0)
        fail("open", "proc/version");
    while ((n = read(fd, version + len, sizeof version - 1 - (size_t)len)) > 0)
        len += n;
    close(fd);
    n_files++;
    n_bytes += (unsigned long long)len;
    version[len] = '\0';
    read_beneath("proc/cmdline");
    char release[256];
    if (sscanf(version, "Linux version %255s", release) == 1) {
        snprintf(path, sizeof path, "boot/config-%s", release);
        read_beneath(path);
    }
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: floor ROOT\n");
        return 2;
    }
    root_fd = open(argv[1], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (root_fd < 0)
        fail("open", argv[1]);

    /* In the reader's order: kernel, boot config, memory map, ACPI tables,
     * IOMMU units, PCI devices, groups. */
    read_kernel();
    read_beneath("proc/iomem");
    read_beneath("sys/firmware/acpi/tables/DMAR");
    read_beneath("sys/firmware/acpi/tables/IVRS");
    list_beneath("sys/class/iommu", iommu_unit, NULL);
    list_beneath("sys/bus/pci/devices", pci_device, NULL);
    list_beneath("sys/kernel/iommu_groups", iommu_group, NULL);

    printf("files=%llu bytes=%llu links=%llu dirs=%llu absent=%llu\n", n_files, n_bytes,
           n_links, n_dirs, n_absent);
    return 0;
}
