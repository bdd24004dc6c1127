#!/usr/bin/env python3
"""The part of the forwarding test that runs inside forward.sh's mount namespace: journald of our
own, the daemon on a real capture, systemd-journal-upload -> systemd-journal-remote over HTTP on
127.0.0.1, then journalctl --directory on what journal-remote wrote."""
import atexit, json, os, signal, socket, subprocess, tempfile
from harness import *

STARTED = "17f9b22b74b14f02bffb48591dc1b25b"
TYPE_CHANGED = "73125cdb133b40b8971d8fb7675c3188"
DRIVER_CHANGED = "f34f530c65ce4a90a811b7afea2e2dd0"
TYPE_MISMATCH = "e5e2b79e2e7f4943a981f577e9aea308"  # default-type-mismatch, a divergence
SOCKET = "/run/systemd/journal/socket"
REMOTE = "/lib/systemd/systemd-journal-remote"
UPLOAD = "/lib/systemd/systemd-journal-upload"
children = []


def spawn(argv, log):
    process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=open(log, "w"))
    children.append(process)
    return process


def entries(directory, *matches):
    argv = ["journalctl", "--no-pager", "-o", "json"] + (["--directory", directory] if directory else []) + list(matches)
    out = subprocess.run(argv + ["SYSLOG_IDENTIFIER=iommu-watch"], capture_output=True, text=True, check=False).stdout
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


results = Results("forward")
atexit.register(lambda: [p.kill() for p in children if p.poll() is None])
with tempfile.TemporaryDirectory(prefix="iommu-watch-forward-") as workdir:
    root = writable_capture(workdir)
    config = write_config(workdir, "[Daemon]\nRescanIntervalSec=100ms\n")
    if os.path.exists(SOCKET):
        os.remove(SOCKET)
    journald = spawn(["/lib/systemd/systemd-journald"], os.path.join(workdir, "journald.log"))
    wait_for(lambda: os.path.exists(SOCKET), what="journald socket")
    daemon = start_daemon(root, workdir, config, args=())
    children.append(daemon)
    wait_for(lambda: entries(None, "MESSAGE_ID=" + STARTED), what="the started entry in the local journal")
    set_type(root, 3, "identity")
    wait_for(lambda: entries(None, "MESSAGE_ID=" + TYPE_MISMATCH), what="the divergence entry in the local journal")

    # The receiving side: journal-remote listening for HTTP on localhost, writing into its own folder.
    received = os.path.join(workdir, "remote")
    os.makedirs(received)
    port = free_port()
    remote = spawn([REMOTE, "--listen-http=127.0.0.1:%d" % port, "--output=" + received, "--split-mode=host"],
                   os.path.join(workdir, "remote.log"))
    url = "http://127.0.0.1:%d" % port
    state = os.path.join(workdir, "upload.state")

    def upload():
        """One pass of journal-upload over what the local journal holds, resuming from its saved cursor."""
        return subprocess.run([UPLOAD, "--url=" + url, "--directory=/run/log/journal", "--follow=no", "--save-state=" + state],
                              capture_output=True, text=True, timeout=30)
    first = wait_for(lambda: (lambda r: r if r.returncode == 0 else None)(upload()), what="a first upload journal-remote accepts")
    results.check(first.returncode == 0, "systemd-journal-upload sent the journal to systemd-journal-remote over HTTP")
    results.check(any(f.endswith(".journal") for f in os.listdir(received)), "journal-remote wrote a journal file (%r)" % os.listdir(received))

    local = entries(None)
    forwarded = wait_for(lambda: (lambda e: e if len(e) >= len(local) else None)(entries(received)), what="every entry on the receiving side")
    identity = lambda e: (e["__REALTIME_TIMESTAMP"], e["_BOOT_ID"], e["MESSAGE_ID"], e["MESSAGE"])
    results.check(sorted(map(identity, forwarded)) == sorted(map(identity, local)),
                  "every iommu-watch entry arrived (%d local, %d received)" % (len(local), len(forwarded)))

    started = entries(received, "MESSAGE_ID=" + STARTED)
    results.check(len(started) == 1 and started[0].get("IOMMU_WATCH_GROUPS") == "10" and started[0].get("KERNEL") == "6.1.0-56-amd64",
                  "journalctl --directory MESSAGE_ID=<started> finds it, with its fields")
    changed = entries(received, "MESSAGE_ID=" + TYPE_CHANGED, "IOMMU_GROUP=3")
    expected = {"PCI_SLOT": "0000:00:03.0", "EXPECTED": "DMA-FQ", "OBSERVED": "identity", "PRIORITY": "5"}
    results.check(len(changed) == 1 and all(changed[0].get(k) == v for k, v in expected.items()),
                  "MESSAGE_ID=<type changed> IOMMU_GROUP=3 finds the type change with PCI_SLOT, EXPECTED, OBSERVED (%r)" %
                  [{k: e.get(k) for k in expected} for e in changed])
    divergence = entries(received, "MESSAGE_ID=" + TYPE_MISMATCH, "IOMMU_GROUP=3")
    results.check(len(divergence) == 1 and divergence[0].get("IOMMU_WATCH_DIVERGENCE") == "default-type-mismatch"
                  and divergence[0].get("IOMMU_WATCH_KEY") == "default-type-mismatch:0000:00:03.0",
                  "MESSAGE_ID=<default-type-mismatch> IOMMU_GROUP=3 finds the divergence with its name and key")
    group3 = entries(received, "IOMMU_GROUP=3")
    results.check({e["MESSAGE_ID"] for e in group3} == {TYPE_CHANGED, TYPE_MISMATCH} and all(e["IOMMU_GROUP"] == "3" for e in group3),
                  "IOMMU_GROUP=3 alone finds both, and nothing of another group")
    results.check(entries(received, "IOMMU_GROUP=4") == [], "IOMMU_GROUP=4 finds nothing")

    # A later transition and a second upload pass: only the new entry goes, once (the saved cursor).
    bind(root, "0000:02:01.0", "vfio-pci")
    wait_for(lambda: entries(None, "MESSAGE_ID=" + DRIVER_CHANGED), what="the driver change in the local journal")
    second = upload()
    results.check(second.returncode == 0, "a second upload pass succeeds")
    wait_for(lambda: entries(received, "MESSAGE_ID=" + DRIVER_CHANGED), what="the driver change on the receiving side")
    driver = entries(received, "MESSAGE_ID=" + DRIVER_CHANGED)
    results.check(len(driver) == 1 and driver[0].get("PCI_SLOT") == "0000:02:01.0" and driver[0].get("OBSERVED") == "vfio-pci",
                  "the later driver change arrives with PCI_SLOT and OBSERVED")
    results.check(len(entries(received, "MESSAGE_ID=" + STARTED)) == 1 and len(entries(received, "MESSAGE_ID=" + TYPE_CHANGED)) == 1,
                  "the second pass resent nothing")

    daemon.send_signal(signal.SIGTERM)
    results.check(daemon.wait(timeout=5) == 0, "the daemon exits cleanly")
    for process in (remote, journald):
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=10)
results.finish()
