#!/usr/bin/env python3
"""docs/performance.md's figures: time from exec to READY=1, RSS after start and across 10,000
rescans of a real capture, and wake-ups per minute while idle. Usage: benchmark.py BINARY [RESCANS] [IDLE_SECONDS]"""
import glob, os, signal, subprocess, sys, tempfile, time
from harness import *

binary = sys.argv[1] if len(sys.argv) > 1 else BINARY
rescans = int(sys.argv[2]) if len(sys.argv) > 2 else 10000
idle_seconds = float(sys.argv[3]) if len(sys.argv) > 3 else 60


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        return next(int(l.split()[1]) for l in f if l.startswith("VmRSS:"))


def wakeups(pid):
    """Context switches of every thread: each is a wake-up from a blocking wait (or a preemption)."""
    total = 0
    for status in glob.glob("/proc/%d/task/*/status" % pid):
        with open(status) as f:
            for line in f:
                if "ctxt_switches" in line:
                    total += int(line.split()[1])
    return total


def launch(workdir, root, config, env_extra):
    listener = NotifyListener(workdir)
    env = dict(os.environ, NOTIFY_SOCKET=listener.path, **env_extra)
    state = os.path.join(workdir, "state")
    os.makedirs(state, exist_ok=True)
    begin = time.monotonic()
    daemon = subprocess.Popen(["sh", "-c", 'WATCHDOG_PID=$$ exec "$0" "$@"', binary, "daemon", "--root", root, "--config", config,
                               "--state-dir", state, "--log-target", "stderr"], env=env, stdin=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    index = listener.wait(lambda m: "READY=1" in m, what="READY=1")
    listener.drain_in_background()
    return daemon, listener, (listener.messages[index][0] - begin) * 1000


with tempfile.TemporaryDirectory(prefix="iommu-watch-bench-") as workdir:
    root = writable_capture(workdir)
    config = write_config(workdir, "[Daemon]\nRescanIntervalSec=10ms\n")
    starts = []
    for _ in range(5):
        daemon, listener, ms = launch(workdir, root, config, {})
        starts.append(ms)
        daemon.send_signal(signal.SIGTERM); daemon.wait()
        listener.sock.close(); os.remove(listener.path)
    print("start to READY=1: median %.0f ms (5 runs: %s)" % (sorted(starts)[2], ", ".join("%.0f" % s for s in starts)))

    daemon, listener, _ = launch(workdir, root, config, {})
    time.sleep(0.2)
    print("RSS after start: %.1f MiB" % (rss_kib(daemon.pid) / 1024))
    began = time.monotonic()
    marks = sorted({1000, rescans // 2, rescans})
    for mark in marks:
        wait_for(lambda: (read_state(workdir) or {}).get("rescans", 0) >= mark, timeout=3600, step=0.2, what="%d rescans" % mark)
        print("RSS after %d rescans: %.1f MiB (%.0f s)" % (mark, rss_kib(daemon.pid) / 1024, time.monotonic() - began))
    daemon.send_signal(signal.SIGTERM); daemon.wait()
    listener.sock.close(); os.remove(listener.path)

    config = write_config(workdir, "[Daemon]\n")
    daemon, listener, _ = launch(workdir, root, config, {"WATCHDOG_USEC": "30000000"})
    time.sleep(1)
    before = wakeups(daemon.pid)
    time.sleep(idle_seconds)
    after = wakeups(daemon.pid)
    print("idle wake-ups: %.1f per minute (RescanIntervalSec=60s, WatchdogSec=30s, %d s measured)" % ((after - before) * 60 / idle_seconds, idle_seconds))
    daemon.send_signal(signal.SIGTERM); daemon.wait()
