#!/usr/bin/env python3
"""Soak: the daemon rescans one root back to back (RescanIntervalSec=10ms, the
shortest allowed; a rescan that takes longer than that is followed at once by the next) until
--rescans are done or --seconds have passed, whichever is first. Samples VmRSS and the state
file's rescan count; reports RSS growth after warm-up (the first --warmup fraction of the run).
Also the binary for the sanitizer runs: ASan/TSan reports go to stderr and fail the run.
Usage: Tests/Soak/soak.py --root DIR [--rescans N] [--seconds S] [--binary PATH] [--max-growth PCT]"""
import argparse, json, os, shutil, signal, subprocess, sys, tempfile, time

parser = argparse.ArgumentParser()
parser.add_argument("--root", required=True)
parser.add_argument("--binary", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", ".build", "release", "iommu-watch"))
parser.add_argument("--rescans", type=int, default=100_000)
parser.add_argument("--seconds", type=float, default=3600)
parser.add_argument("--warmup", type=float, default=0.2, help="fraction of the run (by rescans) before the RSS baseline")
parser.add_argument("--max-growth", type=float, default=1.0, help="percent")
parser.add_argument("--sample", type=float, default=1.0, help="seconds between samples")
parser.add_argument("--label", default="")
parser.add_argument("--samples", help="write the (seconds, rescans, RSS KiB) samples here as JSON")
args = parser.parse_args()


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        return next(int(l.split()[1]) for l in f if l.startswith("VmRSS:"))


def rescans(state_dir):
    try:
        with open(os.path.join(state_dir, "state.json")) as f:
            return json.load(f)["rescans"]
    except (OSError, ValueError, KeyError):
        return None


workdir = tempfile.mkdtemp(prefix="iommu-watch-soak-")
config = os.path.join(workdir, "iommu-watch.conf")
with open(config, "w") as f:
    f.write("[Daemon]\nRescanIntervalSec=10ms\n")
state_dir = os.path.join(workdir, "state")
os.makedirs(state_dir)
stderr_path = os.path.join(workdir, "stderr.log")
env = dict(os.environ)
env.setdefault("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0")
env.setdefault("TSAN_OPTIONS", "halt_on_error=0")
began = time.monotonic()
daemon = subprocess.Popen([args.binary, "daemon", "--root", args.root, "--config", config, "--state-dir", state_dir,
                           "--log-target", "stderr"], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                          stderr=open(stderr_path, "w"), env=env)
samples = []  # (seconds, rescans, rss KiB)
failed = []
try:
    while rescans(state_dir) is None:
        if daemon.poll() is not None or time.monotonic() - began > 600:
            raise SystemExit("soak: the daemon did not start (exit %s); %s" % (daemon.returncode, open(stderr_path).read()[-2000:]))
        time.sleep(0.1)
    print("soak%s: %s on %s, first reconcile after %.1f s, RSS %.1f MiB" % (args.label, args.binary, args.root, time.monotonic() - began, rss_kib(daemon.pid) / 1024), flush=True)
    start = time.monotonic()
    last_print = 0
    while True:
        time.sleep(args.sample)
        if daemon.poll() is not None:
            failed.append("the daemon exited (%s)" % daemon.returncode)
            break
        count = rescans(state_dir)
        elapsed = time.monotonic() - start
        if count is None:
            if elapsed >= args.seconds + 60:
                failed.append("no state file for a minute past the end")
                break
            continue
        samples.append((elapsed, count, rss_kib(daemon.pid)))
        if elapsed - last_print >= 60:
            last_print = elapsed
            print("  %5.0f s: %d rescans, RSS %.1f MiB" % (elapsed, count, samples[-1][2] / 1024), flush=True)
        if count >= args.rescans or elapsed >= args.seconds:
            break
finally:
    if daemon.poll() is None:
        daemon.send_signal(signal.SIGTERM)
        try:
            daemon.wait(timeout=60)
        except subprocess.TimeoutExpired:
            daemon.kill()
            failed.append("hung on SIGTERM")

report = open(stderr_path, errors="replace").read()
sanitizer = [l for l in report.splitlines() if "Sanitizer" in l or "runtime error" in l]
if sanitizer:
    failed.append("sanitizer report: %s" % "; ".join(sanitizer[:5]))
if daemon.returncode not in (0, None):
    failed.append("exit status %s" % daemon.returncode)
if samples:
    total, count = samples[-1][0], samples[-1][1]
    warm = next((s for s in samples if s[1] >= count * args.warmup), samples[0])
    after = [s for s in samples if s[1] >= warm[1]]
    # RSS swings by the size of one rescan's allocations depending on where in a rescan a sample
    # falls, so compare highs, not single samples: the peak of the second half of the run after
    # warm-up against the peak of its first half. A leak raises every later peak.
    half = len(after) // 2
    first, second = max(s[2] for s in after[:max(half, 1)]), max(s[2] for s in after[max(half, 1):] or after[-1:])
    growth = (second - first) * 100.0 / first
    end_growth = (samples[-1][2] - warm[2]) * 100.0 / warm[2]
    print("soak%s: %d rescans in %.0f s (%.1f ms each); after warm-up (%d rescans) peak RSS %.1f MiB in the first half, %.1f MiB in the second: growth %+.2f %% (single samples: %.1f -> %.1f MiB, %+.2f %%)"
          % (args.label, count, total, total * 1000 / max(count, 1), warm[1], first / 1024, second / 1024, growth,
             warm[2] / 1024, samples[-1][2] / 1024, end_growth))
    if growth > args.max_growth:
        failed.append("RSS grew %.2f %% after warm-up (limit %.1f %%)" % (growth, args.max_growth))
    if args.samples:
        with open(args.samples, "w") as f:
            json.dump(samples, f)
else:
    failed.append("no samples")
for failure in failed:
    print("  FAIL " + failure)
if failed:
    print("soak: work folder kept: %s" % workdir)
    sys.exit(1)
shutil.rmtree(workdir, ignore_errors=True)
print("soak%s: ok" % args.label)
