"""Fetch the newest Debian kernel of each line with a private apt state.

Never touches the machine's own sources: apt gets its own source list, lists,
cache and an empty dpkg status for every line. Versions are found by query.
"""
import functools
import glob
import json
import lzma
import os
import re
import shutil
import subprocess
import tempfile

# line -> suites (on the Debian archive; "-security" suites on the security archive)
LINES = {
    "5.10": {"suites": ["bullseye", "bullseye-security"], "prefix": "5.10."},
    "6.1": {"suites": ["bookworm", "bookworm-updates", "bookworm-security"], "prefix": "6.1."},
    "6.12": {"suites": ["trixie", "trixie-updates", "trixie-security"], "prefix": "6.12."},
    "7": {"suites": ["sid"], "prefix": "7."},
}

# Architectures: the x86 column and the ARM64 column (issue #12). Each line gets its own private
# apt state per architecture (APT::Architectures=<arch>), so amd64 and arm64 never share lists.
ARCHES = ["amd64", "arm64"]

# modules the guest may load, per architecture. amd64: the typewrite scenario binds e1000e.
# arm64: Debian builds the IOMMU drivers and most PCI device drivers as modules; the ARM guest
# loads the IOMMU driver first, then the device drivers (so they bind behind it). A name missing
# from a release's build (built in there, or absent) is skipped.
WANTED_MODULES = {
    "amd64": ["e1000e"],
    # (no virtio_rng: its hwrng thread maps a buffer for every read, which under virtio-iommu's
    # strict MAP/UNMAP requests doubled the 6.12 boots to ~100 s; virtio-pci alone binds 00:03.0)
    "arm64": ["arm_smmu_v3", "virtio_iommu", "virtio_pci", "virtio_net", "e1000e", "e1000",
              "8139cp", "8139too", "nvme", "xhci_pci", "ahci"],
}

KEYRING = "/usr/share/keyrings/debian-archive-keyring.gpg"


def log(msg):
    print(f"[kernels] {msg}", flush=True)


def machine_mirrors():
    """The Debian archive and security archive URIs the machine already uses."""
    main, security = None, None
    uris = []
    for path in ["/etc/apt/sources.list"] + sorted(glob.glob("/etc/apt/sources.list.d/*")):
        if not (path.endswith(".list") or path.endswith(".sources")) or not os.path.isfile(path):
            continue
        with open(path, errors="replace") as f:
            for line in f:
                line = line.strip()
                if line.startswith("URIs:"):
                    uris += line.split()[1:]
                elif line.startswith("deb ") or line.startswith("deb\t"):
                    parts = [p for p in re.sub(r"\[[^\]]*\]", "", line).split()]
                    if len(parts) >= 2:
                        uris.append(parts[1])
    for u in uris:
        u = u.rstrip("/")
        if u.endswith("/debian-security") and security is None:
            security = u
        elif u.endswith("/debian") and main is None:
            main = u
    main = os.environ.get("REALKERNEL_MIRROR", main or "http://deb.debian.org/debian")
    security = os.environ.get("REALKERNEL_SECURITY_MIRROR",
                              security or main.rsplit("/", 1)[0] + "/debian-security")
    return main, security


def state_name(line, arch):
    """Folder name of a line's apt state and kernel cache: the line for amd64 (as before), line-arch else."""
    return line if arch == "amd64" else f"{line}-{arch}"


class Apt:
    def __init__(self, root, line, arch="amd64"):
        self.root = os.path.abspath(os.path.join(root, "apt", state_name(line, arch)))
        self.line = line
        self.arch = arch
        for d in ("lists/partial", "cache/archives/partial", "debs"):
            os.makedirs(os.path.join(self.root, d), exist_ok=True)
        main, security = machine_mirrors()
        with open(os.path.join(self.root, "sources.list"), "w") as f:
            for suite in LINES[line]["suites"]:
                uri = security if suite.endswith("-security") else main
                f.write(f"deb [signed-by={KEYRING}] {uri} {suite} main\n")
        open(os.path.join(self.root, "status"), "a").close()
        self.opts = [
            "-o", f"Dir::Etc::SourceList={self.root}/sources.list",
            "-o", "Dir::Etc::SourceParts=/dev/null",
            "-o", f"Dir::State::Lists={self.root}/lists",
            "-o", f"Dir::State::status={self.root}/status",
            "-o", f"Dir::Cache={self.root}/cache",
            "-o", "Acquire::Languages=none",
            "-o", "Acquire::PDiffs=false",
            "-o", f"APT::Architectures={arch}",
            "-o", f"APT::Architecture={arch}",
            "-o", "Debug::NoLocking=1",
        ]

    def run(self, tool, *args, cwd=None):
        return subprocess.run([tool, *self.opts, *args], cwd=cwd, check=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True).stdout

    def update(self):
        self.run("apt-get", "-q", "update")

    def version(self, pkg):
        out = self.run("apt-cache", "show", "--no-all-versions", pkg)
        m = re.search(r"^Version: (\S+)", out, re.M)
        return m.group(1) if m else None

    def names(self, regex):
        out = self.run("apt-cache", "search", "--names-only", regex)
        return sorted({l.split(" - ")[0].strip() for l in out.splitlines() if l.strip()})


def debcmp(a, b):
    if a == b:
        return 0
    r = subprocess.run(["dpkg", "--compare-versions", a, "lt", b])
    return -1 if r.returncode == 0 else 1


def newest(apt, line):
    """(abi, version, packages to download) of the newest generic kernel of the line (apt's architecture)."""
    prefix = re.escape(LINES[line]["prefix"])
    arch = apt.arch
    names = [n for n in apt.names(f"^linux-image-{prefix}.*-{arch}$")
             if not re.search(rf"-(cloud|rt)-{arch}$", n)]
    cands = {}
    if names:  # one apt-cache call for all candidates: each call re-reads the lists
        out = apt.run("apt-cache", "show", "--no-all-versions", *names)
        for block in out.split("\n\n"):
            pm = re.search(r"^Package: (\S+)", block, re.M)
            vm = re.search(r"^Version: (\S+)", block, re.M)
            if pm and vm:
                cands[re.fullmatch(rf"linux-image-(.+)-{arch}", pm.group(1)).group(1)] = vm.group(1)
    if not cands:
        raise RuntimeError(f"no linux-image-{LINES[line]['prefix']}*-{arch} found for line {line}")
    abi = max(cands, key=functools.cmp_to_key(lambda a, b: debcmp(cands[a], cands[b])))
    binary = f"linux-binary-{abi}-{arch}"
    if apt.names(f"^{re.escape(binary)}$"):
        pkgs = [binary, f"linux-modules-{abi}-{arch}"]  # 7.x: image split into binary + modules
    else:
        pkgs = [f"linux-image-{abi}-{arch}"]
    return abi, cands[abi], pkgs


def module_index(moddir):
    """module name -> path of its file, for every module under moddir."""
    index = {}
    for dirpath, _, files in os.walk(moddir):
        for fn in files:
            if ".ko" in fn:
                index[fn.split(".ko")[0].replace("-", "_")] = os.path.join(dirpath, fn)
    return index


def module_depends(data):
    """The depends= list in a module's .modinfo (modules.dep is made at install, so not in the .deb)."""
    m = re.search(rb"(?:^|\0)depends=([^\0]*)\0", data)
    return [d.replace("-", "_") for d in m.group(1).decode().split(",") if d] if m else []


def module_closure(moddir, names, outdir):
    """Decompress names and their dependencies into outdir; return the file names in load order."""
    index = module_index(moddir)
    order = []

    def visit(name):
        if name in [o[0] for o in order] or name not in index:
            return
        dst = os.path.join(outdir, name + ".ko")
        decompress(index[name], dst)
        with open(dst, "rb") as f:
            deps = module_depends(f.read())
        for d in deps:
            visit(d)
        order.append((name, name + ".ko"))

    for n in names:
        visit(n.replace("-", "_"))
    return [o[1] for o in order]


def decompress(src, dst):
    if src.endswith(".xz"):
        with lzma.open(src) as f, open(dst, "wb") as o:
            shutil.copyfileobj(f, o)
    elif src.endswith(".zst"):
        subprocess.run(["zstd", "-q", "-d", "-f", src, "-o", dst], check=True)
    elif src.endswith(".gz"):
        import gzip
        with gzip.open(src) as f, open(dst, "wb") as o:
            shutil.copyfileobj(f, o)
    else:
        shutil.copyfile(src, dst)


def extract(debs, dest, abi, arch="amd64"):
    """Keep vmlinuz, config and the wanted modules (decompressed) under dest."""
    os.makedirs(os.path.dirname(dest), exist_ok=True)
    tmp = tempfile.mkdtemp(prefix="kx-", dir=os.path.dirname(dest))
    try:
        for deb in debs:
            subprocess.run(["dpkg-deb", "-x", deb, tmp], check=True)
        vmlinuz = (glob.glob(f"{tmp}/boot/vmlinuz-*") + glob.glob(f"{tmp}/usr/lib/modules/*/vmlinuz")
                   + glob.glob(f"{tmp}/lib/modules/*/vmlinuz"))
        if not vmlinuz:
            raise RuntimeError(f"no vmlinuz in {debs}")
        moddirs = [d for d in glob.glob(f"{tmp}/lib/modules/*") + glob.glob(f"{tmp}/usr/lib/modules/*")
                   if os.path.isdir(os.path.join(d, "kernel"))]
        if not moddirs:
            raise RuntimeError(f"no modules folder in {debs}")
        moddir = moddirs[0]
        release = os.path.basename(moddir)
        os.makedirs(dest, exist_ok=True)
        shutil.copyfile(vmlinuz[0], os.path.join(dest, "vmlinuz"))
        config = glob.glob(f"{tmp}/boot/config-*") + glob.glob(f"{moddir}/config")
        if config:
            shutil.copyfile(config[0], os.path.join(dest, "config"))
        os.makedirs(os.path.join(dest, "modules"), exist_ok=True)
        names = module_closure(moddir, WANTED_MODULES[arch], os.path.join(dest, "modules"))
        with open(os.path.join(dest, "modules", "order"), "w") as f:
            f.write("\n".join(names) + "\n")
        return release
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def fetch(cache, line, offline=False, arch="amd64"):
    """Returns a dict describing the kernel of `line` for `arch`, downloading it when newer than the cache."""
    kdir = os.path.join(cache, "kernels", state_name(line, arch))
    info_path = os.path.join(kdir, "kernel.json")
    cached = None
    if os.path.isfile(info_path):
        with open(info_path) as f:
            cached = json.load(f)
        cached.update(vmlinuz=os.path.join(kdir, "vmlinuz"), modules=os.path.join(kdir, "modules"))
    apt = Apt(cache, line, arch)
    try:
        if offline:
            raise RuntimeError("offline")
        apt.update()
        abi, version, pkgs = newest(apt, line)
    except Exception as e:  # network trouble: fall back to what we have
        if cached:
            log(f"{line}: query failed ({e}); using cached {cached['release']}")
            return cached
        raise
    if cached and cached.get("packageVersion") == version and cached.get("abi") == abi \
            and cached.get("wantedModules", WANTED_MODULES["amd64"]) == WANTED_MODULES[arch] \
            and os.path.isfile(os.path.join(kdir, "vmlinuz")):
        log(f"{state_name(line, arch)}: {cached['release']} ({version}) cached")
        return cached
    log(f"{state_name(line, arch)}: downloading {' '.join(pkgs)} = {version}")
    debdir = os.path.join(apt.root, "debs")
    for old in glob.glob(f"{debdir}/*.deb"):
        os.remove(old)
    apt.run("apt-get", "-q", "download", *[f"{p}={version}" for p in pkgs], cwd=debdir)
    debs = sorted(glob.glob(f"{debdir}/*.deb"))
    shutil.rmtree(kdir, ignore_errors=True)
    release = extract(debs, kdir, abi, arch)
    for d in debs:
        os.remove(d)
    info = {"line": line, "arch": arch, "abi": abi, "packageVersion": version, "packages": pkgs,
            "release": release, "wantedModules": WANTED_MODULES[arch],
            "vmlinuz": os.path.join(kdir, "vmlinuz"), "modules": os.path.join(kdir, "modules")}
    with open(info_path, "w") as f:
        json.dump(info, f, indent=1)
    log(f"{state_name(line, arch)}: {release} ready")
    return info


def fetch_busybox(cache, arch, line="6.1", offline=False):
    """busybox-static for `arch` from the line's private apt state (bookworm: the host's own release),
    so an arm64 initramfs gets an arm64 busybox. Returns (path of the busybox binary, package version)."""
    bdir = os.path.join(cache, f"busybox-{arch}")
    info_path = os.path.join(bdir, "busybox.json")
    cached = None
    if os.path.isfile(info_path) and os.path.isfile(os.path.join(bdir, "busybox")):
        with open(info_path) as f:
            cached = json.load(f)
    apt = Apt(cache, line, arch)
    try:
        if offline:
            raise RuntimeError("offline")
        if not os.listdir(os.path.join(apt.root, "lists")) or not cached:
            apt.update()
        version = apt.version("busybox-static")
    except Exception as e:  # network trouble: fall back to what we have
        if cached:
            log(f"busybox-{arch}: query failed ({e}); using cached {cached['version']}")
            return os.path.join(bdir, "busybox"), cached["version"]
        raise
    if cached and cached.get("version") == version:
        return os.path.join(bdir, "busybox"), version
    log(f"busybox-{arch}: downloading busybox-static = {version}")
    debdir = os.path.join(apt.root, "debs")
    for old in glob.glob(f"{debdir}/busybox*.deb"):
        os.remove(old)
    apt.run("apt-get", "-q", "download", f"busybox-static={version}", cwd=debdir)
    deb = glob.glob(f"{debdir}/busybox-static_*.deb")[0]
    tmp = tempfile.mkdtemp(prefix="bx-", dir=cache)
    try:
        subprocess.run(["dpkg-deb", "-x", deb, tmp], check=True)
        os.makedirs(bdir, exist_ok=True)
        shutil.copy2(os.path.join(tmp, "bin", "busybox"), os.path.join(bdir, "busybox"))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        os.remove(deb)
    with open(info_path, "w") as f:
        json.dump({"arch": arch, "version": version}, f)
    return os.path.join(bdir, "busybox"), version
