import Foundation
import IOMMUModel
import IOMMUSnapshot
import Reconcile
import TestSupport
import Testing

/// Missing data is not evidence: where config space could not be read, the grouping rules are
/// neither confirmed nor contradicted. Such groups are reported as unverified, with why and what to
/// do, and never as a divergence.
@Suite struct MissingDataTests {
    /// Every capture that has a multi-device group, with its config files removed or cut to the 64
    /// bytes an unprivileged reader gets.
    static let captures = ["linux-61-intel", "linux-612-intel", "qemu-6.12-amd-default-2g-a"].filter { Fixtures.all.contains($0) }

    static func withoutConfig(_ name: String, keepBytes: Int?) throws -> Snapshot {
        try Fixtures.planted(from: name) { root in
            let devices = root.appendingPathComponent("sys/bus/pci/devices")
            for slot in try FileManager.default.contentsOfDirectory(atPath: devices.path) {
                let config = root.appendingPathComponent(try Plant.deviceFolder(slot, in: root) + "/config")
                if let keepBytes {
                    let bytes = try Data(contentsOf: config).prefix(keepBytes)
                    try? FileManager.default.removeItem(at: config)
                    try bytes.write(to: config)
                } else {
                    try? FileManager.default.removeItem(at: config)
                }
            }
        }
    }

    @Test(arguments: captures, [nil, 64])
    func aTreeWithoutConfigSpaceYieldsNoDivergenceOnlyUnverifiedGroups(_ name: String, keepBytes: Int?) throws {
        let snapshot = try Self.withoutConfig(name, keepBytes: keepBytes)
        let found = Reconciler.reconcile(snapshot)
        let (divergences, unverified) = (found.divergences, found.unverified)
        let membership = divergences.filter { ["group-membership-mismatch", "isolation-not-backed"].contains($0.kind.name) }
        #expect(membership.isEmpty, "\(name): \(membership.map(\.message))")
        #expect(!unverified.isEmpty, "\(name): multi-device groups cannot be checked without config space")
        for item in unverified {
            #expect(item.remedy.contains(keepBytes == nil ? "snapshot" : "run as root"), "\(item.sentence)")
        }
    }

    @Test func functionsAboveZeroMakeTheirSlotMultifunctionWithoutAHeader() throws {
        let snapshot = try Self.withoutConfig("linux-61-intel", keepBytes: nil)
        let topology = Model.predict(snapshot).context.topology
        for slot in ["0000:00:1f.0", "0000:00:1f.2", "0000:00:1f.3"] {
            #expect(topology.isMultifunction(PCIAddress(slot)!), "\(slot)")
        }
        #expect(!topology.isMultifunction(PCIAddress("0000:00:02.0")!))
    }
}

/// Optional attributes a partial tree lacks are not "Could not read" lines: what needs them asks once.
@Suite struct OptionalAttributeTests {
    @Test func aConvertedTreeAsksAboutRegionsOnceAndListsNoMaskFiles() throws {
        let snapshot = try SnapshotReader.read(root: FixtureFiles.folder.appendingPathComponent("lspci/dell-r730-e5v4/root").path)
        #expect(!snapshot.errors.contains { $0.path.hasSuffix("dma_mask_bits") || $0.path.hasSuffix("reserved_regions") })
        let found = Reconciler.reconcile(snapshot)
        let regions = found.unverified.filter { $0.question.contains("reserved regions") }
        #expect(regions.count == 1)
        #expect(regions.first?.question.contains("\(snapshot.groups.count) groups") == true)
    }

    @Test func anIdentityGroupWithoutAMaskFileIsUnverifiedNotClean() throws {
        var snapshot = try Fixtures.read("qemu-6.1-intel-passthrough-6g-a")
        guard let index = snapshot.pciDevices.firstIndex(where: { $0.classCode.map { $0 >> 16 != 0x06 } ?? false }) else { return }
        snapshot.pciDevices[index].driver = "e1000e"
        snapshot.pciDevices[index].dmaMaskBits = nil
        let found = Reconciler.reconcile(snapshot)
        #expect(found.unverified.contains { $0.question.contains("DMA mask") })
    }
}

/// A link or folder that could not be read is not an IOMMU that left a device (or all) untranslated.
@Suite struct UnreadableLinkTests {
    @Test func anUnreadableGroupLinkIsAQuestionNotADeviceWithoutGroup() throws {
        var snapshot = try Fixtures.read("qemu-6.12-arm-smmuv3-dt-default-2g-c")
        let refused = try #require(snapshot.device(PCIAddress("0000:02:02.0")!))
        #expect(Reconciler.divergences(in: snapshot).contains { $0.kind == Catalog.deviceWithoutGroup })
        snapshot.errors.append(ReadError(path: refused.path + "/iommu_group", kind: .io(errno: 13, description: "Permission denied")))
        let found = Reconciler.reconcile(snapshot)
        #expect(!found.divergences.contains { $0.kind == Catalog.deviceWithoutGroup })
        #expect(found.unverified.contains { $0.members == [refused.address] && $0.question.contains("IOMMU group") })
    }

    @Test func anUnlistableGroupsFolderIsNotAnIOMMUThatTranslatesNothing() throws {
        var snapshot = try Fixtures.read("qemu-7-arm-virtio-iommu-dt-default-2g-c")
        #expect(Reconciler.divergences(in: snapshot).contains { $0.kind == Catalog.iommuDisabled })
        snapshot.errors.append(ReadError(path: SnapshotReader.groupsFolder, kind: .io(errno: 13, description: "Permission denied")))
        #expect(!Reconciler.divergences(in: snapshot).contains { $0.kind == Catalog.iommuDisabled })
    }
    /// An IORT readable by root only, scanned as another user: whether the grouped-less function is
    /// meant to be behind the SMMU is a question, not a device-without-group.
    @Test func anUnreadableIORTIsAQuestionNotADeviceWithoutGroup() throws {
        var snapshot = try Fixtures.read("qemu-7-arm-smmuv3-acpi-default-2g-c")
        #expect(Reconciler.divergences(in: snapshot).contains { $0.kind == Catalog.deviceWithoutGroup })
        snapshot.firmware.iort = FirmwareTable(bytes: nil)
        let found = Reconciler.reconcile(snapshot)
        #expect(!found.divergences.contains { $0.kind == Catalog.deviceWithoutGroup })
        #expect(found.unverified.contains { $0.members == [PCIAddress("0000:02:02.0")!] && $0.reason.contains("IORT") })
    }

    /// A bound function the firmware routes past every IOMMU is untranslated by design, not a device
    /// the IOMMU failed to take.
    @Test func aFunctionTheFirmwareLeavesOutIsNotADeviceWithoutGroup() throws {
        var snapshot = try Fixtures.read("qemu-7-arm-smmuv3-dt-default-2g-c")
        let tree = try #require(snapshot.firmware.deviceTree)
        let map = try #require(tree.pciHosts.first?.iommuMap?.first)
        // The same SMMU for every requester ID but 02:02.0's (0x0210).
        var limited = tree
        limited.pciHosts[0].iommuMap = [
            DeviceTreeIOMMUs.IOMMUMapEntry(ridBase: 0, phandle: map.phandle, iommuBase: 0, length: 0x210),
            DeviceTreeIOMMUs.IOMMUMapEntry(ridBase: 0x211, phandle: map.phandle, iommuBase: 0x211, length: 0xfdef),
        ]
        snapshot.firmware.deviceTree = limited
        #expect(!Reconciler.divergences(in: snapshot).contains { $0.kind == Catalog.deviceWithoutGroup })
    }
}
