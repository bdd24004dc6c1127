#!/usr/bin/env python3
"""The daemon on roots someone else made: a FIFO where sysfs has a file must not withhold READY=1,
and SIGTERM must stop the daemon while its first scan is still reading (before READY=1)."""
import atexit, os, signal, subprocess, tempfile, time
from harness import *

results = Results("hostile")


def spawn(root, workdir, listener):
    env = dict(os.environ, NOTIFY_SOCKET=listener.path)
    config = write_config(workdir, "[Daemon]\nRescanIntervalSec=10s\n")
    state = os.path.join(workdir, "state")
    os.makedirs(state, exist_ok=True)
    stderr = open(os.path.join(workdir, "stderr.log"), "w")
    daemon = subprocess.Popen([BINARY, "daemon", "--root", root, "--config", config, "--state-dir", state, "--log-target", "stderr"],
                              env=env, stdin=subprocess.DEVNULL, stderr=stderr)
    atexit.register(lambda: daemon.poll() is None and daemon.kill())
    return daemon


def terminate(daemon, timeout):
    """SIGTERM; the exit status, or None when it had to be killed; and how long it took."""
    sent = time.monotonic()
    daemon.send_signal(signal.SIGTERM)
    try:
        code = daemon.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        daemon.kill()
        code = None
    return code, time.monotonic() - sent


def reading_under(pid, root):
    """True while the process holds a descriptor beneath `root`: the reader's root folder is open."""
    try:
        return any(os.readlink("/proc/%d/fd/%s" % (pid, fd)).startswith(root) for fd in os.listdir("/proc/%d/fd" % pid))
    except OSError:
        return False


with tempfile.TemporaryDirectory(prefix="iommu-watch-hostile-") as workdir:
    root = writable_capture(workdir)
    for fifo in ("sys/kernel/iommu_groups/3/type", "sys/devices/pci0000:00/0000:00:02.0/config"):
        os.remove(os.path.join(root, fifo))
        os.mkfifo(os.path.join(root, fifo))
    listener = NotifyListener(workdir)
    daemon = spawn(root, workdir, listener)
    try:
        listener.wait(lambda m: "READY=1" in m, timeout=20, what="READY=1")
        results.check(True, "READY=1 arrives although two files of the root are FIFOs")
    except AssertionError:
        results.check(False, "READY=1 arrives although two files of the root are FIFOs")
    results.check(any("iommu_groups/3/type" in line and "not a regular file: FIFO" in line for line in stderr_lines(workdir)),
                  "the FIFO is logged as a read error, by path and type")
    code, took = terminate(daemon, timeout=5)
    results.check(code == 0, "SIGTERM then ends it with status 0 (%s, %.0f ms)" % (code, took * 1000))

with tempfile.TemporaryDirectory(prefix="iommu-watch-hostile-big-") as workdir:
    # A tree whose first scan takes seconds: 1,024 groups of 8 functions.
    root = os.path.join(workdir, "root")
    subprocess.run([os.path.join(PROJECT, "Benchmarks", "gen-sysfs"), "--groups", "1024", "--devices-per-group", "8", "--out", root],
                   check=True, stdout=subprocess.DEVNULL)
    listener = NotifyListener(workdir)
    daemon = spawn(root, workdir, listener)
    wait_for(lambda: reading_under(daemon.pid, root) or daemon.poll() is not None, timeout=20, step=0.005, what="the first scan to start")
    listener.poll()
    ready_before = any("READY=1" in m for _, _, m in listener.messages)
    code, took = terminate(daemon, timeout=30)
    listener.poll(0.1)
    messages = [m for _, _, m in listener.messages]
    results.check(not ready_before, "SIGTERM was sent while the first scan was reading (no READY=1 yet)")
    results.check(code == 0, "SIGTERM during the first scan: exit status 0 (%s)" % code)
    results.check(not any("READY=1" in m for m in messages), "the scan stopped: READY=1 was never sent (stopped %.0f ms after SIGTERM)" % (took * 1000))
    results.check(any(m.startswith("STOPPING=1") for m in messages), "STOPPING=1 was sent")
results.finish()
