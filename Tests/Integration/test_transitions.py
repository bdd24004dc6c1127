#!/usr/bin/env python3
"""A real capture mutated while the daemon runs (group added, `type` changed,
device rebound to vfio-pci, group removed) gives exactly one entry per transition, and none is
repeated across later rescans. The capture sends no uevents, so the periodic rescan finds them."""
import atexit, collections, os, shutil, signal, tempfile
from harness import *

results = Results("transitions")
with tempfile.TemporaryDirectory(prefix="iommu-watch-transitions-") as workdir:
    root = writable_capture(workdir)
    config = write_config(workdir, "[Daemon]\nRescanIntervalSec=100ms\nDebounceSec=50ms\n")
    daemon = start_daemon(root, workdir, config)
    atexit.register(lambda: daemon.poll() is None and daemon.kill())
    wait_for(lambda: read_state(workdir), what="first state file")
    baseline = stderr_lines(workdir)
    results.check(len([l for l in baseline if "Watching" in l]) == 1, "one summary entry at start")
    wait_rescans(workdir, 3)
    results.check(stderr_lines(workdir) == baseline, "nothing is logged while the capture holds still")

    def transition(mutate, needle, description):
        before = len(stderr_lines(workdir))
        mutate()
        wait_rescans(workdir, 5)
        new = stderr_lines(workdir)[before:]
        matching = [l for l in new if needle in l]
        results.check(len(matching) == 1, "%s: exactly one entry (%d: %r)" % (description, len(matching), matching))
        return new

    added = []
    new = transition(lambda: added.append(add_device_in_new_group(root)), "appeared with device 0000:00:08.0", "group added")
    number = added[0]
    results.check(any("IOMMU_GROUP=%d" % number in l and "PCI_SLOT=0000:00:08.0" in l for l in new), "the added group's entry names group and slot")
    state = read_state(workdir)
    results.check(any(g["members"] == ["0000:00:08.0"] for g in state["groups"]), "the state file lists the new group")

    new = transition(lambda: set_type(root, 3, "identity"), "changed its default domain type from DMA-FQ to identity", "type changed")
    results.check(any("EXPECTED=DMA-FQ" in l and "OBSERVED=identity" in l for l in new), "type change carries EXPECTED= and OBSERVED=")
    results.check(next(g for g in read_state(workdir)["groups"] if g["id"] == 3)["type"] == "identity", "the state file shows the new type")
    results.check(len(read_state(workdir)["divergences"]) == len([l for l in new if "IOMMU_WATCH_EVENT=appeared" in l]), "the state file lists the divergence")

    keys = [l.split("IOMMU_WATCH_KEY=")[1].split()[0].rstrip("]") for l in new if "IOMMU_WATCH_EVENT=appeared" in l]
    results.check(len(keys) <= 1, "the type change raises at most one divergence (%r)" % keys)
    if keys:
        resolved = transition(lambda: set_type(root, 3, "DMA-FQ"), "IOMMU_WATCH_KEY=" + keys[0], "divergence resolved when the type goes back")
        results.check(any("IOMMU_WATCH_EVENT=resolved" in l and "<6>" in l for l in resolved), "the resolution is one info entry with the same key")

    new = transition(lambda: bind(root, "0000:02:01.0", "vfio-pci"), "0000:02:01.0 in IOMMU group 5 was bound to vfio-pci", "rebound to vfio-pci")

    def remove_group():
        shutil.rmtree(os.path.join(root, "sys/kernel/iommu_groups", str(number)))
        os.remove(os.path.join(root, "sys/bus/pci/devices/0000:00:08.0"))
    transition(remove_group, "with device 0000:00:08.0 went away", "group removed")

    wait_rescans(workdir, 10)
    lines = stderr_lines(workdir)
    counts = collections.Counter(lines)
    results.check(all(c == 1 for c in counts.values()), "no entry is repeated across %d rescans" % read_state(workdir)["rescans"])
    # Divergences, once the reconciler reports them: each key appears at most once per event.
    keyed = collections.Counter((l.split("IOMMU_WATCH_EVENT=")[1].split()[0], l.split("IOMMU_WATCH_KEY=")[1].split()[0].rstrip("]"))
                                for l in lines if "IOMMU_WATCH_KEY=" in l)
    results.check(all(c == 1 for c in keyed.values()), "each divergence key appears and resolves at most once (%d keyed entries)" % len(keyed))

    daemon.send_signal(signal.SIGTERM)
    results.check(daemon.wait(timeout=5) == 0, "clean exit")
results.finish()
