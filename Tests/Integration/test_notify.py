#!/usr/bin/env python3
"""The notify protocol against a NOTIFY_SOCKET listener, no systemd needed.
READY=1 only after the first reconcile, STATUS=, watchdog pings from the loop, RELOADING=1 with
MONOTONIC_USEC= then READY=1 on SIGHUP (and a bad config at reload keeps the old one), STOPPING=1
and exit 0 on SIGTERM."""
import atexit, os, signal, tempfile, time
from harness import *

results = Results("notify")
with tempfile.TemporaryDirectory(prefix="iommu-watch-notify-") as workdir:
    root = writable_capture(workdir)
    config = write_config(workdir, "[Daemon]\nRescanIntervalSec=10s\n")
    listener = NotifyListener(workdir)
    # WATCHDOG_PID must be the daemon's own pid: a shell that sets it to $$ and then execs.
    env = dict(os.environ, NOTIFY_SOCKET=listener.path, WATCHDOG_USEC="400000")
    import subprocess
    state = os.path.join(workdir, "state")
    os.makedirs(state)
    stderr = open(os.path.join(workdir, "stderr.log"), "w")
    started = time.monotonic()
    daemon = subprocess.Popen(["sh", "-c", 'WATCHDOG_PID=$$ exec "$0" "$@"', BINARY, "daemon", "--root", root, "--config", config,
                               "--state-dir", state, "--log-target", "stderr"], env=env, stdin=subprocess.DEVNULL, stderr=stderr)
    atexit.register(lambda: daemon.poll() is None and daemon.kill())
    ready = listener.wait(lambda m: "READY=1" in m, what="READY=1")
    ready_at, sender, message = listener.messages[ready]
    results.check(sender == daemon.pid, "notifications come from the daemon's pid (%s)" % sender)
    results.check(ready == 0, "READY=1 is the first notification")
    results.check("STATUS=10 groups, 0 divergences" in message or "STATUS=10 groups" in message, "READY=1 comes with STATUS= (%r)" % message)
    results.check(read_state(workdir) is not None, "the state file exists when READY=1 arrives (first reconcile done)")
    results.check(any("Watching 10 IOMMU groups" in l for l in stderr_lines(workdir)), "the summary entry was logged before READY=1")
    print("  start to READY=1: %.0f ms" % ((ready_at - started) * 1000))

    listener.poll(1.3)
    pings = [t for t, pid, m in listener.messages if m == "WATCHDOG=1"]
    results.check(len(pings) >= 4, "watchdog pings every WATCHDOG_USEC/2 (%d in 1.3 s at 0.4 s)" % len(pings))
    gaps = [b - a for a, b in zip(pings, pings[1:])]
    results.check(all(g < 0.4 for g in gaps), "no ping gap reaches the timeout (max %.3f s)" % max(gaps or [0]))

    before = len(listener.messages)
    daemon.send_signal(signal.SIGHUP)
    reloading = listener.wait(lambda m: m.startswith("RELOADING=1"), what="RELOADING=1")
    message = listener.messages[reloading][2]
    fields = dict(line.split("=", 1) for line in message.split("\n") if "=" in line)
    now = time.clock_gettime(time.CLOCK_MONOTONIC) * 1e6
    results.check("MONOTONIC_USEC" in fields and abs(int(fields["MONOTONIC_USEC"]) - now) < 5e6, "RELOADING=1 carries MONOTONIC_USEC= on CLOCK_MONOTONIC")
    again = listener.wait(lambda m: "READY=1" in m, what="READY=1 after reload", after=reloading)
    results.check(again > reloading, "READY=1 follows RELOADING=1")

    # A bad configuration at reload: old one kept, error logged, still READY.
    write_config(workdir, "[Daemon]\nRescanIntervalSec=never\n")
    count = len(listener.messages)
    daemon.send_signal(signal.SIGHUP)
    listener.wait(lambda m: "READY=1" in m, what="READY=1 after a bad reload", after=count - 1)
    time.sleep(0.2)
    results.check(daemon.poll() is None, "a bad configuration at reload does not stop the daemon")
    results.check(any("Kept the old configuration" in l and "iommu-watch.conf:2:" in l for l in stderr_lines(workdir)),
                  "the rejected configuration is logged with file and line")

    daemon.send_signal(signal.SIGTERM)
    code = daemon.wait(timeout=5)
    listener.poll(0.1)
    results.check(any(m.startswith("STOPPING=1") for _, _, m in listener.messages), "STOPPING=1 on SIGTERM")
    results.check(code == 0, "exit status 0 after SIGTERM (%s)" % code)

    # A bad configuration at start: a clear message naming file and line, non-zero exit.
    bad = subprocess.run([BINARY, "daemon", "--root", root, "--config", os.path.join(workdir, "iommu-watch.conf"), "--state-dir", state],
                         capture_output=True, text=True, timeout=10)
    results.check(bad.returncode == 78 and "iommu-watch.conf:2: RescanIntervalSec" in bad.stderr,
                  "bad configuration at start: exit 78 and file:line (%r)" % bad.stderr.strip())
results.finish()
