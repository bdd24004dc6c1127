import IOMMUModel
import IOMMUSnapshot
import Reconcile
import Testing

/// `simulate`'s overrides on real captures: what the kernel would show after the change, and what the
/// reconciler then says.
@Suite struct SimulationTests {
    func address(_ text: String) -> PCIAddress { PCIAddress("0000:" + text)! }

    @Test func rebootingWithIOMMUPtMakesEveryGroupIdentity_linux61() throws {
        let (simulated, notes) = Overrides(commandLine: "console=ttyS0 intel_iommu=on iommu=pt").apply(
            to: try Fixtures.read("linux-61-intel"))
        #expect(simulated.groups.allSatisfy { $0.type.domainType == .identity })
        #expect(notes.last?.contains("`iommu=pt`") == true)
        #expect(Reconciler.divergences(in: simulated).map { "\($0.kind.name) \($0.severity)" } == ["shared-identity-domain notice"])
    }

    @Test func rebootingIntoAnOlderReleaseDropsTheFlushQueueType_linux612() throws {
        let (simulated, _) = Overrides(kernelRelease: "5.10.0-32-amd64").apply(to: try Fixtures.read("linux-612-intel"))
        #expect(simulated.groups.allSatisfy { $0.type.domainType == .dma })
        #expect(Reconciler.divergences(in: simulated).isEmpty)
    }

    @Test func rebootingWithIntelIOMMUOffRemovesTheGroups_linux61() throws {
        let (simulated, _) = Overrides(commandLine: "console=ttyS0 intel_iommu=off").apply(to: try Fixtures.read("linux-61-intel"))
        #expect(simulated.groups.isEmpty)
        #expect(Reconciler.divergences(in: simulated).map(\.kind.name) == ["iommu-disabled"])
    }

    @Test func typeWritesFollowTheReleaseRules() throws {
        let write = Overrides(setType: [Overrides.TypeWrite(group: 3, type: .identity)])
        // 5.10: read-only.
        let (old, oldNotes) = write.apply(to: try Fixtures.read("linux-510-intel"))
        #expect(old.groups.first { $0.id == 3 }?.type.domainType == .dma)
        #expect(oldNotes.contains { $0.contains("read-only before 5.11") })
        // 6.1: single unbound device, accepted — and the kernel did not choose it.
        let (new, _) = write.apply(to: try Fixtures.read("linux-61-intel"))
        #expect(new.groups.first { $0.id == 3 }?.type.domainType == .identity)
        #expect(Reconciler.divergences(in: new).map(\.kind.name) == ["default-type-mismatch"])
        // 6.1 refuses a multi-device group; 6.12 (6.4+) accepts it while nothing owns the group.
        let multi = Overrides(setType: [Overrides.TypeWrite(group: 8, type: .identity)])
        #expect(multi.apply(to: try Fixtures.read("linux-61-intel")).notes.contains { $0.contains("more than one device") })
        #expect(multi.apply(to: try Fixtures.read("linux-612-intel")).snapshot.groups.first { $0.id == 8 }?.type.domainType == .identity)
        // …but not while a driver owns it.
        let bound = Overrides(
            bind: [Overrides.Binding(slot: address("00:1f.2"), driver: "ahci")], setType: [Overrides.TypeWrite(group: 8, type: .identity)])
        #expect(bound.apply(to: try Fixtures.read("linux-612-intel")).notes.contains { $0.contains("(EPERM)") })
    }

    @Test func unplugTakesTheSubtreeAndReleasesEmptiedGroups_linux61() throws {
        let (simulated, notes) = Overrides(unplug: [address("00:05.0")]).apply(to: try Fixtures.read("linux-61-intel"))
        #expect(simulated.device(address("02:01.0")) == nil && simulated.device(address("02:02.0")) == nil)
        #expect(!simulated.groups.contains { $0.id == 5 })
        #expect(notes.first?.contains("released group(s) 5") == true)
        #expect(Reconciler.divergences(in: simulated).isEmpty)
    }

    @Test func bindingVFIONextToAHostDriverIsNotViable_linux612() throws {
        let overrides = Overrides(bind: [
            Overrides.Binding(slot: address("00:1f.2"), driver: "vfio-pci"),
            Overrides.Binding(slot: address("00:1f.3"), driver: "i801_smbus"),
        ])
        let (simulated, _) = overrides.apply(to: try Fixtures.read("linux-612-intel"))
        #expect(Reconciler.divergences(in: simulated).map(\.kind.name) == ["vfio-group-not-viable"])
    }
}

/// `simulate` states the posture now and after: the question a user asks before a reboot.
@Suite struct SimulatedPostureTests {
    @Test func passthroughOnTheCommandLineChangesTheModeAndSaysWhy() throws {
        let diff = SimulationDiff(
            snapshot: try Fixtures.read("qemu-6.1-intel-default-2g-a"),
            overrides: Overrides(commandLine: "console=ttyS0 intel_iommu=on iommu=pt"))
        #expect(diff.postureBefore?.mode == .translatedLazy)
        #expect(diff.postureAfter?.mode == .passthrough)
        #expect(diff.postureAfter?.decidedBy.contains("iommu=pt") == true)
    }

    @Test func turningVTdOffLeavesNoMode() throws {
        let diff = SimulationDiff(
            snapshot: try Fixtures.read("qemu-6.1-intel-default-2g-a"), overrides: Overrides(commandLine: "console=ttyS0 intel_iommu=off"))
        #expect(diff.postureAfter?.mode == .off)
        #expect(diff.postureAfter?.decidedBy == "`intel_iommu=off`")
    }
}
