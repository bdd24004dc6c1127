import IOMMUSnapshot
import Reconcile
import Testing
import TestSupport
@testable import Daemon

@Suite struct TransitionTests {
    @Test func firstReconcileReportsDivergencesButNotGroups() {
        let state = ObservedState(groups: [group(0, ["0000:00:00.0"])], divergences: [divergence(key: "a")])
        let transitions = Transition.between(nil, state)
        #expect(transitions == [.divergenceAppeared(divergence(key: "a"))])
    }

    @Test func nothingIsRepeatedWhileStateHoldsStill() {
        let state = ObservedState(groups: [group(0, ["0000:00:00.0"])], divergences: [divergence(key: "a")])
        #expect(Transition.between(state, state).isEmpty)
    }

    @Test func groupsAreComparedByMembersNotByNumber() {
        // The kernel renumbers: group 3 goes away, its number is reused for a new member set.
        let before = ObservedState(groups: [group(3, ["0000:00:03.0"]), group(4, ["0000:00:04.0"])])
        let after = ObservedState(groups: [group(3, ["0000:01:00.0"]), group(7, ["0000:00:04.0"])])
        let transitions = Transition.between(before, after)
        #expect(transitions == [.groupRemoved(group(3, ["0000:00:03.0"])), .groupAdded(group(3, ["0000:01:00.0"]))])
    }

    @Test func groupsWithoutMembersAreKeptApartByNumber() {
        // Found by Tests/Chaos: two empty groups shared the identity "" and one of them was lost,
        // so its removal (or type change) was never logged.
        let before = ObservedState(groups: [group(4, []), group(5, [], type: "DMA")])
        #expect(before.groups.count == 2)
        let after = ObservedState(groups: [group(5, [], type: "identity")])
        #expect(
            Transition.between(before, after) == [
                .groupRemoved(group(4, [])), .groupTypeChanged(group(5, [], type: "identity"), previousType: "DMA"),
            ])
    }

    @Test func renumberedGroupWithSameMembersIsNoTransition() {
        let before = ObservedState(groups: [group(3, ["0000:00:03.0"])])
        let after = ObservedState(groups: [group(9, ["0000:00:03.0"])])
        #expect(Transition.between(before, after).isEmpty)
    }

    @Test func typeChangeAndRebindAreOneTransitionEach() {
        let before = ObservedState(groups: [
            group(5, ["0000:00:05.0", "0000:02:01.0"], drivers: ["0000:00:05.0": nil, "0000:02:01.0": "e1000"])
        ])
        let after = ObservedState(groups: [
            group(5, ["0000:00:05.0", "0000:02:01.0"], type: "identity", drivers: ["0000:00:05.0": nil, "0000:02:01.0": "vfio-pci"])
        ])
        let transitions = Transition.between(before, after)
        #expect(transitions.count == 2)
        #expect(transitions.contains(.groupTypeChanged(after.groups.values.first!, previousType: "DMA-FQ")))
        #expect(
            transitions.contains(.driverChanged(after.groups.values.first!, slot: "0000:02:01.0", previous: "e1000", current: "vfio-pci")))
    }

    @Test func resolvedCarriesTheSameKeyAsAppeared() {
        let before = ObservedState(divergences: [divergence(key: "vfio:5")])
        let transitions = Transition.between(before, ObservedState())
        #expect(transitions == [.divergenceResolved(divergence(key: "vfio:5"))])
    }

    @Test func severityChangeIsOneChangedTransition() {
        let before = ObservedState(divergences: [divergence(TestKinds.sharedIdentity, key: "s", severity: .notice)])
        let after = ObservedState(divergences: [divergence(TestKinds.sharedIdentity, key: "s", severity: .error)])
        #expect(
            Transition.between(before, after) == [
                .divergenceChanged(
                    divergence(TestKinds.sharedIdentity, key: "s", severity: .error),
                    previous: divergence(TestKinds.sharedIdentity, key: "s", severity: .notice))
            ])
    }

    @Test func readErrorsAppearAndResolveOnce() {
        let before = ObservedState(readErrors: ["sys/bus/pci/devices/0000:00:02.0/config": "permission denied"])
        let after = ObservedState()
        #expect(
            Transition.between(before, after) == [
                .readErrorResolved(path: "sys/bus/pci/devices/0000:00:02.0/config", message: "permission denied")
            ])
        #expect(
            Transition.between(after, before) == [
                .readErrorAppeared(path: "sys/bus/pci/devices/0000:00:02.0/config", message: "permission denied")
            ])
    }

    @Test func realCaptureReadTwiceGivesNoTransitions_linux61() throws {
        let root = FixtureFiles.root("linux-61-intel")
        let first = ObservedState(snapshot: try SnapshotReader.read(root: root), divergences: [])
        let second = ObservedState(snapshot: try SnapshotReader.read(root: root), divergences: [])
        #expect(first.groups.count == 10)
        #expect(first.groups["0000:00:05.0 0000:02:01.0 0000:02:02.0"]?.id == 5)
        #expect(Transition.between(first, second).isEmpty)
    }
}
