import CLinux
import Foundation
import Testing
@testable import IOMMUSnapshot

/// Bad input gives an entry in `errors` naming the path, never a crash, and one broken group or
/// device never hides the others.
@Suite struct HostileInputTests {
    let groupsPath = "sys/kernel/iommu_groups"

    @Test func emptyTypeFileIsAnErrorAndTheOtherGroupsStillRead() throws {
        let root = try ScratchRoot()
        try root.write("\(groupsPath)/3/type", [])
        let snapshot = try root.read()
        #expect(snapshot.errors(at: "\(groupsPath)/3/type").map(\.kind) == [.malformed(reason: "empty file")])
        #expect(snapshot.groups.count == 10)
        #expect(snapshot.group(withID: 3)?.pciMembers == [address("0000:00:03.0")])
        #expect(snapshot.group(withID: 4)?.type == .value(.dmaFQ, hasNewline: true))
    }

    @Test func missingTypeFileMeansAnOldKernelNotAnError() throws {
        let root = try ScratchRoot()
        try root.remove("\(groupsPath)/3/type")
        let snapshot = try root.read()
        #expect(snapshot.errors == [])
        #expect(snapshot.group(withID: 3)?.type == .absent)
    }

    @Test func truncatedReservedRegionsIsAnError() throws {
        let root = try ScratchRoot()
        try root.write(
            "\(groupsPath)/8/reserved_regions", "0x0000000000000000 0x0000000000ffffff direct-relaxable\n0x00000000fee00000 0x00000000fe")
        let snapshot = try root.read()
        let errors = snapshot.errors(at: "\(groupsPath)/8/reserved_regions")
        #expect(errors.count == 1)
        #expect(errors.first?.message.contains("truncated") == true)
        #expect(snapshot.group(withID: 8)?.members.count == 3)
    }

    @Test func garbageVendorIsAnErrorButTheDeviceStaysListed() throws {
        let root = try ScratchRoot()
        let device = try root.devicePath("0000:00:02.0")
        try root.write(device + "/vendor", "intel inside\n")
        let snapshot = try root.read()
        #expect(snapshot.errors(at: device + "/vendor").count == 1)
        let read = try #require(snapshot.device(address("0000:00:02.0")))
        #expect(read.vendorID == nil)
        #expect(read.deviceID == 0x10d3)
        #expect(snapshot.pciDevices.count == 14)
    }

    @Test func nulBytesAreAnError() throws {
        let root = try ScratchRoot()
        let device = try root.devicePath("0000:00:1f.2")
        try root.write(device + "/class", [0x30, 0x78, 0x00, 0x31, 0x0a])
        try root.write("\(groupsPath)/5/reserved_regions", [0x30, 0x78, 0, 0, 0x0a])
        let snapshot = try root.read()
        #expect(snapshot.errors(at: device + "/class").first?.message.contains("NUL") == true)
        #expect(snapshot.errors(at: "\(groupsPath)/5/reserved_regions").first?.message.contains("NUL") == true)
    }

    @Test func aMegabyteOfJunkIsRefusedAsTooLarge() throws {
        let root = try ScratchRoot()
        var junk = [UInt8](repeating: 0, count: 1 << 20)
        var state: UInt32 = 12345
        for index in junk.indices {
            state = state &* 1_103_515_245 &+ 12345
            junk[index] = UInt8(truncatingIfNeeded: state >> 16)
        }
        try root.write("\(groupsPath)/8/reserved_regions", junk)
        let device = try root.devicePath("0000:00:04.0")
        try root.write(device + "/config", junk)
        let snapshot = try root.read()
        #expect(snapshot.errors(at: "\(groupsPath)/8/reserved_regions").map(\.kind) == [.tooLarge(limit: SnapshotReader.regionsLimit)])
        #expect(snapshot.errors(at: device + "/config").map(\.kind) == [.tooLarge(limit: SnapshotReader.configLimit)])
        #expect(snapshot.device(address("0000:00:04.0"))?.vendorID == 0x1b36)
    }

    @Test func missingRequiredFilesAreErrorsNamingThem() throws {
        let root = try ScratchRoot()
        try root.remove("\(groupsPath)/6/reserved_regions")
        let device = try root.devicePath("0000:00:06.0")
        try root.remove(device + "/vendor")
        let snapshot = try root.read()
        // reserved_regions is optional for the reader (partial trees lack it); the reconciler asks once.
        #expect(snapshot.errors(at: "\(groupsPath)/6/reserved_regions").isEmpty)
        #expect(snapshot.group(withID: 6)?.reservedRegionsReadable == false)
        #expect(snapshot.errors(at: device + "/vendor").map(\.kind) == [.missing])
        #expect(snapshot.group(withID: 6)?.members.count == 1)
    }

    @Test func permissionDeniedIsAnError() throws {
        let root = try ScratchRoot()
        let device = try root.devicePath("0000:00:04.0")
        chmod(root.path + "/" + device + "/config", 0)
        chmod(root.path + "/\(groupsPath)/7", 0)
        // Root ignores file modes; a filesystem uid other than 0 drops CAP_DAC_OVERRIDE for this
        // thread only (capabilities(7)), so the kernel answers EACCES as it would to a user.
        let wasRoot = geteuid() == 0
        if wasRoot { _ = iw_setfsuid(65534) }
        let snapshot = try root.read()
        if wasRoot { _ = iw_setfsuid(0) }
        #expect(snapshot.errors(at: device + "/config").map(\.kind) == [.permissionDenied])
        #expect(snapshot.errors(at: "\(groupsPath)/7/devices").map(\.kind) == [.permissionDenied])
        #expect(snapshot.device(address("0000:00:04.0"))?.vendorID == 0x1b36)
        #expect(snapshot.groups.count == 10)
    }

    @Test func danglingLinkIsAnError() throws {
        let root = try ScratchRoot()
        try root.link("sys/bus/pci/devices/0000:00:09.0", to: "../../../devices/pci0000:00/0000:00:09.0")
        let snapshot = try root.read()
        #expect(
            snapshot.errors(at: "sys/bus/pci/devices/0000:00:09.0").map(\.kind) == [
                .danglingLink(target: "../../../devices/pci0000:00/0000:00:09.0")
            ])
        #expect(snapshot.pciDevices.count == 14)
    }

    @Test func linksThatLeaveTheRootAreNotFollowed() throws {
        let root = try ScratchRoot()
        // A host file that must never be read through the capture.
        try root.link("sys/bus/pci/devices/0000:00:0a.0", to: "../../../../../../../../../../etc")
        try root.link("sys/bus/pci/devices/0000:00:0b.0", to: "/sys/devices/pci0000:00/0000:00:00.0")
        try root.link("\(groupsPath)/2/devices/0000:00:0c.0", to: "/etc/passwd")
        let snapshot = try root.read()
        #expect(
            snapshot.errors(at: "sys/bus/pci/devices/0000:00:0a.0").map(\.kind) == [
                .escapingLink(target: "../../../../../../../../../../etc")
            ])
        #expect(
            snapshot.errors(at: "sys/bus/pci/devices/0000:00:0b.0").map(\.kind) == [
                .escapingLink(target: "/sys/devices/pci0000:00/0000:00:00.0")
            ])
        #expect(snapshot.errors(at: "\(groupsPath)/2/devices/0000:00:0c.0").map(\.kind) == [.escapingLink(target: "/etc/passwd")])
        #expect(snapshot.pciDevices.count == 14)
    }

    @Test func anIntermediateLinkThatLeavesTheRootIsStoppedByTheKernel() throws {
        let root = try ScratchRoot()
        // proc -> / on the host would expose the host's proc/version; openat2(RESOLVE_BENEATH) refuses.
        try root.remove("proc")
        try root.link("proc", to: "/proc")
        let snapshot = try root.read()
        #expect(snapshot.kernel.release == nil)
        #expect(snapshot.errors(at: "proc/version").first.map { if case .escapingLink = $0.kind { true } else { false } } == true)
    }

    @Test func aGroupVanishingBetweenListingAndReadingIsAnError() throws {
        let root = try ScratchRoot()
        /// Removes group 3 right after the reader listed the groups folder: the race with hot-unplug.
        final class Vanisher: ReadRecorder {
            let root: ScratchRoot
            init(_ root: ScratchRoot) { self.root = root }
            func file(_ path: String, _ bytes: [UInt8]) {}
            func link(_ path: String, _ target: String) {}
            func placeholder(_ path: String) {}
            func folder(_ path: String) {
                if path == "sys/kernel/iommu_groups" { try? root.remove("sys/kernel/iommu_groups/3") }
            }
        }
        let snapshot = try root.read(recorder: Vanisher(root))
        #expect(snapshot.errors(at: "\(groupsPath)/3").map(\.kind) == [.missing])
        #expect(snapshot.groups.map(\.id) == [0, 1, 2, 4, 5, 6, 7, 8, 9])
    }

    @Test func aFolderThatIsNotAGroupNumberIsAnError() throws {
        let root = try ScratchRoot()
        try root.write("\(groupsPath)/evil/type", "DMA\n")
        try root.write("\(groupsPath)/007/type", "DMA\n")
        let snapshot = try root.read()
        #expect(snapshot.errors(at: "\(groupsPath)/evil").count == 1)
        #expect(snapshot.errors(at: "\(groupsPath)/007").count == 1)
        #expect(snapshot.groups.count == 10)
    }

    @Test func aRootWithoutSysCannotBeRead() throws {
        let empty = NSTemporaryDirectory() + "iommu-watch-empty-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: false)
        defer { try? FileManager.default.removeItem(atPath: empty) }
        #expect(throws: ReadError.self) { try SnapshotReader.read(root: empty) }
        #expect(throws: ReadError.self) { try SnapshotReader.read(root: empty + "/does-not-exist") }
    }

    @Test func aSysThatCannotBeOpenedSaysWhyRatherThanMissing() throws {
        let root = try ScratchRoot()
        try FileManager.default.removeItem(atPath: root.path + "/sys")
        try root.write("sys", "not a folder\n")
        #expect(throws: ReadError(path: root.path + "/sys", kind: .notADirectory)) { try root.read() }
    }

    @Test func unprivilegedConfigOfSixtyFourBytesIsRecordedAsShortNotGuessed() throws {
        let root = try ScratchRoot()
        let device = try root.devicePath("0000:00:04.0")
        let full = try Array(Data(contentsOf: URL(fileURLWithPath: root.path + "/" + device + "/config")))
        try root.write(device + "/config", Array(full.prefix(64)))
        let snapshot = try root.read()
        #expect(snapshot.errors == [])
        let config = try #require(snapshot.device(address("0000:00:04.0"))?.config)
        #expect(config.isTruncated)
        #expect(config.express == nil)
        #expect(config.acs == nil)
        #expect(config.headerLayout == 1)
    }

    @Test func nonPCIMembersAndVMDDomainsAreRead() throws {
        let root = try ScratchRoot()
        // An ACPI HID device in its own group, as AMD machines show MSFT0201:00.
        try root.link("\(groupsPath)/10/devices/MSFT0201:00", to: "../../../../devices/platform/MSFT0201:00")
        try root.write("\(groupsPath)/10/reserved_regions", "0x00000000fee00000 0x00000000feefffff msi\n")
        try root.write("\(groupsPath)/10/type", "DMA\n")
        try root.link("sys/devices/platform/MSFT0201:00/subsystem", to: "../../../bus/platform")
        // An Intel VMD child in PCI domain 0x10000.
        let source = try root.devicePath("0000:01:00.0")
        let vmdPath = "sys/devices/pci0000:00/0000:00:04.0/pci10000:e0/10000:e0:00.0/10000:e1:00.0"
        try FileManager.default.createDirectory(atPath: root.path + "/" + vmdPath, withIntermediateDirectories: true)
        for file in [
            "vendor", "device", "class", "subsystem_vendor", "subsystem_device", "revision", "dma_mask_bits", "consistent_dma_mask_bits",
            "config",
        ] {
            try FileManager.default.copyItem(atPath: root.path + "/" + source + "/" + file, toPath: root.path + "/" + vmdPath + "/" + file)
        }
        try root.link("sys/bus/pci/devices/10000:e1:00.0", to: "../../../" + vmdPath.dropFirst(4))
        let snapshot = try root.read()
        #expect(snapshot.errors == [])
        #expect(
            snapshot.group(withID: 10)?.members == [
                GroupMember(name: "MSFT0201:00", bus: "platform", path: "sys/devices/platform/MSFT0201:00")
            ])
        let vmd = try #require(snapshot.device(address("10000:e1:00.0")))
        #expect(vmd.address.domain == 0x10000)
        #expect(vmd.address.description == "10000:e1:00.0")
        #expect(vmd.upstream == [address("0000:00:04.0"), address("10000:e0:00.0")])
    }

    @Test func aLinkWhereAFileBelongsIsAnError() throws {
        let root = try ScratchRoot()
        let device = try root.devicePath("0000:00:03.0")
        try root.link(device + "/vendor", to: "/proc/self/environ")
        let snapshot = try root.read()
        #expect(snapshot.errors(at: device + "/vendor").count == 1)
        #expect(snapshot.device(address("0000:00:03.0"))?.vendorID == nil)
    }
}

/// `proc/config.gz` (CONFIG_IKCONFIG_PROC) where the root has no `boot/config-<release>`.
@Suite struct CompressedKernelConfigTests {
    func gzip(_ text: String) throws -> [UInt8] { try Fixtures.gzip(Array(text.utf8)) }

    @Test func procConfigGzIsReadWhenBootHasNoConfig() throws {
        let root = try ScratchRoot()
        try root.write("proc/config.gz", try gzip("# CONFIG_IOMMU_DEFAULT_DMA_LAZY is not set\nCONFIG_IOMMU_DEFAULT_DMA_STRICT=y\n"))
        let snapshot = try root.read()
        #expect(snapshot.errors == [])
        #expect(snapshot.kernelConfig?.isEnabled("CONFIG_IOMMU_DEFAULT_DMA_STRICT") == true)
        #expect(snapshot.kernelConfig?.isEnabled("CONFIG_IOMMU_DEFAULT_DMA_LAZY") == false)
    }

    @Test func bootConfigWinsOverProcConfigGz() throws {
        let root = try ScratchRoot()
        try root.write("proc/config.gz", try gzip("CONFIG_IOMMU_DEFAULT_DMA_STRICT=y\n"))
        try root.write("boot/config-6.1.0-56-amd64", "CONFIG_IOMMU_DEFAULT_DMA_LAZY=y\n")
        let snapshot = try root.read()
        #expect(snapshot.kernelConfig?.isEnabled("CONFIG_IOMMU_DEFAULT_DMA_LAZY") == true)
        #expect(snapshot.kernelConfig?.isEnabled("CONFIG_IOMMU_DEFAULT_DMA_STRICT") == nil)
    }

    @Test func brokenOrExplodingGzipIsAnErrorNamingTheFile() throws {
        let good = try gzip(String(repeating: "CONFIG_X=y\n", count: 10))
        for (bytes, reason) in [
            (Array("CONFIG_X=y\n".utf8), "not gzip"),
            (Array(good.prefix(good.count - 6)), "truncated"),
            (good + [0x00, 0x01], "after the end"),
            (try gzip(String(repeating: "#", count: GzipDecoder.outputLimit + 1)), "expands past"),
        ] {
            let root = try ScratchRoot()
            try root.write("proc/config.gz", bytes)
            let snapshot = try root.read()
            #expect(snapshot.kernelConfig == nil)
            #expect(snapshot.errors(at: "proc/config.gz").first?.message.contains(reason) == true, "\(reason): \(snapshot.errors)")
        }
    }
}
