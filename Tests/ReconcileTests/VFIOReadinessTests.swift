import Foundation
import IOMMUModel
import IOMMUSnapshot
import Reconcile
import TestSupport
import Testing

/// "What must I unbind to pass group N through": the per-group answer on real roots.
@Suite struct VFIOReadinessTests {
    static func readiness(_ snapshot: Snapshot, group: Int) throws -> VFIOReadiness {
        try #require(Reconciler.reconcile(snapshot).vfio[group])
    }

    static func lspci(_ name: String) throws -> Snapshot {
        try SnapshotReader.read(root: FixtureFiles.folder.appendingPathComponent("lspci/\(name)/root").path)
    }

    @Test func aGroupBoundToVFIOIsInUse() throws {
        // Dell R730: the Quadro P4000 and its audio function on vfio-pci.
        let snapshot = try Self.lspci("dell-r730-e5v4")
        let group = try #require(snapshot.group(containing: PCIAddress("0000:82:00.0")!))
        #expect(try Self.readiness(snapshot, group: group.id).verdict == .inUse)
    }

    @Test func aPartlyBoundGroupNamesWhatToMoveAndWhatMayStay() throws {
        var snapshot = try Self.lspci("dell-r730-e5v4")
        let gpu = PCIAddress("0000:82:00.0")!, audio = PCIAddress("0000:82:00.1")!
        let group = try #require(snapshot.group(containing: gpu))
        // The audio function back on the host driver, as after a reboot without the vfio-pci ids.
        let index = try #require(snapshot.pciDevices.firstIndex { $0.address == audio })
        snapshot.pciDevices[index].driver = "snd_hda_intel"
        let readiness = try Self.readiness(snapshot, group: group.id)
        #expect(readiness.verdict == .unbind)
        #expect(readiness.mustUnbind == [VFIOReadiness.Binding(device: audio, driver: "snd_hda_intel")])
        #expect(readiness.toBind == [audio])
    }

    @Test func bridgesOnPcieportMayStayAndBridgeOnlyGroupsAreNotCandidates() throws {
        let snapshot = try Self.lspci("dell-r730-e5v4")
        // 07:00.0 (switch downstream port) + 08:00.0 (PCIe-to-PCI bridge) + 09:00.0 (Matrox).
        let group = try #require(snapshot.group(containing: PCIAddress("0000:09:00.0")!))
        let readiness = try Self.readiness(snapshot, group: group.id)
        #expect(readiness.mayStay.map(\.driver).allSatisfy { $0 == "pcieport" })
        #expect(!readiness.mayStay.isEmpty)
        #expect(readiness.toBind == [PCIAddress("0000:09:00.0")!])
        let rootPort = try #require(snapshot.group(containing: PCIAddress("0000:00:01.0")!))
        #expect(try Self.readiness(snapshot, group: rootPort.id).verdict == .notApplicable)
    }

    @Test func aDirectRegionBlocksFromSixSixAndOnIntelForLockedDevicesBefore() throws {
        var snapshot = try SnapshotReader.read(root: FixtureFiles.root("qemu-6.12-intel-default-6g-a"))
        let nvme = try #require(snapshot.group(containing: PCIAddress("0000:00:08.0")!))
        let index = try #require(snapshot.groups.firstIndex { $0.id == nvme.id })
        snapshot.groups[index].reservedRegions.append(ReservedRegion(start: 0x7f00_0000, end: 0x7f0f_ffff, type: .direct))
        #expect(try Self.readiness(snapshot, group: nvme.id).verdict == .blocked)
        snapshot.kernel.version = KernelVersion(6, 1)
        #expect(try Self.readiness(snapshot, group: nvme.id).verdict == .blocked)
        // Up to 6.5 Intel exempted USB controllers: xhci at 06.0 with the same region is not blocked.
        let usb = try #require(snapshot.group(containing: PCIAddress("0000:00:06.0")!))
        let usbIndex = try #require(snapshot.groups.firstIndex { $0.id == usb.id })
        snapshot.groups[usbIndex].reservedRegions.append(ReservedRegion(start: 0x7f00_0000, end: 0x7f0f_ffff, type: .direct))
        #expect(try Self.readiness(snapshot, group: usb.id).verdict != .blocked)
        snapshot.kernel.version = KernelVersion(6, 6)
        #expect(try Self.readiness(snapshot, group: usb.id).verdict == .blocked)
    }

    @Test func whatTheHostRunsOnIsNamed() throws {
        var snapshot = try SnapshotReader.read(root: FixtureFiles.root("qemu-6.12-intel-default-6g-a"))
        snapshot.platform.rootFilesystem = HostDependency(name: "/dev/nvme0n1p2", devices: [PCIAddress("0000:00:08.0")!])
        snapshot.platform.defaultRoute = [HostDependency(name: "eth0", devices: [PCIAddress("0000:00:02.0")!])]
        let vga = try #require(snapshot.pciDevices.firstIndex { $0.classCode.map { $0 >> 8 == 0x0300 } ?? false })
        snapshot.pciDevices[vga].bootVGA = true
        let found = Reconciler.reconcile(snapshot)
        let needs = found.vfio.values.flatMap(\.hostNeeds)
        #expect(needs.contains("0000:00:08.0 holds the root filesystem (/dev/nvme0n1p2)"))
        #expect(needs.contains("0000:00:02.0 carries the default route (eth0)"))
        #expect(needs.contains("\(snapshot.pciDevices[vga].address) is the boot display"))
    }
}
