#!/usr/bin/env python3
"""Chaos: the release daemon rescans a copy of a real capture as fast as it may
(RescanIntervalSec=10ms, the minimum) while a mutator rewrites that copy at random: groups and
devices appear and vanish, files are truncated, links dangle, `type` flips. Checks:
  - the daemon never exits;
  - WATCHDOG=1 pings (WATCHDOG_USEC set, NOTIFY_SOCKET listener) never stop for WATCHDOG_USEC;
  - once mutation stops and the pristine capture is restored, the first rescan that starts after
    the restore reports the truth: the state file's groups, divergences and read errors equal
    what `iommu-watch scan --root` says;
  - no transition is logged twice: per divergence key, appeared/resolved alternate (appeared
    first); per member set, group-added/group-removed alternate; per path, read-error /
    read-error-resolved alternate.
Usage: Tests/Chaos/chaos.py [--seconds N] [--binary PATH] [--fixture NAME] [--seed N]"""
import argparse, collections, json, os, random, shutil, signal, socket, subprocess, sys, tempfile, threading, time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Integration"))
from harness import PROJECT, Results, writable_capture, write_config, read_state, wait_for, stderr_lines  # noqa: E402

parser = argparse.ArgumentParser()
parser.add_argument("--seconds", type=float, default=600)
parser.add_argument("--binary", default=os.path.join(PROJECT, ".build", "release", "iommu-watch"))
parser.add_argument("--fixture", default="linux-61-intel")
parser.add_argument("--seed", type=int, default=int(time.time()))
parser.add_argument("--watchdog-usec", type=int, default=1_000_000)
parser.add_argument("--strict-watchdog", action="store_true", help="also fail on a raw gap (run-queue wait included)")
parser.add_argument("--keep", action="store_true", help="keep the work folder")
args = parser.parse_args()
rng = random.Random(args.seed)
print("chaos: %s s on %s, seed %d, binary %s" % (args.seconds, args.fixture, args.seed, args.binary))

TYPES = ["DMA", "DMA-FQ", "identity", "blocked", "unmanaged", "", "DMA-FQ\nextra", "bogus", "identity"]


class Mutator:
    """Random edits of the capture, as a live kernel (or a broken one) would show them."""

    def __init__(self, root):
        self.root = root
        self.groups = os.path.join(root, "sys/kernel/iommu_groups")
        self.devices = os.path.join(root, "sys/bus/pci/devices")
        self.counts = collections.Counter()
        self.next_slot = 0x10

    def pick(self, folder):
        try:
            names = os.listdir(folder)
        except OSError:
            return None
        return os.path.join(folder, rng.choice(names)) if names else None

    def files(self):
        """Regular files the reader reads, anywhere in sys/."""
        candidates = []
        for base in (self.groups, os.path.join(self.root, "sys/devices")):
            for folder, dirs, files in os.walk(base):
                for name in files:
                    if name in ("type", "reserved_regions", "config", "vendor", "device", "class", "dma_mask_bits", "removable", "cap", "ecap"):
                        candidates.append(os.path.join(folder, name))
        return candidates

    def flip_type(self):
        group = self.pick(self.groups)
        if group:
            with open(os.path.join(group, "type"), "w") as f:
                f.write(rng.choice(TYPES) + "\n")

    def truncate(self):
        files = self.files()
        if files:
            path = rng.choice(files)
            size = os.path.getsize(path)
            os.truncate(path, rng.randint(0, max(size - 1, 0)))

    def garble(self):
        files = self.files()
        if files:
            path = rng.choice(files)
            with open(path, "r+b") as f:
                data = bytearray(f.read())
                for _ in range(rng.randint(1, 4)):
                    if data:
                        data[rng.randrange(len(data))] = rng.randrange(256)
                f.seek(0)
                f.write(bytes(data))

    def dangle(self):
        """A link that points nowhere: a device's iommu_group or driver, a group's member, a bus entry."""
        choices = []
        device = self.pick(self.devices)
        if device:
            real = os.path.realpath(device)
            choices += [os.path.join(real, "iommu_group"), os.path.join(real, "driver"), device]
        group = self.pick(self.groups)
        if group:
            member = self.pick(os.path.join(group, "devices"))
            if member:
                choices.append(member)
        if choices:
            link = rng.choice(choices)
            if os.path.lexists(link):
                os.remove(link)
            os.symlink("../../../nowhere/%d" % rng.randrange(1000), link)

    def remove_group(self):
        group = self.pick(self.groups)
        if group:
            shutil.rmtree(group, ignore_errors=True)

    def remove_device(self):
        device = self.pick(self.devices)
        if device:
            real = os.path.realpath(device)
            os.remove(device)
            if rng.random() < 0.5 and os.path.isdir(real):
                shutil.rmtree(real, ignore_errors=True)

    def add_device(self):
        """A hot-plugged function in a new group (or, sometimes, joining an existing one)."""
        template = self.pick(self.devices)
        if not template or not os.path.isdir(os.path.realpath(template)):
            return
        source = os.path.realpath(template)
        slot = "0000:00:%02x.%d" % (self.next_slot % 0x20, rng.randrange(8))
        self.next_slot += 1
        target = os.path.join(os.path.dirname(source), slot)
        if os.path.lexists(target) or os.path.lexists(os.path.join(self.devices, slot)):
            return
        shutil.copytree(source, target, symlinks=True)
        numbers = [int(n) for n in os.listdir(self.groups) if n.isdigit()]
        if numbers and rng.random() < 0.3:
            number = rng.choice(numbers)
        else:
            number = max(numbers + [0]) + 1
            group = os.path.join(self.groups, str(number))
            os.makedirs(os.path.join(group, "devices"), exist_ok=True)
            with open(os.path.join(group, "type"), "w") as f:
                f.write(rng.choice(TYPES[:5]) + "\n")
            with open(os.path.join(group, "reserved_regions"), "w") as f:
                f.write("0x00000000fee00000 0x00000000feefffff msi\n")
        group = os.path.join(self.groups, str(number))
        link = os.path.join(target, "iommu_group")
        if os.path.lexists(link):
            os.remove(link)
        os.symlink(os.path.relpath(group, target), link)
        members = os.path.join(group, "devices")
        os.makedirs(members, exist_ok=True)
        os.symlink(os.path.relpath(target, members), os.path.join(members, slot))
        os.symlink(os.path.relpath(target, self.devices), os.path.join(self.devices, slot))

    def step(self):
        action = rng.choice([self.flip_type, self.flip_type, self.truncate, self.garble, self.dangle,
                             self.remove_group, self.remove_device, self.add_device, self.add_device])
        try:
            action()
            self.counts[action.__name__] += 1
        except OSError:
            self.counts[action.__name__ + " (failed)"] += 1


def restore(root, pristine):
    """Puts the pristine capture back in place (same folder: the daemon holds the root open)."""
    for name in os.listdir(root):
        path = os.path.join(root, name)
        shutil.rmtree(path) if os.path.isdir(path) and not os.path.islink(path) else os.remove(path)
    for name in os.listdir(pristine):
        source, target = os.path.join(pristine, name), os.path.join(root, name)
        shutil.copytree(source, target, symlinks=True) if os.path.isdir(source) and not os.path.islink(source) else shutil.copy2(source, target, follow_symlinks=False)


def events(lines):
    """(event, identity) per logged transition, in order."""
    out = []
    for line in lines:
        fields = {}
        for token in line.split(" ["):
            pass
        bracket = line.rfind(" [")
        raw = line[bracket + 2:].rstrip("]") if bracket >= 0 else ""
        for part in raw.split(" "):
            if "=" in part:
                key, value = part.split("=", 1)
                fields.setdefault(key, value)
        event = fields.get("IOMMU_WATCH_EVENT")
        if event in ("appeared", "changed", "resolved"):
            out.append((event, "key:" + fields.get("IOMMU_WATCH_KEY", "?")))
        elif event in ("group-added", "group-removed"):
            # IOMMU_WATCH_MEMBERS= holds the member names, space-separated (none for an empty
            # group): the tokens after it up to the next NAME=value field.
            tokens = raw.split(" ")
            at = next(i for i, t in enumerate(tokens) if t.startswith("IOMMU_WATCH_MEMBERS="))
            members = [tokens[at][len("IOMMU_WATCH_MEMBERS="):]] + [t for t in tokens[at + 1:] if True]
            members = [members[0]] + list(__import__("itertools").takewhile(lambda t: "=" not in t, members[1:]))
            names = " ".join(m for m in members if m)
            # A group with no members is identified by its number (ObservedState.identity).
            out.append((event, "group:" + (names or "#" + fields.get("IOMMU_GROUP", "?"))))
        elif event in ("read-error", "read-error-resolved"):
            out.append((event, "path:" + fields.get("IOMMU_WATCH_PATH", "?")))
    return out


def alternation_faults(transitions):
    """Transitions logged twice: an appearance of something already present, or a removal of
    something absent. Returns (faults, present) where present is what the log says is current."""
    opens = {"appeared": True, "group-added": True, "read-error": True,
             "resolved": False, "group-removed": False, "read-error-resolved": False}
    present, faults = {}, []
    for event, identity in transitions:
        if event == "changed":
            if not present.get(identity):
                faults.append("changed before appeared: %s" % identity)
            continue
        now = opens[event]
        if identity in present and present[identity] == now:
            faults.append("%s twice in a row: %s" % (event, identity))
        present[identity] = now
    return faults, present


def truth(binary, root):
    scan = subprocess.run([binary, "scan", "--root", root, "--format", "json", "--fail-on", "error"],
                          capture_output=True, text=True)
    data = json.loads(scan.stdout)
    groups = sorted((g["id"], g.get("type"), tuple(sorted(d["slot"] for d in g["devices"]))) for g in data["groups"])
    return {"groups": groups, "divergences": sorted(d["key"] for d in data["divergences"]),
            "errors": sorted(e["path"] for e in data["errors"])}


def reported(state):
    groups = sorted((g["id"], g.get("type"), tuple(sorted(g["members"]))) for g in state["groups"])
    return {"groups": groups, "divergences": sorted(d["key"] for d in state["divergences"]),
            "errors": sorted(e["path"] if isinstance(e, dict) else e for e in state.get("readErrors", []))}


results = Results("chaos")
crashed = False
workdir = tempfile.mkdtemp(prefix="iommu-watch-chaos-")
try:
    root = writable_capture(workdir, args.fixture)
    pristine = os.path.join(workdir, "pristine")
    shutil.copytree(root, pristine, symlinks=True)
    config = write_config(workdir, "[Daemon]\nRescanIntervalSec=10ms\nDebounceSec=10ms\n")

    notify_path = os.path.join(workdir, "notify.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(notify_path)
    sock.settimeout(0.05)
    # Kernel receive timestamps: the listener thread shares the GIL with the mutator, so its own
    # clock would add the mutator's pauses to the gaps.
    SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)
    sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
    pings, other = [], []
    waits = []  # the daemon's main thread's run-queue wait (ns, /proc/PID/schedstat) at each ping
    daemon_pid = []
    stop_listening = threading.Event()

    def listen():
        while not stop_listening.is_set():
            try:
                raw, ancillary, _, _ = sock.recvmsg(4096, socket.CMSG_SPACE(16))
            except socket.timeout:
                continue
            data = raw.decode()
            now = time.time()
            for level, kind, payload in ancillary:
                if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS and len(payload) >= 16:
                    seconds, nanoseconds = int.from_bytes(payload[0:8], "little"), int.from_bytes(payload[8:16], "little")
                    now = seconds + nanoseconds / 1e9
            if "WATCHDOG=1" in data.split("\n"):
                pings.append(now)
                try:
                    with open("/proc/%d/schedstat" % daemon_pid[0]) as f:
                        waits.append(int(f.read().split()[1]) / 1e9)
                except (OSError, IndexError, ValueError):
                    waits.append(None)
            else:
                other.append((now, data))
    listener = threading.Thread(target=listen, daemon=True)
    listener.start()

    # The state file goes where systemd's RuntimeDirectory= puts it, a tmpfs: on ext4 each
    # replace-by-rename may wait for the disk (auto_da_alloc), which on a machine busy with other
    # builds delays the loop by hundreds of ms. harness.read_state reads workdir/state.
    shm = "/dev/shm" if os.path.isdir("/dev/shm") else None
    state_dir = tempfile.mkdtemp(prefix="iommu-watch-chaos-state-", dir=shm)
    os.symlink(state_dir, os.path.join(workdir, "state"))
    stderr = open(os.path.join(workdir, "stderr.log"), "w")
    env = dict(os.environ, NOTIFY_SOCKET=notify_path, WATCHDOG_USEC=str(args.watchdog_usec))
    daemon = subprocess.Popen(["sh", "-c", 'WATCHDOG_PID=$$ exec "$0" "$@"', args.binary, "daemon", "--foreground",
                               "--log-target", "stderr", "--root", root, "--config", config, "--state-dir", state_dir],
                              env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=stderr)
    daemon_pid.append(daemon.pid)
    wait_for(lambda: read_state(workdir), timeout=30, what="first state file")
    wait_for(lambda: pings, timeout=10, what="first watchdog ping")
    first_rescans = read_state(workdir)["rescans"]

    mutator = Mutator(root)
    started = time.monotonic()
    died = None
    while time.monotonic() - started < args.seconds:
        mutator.step()
        time.sleep(rng.choice([0, 0.001, 0.005, 0.02]))
        if daemon.poll() is not None:
            died = daemon.returncode
            break
    mutated_for = time.monotonic() - started
    results.check(died is None, "the daemon is alive after %.0f s of mutation (exit %s)" % (mutated_for, died))
    print("  mutations: %s" % ", ".join("%s %d" % kv for kv in sorted(mutator.counts.items())))

    restore(root, pristine)
    restored_at = time.monotonic()
    state = read_state(workdir) or {"rescans": 0}
    after_restore = state["rescans"]
    # The rescan running while the restore finished may have read a half-restored tree; the next
    # one starts after it: "within one rescan".
    final = wait_for(lambda: (s := read_state(workdir)) and s["rescans"] >= after_restore + 2 and s, timeout=30, what="a rescan after the restore")
    converged_in = time.monotonic() - restored_at
    expected, got = truth(args.binary, root), reported(final)
    results.check(got == expected, "one rescan after the restore the state file equals `scan --root` (%.0f ms)" % (converged_in * 1000)
                  + ("" if got == expected else ": state %r, scan %r" % (got, expected)))

    time.sleep(0.5)
    results.check(daemon.poll() is None, "the daemon is still alive after the restore")
    daemon.send_signal(signal.SIGTERM)
    try:
        code = daemon.wait(timeout=10)
    except subprocess.TimeoutExpired:
        daemon.kill()
        code = "hung on SIGTERM"
    results.check(code == 0, "SIGTERM: exit 0 (%s)" % code)
    stop_listening.set()
    listener.join()

    rescans = final["rescans"] - first_rescans
    gaps = [b - a for a, b in zip(pings, pings[1:])]
    longest = max(gaps or [0])
    # On a shared, overloaded machine a niced daemon can wait on the run queue longer than the
    # watchdog allows; systemd would kill it all the same, but the daemon did not hang. Report
    # the gap both raw and less the time the kernel kept the daemon waiting for a CPU.
    own = [g - (w1 - w0) for g, w0, w1 in zip(gaps, waits, waits[1:]) if w0 is not None and w1 is not None]
    longest_own = max(own or [0])
    limit = args.watchdog_usec / 1e6
    print("  watchdog: %d pings, longest gap %.0f ms raw, %.0f ms less run-queue wait; %d gaps over %.0f ms raw"
          % (len(pings), longest * 1000, longest_own * 1000, len([g for g in gaps if g >= limit]), limit * 1000))
    results.check(len(pings) > 2 and longest_own < limit,
                  "watchdog pings never stopped: longest gap less run-queue wait %.0f ms < WATCHDOG_USEC %.0f ms"
                  % (longest_own * 1000, limit * 1000))
    if args.strict_watchdog:
        results.check(longest < limit, "watchdog: longest raw gap %.0f ms < %.0f ms" % (longest * 1000, limit * 1000))
    print("  rescans during the run: %d (%.1f per second)" % (rescans, rescans / max(mutated_for, 1e-9)))

    lines = stderr_lines(workdir)
    transitions = events(lines)
    faults, present = alternation_faults(transitions)
    counted = collections.Counter(event for event, _ in transitions)
    print("  logged: %d lines; %s" % (len(lines), ", ".join("%s %d" % kv for kv in sorted(counted.items()))))
    results.check(not faults, "no transition logged twice (%d faults%s)" % (len(faults), (": " + "; ".join(faults[:5])) if faults else ""))
    open_keys = sorted(identity[4:] for identity, now in present.items() if now and identity.startswith("key:"))
    results.check(open_keys == expected["divergences"],
                  "what the log leaves open is what is true (%d divergences)" % len(open_keys)
                  + ("" if open_keys == expected["divergences"] else ": log %r, scan %r" % (open_keys, expected["divergences"])))
    fatal = [l for l in open(os.path.join(workdir, "stderr.log")) if "Fatal error" in l or "fatal" in l.lower()]
    results.check(not fatal, "no fatal error on stderr (%r)" % fatal[:3])
except BaseException:
    crashed = True
    raise
finally:
    if 'daemon' in globals() and daemon.poll() is None:
        daemon.kill()
    if args.keep or results.failed or crashed:
        print("  work folder kept: %s" % workdir)
    else:
        if 'state_dir' in globals():
            shutil.rmtree(state_dir, ignore_errors=True)
        shutil.rmtree(workdir, ignore_errors=True)
results.finish()
