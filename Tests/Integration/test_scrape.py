#!/usr/bin/env python3
"""The real scrape: the daemon with PrometheusFile= on a real capture, the real
prometheus-node-exporter with its textfile collector on that folder, /metrics fetched over HTTP.
The iommu_watch_* series must arrive with their labels and follow a change in the capture;
`promtool check metrics` must pass on the daemon's file. Then a real Prometheus scrapes that
node_exporter every second with contrib/prometheus/iommu-watch.rules.yml loaded: the divergence
alert must be pending with the real series' labels and its explain annotation, and go away once
the divergence is resolved. Run with IOMMU_WATCH=<binary>. Prints "scrape: N passed, N failed"."""
import atexit, json, os, re, signal, socket, subprocess, tempfile, time, urllib.request
from harness import *

NODE_EXPORTER = os.environ.get("NODE_EXPORTER", "prometheus-node-exporter")
PROMETHEUS = os.environ.get("PROMETHEUS", "prometheus")
RULES = os.environ.get("IOMMU_WATCH_RULES", os.path.join(PROJECT, "contrib", "prometheus", "iommu-watch.rules.yml"))
SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse(text):
    """[(name, {label: value}, value)] of every sample line of a text exposition."""
    samples = []
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        match = SAMPLE.match(line)
        if not match:
            raise AssertionError("not a sample line: %r" % line)
        samples.append((match.group(1), dict(LABEL.findall(match.group(2) or "")), match.group(3)))
    return samples


def find(samples, name, **labels):
    return [(l, v) for n, l, v in samples if n == name and all(l.get(k) == w for k, w in labels.items())]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def scrape(port):
    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=5) as response:
        return response.read().decode()


def alerts(port):
    """Prometheus's active alerts (pending and firing), or None while it is not up."""
    try:
        with urllib.request.urlopen("http://127.0.0.1:%d/api/v1/alerts" % port, timeout=5) as response:
            return json.load(response)["data"]["alerts"]
    except OSError:
        return None


results = Results("scrape")
with tempfile.TemporaryDirectory(prefix="iommu-watch-scrape-") as workdir:
    root = writable_capture(workdir)
    textfiles = os.path.join(workdir, "node-exporter")
    os.makedirs(textfiles)
    prom = os.path.join(textfiles, "iommu-watch.prom")
    config = write_config(workdir, "[Daemon]\nRescanIntervalSec=100ms\nPrometheusFile=%s\n" % prom)
    set_type(root, 3, "identity")  # a warning divergence (default-type-mismatch) with group and slot
    daemon = start_daemon(root, workdir, config)
    atexit.register(lambda: daemon.poll() is None and daemon.kill())
    wait_for(lambda: os.path.exists(prom), what="the Prometheus file")

    check = subprocess.run(["promtool", "check", "metrics"], stdin=open(prom), capture_output=True, text=True)
    results.check(check.returncode == 0 and not check.stdout.strip() and not check.stderr.strip(),
                  "promtool check metrics passes on the daemon's file (%r)" % (check.stdout + check.stderr).strip())

    port = free_port()
    exporter = subprocess.Popen([NODE_EXPORTER, "--web.listen-address=127.0.0.1:%d" % port, "--collector.disable-defaults",
                                 "--collector.textfile", "--collector.textfile.directory=" + textfiles],
                                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=open(os.path.join(workdir, "exporter.log"), "w"))
    atexit.register(lambda: exporter.poll() is None and exporter.kill())

    def scraped():
        try:
            return scrape(port)
        except OSError:
            return None
    text = wait_for(scraped, what="node_exporter's /metrics")
    samples = parse(text)
    results.check(find(samples, "node_textfile_scrape_error") == [({}, "0")], "the textfile collector read the file without error")
    results.check(find(samples, "iommu_watch_groups") == [({}, "10")], "iommu_watch_groups 10")
    results.check(find(samples, "iommu_watch_pci_devices") == [({}, "14")], "iommu_watch_pci_devices 14")
    counts = {l["severity"]: v for l, v in find(samples, "iommu_watch_divergences")}
    results.check(counts == {"error": "0", "warning": "1", "notice": "0", "info": "0"}, "iommu_watch_divergences by severity (%r)" % counts)
    divergence = find(samples, "iommu_watch_divergence")
    results.check(divergence == [({"name": "default-type-mismatch", "key": "default-type-mismatch:0000:00:03.0", "severity": "warning",
                                   "group": "3", "slot": "0000:00:03.0"}, "1")], "iommu_watch_divergence with name, key, severity, group, slot (%r)" % divergence)
    domains = {l["group"]: l["type"] for l, v in find(samples, "iommu_watch_group_domain_info")}
    results.check(len(domains) == 10 and domains["3"] == "identity" and domains["0"] == "DMA-FQ",
                  "iommu_watch_group_domain_info{group,type} for every group (%r)" % domains)
    results.check(find(samples, "iommu_watch_read_errors") == [({}, "0")], "iommu_watch_read_errors 0")
    results.check(len(find(samples, "iommu_watch_rescans_total")) == 1, "iommu_watch_rescans_total")
    stamp = find(samples, "iommu_watch_last_rescan_timestamp_seconds")
    results.check(len(stamp) == 1 and abs(float(stamp[0][1]) - time.time()) < 10, "iommu_watch_last_rescan_timestamp_seconds is now (%r)" % stamp)
    posture = find(samples, "iommu_watch_posture_info")
    results.check(len(posture) == 1 and posture[0][1] == "1" and posture[0][0].get("mode") == "translated-lazy"
                  and set(posture[0][0]) == {"mode", "interrupt_remapping", "iommufd", "vfio_noiommu_mode", "vfio_unsafe_interrupts"},
                  "iommu_watch_posture_info{mode,interrupt_remapping,iommufd,vfio_noiommu_mode,vfio_unsafe_interrupts} (%r)" % posture)
    types = {line.split()[2]: line.split()[3] for line in text.splitlines() if line.startswith("# TYPE iommu_watch_")}
    expected = {"iommu_watch_groups", "iommu_watch_pci_devices", "iommu_watch_divergences", "iommu_watch_divergence",
                "iommu_watch_group_domain_info", "iommu_watch_read_errors", "iommu_watch_posture_info", "iommu_watch_posture_as_predicted",
                "iommu_watch_vfio_noiommu_groups", "iommu_watch_unverified", "iommu_watch_rescans_total",
                "iommu_watch_last_rescan_timestamp_seconds"}
    results.check(expected <= set(types) and types["iommu_watch_rescans_total"] == "counter",
                  "every family with its TYPE (missing %r)" % sorted(expected - set(types)))
    check = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True, text=True)
    results.check(check.returncode == 0, "promtool check metrics passes on what node_exporter serves (%r)" % (check.stdout + check.stderr).strip())

    # A real Prometheus with the rules, scraping that node_exporter every second.
    prometheus_port = free_port()
    with open(os.path.join(workdir, "prometheus.yml"), "w") as f:
        f.write("global: {scrape_interval: 1s, evaluation_interval: 1s}\nrule_files: ['%s']\n"
                "scrape_configs:\n  - job_name: node\n    static_configs: [{targets: ['127.0.0.1:%d']}]\n" % (RULES, port))
    prometheus = subprocess.Popen([PROMETHEUS, "--config.file=" + os.path.join(workdir, "prometheus.yml"),
                                   "--storage.tsdb.path=" + os.path.join(workdir, "tsdb"), "--web.listen-address=127.0.0.1:%d" % prometheus_port],
                                  stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=open(os.path.join(workdir, "prometheus.log"), "w"))
    atexit.register(lambda: prometheus.poll() is None and prometheus.kill())
    instance = "127.0.0.1:%d" % port

    def divergence_alerts():
        return [a for a in alerts(prometheus_port) or [] if a["labels"]["alertname"] == "IOMMUWatchDivergenceWarning"]
    pending = wait_for(divergence_alerts, timeout=20, what="the divergence alert in Prometheus")
    labels = pending[0]["labels"]
    results.check(len(pending) == 1 and pending[0]["state"] == "pending" and labels.get("name") == "default-type-mismatch"
                  and labels.get("group") == "3" and labels.get("slot") == "0000:00:03.0" and labels.get("instance") == instance
                  and labels.get("job") == "node" and labels.get("severity") == "warning",
                  "Prometheus with the rules: IOMMUWatchDivergenceWarning pending for the real series (%r)" % pending)
    results.check(pending[0]["annotations"].get("explain") == "iommu-watch explain default-type-mismatch"
                  and "group 3, 0000:00:03.0" in pending[0]["annotations"].get("summary", ""),
                  "its annotations: the summary and the explain command (%r)" % pending[0]["annotations"])
    others = [a["labels"]["alertname"] for a in alerts(prometheus_port) if a["labels"]["alertname"] != "IOMMUWatchDivergenceWarning"]
    results.check(others == [], "no other alert: not stale, not missing, no read errors (%r)" % others)

    # The capture changes back: the next scrape has no divergence series left and the type back.
    set_type(root, 3, "DMA-FQ")

    def resolved():
        samples = parse(scraped() or "")
        return samples if find(samples, "iommu_watch_group_domain_info", group="3", type="DMA-FQ") else None
    samples = wait_for(resolved, what="the resolved divergence in a later scrape")
    results.check(find(samples, "iommu_watch_divergence") == [], "the divergence series is gone once it is resolved")
    results.check(find(samples, "iommu_watch_divergences", severity="warning") == [({"severity": "warning"}, "0")], "warning count back to 0")
    later = find(samples, "iommu_watch_last_rescan_timestamp_seconds")
    results.check(float(later[0][1]) >= float(stamp[0][1]), "the rescan timestamp moves on")

    wait_for(lambda: not divergence_alerts(), timeout=20, what="the divergence alert to go")
    results.check(divergence_alerts() == [], "the alert goes once the divergence is resolved")

    daemon.send_signal(signal.SIGTERM)
    results.check(daemon.wait(timeout=5) == 0, "the daemon exits cleanly")
    for process in (prometheus, exporter):
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=10)
results.finish()
