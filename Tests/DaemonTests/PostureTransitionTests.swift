import IOMMUModel
import Foundation
import IOMMUSnapshot
import JSON
import Reconcile
import TestSupport
import Testing

@testable import Daemon

/// The posture in the daemon: logged when it changes (never on the first reconcile), kept in the
/// state file for `status`, exported to Prometheus.
@Suite struct PostureTransitionTests {
    static let lazy = PostureSummary(
        mode: "translated-lazy", decidedBy: "Debian's default build", asPredicted: true, interruptRemapping: "remapped", iommufd: "present",
        noIOMMUGroups: 0, vfioNoIOMMUMode: "off", vfioUnsafeInterrupts: "off")

    static func state(_ posture: PostureSummary?) -> ObservedState {
        var state = ObservedState(groups: [group(5, ["0000:00:05.0"])])
        state.posture = posture
        return state
    }

    @Test func aChangedModeIsLoggedAsANoticeWithBeforeAndAfter() throws {
        var passthrough = Self.lazy
        passthrough.mode = "passthrough"
        passthrough.vfioUnsafeInterrupts = "on"
        let transitions = Transition.between(Self.state(Self.lazy), Self.state(passthrough))
        #expect(transitions == [.postureChanged(passthrough, previous: Self.lazy)])
        let entry = try #require(EntryRenderer.entry(for: transitions[0], kernel: "6.1.0", config: DaemonConfig()))
        #expect(entry.priority == 5)
        #expect(entry.field("MESSAGE_ID") == DaemonEvent.postureChanged.messageID)
        #expect(entry.field("IOMMU_WATCH_MODE") == "passthrough")
        #expect(entry.message.contains("mode translated-lazy → passthrough"))
        #expect(entry.message.contains("VFIO unsafe interrupts off → on"))
        #expect(entry.field("EXPECTED")?.hasPrefix("translated-lazy") == true)
    }

    @Test func theFirstReconcileAndAReworded_DecisionAreNotChanges() {
        #expect(Transition.between(nil, Self.state(Self.lazy)).isEmpty)
        var reworded = Self.lazy
        reworded.decidedBy = "another sentence"
        #expect(Transition.between(Self.state(Self.lazy), Self.state(reworded)).isEmpty)
        #expect(Transition.between(Self.state(nil), Self.state(Self.lazy)).isEmpty)
    }

    @Test func theStateFileKeepsThePostureAndReadsOlderFilesWithout() throws {
        var observed = Self.state(Self.lazy)
        observed.unverified = ["whether 00:0d.0 and 00:0d.2 belong in one group"]
        let file = StateFile(
            pid: 42, root: "/", started: "2026-12-03T00:00:00Z", updated: "2026-12-03T00:00:01Z", rescans: 1, configFiles: [],
            state: observed, since: [:], config: DaemonConfig())
        let decoded = try StateFile.decode(file.encoded())
        #expect(decoded.posture == Self.lazy)
        #expect(decoded.unverified == observed.unverified)
        var older = file
        older.posture = nil
        older.unverified = []
        let text = String(decoding: older.encoded(), as: UTF8.self).replacingOccurrences(of: ",\n  \"unverified\": []", with: "")
        #expect(!text.contains("unverified"))
        #expect(try StateFile.decode(Array(text.utf8)).posture == nil)
    }

    @Test func prometheusCarriesTheModeAndSwitches() {
        let text = PrometheusText.render(Self.state(Self.lazy), config: DaemonConfig(), rescans: 1, updatedAt: 1)
        #expect(
            text.contains(
                "iommu_watch_posture_info{mode=\"translated-lazy\",interrupt_remapping=\"remapped\",iommufd=\"present\",vfio_noiommu_mode=\"off\",vfio_unsafe_interrupts=\"off\"} 1\n"
            ))
        #expect(text.contains("iommu_watch_posture_as_predicted 1\n"))
        #expect(text.contains("iommu_watch_unverified 0\n"))
    }

    @Test func aRealCaptureGivesTheDaemonItsPosture() throws {
        let snapshot = try SnapshotReader.read(root: FixtureFiles.root("qemu-6.12-intel-cm-pt-2g-a"))
        let state = ObservedState(snapshot: snapshot, found: Reconciler.reconcile(snapshot))
        #expect(state.posture?.mode == "passthrough")
        #expect(state.posture?.interruptRemapping == "unknown")
    }
}
