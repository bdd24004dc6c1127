import Reconcile

/// The Prometheus text exposition format for node_exporter's textfile collector. Pure.
public enum PrometheusText {
    public static func render(_ state: ObservedState, config: DaemonConfig, rescans: Int, updatedAt: Int) -> String {
        var out = ""
        func metric(_ name: String, _ help: String, _ type: String, _ samples: [(labels: [(String, String)], value: String)]) {
            out += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
            for sample in samples {
                let labels =
                    sample.labels.isEmpty ? "" : "{" + sample.labels.map { "\($0.0)=\"\(escape($0.1))\"" }.joined(separator: ",") + "}"
                out += name + labels + " " + sample.value + "\n"
            }
        }
        let shown = state.divergences.values.filter(config.shows)
        metric("iommu_watch_groups", "IOMMU groups the kernel shows.", "gauge", [([], String(state.groups.count))])
        metric("iommu_watch_pci_devices", "PCI functions the kernel shows.", "gauge", [([], String(state.pciDeviceCount))])
        metric(
            "iommu_watch_divergences", "Divergences from the kernel's IOMMU rules, by severity (suppressed ones left out).", "gauge",
            Severity.allCases.map { severity in ([("severity", severity.rawValue)], String(shown.filter { $0.severity == severity }.count))
            })
        metric(
            "iommu_watch_divergence", "One series per current divergence; the value is always 1.", "gauge",
            shown.sorted { $0.key < $1.key }.map { divergence in
                var labels = [("name", divergence.kind.name), ("key", divergence.key), ("severity", divergence.severity.rawValue)]
                if let group = divergence.group { labels.append(("group", String(group))) }
                if let slot = divergence.slot { labels.append(("slot", slot.description)) }
                return (labels, "1")
            })
        metric(
            "iommu_watch_group_domain_info", "Each group's default domain type; the value is always 1.", "gauge",
            state.sortedGroups.map { ([("group", String($0.id)), ("type", $0.type ?? "none")], "1") })
        metric(
            "iommu_watch_read_errors", "Files under the root that could not be read or parsed.", "gauge",
            [([], String(state.readErrors.count))])
        if let posture = state.posture {
            metric(
                "iommu_watch_posture_info", "The IOMMU posture: default-domain mode and protection switches; the value is always 1.",
                "gauge",
                [
                    (
                        [
                            ("mode", posture.mode), ("interrupt_remapping", posture.interruptRemapping), ("iommufd", posture.iommufd),
                            ("vfio_noiommu_mode", posture.vfioNoIOMMUMode), ("vfio_unsafe_interrupts", posture.vfioUnsafeInterrupts),
                        ], "1"
                    )
                ])
            metric(
                "iommu_watch_posture_as_predicted", "1 when the groups are in the mode the kernel's rules predict, else 0.", "gauge",
                [([], posture.asPredicted ? "1" : "0")])
            metric(
                "iommu_watch_vfio_noiommu_groups", "Groups VFIO made without an IOMMU (vfio-noiommu).", "gauge",
                [([], String(posture.noIOMMUGroups))])
        }
        metric(
            "iommu_watch_unverified", "Questions about groups the rules could not answer for lack of data.", "gauge",
            [([], String(state.unverified.count))])
        metric("iommu_watch_rescans_total", "Rescans since the daemon started.", "counter", [([], String(rescans))])
        metric("iommu_watch_last_rescan_timestamp_seconds", "Unix time of the last rescan.", "gauge", [([], String(updatedAt))])
        return out
    }

    /// Label values escape backslash, double quote and newline.
    static func escape(_ value: String) -> String {
        var result = ""
        for character in value {
            switch character {
            case "\\": result += "\\\\"
            case "\"": result += "\\\""
            case "\n": result += "\\n"
            default: result.append(character)
            }
        }
        return result
    }
}
