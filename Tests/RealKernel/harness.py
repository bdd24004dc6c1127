#!/usr/bin/env python3
"""iommu-watch real-kernel test bed: boots Debian kernels under QEMU with emulated
IOMMUs, runs iommu-watch in the guest, brings the results out over the serial
console, checks them, and (with --capture) writes them as fixtures.

Use through Tests/RealKernel/run (which installs QEMU & co. and builds the binary).
"""
import argparse
import base64
import concurrent.futures
import hashlib
import io
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tarfile
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(1, os.path.join(HERE, "..", "Integration"))
import kernels  # noqa: E402
import matrix  # noqa: E402
from qmp import QMP  # noqa: E402  (Tests/Integration/qmp.py, the one QMP client)

REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
FIXTURES = os.path.join(REPO, "Tests", "Fixtures")
SEVERITIES = ["debug", "info", "notice", "warning", "error", "critical"]
PRINT_LOCK = threading.Lock()


def say(msg):
    with PRINT_LOCK:
        print(msg, flush=True)


# ---------------------------------------------------------------- initramfs

def ldd_libs(binary):
    """Shared libraries (absolute paths) the binary needs, the loader included."""
    out = subprocess.run(["ldd", binary], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True).stdout
    if "not a dynamic executable" in out or "statically linked" in out:
        return []
    libs = []
    for line in out.splitlines():
        m = re.search(r"=>\s*(/\S+)", line) or re.match(r"\s*(/\S+)", line)
        if m:
            libs.append(m.group(1))
        elif "not found" in line:
            raise RuntimeError(f"ldd: {line.strip()}")
    return libs


def cpio_gz(stage, out):
    with open(out, "wb") as f:
        find = subprocess.Popen(["find", ".", "-print0"], cwd=stage, stdout=subprocess.PIPE)
        cpio = subprocess.Popen(["cpio", "--null", "-o", "-H", "newc", "--quiet", "-R", "0:0"], cwd=stage,
                                stdin=find.stdout, stdout=subprocess.PIPE)
        gz = subprocess.Popen(["gzip", "-1", "-n"], stdin=cpio.stdout, stdout=f)
        find.stdout.close()
        cpio.stdout.close()
        gz.wait()
        if cpio.wait() or find.wait() or gz.returncode:
            raise RuntimeError("building the initramfs failed")


def build_base_initramfs(binary, workdir, busybox=None, arch="amd64"):
    """busybox, /init, the scenarios and iommu-watch with its shared libraries. For arm64: the
    arm64 busybox-static and no iommu-watch (the guest copies the tree; the host scans it)."""
    stage = tempfile.mkdtemp(prefix="stage-", dir=workdir)
    for d in ("bin", "sbin", "usr/bin", "usr/sbin", "lib", "lib64", "scenarios", "lib/modules/iw"):
        os.makedirs(os.path.join(stage, d), exist_ok=True)
    host_busybox = shutil.which("busybox") or "/bin/busybox"
    busybox = busybox or host_busybox
    shutil.copy2(busybox, os.path.join(stage, "bin", "busybox"))
    # the applet list of the same Debian busybox build (the arm64 binary cannot run here)
    for applet in subprocess.run([host_busybox, "--list"], stdout=subprocess.PIPE, text=True).stdout.split():
        if applet not in ("busybox",):
            os.symlink("busybox", os.path.join(stage, "bin", applet))
    shutil.copy2(os.path.join(HERE, "guest", "init"), os.path.join(stage, "init"))
    for fn in os.listdir(os.path.join(HERE, "guest")):
        if fn.endswith(".sh"):
            shutil.copy2(os.path.join(HERE, "guest", fn), os.path.join(stage, "scenarios", fn))
    if arch == "amd64":
        shutil.copy2(binary, os.path.join(stage, "bin", "iommu-watch"))
        os.chmod(os.path.join(stage, "bin", "iommu-watch"), 0o755)
        for lib in ldd_libs(binary):
            dst = os.path.join(stage, lib.lstrip("/"))
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            shutil.copy2(os.path.realpath(lib), dst)
    out = os.path.join(workdir, "base.cpio.gz" if arch == "amd64" else f"base-{arch}.cpio.gz")
    cpio_gz(stage, out)
    shutil.rmtree(stage)
    return out


def build_initramfs(base, kernel, workdir):
    """base + the kernel's modules (concatenated cpio archives: the kernel unpacks all)."""
    stage = tempfile.mkdtemp(prefix="stage-", dir=workdir)
    mdir = os.path.join(stage, "lib", "modules", "iw")
    os.makedirs(mdir)
    for fn in os.listdir(kernel["modules"]):
        shutil.copy2(os.path.join(kernel["modules"], fn), os.path.join(mdir, fn))
    key = kernels.state_name(kernel["line"], kernel.get("arch", "amd64"))
    part = os.path.join(workdir, f"modules-{key}.cpio.gz")
    cpio_gz(stage, part)
    shutil.rmtree(stage)
    out = os.path.join(workdir, f"initrd-{key}.img")
    with open(out, "wb") as o:
        for p in (base, part):
            with open(p, "rb") as i:
                shutil.copyfileobj(i, o)
    return out


# ---------------------------------------------------------------- QEMU

def kernel_key(cfg):
    """The kernel a configuration boots: its line, for its architecture."""
    return kernels.state_name(cfg["line"], cfg.get("arch", "amd64"))


def qemu_binary(cfg):
    return "qemu-system-aarch64" if cfg.get("arch") == "arm64" else "qemu-system-x86_64"


def qemu_args(cfg, extra=None):
    if cfg.get("arch") == "arm64":
        iommu = matrix.ARM_IOMMUS[cfg["iommu"]]
        # -cpu max as the boots; pauth-impdef: QEMU's own pointer-auth hash, much cheaper
        # under TCG than the architected QARMA (changes nothing the kernel's IOMMU code sees)
        args = ["-machine", iommu["machine"], "-cpu", "max,pauth-impdef=on", "-accel", "tcg",
                "-m", cfg["memory"], "-smp", "2", "-nodefaults", "-display", "none", "-no-reboot"]
        return args + iommu["firmware"] + iommu["devices"] + matrix.DEVICE_SETS[cfg["deviceSet"]] + (extra or [])
    iommu = matrix.IOMMUS[cfg["iommu"]]
    args = ["-machine", iommu["machine"], "-accel", "tcg", "-m", cfg["memory"], "-smp", "2",
            "-nodefaults", "-display", "none", "-no-reboot"]
    args += iommu["devices"] + matrix.DEVICE_SETS[cfg["deviceSet"]] + (extra or [])
    return args


HOTPLUG_WATCHER = "auto"


def kernel_cmdline(cfg):
    if cfg.get("arch") == "arm64":
        return " ".join(["console=ttyAMA0", "panic=-1", "loglevel=2"] + cfg["iommuArgs"]
                        + ["iwtest.mode=capture", f"iwtest.drivers={cfg.get('drivers', 'all')}"])
    # no_timer_check: under TCG on a busy host the IO-APIC timer check can miss its ticks
    # and panic ("timer doesn't work through Interrupt-remapped IO-APIC"); seen on 6.12, 7.2
    return " ".join(["console=ttyS0", "panic=-1", "loglevel=2", "no_timer_check"] + cfg["iommuArgs"]
                    + [f"iwtest.mode={cfg.get('scenario', 'matrix')}"]
                    + ([f"iwtest.watcher={HOTPLUG_WATCHER}"] if cfg.get("scenario") == "hotplug" else []))


def wait_console(path, needle, proc, timeout):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            return False
        try:
            with open(path, "rb") as f:
                if needle.encode() in f.read():
                    return True
        except FileNotFoundError:
            pass
        time.sleep(0.2)
    return False


def boot(cfg, kernel, initrd, rundir, timeout):
    """Boot one configuration; returns (console text, seconds, qemu exit status or 'timeout', notes)."""
    shutil.rmtree(rundir, ignore_errors=True)
    os.makedirs(rundir)
    console = os.path.join(rundir, "console.log")
    argv = [qemu_binary(cfg)] + qemu_args(cfg) + [
        "-kernel", kernel["vmlinuz"], "-initrd", initrd, "-append", kernel_cmdline(cfg),
        "-serial", f"file:{console}", "-monitor", "none"]
    qmp_path = None
    if cfg.get("scenario") == "hotplug":
        qmp_path = os.path.join(tempfile.mkdtemp(prefix="qmp-"), "qmp.sock")
        argv += ["-qmp", f"unix:{qmp_path},server=on,wait=off"]
    notes = []
    start = time.time()
    with open(os.path.join(rundir, "qemu.log"), "wb") as qlog:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=qlog, stderr=subprocess.STDOUT)
        try:
            if qmp_path:
                notes += drive_hotplug(proc, qmp_path, console, timeout)
            proc.wait(timeout=max(1, timeout - (time.time() - start)))
            status = proc.returncode
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            status = "timeout"
    elapsed = time.time() - start
    with open(console, "rb") as f:
        text = f.read().decode("utf-8", "replace").replace("\r", "")
    if qmp_path:
        shutil.rmtree(os.path.dirname(qmp_path), ignore_errors=True)
    return text, elapsed, status, notes


def drive_hotplug(proc, qmp_path, console, timeout):
    """Add then remove an e1000e on the empty root port while the guest watches."""
    notes = []
    qmp = QMP(qmp_path)
    try:
        if not wait_console(console, "@@IW-STAT hotplug-ready", proc, timeout):
            return ["guest never became ready for hotplug"]
        dev = matrix.HOTPLUG_DEVICE
        qmp.cmd("device_add", driver=dev["driver"], id=dev["id"], bus=dev["bus"])
        notes.append("device_add sent")
        if not wait_console(console, "@@IW-STAT hotplug-seen-add", proc, 120):
            notes.append("guest did not see the added device")
        qmp.cmd("device_del", id=dev["id"])
        notes.append("device_del sent")
        try:
            qmp.wait_event("DEVICE_DELETED", 120)
            notes.append("DEVICE_DELETED received")
        except (socket.timeout, RuntimeError) as e:
            notes.append(f"no DEVICE_DELETED: {e}")
    finally:
        qmp.close()
    return notes


# ---------------------------------------------------------------- results

def parse_console(text):
    """-> (blobs {name: bytes}, status lines, problems)"""
    blobs, stats, problems = {}, [], []
    cur, md5, chunks = None, None, []
    for line in text.split("\n"):
        i = line.find("@@IW")
        if i < 0:
            continue
        line = line[i:]
        if line.startswith("@@IW-STAT "):
            stats.append(line[len("@@IW-STAT "):].strip())
        elif line.startswith("@@IW-BEGIN "):
            parts = line.split()
            cur, md5, chunks = parts[1], parts[2] if len(parts) > 2 else "", []
        elif line.startswith("@@IW|") and cur:
            chunks.append(line[5:].strip())
        elif line.startswith("@@IW-END ") and cur:
            try:
                data = base64.b64decode("".join(chunks))
            except Exception as e:  # noqa: BLE001
                problems.append(f"{cur}: bad base64 ({e})")
                data = None
            if data is not None:
                if hashlib.md5(data).hexdigest() != md5:
                    problems.append(f"{cur}: checksum mismatch (console garbled)")
                blobs[cur] = data
            cur = None
    return blobs, stats, problems


def stat_value(stats, prefix, key="rc"):
    for s in stats:
        if s.startswith(prefix + " "):
            m = re.search(rf"\b{key}=(\S+)", s)
            if m:
                return m.group(1)
    return None


def load_scan(blobs, step):
    raw = blobs.get(f"scan-{step}.json")
    if raw is None:
        return None, "no scan output"
    try:
        return json.loads(raw), None
    except ValueError as e:
        return None, f"scan output is not JSON ({e}): {raw[:200]!r}"


def check_scan(blobs, stats, step):
    """'Scan succeeded' = exit status != 2 and errors empty. Returns (scan, rc, problems)."""
    problems = replay(HOST_BINARY, blobs, stats, step)
    rc = stat_value(stats, f"scan {step}")
    if rc is None:
        problems.append(f"scan {step}: did not run")
    elif rc == "2":
        problems.append(f"scan {step}: exit status 2 (root unreadable): "
                        f"{blobs.get(f'scan-{step}.err', b'').decode(errors='replace').strip()[:300]}")
    elif rc not in ("0", "1"):
        problems.append(f"scan {step}: exit status {rc}: "
                        f"{blobs.get(f'scan-{step}.err', b'').decode(errors='replace').strip()[:300]}")
    scan, err = load_scan(blobs, step)
    if err:
        problems.append(f"scan {step}: {err}")
    elif scan.get("errors"):
        problems.append(f"scan {step}: reader errors: " + "; ".join(
            f"{e.get('path')}: {e.get('message')}" for e in scan["errors"][:5]))
    if stat_value(stats, f"snapshot {step}") not in ("0",):
        problems.append(f"snapshot {step}: exit status {stat_value(stats, f'snapshot {step}')}: "
                        f"{blobs.get(f'snapshot-{step}.out', b'').decode(errors='replace').strip()[:300]}")
    elif f"snapshot-{step}.tgz" not in blobs:
        problems.append(f"snapshot {step}: no tree came out")
    return scan, (int(rc) if rc and rc.isdigit() else None), problems


def group_sets(scan):
    return {frozenset(d["slot"] for d in g.get("devices", [])): g for g in scan.get("groups", [])}


def types_summary(scan):
    counts = {}
    for g in scan.get("groups", []):
        counts[g.get("type")] = counts.get(g.get("type"), 0) + 1
    return ",".join(f"{k}x{v}" for k, v in sorted(counts.items(), key=lambda kv: str(kv[0]))) or "no-groups"


def model_check(cfg, scan, mode):
    """The model's assertions; returns (problems, note). mode: off|on|auto."""
    if mode == "off" or scan is None:
        return [], ""
    divs = scan.get("divergences", [])
    expect = cfg.get("expect")
    problems = []
    if expect == "clean":
        bad = [d for d in divs if d.get("severity") in SEVERITIES[SEVERITIES.index("warning"):]]
        problems += [f"clean config shows {d.get('name')} ({d.get('severity')}): {d.get('message')}" for d in bad]
    elif isinstance(expect, list):
        names = {d.get("name") for d in divs}
        problems += [f"expected divergence {n} missing" for n in expect if n not in names]
    return problems, ""


def posture_check(cfg, scan):
    """The posture, read live in the guest: the mode it was booted into, and interrupt remapping
    known from its proc/interrupts (a live root always has one). Always enforced on x86; the ARM64
    column is scanned on the host from a busybox copy and checked by its own expectations."""
    if cfg.get("arch") == "arm64" or not all(key in cfg for key in ("cmdline", "iommu", "line")):
        return [], None
    posture = scan.get("posture") or {}
    want = matrix.expected_mode(cfg)
    problems = []
    if posture.get("mode") != want:
        problems.append(f"posture mode {posture.get('mode')!r}, booted as {want!r}: {posture.get('decidedBy')}")
    remapping = posture.get("interruptRemapping") or {}
    if not remapping.get("known"):
        problems.append(f"posture: interrupt remapping not known in a live guest: {remapping}")
    return problems, remapping.get("value")


def replay(binary, blobs, stats, step):
    """Scan the snapshot tree on the host: it must read as the guest's scan did."""
    tgz = blobs.get(f"snapshot-{step}.tgz")
    guest, _ = load_scan(blobs, step)
    if tgz is None or guest is None or not HOST_BINARY:
        return []
    tmp = tempfile.mkdtemp(prefix="replay-")
    try:
        extract_tree(tgz, tmp)
        r = subprocess.run([HOST_BINARY, "scan", "--root", tmp, "--format", "json"], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True)
        if r.returncode == 2:
            return [f"replay {step}: host scan of the snapshot failed: {r.stderr.strip()[:300]}"]
        try:
            host = json.loads(r.stdout)
        except ValueError:
            return [f"replay {step}: host scan printed no JSON"]
        problems = []
        if host.get("errors"):
            problems.append(f"replay {step}: reader errors on the snapshot: " + "; ".join(
                f"{e.get('path')}: {e.get('message')}" for e in host["errors"][:5]))
        # Device names come from the scanning host's PCI ID database (the guest has none), not the root.
        for side in (host, guest):
            for group in side.get("groups", []):
                for device in group.get("devices", []):
                    device.pop("name", None)
        for key in ("groups", "iommus", "divergences", "posture"):
            if host.get(key) != guest.get(key):
                detail = ""
                if isinstance(host.get(key), dict) and isinstance(guest.get(key), dict):
                    detail = ": " + "; ".join(f"{k}: live {guest[key].get(k)!r}, snapshot {host[key].get(k)!r}"
                                              for k in sorted(set(host[key]) | set(guest[key]))
                                              if host[key].get(k) != guest[key].get(k))[:600]
                problems.append(f"replay {step}: the snapshot's {key} differ from the live scan's{detail}")
        return problems
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


HOST_BINARY = None


def guest_crash(text, status):
    """Why a boot ended in the guest kernel's own failure, or None."""
    if status == "timeout":
        return "did not finish in time"
    for marker in ("Kernel panic - not syncing", "Oops:"):
        if marker in text:
            line = next(l for l in text.split("\n") if marker in l)
            return "crashed (" + line.strip()[-80:] + ")"
    return None


def check_boot(cfg, text, status, model_mode):
    blobs, stats, problems = parse_console(text)
    if "done" not in stats:
        problems.append(f"guest did not finish (qemu status {status}); last console lines: "
                        + " | ".join(l for l in text.strip().split("\n")[-4:]))
    scenario = cfg.get("scenario", "matrix")
    result = {"blobs": blobs, "stats": stats, "scans": {}, "line": cfg["line"], "modelMode": model_mode}
    if scenario == "matrix":
        scan, rc, p = check_scan(blobs, stats, "main")
        problems += p
        result["scans"]["main"] = (scan, rc)
        if scan is not None and "release" in scan.get("kernel", {}):
            pass
        mp, _ = model_check(cfg, scan, model_mode)
        result["modelProblems"] = mp
        expect_groups = not (cfg["cmdline"] == "off" and cfg["iommu"] != "amd")
        if scan is not None:
            pp, remapped = posture_check(cfg, scan)
            problems += pp
            n = len(scan.get("groups", []))
            if expect_groups and n == 0:
                problems.append("no IOMMU groups although the configuration turns the IOMMU on")
            if not expect_groups and n:
                problems.append(f"{n} IOMMU groups although the configuration turns the IOMMU off")
            mode = (scan.get("posture") or {}).get("mode")
            result["summary"] = f"{n} groups {types_summary(scan)} {mode} IR={remapped}"
    elif scenario == "hotplug":
        problems += check_hotplug(blobs, stats, result)
    elif scenario == "typewrite":
        problems += check_typewrite(blobs, stats, result)
    elif scenario == "capture":
        problems += check_capture(cfg, blobs, stats, result)
    result["problems"] = problems
    return result


def tree_groups(root):
    """The groups as the tree itself has them (no iommu-watch involved): {id: (type, members)}."""
    gdir = os.path.join(root, "sys", "kernel", "iommu_groups")
    groups = {}
    for g in os.listdir(gdir) if os.path.isdir(gdir) else []:
        path = os.path.join(gdir, g)
        typ = open(os.path.join(path, "type")).read().strip() if os.path.isfile(os.path.join(path, "type")) else None
        members = sorted(os.listdir(os.path.join(path, "devices"))) if os.path.isdir(os.path.join(path, "devices")) else []
        groups[int(g)] = (typ, members)
    return groups


def host_scan(root):
    """`iommu-watch scan --root ROOT --format json` on the host: (exit status, JSON or None, stderr)."""
    r = subprocess.run([HOST_BINARY, "scan", "--root", root, "--format", "json"], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True)
    try:
        return r.returncode, json.loads(r.stdout), r.stderr
    except ValueError:
        return r.returncode, None, r.stderr


def check_capture(cfg, blobs, stats, result):
    """The ARM64 column: the guest copied the tree with busybox (guest/capture.sh); the host's
    iommu-watch must read it (exit 0 or 1, no reader errors, every group of the tree with its type
    and members), `snapshot` it, and read the snapshot back to the same groups, IOMMUs and
    divergences. The divergences are the model's business (issue #12): recorded as findings, and
    asserted only through the configuration's `expect` (None for now)."""
    problems = []
    result["findings"] = []
    tgz = blobs.get("capture.tgz")
    if tgz is None:
        return ["capture: no tree came out"]
    if not HOST_BINARY:
        return []
    tmp = tempfile.mkdtemp(prefix="capture-")
    try:
        root = os.path.join(tmp, "root")
        extract_tree(tgz, root)
        want = tree_groups(root)
        rc, scan, err = host_scan(root)
        result["scans"]["main"] = (scan, rc)
        if rc not in (0, 1):
            return problems + [f"host scan of the capture: exit status {rc}: {err.strip()[:300]}"]
        if scan is None:
            return problems + ["host scan of the capture printed no JSON"]
        if scan.get("errors"):
            problems.append("host scan: reader errors: " + "; ".join(
                f"{e.get('path')}: {e.get('message')}" for e in scan["errors"][:5]))
        got = {g.get("id"): (g.get("type"), sorted(d.get("slot") for d in g.get("devices", [])))
               for g in scan.get("groups", [])}
        if got != want:
            problems.append(f"host scan: groups {got} differ from the tree's {want}")
        snap = os.path.join(tmp, "snapshot")
        r = subprocess.run([HOST_BINARY, "snapshot", "--root", root, "--output", snap], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True)
        replay_problems = []
        if r.returncode != 0:
            problems.append(f"host snapshot of the capture: exit status {r.returncode}: {r.stdout.strip()[:300]}")
        else:
            _, again, _ = host_scan(snap)
            for key in ("groups", "iommus", "divergences"):
                if (again or {}).get(key) != scan.get(key):
                    replay_problems.append(f"replay: the snapshot's {key} differ from the capture's")
            replay_problems += [f"replay: reader error on the snapshot: {e.get('path')}: {e.get('message')}"
                                for e in (again or {}).get("errors", [])[:3]]
        result["findings"] = [{"name": d.get("name"), "severity": d.get("severity"), "message": d.get("message")}
                              for d in scan.get("divergences", [])]
        if cfg.get("snapshotReplay", "assert") == "finding":
            # a known snapshot bug (matrix.py, arm_config): recorded, not failed
            result["findings"] += [{"name": "snapshot-replay", "severity": "harness", "message": m}
                                   for m in replay_problems]
        else:
            problems += replay_problems
        mp, _ = model_check(cfg, scan, result["modelMode"])
        result["modelProblems"] = mp
        if cfg.get("expectGroups", True) and not want:
            problems.append("no IOMMU groups although the configuration turns the IOMMU on")
        counts = {}
        for d in result["findings"]:
            counts[d["name"]] = counts.get(d["name"], 0) + 1
        result["summary"] = (f"{len(scan.get('groups', []))} groups {types_summary(scan)}; scan exit {rc}"
                             + ("; findings " + ",".join(f"{k}x{v}" for k, v in sorted(counts.items()))
                                if counts else ""))
        return problems
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def check_hotplug(blobs, stats, result):
    problems = []
    base, _, p = check_scan(blobs, stats, "before")
    problems += p
    added, _, p = check_scan(blobs, stats, "added")
    problems += p
    after, _, p = check_scan(blobs, stats, "after")
    problems += p
    if not all((base, added, after)):
        return problems
    before_sets, added_sets, after_sets = set(group_sets(base)), set(group_sets(added)), set(group_sets(after))
    new = added_sets - before_sets
    if not new:
        problems.append("hotplug: no new group appeared in the scan after device_add")
    if after_sets != before_sets:
        problems.append(f"hotplug: groups after removal differ from before: "
                        f"gone {sorted(map(sorted, before_sets - after_sets))}, "
                        f"extra {sorted(map(sorted, after_sets - before_sets))}")
    if any(s.startswith("daemon started") for s in stats) and "daemon alive=1" not in stats:
        problems.append("hotplug: the daemon died during the scenario: "
                        + blobs.get("daemon.log", b"").decode(errors="replace").strip()[-300:])
    daemon = blobs.get("daemon.log", b"").decode(errors="replace")
    if any(s.startswith("daemon started") for s in stats):
        for slot in sorted({d for st in new for d in st}):
            for event in ("group-added", "group-removed"):
                if not any(event in l and slot in l for l in daemon.split("\n")):
                    problems.append(f"hotplug: the daemon logged no {event} for {slot}")
    changes = [s for s in stats if s.startswith("scan-change")]
    uevents = blobs.get("uevents.txt", b"").decode(errors="replace")
    group_events = [l for l in uevents.split("\n") if "DEVPATH=/kernel/iommu_groups" in l]
    result["summary"] = (f"new group {sorted(map(sorted, new))}; {len(changes)} scan changes; "
                         f"uevents for iommu_groups: {len(group_events)}")
    result["groupUevents"] = group_events
    return problems


def check_typewrite(blobs, stats, result):
    problems = []
    steps = [s.split()[1] for s in stats if s.startswith("scan ")]
    result["modelProblems"] = []
    for step in steps:
        scan, rc, p = check_scan(blobs, stats, step)
        problems += p
        result["scans"][step] = (scan, rc)
        mp, _ = model_check({"expect": matrix.typewrite_expect(result["line"], step)}, scan, result["modelMode"])
        result["modelProblems"] += [f"step {step}: {m}" for m in mp]
    log = blobs.get("typewrite.log", b"").decode(errors="replace")
    if not log:
        problems.append("typewrite: no log came out")
    result["summary"] = f"steps {','.join(steps)}"
    result["log"] = log
    return problems


# ---------------------------------------------------------------- fixtures

def extract_tree(tgz, dest):
    shutil.rmtree(dest, ignore_errors=True)
    os.makedirs(dest)
    with tarfile.open(fileobj=io.BytesIO(tgz), mode="r:gz") as tf:
        members = [m for m in tf.getmembers()
                   if not m.name.startswith("/") and ".." not in m.name.split("/") and (m.isfile() or m.isdir() or m.issym())]
        tf.extractall(dest, members=members, filter="tar") if sys.version_info >= (3, 12) else \
            tf.extractall(dest, members=members)


def write_fixture(name, cfg, kernel, result, step, qemu_version, extra=None):
    blobs = result["blobs"]
    arm = cfg.get("arch") == "arm64"
    # ARM64: the tree the guest copied with busybox (the reader's files plus IORT/VIOT and the
    # device tree); x86: the guest's own `iommu-watch snapshot`
    tgz = blobs.get("capture.tgz" if arm else f"snapshot-{step}.tgz")
    if tgz is None:
        return None
    dest = os.path.join(FIXTURES, name)
    extract_tree(tgz, dest)
    scan, rc = result["scans"].get(step, (None, None))
    if scan is None:
        scan, _ = load_scan(blobs, step)
        rc_s = stat_value(result["stats"], f"scan {step}")
        rc = int(rc_s) if rc_s and rc_s.isdigit() else None
    cmdline = open(os.path.join(dest, "proc", "cmdline")).read().strip() \
        if os.path.isfile(os.path.join(dest, "proc", "cmdline")) else kernel_cmdline(cfg)
    manifest = {
        "kernelRelease": kernel["release"],
        "kernelLine": cfg["line"],
        "kernelPackage": {"names": kernel["packages"], "version": kernel["packageVersion"]},
        "iommu": cfg["iommu"],
        "cmdline": cmdline,
        "cmdlineVariant": cfg["cmdline"],
        "memory": cfg["memory"],
        "deviceSet": cfg["deviceSet"],
        "scenario": cfg.get("scenario", "matrix"),
        "step": step,
        "qemuArgs": qemu_args(cfg) + ["-kernel", "VMLINUZ", "-initrd", "INITRD", "-append", kernel_cmdline(cfg)],
        "qemuVersion": qemu_version,
        "scanExitStatus": rc,
        "expectedDivergences": cfg.get("expect"),
        "iommuWatchVersion": next((s.split(" ", 1)[1] for s in result["stats"] if s.startswith("iommu-watch ")), None),
    }
    if arm:
        manifest.update({
            "arch": "arm64",
            "firmware": "acpi" if "acpi" in cfg["iommu"] else "device-tree",
            "drivers": cfg.get("drivers", "all"),
            "qemuBinary": qemu_binary(cfg),
            "capturedBy": "Tests/RealKernel/guest/capture.sh (busybox; no arm64 iommu-watch): the host scanned it",
            "busyboxStatic": result.get("busybox"),
            "hostScanFindings": result.get("findings", []),
            # git keeps no empty folder: these existed, empty, in the guest (7.2 under virtio-iommu:
            # sys/kernel/iommu_groups); a test that needs "exists but empty" recreates them
            "emptyFolders": sorted(os.path.relpath(d, dest) for d, dirs, files in os.walk(dest)
                                   if not dirs and not files),
        })
    if extra:
        manifest.update(extra)
    with open(os.path.join(dest, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")
    # what the binary printed live in the guest for this tree: tests can check that reading the
    # capture gives the same groups as reading the live sysfs did
    if f"scan-{step}.json" in blobs:
        with open(os.path.join(dest, "live-scan.json"), "wb") as f:
            f.write(blobs[f"scan-{step}.json"])
    if arm:
        # no live scan on ARM: what the host's iommu-watch printed for the capture, the guest's own
        # notes (driver, group per function; insmod results) and the kernel log
        scan = result["scans"].get("main", (None, None))[0]
        if scan is not None:
            with open(os.path.join(dest, "host-scan.json"), "w") as f:
                json.dump(scan, f, indent=1)
                f.write("\n")
        for blob, fn in (("capture.log", "capture.log"), ("dmesg.txt", "dmesg.txt")):
            if blob in blobs:
                with open(os.path.join(dest, fn), "wb") as f:
                    f.write(blobs[blob])
    return dest


# ---------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--binary", required=True, help="iommu-watch binary to put in the guest")
    ap.add_argument("--capture", action="store_true", help="write the results as fixtures under Tests/Fixtures")
    ap.add_argument("--cache", default=os.path.join(REPO, ".build-realkernel"))
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--only", action="append", default=[], help="run configurations whose name contains this")
    ap.add_argument("--no-scenarios", action="store_true", help="matrix only: no hotplug/typewrite boots")
    ap.add_argument("--model-checks", choices=["auto", "on", "off"], default="auto",
                    help="assert the expected divergences: on; off; auto = only once the binary reports any")
    ap.add_argument("--offline", action="store_true", help="use cached kernels, no apt query")
    ap.add_argument("--timeout", type=int, default=300, help="seconds per boot")
    ap.add_argument("--docs", help="write per-line scenario findings (markdown) to this file")
    ap.add_argument("--arm", choices=["all", "ci", "none"], default=None,
                    help="the ARM64 column: all its configurations, ci = one per kernel line (matrix.ARM_CI), "
                         "none; default ci, and all with --capture")
    ap.add_argument("--no-x86", action="store_true", help="the ARM64 column only")
    ap.add_argument("--hotplug-watcher", choices=["auto", "scan"], default="auto",
                    help="auto: also run `iommu-watch daemon --foreground` when the binary has it; scan: scan loop only")
    args = ap.parse_args()
    global HOST_BINARY, HOTPLUG_WATCHER
    HOTPLUG_WATCHER = args.hotplug_watcher
    with open(args.binary, "rb") as f:  # the stand-in is a guest shell script: no host replay
        HOST_BINARY = os.path.abspath(args.binary) if f.read(4) == b"\x7fELF" else None

    t0 = time.time()
    os.makedirs(args.cache, exist_ok=True)
    configs = [] if args.no_x86 else matrix.MATRIX + ([] if args.no_scenarios else matrix.HOTPLUG + matrix.TYPEWRITE)
    if args.arm is None:
        args.arm = "all" if args.capture else "ci"
    if args.arm == "all":
        configs += matrix.ARM_MATRIX
    elif args.arm == "ci":
        configs += [c for c in matrix.ARM_MATRIX if c["name"] in matrix.ARM_CI]
    if args.only:
        configs = [c for c in configs if any(o in c["name"] for o in args.only)]
    if not configs:
        say("no configuration selected (--only, --arm, --no-x86)")
        return 2
    # (line, arch) pairs, each with its own apt state and kernel cache
    wanted = sorted({(c["line"], c.get("arch", "amd64")) for c in configs},
                    key=lambda la: (kernels.ARCHES.index(la[1]), matrix.KERNEL_LINES.index(la[0])))

    def fetch_one(la):
        k = kernels.fetch(args.cache, la[0], args.offline, la[1])
        k.setdefault("arch", la[1])
        return k

    with concurrent.futures.ThreadPoolExecutor(len(wanted) or 1) as ex:
        kern = {kernels.state_name(*la): k for la, k in zip(wanted, ex.map(fetch_one, wanted))}
    busyboxes = {}
    if any(a == "arm64" for _, a in wanted):  # after the kernels: it shares the 6.1 arm64 apt state
        busyboxes["arm64"] = kernels.fetch_busybox(args.cache, "arm64", offline=args.offline)
    t_kernels = time.time() - t0
    say(f"kernels ready in {t_kernels:.0f}s: " + ", ".join(f"{l}={k['release']}" for l, k in kern.items())
        + "".join(f"; busybox-static:{a} {v}" for a, (_, v) in busyboxes.items()))

    work = os.path.join(args.cache, "initrd")
    os.makedirs(work, exist_ok=True)
    bases = {}
    for arch in {a for _, a in wanted}:
        bases[arch] = build_base_initramfs(args.binary, work, busyboxes.get(arch, (None,))[0], arch)
    initrds = {key: build_initramfs(bases[k["arch"]], k, work) for key, k in kern.items()}
    qemu_versions = {}
    for arch in {a for _, a in wanted}:
        qemu = "qemu-system-aarch64" if arch == "arm64" else "qemu-system-x86_64"
        qemu_versions[arch] = subprocess.run([qemu, "--version"], stdout=subprocess.PIPE, text=True).stdout.split("\n")[0]
    qemu_version = qemu_versions.get("amd64") or next(iter(qemu_versions.values()), "")

    results = {}

    def one(cfg):
        rundir = os.path.join(args.cache, "runs", cfg["name"])
        key = kernel_key(cfg)
        text, secs, status, notes = boot(cfg, kern[key], initrds[key], rundir, args.timeout)
        crash = guest_crash(text, status)
        if crash:
            # The guest kernel itself fell over (seen: an int3 Oops in get_random_u32 under TCG on 7.x,
            # a boot that never ended while the host was loaded): that says nothing about
            # iommu-watch, so boot once more. A crash that repeats still fails.
            say(f"  again {cfg['name']:39} the guest kernel {crash}; booting it once more")
            text, secs, status, notes = boot(cfg, kern[key], initrds[key], rundir, args.timeout)
            notes = notes + [f"booted twice: the first guest kernel {crash}"]
        res = check_boot(cfg, text, status, args.model_checks)
        res.update(seconds=secs, qemuStatus=status, notes=notes)
        if cfg.get("arch") == "arm64":
            res["busybox"] = busyboxes["arm64"][1]
        with open(os.path.join(rundir, "result.json"), "w") as f:
            json.dump({k: v for k, v in res.items() if k not in ("blobs", "scans")}, f, indent=1, default=str)
        for name, data in res["blobs"].items():
            with open(os.path.join(rundir, name), "wb") as f:
                f.write(data)
        state = "FAIL" if res["problems"] else "ok"
        say(f"  {state:4} {cfg['name']:40} {secs:5.1f}s  {res.get('summary', '')}"
            + ("" if not res["problems"] else "\n         " + "\n         ".join(res["problems"])))
        results[cfg["name"]] = res
        return res

    t1 = time.time()
    say(f"booting {len(configs)} configurations, {args.jobs} at a time")
    # the longest boots (ARM under TCG, scenarios, 6G) first, so the pool ends evenly
    order = sorted(configs, key=lambda c: (c.get("arch") != "arm64", c.get("scenario") is None, c["memory"] != "6G"))
    with concurrent.futures.ThreadPoolExecutor(args.jobs) as ex:
        list(ex.map(one, order))
    t_boots = time.time() - t1

    # model checks: auto = enforce only when some scan reported a divergence
    any_div = any(s and s.get("divergences") for r in results.values() for s, _ in r["scans"].values())
    enforce = args.model_checks == "on" or (args.model_checks == "auto" and any_div)
    if args.model_checks != "off":
        if enforce:
            for c in configs:
                for p in results[c["name"]].get("modelProblems", []):
                    results[c["name"]]["problems"].append("model: " + p)
                    say(f"  FAIL {c['name']:40} model: {p}")
        else:
            say("model checks: not enforced (no scan reported any divergence yet; use --model-checks=on)")

    if args.capture:
        if not args.only and not args.no_x86:  # a full regeneration drops captures of configurations no longer in the matrix
            keep = {c["name"] for c in matrix.ARM_MATRIX}  # never dropped by a run that boots fewer
            for c in configs:
                keep |= {c["name"], c["name"] + "-added"} | {f"{c['name']}-{t}" for t in TYPEWRITE_FIXTURE_STEPS}
            for fn in os.listdir(FIXTURES) if os.path.isdir(FIXTURES) else []:
                if fn.startswith("qemu-") and fn not in keep:
                    shutil.rmtree(os.path.join(FIXTURES, fn))
        written = capture_fixtures(configs, kern, results, qemu_versions)
        say(f"fixtures written: {len(written)}")
    if args.docs:
        write_findings(args.docs, configs, kern, results)
    arm = [c["name"] for c in configs if c.get("arch") == "arm64"]
    if arm:
        arm_secs = [results[n]["seconds"] for n in arm]
        say(f"ARM64 column: {len(arm)} boots, per boot min {min(arm_secs):.0f}s, max {max(arm_secs):.0f}s, "
            f"mean {sum(arm_secs) / len(arm_secs):.0f}s; divergences are findings (expect None), not failures")

    failed = [c["name"] for c in configs if results[c["name"]]["problems"]]
    secs = [r["seconds"] for r in results.values()]
    say(f"timing: kernels {t_kernels:.0f}s, boots {t_boots:.0f}s wall for {len(secs)} boots "
        f"(per boot min {min(secs):.0f}s, max {max(secs):.0f}s, mean {sum(secs) / len(secs):.0f}s), "
        f"total {time.time() - t0:.0f}s")
    if failed:
        say("failed: " + " ".join(failed))
    say(f"realkernel: {len(configs) - len(failed)} passed, {len(failed)} failed")
    return 1 if failed else 0


def capture_fixtures(configs, kern, results, qemu_versions):
    """Every tree that came out is ground truth, also when our reader failed on it (that is
    a reader bug for the fixture to pin down): such manifests list the problems."""
    written = []
    for cfg in configs:
        res = results[cfg["name"]]
        if "done" not in res["stats"]:
            say(f"  not capturing {cfg['name']}: the guest did not finish")
            continue
        k = kern[kernel_key(cfg)]
        qemu_version = qemu_versions[cfg.get("arch", "amd64")]
        extra = {"harnessProblems": res["problems"]} if res["problems"] else {}
        scenario = cfg.get("scenario", "matrix")
        if scenario == "capture":
            written.append(write_fixture(cfg["name"], cfg, k, res, "main", qemu_version, extra))
        elif scenario == "matrix":
            written.append(write_fixture(cfg["name"], cfg, k, res, "main", qemu_version, extra))
        elif scenario == "hotplug":
            written.append(write_fixture(cfg["name"] + "-added", cfg, k, res, "added", qemu_version,
                                         extra | {"hotplugged": matrix.HOTPLUG_DEVICE}))
        elif scenario == "typewrite":
            for step in TYPEWRITE_FIXTURE_STEPS:
                if f"snapshot-{step}.tgz" in res["blobs"]:
                    written.append(write_fixture(f"{cfg['name']}-{step}", cfg, k, res, step, qemu_version,
                                                 extra | {"typeWrites": res.get("log", "").strip().split("\n")}))
    return [w for w in written if w]


# the typewrite states kept as fixtures: a single group written to identity with its driver
# bound again (policy DMA, one group identity), and the same written back to DMA (strict).
TYPEWRITE_FIXTURE_STEPS = ("identity-bound", "dma-bound")


BEGIN_MARK = "<!-- BEGIN generated by Tests/RealKernel/run --capture: do not edit below -->"
END_MARK = "<!-- END generated -->"


def write_findings(path, configs, kern, results):
    """Replace the generated part of docs/testbed.md with this run's matrix and scenario results."""
    out = [BEGIN_MARK, "", "### Matrix (last capture)", "",
           "| configuration | kernel | groups (types) | scan exit | result |", "|---|---|---|---|---|"]
    for cfg in configs:
        res = results[cfg["name"]]
        if cfg.get("scenario"):
            continue
        scan, rc = res["scans"].get("main", (None, None))
        out.append(f"| {cfg['name']} | {kern[kernel_key(cfg)]['release']} | {res.get('summary', '')} | {rc} | "
                   + ("ok" if not res["problems"] else "FAIL: " + "; ".join(res["problems"]).replace("|", "/"))
                   + " |")
    out.append("")
    arm = [c for c in configs if c.get("arch") == "arm64"]
    if arm:
        out += ["### ARM64 column (last capture; the host's scan of the guest's tree)", "",
                "Divergences here are the current model's (issue #12): findings, not failures.", "",
                "| configuration | kernel | groups (types); host scan | result |", "|---|---|---|---|"]
        for cfg in arm:
            res = results[cfg["name"]]
            out.append(f"| {cfg['name']} | {kern[kernel_key(cfg)]['release']} | {res.get('summary', '')} | "
                       + ("ok" if not res["problems"] else "FAIL: " + "; ".join(res["problems"]).replace("|", "/"))
                       + " |")
        out.append("")
    for cfg in configs:
        res = results[cfg["name"]]
        k = kern[kernel_key(cfg)]
        verdict = "FAIL: " + "; ".join(res["problems"]) if res["problems"] else "ok"
        if cfg.get("scenario") == "hotplug":
            ue = res["blobs"].get("uevents.txt", b"").decode(errors="replace").strip()
            changes = [s for s in res["stats"] if s.startswith("scan-change") or s.startswith("hotplug-")]
            out += [f"### Hotplug on {k['release']} ({cfg['name']})", "",
                    f"Result: {verdict} — {res.get('summary', '')}", "",
                    "Guest timeline (`@@IW-STAT` lines):", "", "```", *changes, "```", "",
                    "uevents the kernel sent (busybox `uevent`, with the groups present when the handler ran):",
                    "", "```", ue, "```", ""]
            daemon = res["blobs"].get("daemon.log", b"").decode(errors="replace").strip()
            if daemon:
                out += ["`iommu-watch daemon --foreground` said:", "", "```", daemon, "```", ""]
        elif cfg.get("scenario") == "typewrite":
            ue = res["blobs"].get("uevents.txt", b"").decode(errors="replace").strip()
            out += [f"### `type` writes on {k['release']} ({cfg['name']})", "", f"Result: {verdict}", "", "```",
                    res.get("log", "").strip(), "```", "", "uevents during the writes (`---` marks each step):",
                    "", "```", ue, "```", ""]
    out.append(END_MARK)
    text = open(path).read() if os.path.isfile(path) else ""
    if BEGIN_MARK in text and END_MARK in text:
        text = text[:text.index(BEGIN_MARK)] + "\n".join(out) + text[text.index(END_MARK) + len(END_MARK):]
    else:
        text = text + "\n" + "\n".join(out) + "\n"
    with open(path, "w") as f:
        f.write(text)


if __name__ == "__main__":
    sys.exit(main())
