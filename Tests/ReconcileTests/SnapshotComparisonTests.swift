import Foundation
import IOMMUModel
import IOMMUSnapshot
import Reconcile
import Testing

/// `iommu-watch diff`: what changed between two roots, groups matched by members, never by number.
@Suite struct SnapshotComparisonTests {
    static func side(_ snapshot: Snapshot) -> SnapshotComparison.Side {
        SnapshotComparison.Side(snapshot: snapshot, found: Reconciler.reconcile(snapshot))
    }

    static func compare(_ a: Snapshot, _ b: Snapshot) -> SnapshotComparison { SnapshotComparison(side(a), side(b)) }

    @Test func aRootComparedWithItselfHasNoChange() throws {
        let snapshot = try Fixtures.read("linux-61-intel")
        #expect(Self.compare(snapshot, snapshot).isEmpty)
    }

    @Test func aKernelUpgradeOfTheSameMachineIsNamed() throws {
        let comparison = Self.compare(try Fixtures.read("linux-61-intel"), try Fixtures.read("linux-612-intel"))
        #expect(!comparison.isEmpty)
        #expect(comparison.kernel.before == "6.1.0-56-amd64")
        #expect(comparison.kernel.after?.hasPrefix("6.12.") == true)
    }

    @Test func renumberedSplitAndMergedGroupsAreToldApart() throws {
        let before = try Fixtures.read("linux-61-intel")
        // Group 8 holds 00:1f.0, 00:1f.2 and 00:1f.3.
        let lpc = try #require(before.groups.first { $0.id == 8 })
        #expect(lpc.members.count == 3)
        var after = before
        var renumbered = after.groups.first { $0.id == 3 }!
        after.groups.removeAll { $0.id == 3 }
        renumbered.id = 30
        after.groups.append(renumbered)
        // Split 8 into two.
        after.groups.removeAll { $0.id == 8 }
        var first = lpc, second = lpc
        first.members = [lpc.members[0]]
        second.id = 31
        second.members = Array(lpc.members.dropFirst())
        after.groups += [first, second]
        let changes = Self.compare(before, after).groupChanges
        #expect(changes.contains { if case .renumbered(let from, let to) = $0 { from.id == 3 && to.id == 30 } else { false } })
        #expect(changes.contains { if case .split(let from, let into) = $0 { from.id == 8 && into.map(\.id) == [8, 31] } else { false } })
        // The other way round is a merge.
        let back = Self.compare(after, before).groupChanges
        #expect(back.contains { if case .merged(let from, let into) = $0 { from.map(\.id) == [8, 31] && into.id == 8 } else { false } })
    }

    @Test func typesRegionsDevicesAndDivergencesAreCompared() throws {
        let before = try Fixtures.read("qemu-7-intel-default-2g-b")
        let after = try Fixtures.read("qemu-7-intel-hotplug-2g-b-added")
        let comparison = Self.compare(before, after)
        #expect(comparison.groupChanges.contains { if case .devicesAdded(let names) = $0 { names == ["0000:08:00.0"] } else { false } })
        var typed = before
        typed.groups[0].type = .value(.identity, hasNewline: true)
        typed.groups[0].reservedRegions.append(ReservedRegion(start: 0x1000, end: 0x1fff, type: .direct))
        let changed = Self.compare(before, typed)
        #expect(changed.groupChanges.contains { if case .typeChanged(_, "DMA-FQ", "identity") = $0 { true } else { false } })
        #expect(changed.groupChanges.contains { if case .regionsChanged(_, let added, []) = $0 { added.count == 1 } else { false } })
        #expect(changed.postureChanged)
    }

    /// `diff` and the daemon's `posture-changed` judge by the same switches (`PostureSummary`): VFIO's
    /// no-IOMMU mode turned on is a posture change in both.
    @Test func thePostureChangesByTheSwitchesTheDaemonWatches() throws {
        let before = try Fixtures.read("qemu-7-intel-default-2g-b")
        var after = before
        #expect(!Self.compare(before, after).postureChanged)
        after.platform.vfioLoaded = true
        after.platform.vfioNoIOMMUMode = true
        var loaded = before
        loaded.platform.vfioLoaded = true
        loaded.platform.vfioNoIOMMUMode = false
        let comparison = Self.compare(loaded, after)
        #expect(comparison.postureChanged)
        let summaries = try (#require(comparison.postureBefore), #require(comparison.postureAfter))
        #expect(PostureSummary(summaries.1).changes(from: PostureSummary(summaries.0)) == ["VFIO no-IOMMU mode off → on"])
    }
}
