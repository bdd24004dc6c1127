import Foundation
import IOMMUModel
import IOMMUSnapshot
import Reconcile
import Testing

/// Real captures edited the way a person, a patched kernel or a firmware would change them, each
/// making exactly the divergence it plants fire.
@Suite struct PlantedDivergenceTests {
    func kinds(_ snapshot: Snapshot) -> [String] { Reconciler.divergences(in: snapshot).map(\.kind.name) }

    @Test func groupSplitTheTopologyCannotSplitIsIsolationNotBacked_linux61() throws {
        // An ACS override would put 00:1f.2 in a group of its own although slot 00:1f has no ACS.
        let snapshot = try Fixtures.planted(from: "linux-61-intel") { root in
            try Plant.move("0000:00:1f.2", toGroup: 10, regions: "0x00000000fee00000 0x00000000feefffff msi\n", in: root)
            try Fixtures.write("console=ttyS0 intel_iommu=on pcie_acs_override=downstream,multifunction\n", to: "proc/cmdline", in: root)
        }
        let found = Reconciler.divergences(in: snapshot).filter { $0.kind == Catalog.isolationNotBacked }
        #expect(found.count == 1)
        let message = try #require(found.first?.message)
        #expect(message.contains("slot 0000:00:1f is multifunction"))
        #expect(message.contains("pcie_acs_override=downstream,multifunction"))
        #expect(found.first?.key == "isolation-not-backed:0000:00:1f.0+0000:00:1f.2+0000:00:1f.3")
    }

    @Test func bridgeGroupSplitIsIsolationNotBacked_linux510() throws {
        let snapshot = try Fixtures.planted(from: "linux-510-intel") { root in
            try Plant.move("0000:02:02.0", toGroup: 10, type: "DMA", in: root)
        }
        let found = Reconciler.divergences(in: snapshot).filter { $0.kind == Catalog.isolationNotBacked }
        #expect(found.first?.message.contains("PCIe-to-PCI bridge 0000:00:05.0") == true)
    }

    @Test func kernelMergingWhatTheModelKeepsApartIsMembershipMismatch_linux612() throws {
        let snapshot = try Fixtures.planted(from: "linux-612-intel") { root in
            try Plant.move("0000:00:03.0", toGroup: 2, in: root)
            try FileManager.default.removeItem(at: root.appendingPathComponent("sys/kernel/iommu_groups/3"))
        }
        let found = Reconciler.divergences(in: snapshot).filter { $0.kind == Catalog.groupMembershipMismatch }
        #expect(found.count == 1)
        #expect(found.first?.message.contains("00:02.0") == true && found.first?.message.contains("00:03.0") == true)
        #expect(found.first?.severity == .notice)
    }

    @Test func writtenTypeIsDefaultTypeMismatch_linux61() throws {
        let snapshot = try Fixtures.planted(from: "linux-61-intel") { root in
            try Fixtures.write("identity\n", to: "sys/kernel/iommu_groups/5/type", in: root)
        }
        let found = Reconciler.divergences(in: snapshot).filter { $0.kind == Catalog.defaultTypeMismatch }
        #expect(found.count == 1)
        #expect(found.first?.severity == .warning)
        #expect(found.first?.message.hasPrefix("group 5 is identity although the policy") == true)
        #expect(found.first?.message.contains("someone wrote `type`") == true)
        // One identity group alone shares nothing.
        #expect(!kinds(snapshot).contains("shared-identity-domain"))
    }

    @Test func typeOnReadOnlyReleaseIsBlamedOnAQuirk_linux510() throws {
        let snapshot = try Fixtures.planted(from: "linux-510-intel") { root in
            try Fixtures.write("identity\n", to: "sys/kernel/iommu_groups/3/type", in: root)
            try Fixtures.write("identity\n", to: "sys/kernel/iommu_groups/4/type", in: root)
        }
        let mismatches = Reconciler.divergences(in: snapshot).filter { $0.kind == Catalog.defaultTypeMismatch }
        #expect(mismatches.count == 2)
        #expect(mismatches.allSatisfy { $0.message.contains("read-only on this release") })
        // Two identity groups on a translated policy share si_domain: warning.
        let shared = Reconciler.divergences(in: snapshot).filter { $0.kind == Catalog.sharedIdentityDomain }
        #expect(shared.map(\.severity) == [.warning])
    }

    @Test func flushQueueTypeOnOldKernelIsImpossible_linux510() throws {
        let snapshot = try Fixtures.planted(from: "linux-510-intel") { root in
            try Fixtures.write("DMA-FQ\n", to: "sys/kernel/iommu_groups/2/type", in: root)
        }
        #expect(kinds(snapshot) == ["impossible-type-reading"])
    }

    @Test func directRegionOnVFIODeviceIsDirectRegionAssigned_linux612() throws {
        // Firmware with an RMRR for the e1000e at 00:02.0, which the kernel lists as `direct`.
        let snapshot = try Fixtures.planted(from: "linux-612-intel") { root in
            let table = root.appendingPathComponent("sys/firmware/acpi/tables/DMAR")
            try Data(
                DMARBytes.appendingRMRR(to: try Data(contentsOf: table), base: 0x7f00_0000, limit: 0x7f0f_ffff, device: 2, function: 0)
            ).write(to: table)
            try Fixtures.write(
                "0x000000007f000000 0x000000007f0fffff direct\n0x00000000fee00000 0x00000000feefffff msi\n",
                to: "sys/kernel/iommu_groups/2/reserved_regions", in: root)
            try Plant.bind("0000:00:02.0", to: "vfio-pci", in: root)
        }
        let found = Reconciler.divergences(in: snapshot)
        #expect(found.map(\.kind.name) == ["direct-region-assigned"])
        #expect(found.first?.severity == .error)
        #expect(found.first?.message.contains("from 6.6 the core refuses") == true)
    }

    @Test func rmrrRegionMissingFromSysfsIsReservedRegionMismatch_linux61() throws {
        let snapshot = try Fixtures.planted(from: "linux-61-intel") { root in
            let table = root.appendingPathComponent("sys/firmware/acpi/tables/DMAR")
            try Data(
                DMARBytes.appendingRMRR(to: try Data(contentsOf: table), base: 0x7f00_0000, limit: 0x7f0f_ffff, device: 6, function: 0)
            ).write(to: table)
        }
        let found = Reconciler.divergences(in: snapshot).filter { $0.kind == Catalog.reservedRegionMismatch }
        #expect(found.count == 1)
        // xhci is USB: its RMRR is relaxable on 5.3+.
        #expect(found.first?.message.contains("0x000000007f000000 0x000000007f0fffff direct-relaxable") == true)
        #expect(found.first?.group == 6)
    }

    @Test func droppedISARegionIsReservedRegionMismatch_linux612() throws {
        let snapshot = try Fixtures.planted(from: "linux-612-intel") { root in
            try Fixtures.write("0x00000000fee00000 0x00000000feefffff msi\n", to: "sys/kernel/iommu_groups/8/reserved_regions", in: root)
        }
        let found = Reconciler.divergences(in: snapshot).filter { $0.kind == Catalog.reservedRegionMismatch }
        #expect(found.first?.message.contains("ISA bridge 0000:00:1f.0") == true)
    }

    @Test func narrowDeviceInIdentityGroupAboveFourGiBIsIdentityDMAMask_linux61pt() throws {
        let snapshot = try Fixtures.planted(from: "linux-61-intel-pt") { root in
            let iomem = try String(contentsOf: root.appendingPathComponent("proc/iomem"), encoding: .utf8)
            try Fixtures.write(iomem + "100000000-17fffffff : System RAM\n", to: "proc/iomem", in: root)
            try Plant.bind("0000:02:02.0", to: "8139too", in: root)
            try Plant.setDeviceAttribute("0000:02:02.0", "dma_mask_bits", "32", in: root)
            try Plant.bind("0000:00:02.0", to: "e1000e", in: root)
            try Plant.setDeviceAttribute("0000:00:02.0", "dma_mask_bits", "64", in: root)
        }
        let found = Reconciler.divergences(in: snapshot).filter { $0.kind == Catalog.identityDMAMask }
        #expect(found.map(\.slot) == [PCIAddress("0000:02:02.0")])
        #expect(found.first?.message.contains("swiotlb") == true)
    }

    @Test func narrowDeviceBelowFourGiBIsFine_linux61pt() throws {
        let snapshot = try Fixtures.planted(from: "linux-61-intel-pt") { root in
            try Plant.bind("0000:02:02.0", to: "8139too", in: root)
        }
        #expect(!kinds(snapshot).contains("identity-dma-mask"))
    }

    @Test func vfioOnOneDeviceOfABusyGroupIsNotViable_linux61() throws {
        let snapshot = try Fixtures.planted(from: "linux-61-intel") { root in
            try Plant.bind("0000:02:01.0", to: "vfio-pci", in: root)
            try Plant.bind("0000:02:02.0", to: "8139too", in: root)
        }
        let found = Reconciler.divergences(in: snapshot).filter { $0.kind == Catalog.vfioGroupNotViable }
        #expect(found.count == 1)
        #expect(found.first?.group == 5)
    }

    @Test func vfioWithUnboundSiblingsIsViable_linux61() throws {
        let snapshot = try Fixtures.planted(from: "linux-61-intel") { root in
            try Plant.bind("0000:02:01.0", to: "vfio-pci", in: root)
            try Plant.bind("0000:02:02.0", to: "vfio-pci", in: root)
        }
        #expect(kinds(snapshot).isEmpty)
    }

    @Test func removableDeviceInIdentityGroupIsUntrustedIdentity_linux61pt() throws {
        let snapshot = try Fixtures.planted(from: "linux-61-intel-pt") { root in
            try Plant.setDeviceAttribute("0000:01:00.0", "removable", "removable", in: root)
        }
        let found = Reconciler.divergences(in: snapshot)
        #expect(found.contains { $0.kind == Catalog.untrustedIdentity && $0.severity == .error })
        // The kernel would have forced the untrusted device's group to DMA at boot.
        #expect(found.contains { $0.kind == Catalog.defaultTypeMismatch && $0.expected == "DMA" })
        #expect(found.first { $0.kind == Catalog.sharedIdentityDomain }?.severity == .error)
    }

    @Test func graphicsIdentityAgainstUntrustedSiblingIsGroupTypeConflict_linux61() throws {
        // igfx_off asks identity for display devices (before 6.12); an untrusted sibling needs DMA.
        let plant: (URL) throws -> Void = { root in
            try Fixtures.write("console=ttyS0 intel_iommu=on,igfx_off\n", to: "proc/cmdline", in: root)
            try Plant.setDeviceAttribute("0000:00:1f.3", "class", "0x030000", in: root)
            try Plant.setDeviceAttribute("0000:00:1f.2", "removable", "removable", in: root)
            try Fixtures.write("DMA-FQ\n", to: "sys/kernel/iommu_groups/8/type", in: root)
        }
        let on61 = try Fixtures.planted(from: "linux-61-intel", plant)
        let conflict = Reconciler.divergences(in: on61).filter { $0.kind == Catalog.groupTypeConflict }
        #expect(conflict.count == 1)
        #expect(conflict.first?.message.contains("5.8–6.4") == true)
        // 6.12 dropped the graphics identity map: nothing to conflict with.
        let on612 = try Fixtures.planted(from: "linux-612-intel", plant)
        #expect(!kinds(on612).contains("group-type-conflict"))
    }

    @Test func noIOMMUGroupIsNoIOMMUIsolation_linux61() throws {
        let snapshot = try Fixtures.planted(from: "linux-61-intel") { root in
            try Fixtures.write("vfio-noiommu\n", to: "sys/kernel/iommu_groups/3/name", in: root)
        }
        #expect(Reconciler.divergences(in: snapshot).first { $0.kind == Catalog.noIOMMUIsolation }?.severity == .error)
    }

    @Test func firmwareTableWithoutGroupsIsIOMMUDisabled_linux61() throws {
        let snapshot = try Fixtures.planted(from: "linux-61-intel") { root in
            try Fixtures.write("console=ttyS0 intel_iommu=off\n", to: "proc/cmdline", in: root)
            try FileManager.default.removeItem(at: root.appendingPathComponent("sys/kernel/iommu_groups"))
        }
        let found = Reconciler.divergences(in: snapshot)
        #expect(found.map(\.kind.name) == ["iommu-disabled"])
        #expect(found.first?.message.contains("`intel_iommu=off`") == true)
    }

    @Test func brokenDMARTableIsReportedNotCrashed_linux61() throws {
        let snapshot = try Fixtures.planted(from: "linux-61-intel") { root in
            let table = root.appendingPathComponent("sys/firmware/acpi/tables/DMAR")
            var bytes = [UInt8](try Data(contentsOf: table))
            bytes[0x32] = 0xff  // the DRHD's length now runs past the table
            try Data(bytes).write(to: table)
        }
        #expect(kinds(snapshot) == ["firmware-table-unreadable"])
    }

    @Test func releasingASharedIdentityGroupIsSafeOnReleasedKernels_linux61pt() throws {
        let before = try Fixtures.read("linux-61-intel-pt")
        var after = before
        after.groups.removeAll { $0.id == 3 }
        after.pciDevices.removeAll { $0.address == PCIAddress("0000:00:03.0") }
        #expect(Reconciler.transitions(from: before, to: after).isEmpty)
        // On a hypothetical release without the guard the same release is the hazard the seed patch had.
        let unsafe = Reconciler.transitions(from: before, to: after, protectsSharedIdentityDomain: false)
        #expect(unsafe.map(\.kind.name) == ["group-released-while-shared"])
        #expect(unsafe.first?.key == "group-released-while-shared:0000:00:03.0")
    }
}

/// Builds DMAR bytes for planted firmware: the real table plus one RMRR.
enum DMARBytes {
    static func appendingRMRR(to table: Data, base: UInt64, limit: UInt64, device: UInt8, function: UInt8) -> [UInt8] {
        var bytes = [UInt8](table)
        func le(_ value: UInt64, _ count: Int) -> [UInt8] { (0..<count).map { UInt8((value >> (8 * UInt64($0))) & 0xff) } }
        let scope: [UInt8] = [1, 8, 0, 0, 0, 0, device, function]
        let rmrr: [UInt8] = le(1, 2) + le(UInt64(24 + scope.count), 2) + [0, 0] + le(0, 2) + le(base, 8) + le(limit, 8) + scope
        bytes += rmrr
        let length = le(UInt64(bytes.count), 4)
        bytes.replaceSubrange(4..<8, with: length)
        var sum: UInt8 = 0
        bytes[9] = 0
        for byte in bytes { sum &+= byte }
        bytes[9] = 0 &- sum
        return bytes
    }
}
