import Foundation
import IOMMUSnapshot
import Reconcile
import Systemd
import Testing
@testable import Daemon

@Suite struct EntryTests {
    let config = DaemonConfig()

    /// A name from the root in a message: `journalctl` prints MESSAGE= to a terminal, so it is
    /// escaped there; the structured field keeps the raw value for queries.
    @Test func journalMessageEscapesControlCharactersAndFieldsKeepTheRawValue() {
        let raw = "evil\u{1b}[2J\nFAKE"
        let entry = LogEntry(priority: 4, message: "Cannot read \(raw).", fields: [JournalField("IOMMU_WATCH_PATH", raw)])
        let message = entry.journalFields.first { $0.name == "MESSAGE" }?.value
        #expect(message == "Cannot read evil\\x1b[2J\\nFAKE.")
        #expect(entry.field("IOMMU_WATCH_PATH") == raw)
        #expect(!entry.stderrLine.contains("\u{1b}") && !entry.stderrLine.contains("\n"))
    }

    @Test func appearedEntryCarriesEveryDocumentedField() throws {
        let entry = try #require(
            EntryRenderer.entry(for: .divergenceAppeared(divergence(key: "vfio:5")), kernel: "6.1.0-56-amd64", config: config))
        let names = Set(entry.journalFields.map(\.name))
        for field in [
            "MESSAGE", "PRIORITY", "SYSLOG_IDENTIFIER", "MESSAGE_ID", "IOMMU_WATCH_DIVERGENCE", "IOMMU_WATCH_KEY", "IOMMU_GROUP",
            "PCI_SLOT", "DOMAIN_TYPE", "EXPECTED", "OBSERVED", "KERNEL",
        ] {
            #expect(names.contains(field), "missing \(field)")
        }
        #expect(entry.priority == 3)
        #expect(entry.field("MESSAGE_ID") == TestKinds.notViable.messageID)
        #expect(entry.journalFields.allSatisfy { JournalField.isValidName($0.name) })
    }

    @Test func resolvedEntryIsInfoWithTheSameKey() throws {
        let entry = try #require(EntryRenderer.entry(for: .divergenceResolved(divergence(key: "vfio:5")), kernel: nil, config: config))
        #expect(entry.priority == 6)
        #expect(entry.field("IOMMU_WATCH_KEY") == "vfio:5")
        #expect(entry.field("MESSAGE_ID") == DaemonEvent.divergenceResolved.messageID)
        #expect(entry.message.hasSuffix("."))
    }

    @Test func groupEntriesListEveryPCIMemberAsItsOwnField() throws {
        let added = group(12, ["0000:03:00.0", "0000:03:00.1"])
        let entry = try #require(EntryRenderer.entry(for: .groupAdded(added), kernel: nil, config: config))
        #expect(entry.fields.filter { $0.name == "PCI_SLOT" }.map(\.value) == ["0000:03:00.0", "0000:03:00.1"])
        #expect(entry.field("IOMMU_GROUP") == "12")
        #expect(entry.message == "IOMMU group 12 appeared with devices 0000:03:00.0, 0000:03:00.1.")
    }

    @Test func suppressedDivergenceIsNeitherAppearedNorResolved() {
        var config = DaemonConfig()
        config.suppressions = [Suppression(divergence: "vfio-group-not-viable", slot: PCIAddress("0000:02:01.0"))]
        #expect(EntryRenderer.entry(for: .divergenceAppeared(divergence(key: "a")), kernel: nil, config: config) == nil)
        #expect(EntryRenderer.entry(for: .divergenceResolved(divergence(key: "a")), kernel: nil, config: config) == nil)
        #expect(
            EntryRenderer.entry(for: .divergenceAppeared(divergence(key: "b", slot: "0000:02:02.0")), kernel: nil, config: config) != nil)
    }

    @Test func minimumSeverityHidesLowerDivergencesAndTheirResolution() {
        var config = DaemonConfig()
        config.minimumSeverity = .warning
        let notice = divergence(TestKinds.sharedIdentity, key: "s", severity: .notice)
        #expect(EntryRenderer.entry(for: .divergenceAppeared(notice), kernel: nil, config: config) == nil)
        #expect(EntryRenderer.entry(for: .divergenceResolved(notice), kernel: nil, config: config) == nil)
        // The resolution of a shown divergence is shown although info is below warning.
        #expect(EntryRenderer.entry(for: .divergenceResolved(divergence(key: "e")), kernel: nil, config: config) != nil)
        #expect(EntryRenderer.entry(for: .groupAdded(group(1, ["0000:00:01.0"])), kernel: nil, config: config) == nil)
    }

    @Test func stderrLineIsReadableAndKeepsThePriority() throws {
        let entry = try #require(
            EntryRenderer.entry(
                for: .driverChanged(group(5, ["0000:02:01.0"]), slot: "0000:02:01.0", previous: "e1000", current: "vfio-pci"),
                kernel: nil, config: config))
        #expect(
            entry.stderrLine.hasPrefix("<6>iommu-watch: PCI device 0000:02:01.0 in IOMMU group 5 was rebound from e1000 to vfio-pci. ["))
    }

    @Test func startedSummaryCountsBySeverity() {
        let state = ObservedState(
            groups: [group(0, ["0000:00:00.0"])], divergences: [divergence(key: "a"), divergence(key: "b")], pciDeviceCount: 3)
        let entry = EntryRenderer.started(state, root: "/")
        #expect(entry.message == "Watching 1 IOMMU groups with 3 PCI devices; 2 divergences (2 error).")
        #expect(entry.field("IOMMU_WATCH_ERRORS") == "2")
    }

    @Test func catalogHasOneEntryPerEventWithValidIDs() {
        let ids = DaemonEvent.all.map(\.messageID)
        #expect(Set(ids).count == ids.count)
        #expect(ids.allSatisfy { $0.count == 32 && $0.allSatisfy { "0123456789abcdef".contains($0) } })
        #expect(DaemonEvent.catalogFile.components(separatedBy: "\n-- ").count == DaemonEvent.all.count + 1)
    }

    @Test func prometheusTextCountsShownDivergencesAndEscapesLabels() {
        let state = ObservedState(groups: [group(5, ["0000:00:05.0"])], divergences: [divergence(key: "quote\"d")])
        let text = PrometheusText.render(state, config: DaemonConfig(), rescans: 7, updatedAt: 100)
        #expect(text.contains("iommu_watch_divergences{severity=\"error\"} 1\n"))
        #expect(text.contains("key=\"quote\\\"d\""))
        #expect(text.contains("iommu_watch_rescans_total 7\n"))
        #expect(text.contains("iommu_watch_group_domain_info{group=\"5\",type=\"DMA-FQ\"} 1\n"))
    }
}
