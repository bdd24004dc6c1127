#!/usr/bin/env python3
"""The part of test (a) that runs inside journal.sh's mount namespace."""
import atexit, json, os, signal, subprocess, tempfile, time
from harness import *

STARTED = "17f9b22b74b14f02bffb48591dc1b25b"
TYPE_CHANGED = "73125cdb133b40b8971d8fb7675c3188"
DRIVER_CHANGED = "f34f530c65ce4a90a811b7afea2e2dd0"
GROUP_ADDED = "0ece78eb7b234c34b919faba7e13c7c7"
SOCKET = "/run/systemd/journal/socket"

journald = None


def start_journald():
    global journald
    if os.path.exists(SOCKET):
        os.remove(SOCKET)
    journald = subprocess.Popen(["/lib/systemd/systemd-journald"], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for(lambda: os.path.exists(SOCKET), what="journald socket")


def stop_journald():
    journald.send_signal(signal.SIGTERM)
    journald.wait(timeout=10)


def journal(*matches):
    out = subprocess.run(["journalctl", "--no-pager", "-o", "json", "SYSLOG_IDENTIFIER=iommu-watch", *matches],
                         capture_output=True, text=True, check=False).stdout
    return [json.loads(line) for line in out.splitlines() if line.strip()]


results = Results("journal")
atexit.register(lambda: journald and journald.poll() is None and journald.kill())
with tempfile.TemporaryDirectory(prefix="iommu-watch-journal-") as workdir:
    root = writable_capture(workdir)
    config = write_config(workdir, "[Daemon]\nRescanIntervalSec=100ms\n")

    # No journal socket yet: --foreground writes readable lines to stderr and keeps going.
    fallback = start_daemon(root, workdir, config, args=("--foreground",))
    wait_for(lambda: read_state(workdir), what="state without journald")
    fallback.send_signal(signal.SIGTERM)
    results.check(fallback.wait(timeout=5) == 0 and any(l.startswith("<6>iommu-watch: Watching 10 IOMMU groups") for l in stderr_lines(workdir)),
                  "without a journal socket, --foreground logs readable lines to stderr")
    os.remove(os.path.join(workdir, "state", "state.json"))

    start_journald()
    daemon = start_daemon(root, workdir, config, args=())
    atexit.register(lambda: daemon.poll() is None and daemon.kill())
    wait_for(lambda: journal("MESSAGE_ID=" + STARTED), what="the started entry in the journal")
    entry = journal("MESSAGE_ID=" + STARTED)[0]
    for field in ("MESSAGE", "PRIORITY", "SYSLOG_IDENTIFIER", "MESSAGE_ID", "KERNEL", "IOMMU_WATCH_GROUPS"):
        results.check(field in entry, "started entry has %s" % field)
    results.check(entry["MESSAGE"].endswith(".") and entry["PRIORITY"] == "6", "MESSAGE is a sentence, PRIORITY=6")

    set_type(root, 3, "identity")
    wait_for(lambda: journal("MESSAGE_ID=" + TYPE_CHANGED), what="the type-changed entry")
    entry = journal("MESSAGE_ID=" + TYPE_CHANGED)[0]
    expected = {"IOMMU_GROUP": "3", "PCI_SLOT": "0000:00:03.0", "DOMAIN_TYPE": "identity", "EXPECTED": "DMA-FQ", "OBSERVED": "identity",
                "KERNEL": "6.1.0-56-amd64", "SYSLOG_IDENTIFIER": "iommu-watch", "PRIORITY": "5", "MESSAGE_ID": TYPE_CHANGED}
    for field, value in expected.items():
        results.check(entry.get(field) == value, "type-changed entry: %s=%s (%r)" % (field, value, entry.get(field)))
    group3 = journal("IOMMU_GROUP=3")
    results.check(TYPE_CHANGED in [e["MESSAGE_ID"] for e in group3] and all(e["IOMMU_GROUP"] == "3" for e in group3),
                  "journalctl IOMMU_GROUP=3 finds it (and only group 3)")

    # journald goes away; a transition happens meanwhile; the daemon keeps running and the state stays right.
    stop_journald()
    bind(root, "0000:02:01.0", "vfio-pci")
    wait_rescans(workdir, 3)
    state = read_state(workdir)
    results.check(daemon.poll() is None, "the daemon keeps running while journald is down")
    results.check(any(g["drivers"].get("0000:02:01.0") == "vfio-pci" for g in state["groups"]), "the state file is right while journald is down")
    start_journald()
    number = add_device_in_new_group(root)
    wait_for(lambda: journal("MESSAGE_ID=" + GROUP_ADDED), timeout=15, what="an entry after journald restarted")
    results.check(len(journal("MESSAGE_ID=" + DRIVER_CHANGED)) == 1, "the transition made while journald was down arrives once, after the restart")
    results.check(len(journal("MESSAGE_ID=" + GROUP_ADDED)) == 1, "later entries arrive")

    # Divergences, once the reconciler reports them: every field of docs/daemon.md ("What is logged").
    # Writing `identity` into a translated group's type is a divergence (default-type-mismatch).
    divergences = [e for e in journal() if "IOMMU_WATCH_DIVERGENCE" in e]
    results.check(len(divergences) >= 1, "the type change also shows as a divergence entry (%d)" % len(divergences))
    for e in divergences:
        missing = [f for f in ("MESSAGE", "PRIORITY", "SYSLOG_IDENTIFIER", "MESSAGE_ID", "IOMMU_WATCH_DIVERGENCE", "IOMMU_WATCH_KEY",
                               "IOMMU_GROUP", "KERNEL") if f not in e]
        results.check(not missing, "divergence entry %s carries every field that applies (missing %s)" % (e["IOMMU_WATCH_DIVERGENCE"], missing))
        results.check(len(e["MESSAGE_ID"]) == 32 and all(c in "0123456789abcdef" for c in e["MESSAGE_ID"]), "its MESSAGE_ID is 32 lower-case hex digits")
        results.check(journal("MESSAGE_ID=" + e["MESSAGE_ID"]) != [], "journalctl MESSAGE_ID=%s finds it" % e["MESSAGE_ID"])

    daemon.send_signal(signal.SIGTERM)
    results.check(daemon.wait(timeout=5) == 0, "clean exit")
    stop_journald()
results.finish()
