"""Shared pieces of the host integration tests: a writable copy of a real capture, mutations a
running kernel would make, the daemon as a child process, and a NOTIFY_SOCKET listener."""
import json, os, shutil, signal, socket, subprocess, sys, tempfile, time

HERE = os.path.dirname(os.path.abspath(__file__))
PROJECT = os.path.dirname(os.path.dirname(HERE))
BINARY = os.environ.get("IOMMU_WATCH", os.path.join(PROJECT, ".build", "debug", "iommu-watch"))
FIXTURE = os.environ.get("IOMMU_WATCH_FIXTURE", "linux-61-intel")


def fixture_source(name=FIXTURE):
    """Tests/Fixtures/<name>, the real capture in the repository."""
    candidate = os.path.join(PROJECT, "Tests", "Fixtures", name)
    if os.path.isdir(os.path.join(candidate, "sys")):
        return candidate
    raise SystemExit("no fixture %s" % name)


def writable_capture(workdir, name=FIXTURE):
    """Copies the capture into workdir/root, writable, restoring flattened links: a regular file
    whose content starts with ../ and has no trailing newline was a symlink."""
    root = os.path.join(workdir, "root")
    shutil.copytree(fixture_source(name), root, symlinks=True)
    for folder, dirs, files in os.walk(root):
        os.chmod(folder, 0o755)
        for f in files:
            path = os.path.join(folder, f)
            if os.path.islink(path):
                continue
            os.chmod(path, 0o644)
            with open(path, "rb") as handle:
                data = handle.read(4097)
            if data.startswith(b"../") and not data.endswith(b"\n") and len(data) < 4096:
                os.remove(path)
                os.symlink(data.decode(), path)
    return root


# --- mutations, as the kernel would show them -------------------------------------------------

def set_type(root, group, value):
    with open(os.path.join(root, "sys/kernel/iommu_groups", str(group), "type"), "w") as f:
        f.write(value + "\n")


def bind(root, slot, driver):
    """Points the device's driver link at `driver` (as a bind to vfio-pci would)."""
    device = os.path.realpath(os.path.join(root, "sys/bus/pci/devices", slot))
    link = os.path.join(device, "driver")
    if os.path.lexists(link):
        os.remove(link)
    depth = os.path.relpath(os.path.join(root, "sys"), device)
    os.symlink(os.path.join(depth, "bus/pci/drivers", driver), link)


def add_device_in_new_group(root, template="0000:00:02.0", slot="0000:00:08.0"):
    """A hot-plugged function: a copy of `template` at `slot`, in a new group with the next number."""
    groups = os.path.join(root, "sys/kernel/iommu_groups")
    number = max(int(n) for n in os.listdir(groups)) + 1
    source = os.path.realpath(os.path.join(root, "sys/bus/pci/devices", template))
    target = os.path.join(os.path.dirname(source), slot)
    shutil.copytree(source, target, symlinks=True)
    os.remove(os.path.join(target, "iommu_group"))
    os.symlink("../../../kernel/iommu_groups/%d" % number, os.path.join(target, "iommu_group"))
    group = os.path.join(groups, str(number))
    os.makedirs(os.path.join(group, "devices"))
    for name in ("type", "reserved_regions"):
        shutil.copy(os.path.join(groups, "0", name), os.path.join(group, name))
    os.symlink("../../../../devices/pci0000:00/" + slot, os.path.join(group, "devices", slot))
    os.symlink("../../../devices/pci0000:00/" + slot, os.path.join(root, "sys/bus/pci/devices", slot))
    return number


# --- the daemon ------------------------------------------------------------------------------

def write_config(workdir, text):
    path = os.path.join(workdir, "iommu-watch.conf")
    with open(path, "w") as f:
        f.write(text)
    return path


def start_daemon(root, workdir, config, extra_env=None, args=("--log-target", "stderr")):
    env = dict(os.environ)
    env.update(extra_env or {})
    state = os.path.join(workdir, "state")
    os.makedirs(state, exist_ok=True)
    stderr = open(os.path.join(workdir, "stderr.log"), "w")
    process = subprocess.Popen([BINARY, "daemon", "--root", root, "--config", config, "--state-dir", state, *args],
                               env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=stderr)
    return process


def read_state(workdir):
    try:
        with open(os.path.join(workdir, "state", "state.json")) as f:
            return json.load(f)
    except FileNotFoundError:
        return None


def wait_for(predicate, timeout=10.0, step=0.05, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    raise AssertionError("timed out waiting for " + what)


def wait_rescans(workdir, count, timeout=10.0):
    """Waits until the state file shows `count` more rescans than now."""
    start = (read_state(workdir) or {}).get("rescans", 0)
    wait_for(lambda: (read_state(workdir) or {}).get("rescans", 0) >= start + count, timeout, what="%d rescans" % count)


def stderr_lines(workdir):
    with open(os.path.join(workdir, "stderr.log")) as f:
        return [line.rstrip("\n") for line in f if line.startswith("<")]


class NotifyListener:
    """A SOCK_DGRAM socket like systemd's NOTIFY_SOCKET; keeps (time, pid, message) tuples."""

    def __init__(self, workdir):
        self.path = os.path.join(workdir, "notify.sock")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
        self.sock.bind(self.path)
        self.sock.settimeout(0.05)
        self.messages = []

    def drain_in_background(self):
        """Keeps reading, as systemd does: a full socket would block the sender's sd_notify()."""
        import threading
        def loop():
            while True:
                try:
                    self.sock.recv(4096)
                except socket.timeout:
                    pass
                except OSError:
                    return
        threading.Thread(target=loop, daemon=True).start()

    def poll(self, duration=0.0):
        deadline = time.monotonic() + duration
        while True:
            try:
                data, ancillary, _, _ = self.sock.recvmsg(4096, socket.CMSG_SPACE(12))
                pid = None
                for level, kind, payload in ancillary:
                    if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
                        pid = int.from_bytes(payload[0:4], "little")
                self.messages.append((time.monotonic(), pid, data.decode()))
            except socket.timeout:
                if time.monotonic() >= deadline:
                    return

    def wait(self, predicate, timeout=10.0, what="notification", after=-1):
        """Index of the first message after index `after` that satisfies `predicate`."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.poll()
            for index, (_, _, message) in enumerate(self.messages):
                if index > after and predicate(message):
                    return index
        raise AssertionError("timed out waiting for %s; got %r" % (what, [m for _, _, m in self.messages]))


class Results:
    """Counts checks; prints the closing line CI reads ('N passed, N failed')."""

    def __init__(self, name):
        self.name, self.passed, self.failed = name, 0, 0

    def check(self, condition, description):
        if condition:
            self.passed += 1
            print("  ok   " + description)
        else:
            self.failed += 1
            print("  FAIL " + description)

    def finish(self):
        print("%s: %d passed, %d failed" % (self.name, self.passed, self.failed))
        sys.exit(1 if self.failed else 0)
