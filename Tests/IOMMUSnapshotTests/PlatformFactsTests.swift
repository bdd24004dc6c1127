import Foundation
import TestSupport
import Testing

@testable import IOMMUSnapshot

/// `proc/interrupts`, VFIO's switches, `dev/iommu` and Thunderbolt's DMA protection: read when the
/// root holds them, nil (not known) when it does not, and never a reason to stop the walk.
@Suite struct PlatformFactsTests {
    /// An Intel machine with interrupt remapping, as 6.x prints it (per-device MSI chips).
    static let remapped = """
                   CPU0       CPU1       CPU2       CPU3
          0:         20          0          0          0   IR-IO-APIC    2-edge      timer
          8:          0          0          0          0   IR-IO-APIC    8-edge      rtc0
        120:          0          0          0          0   DMAR-MSI    0-edge      dmar0
        122:       1123          0        542          0   IR-PCI-MSIX-0000:00:1f.6    0-edge      enp0s31f6
        NMI:          0          0          0          0   Non-maskable interrupts
        LOC:      12345      23456      34567      45678   Local timer interrupts

        """

    @Test func remappedChipsAreReadWithTheirNumbers() throws {
        let table = try ProcInterruptsParser.parse(Array(Self.remapped.utf8))
        #expect(table.lines.map(\.number) == [0, 8, 120, 122])
        #expect(table.lines.map(\.chip) == ["IR-IO-APIC", "IR-IO-APIC", "DMAR-MSI", "IR-PCI-MSIX-0000:00:1f.6"])
    }

    @Test func aRealFileWithoutRemappingParses() throws {
        let bytes = try Array(
            Data(contentsOf: FixtureFiles.packageRoot.appendingPathComponent("Fuzz/seeds/interrupts/firecracker-vm-no-iommu")))
        let table = try ProcInterruptsParser.parse(bytes)
        #expect(!table.lines.isEmpty)
        #expect(table.lines.allSatisfy { !$0.chip.hasPrefix("IR-") })
        #expect(table.lines.contains { $0.chip == "IO-APIC" })
    }

    @Test(arguments: [
        "", "\n", "garbage\n", "           CPU0\n  0 20 IO-APIC\n", "           CPU0\n  0:   20   IO-APIC\u{0}\n",
    ])
    func hostileTextIsRefused(_ text: String) {
        #expect(throws: ParseError.self) { try ProcInterruptsParser.parse(Array(text.utf8)) }
    }

    @Test func flagsAreYNOrOneZero() throws {
        #expect(try SysfsAttributeParser.flag(Array("Y\n".utf8)))
        #expect(try !SysfsAttributeParser.flag(Array("0\n".utf8)))
        #expect(throws: ParseError.self) { try SysfsAttributeParser.flag(Array("yes\n".utf8)) }
    }

    @Test func aCaptureWithoutTheseFilesKnowsNothingAndReportsNoError() throws {
        let snapshot = try Fixtures.read("linux-61-intel")
        #expect(snapshot.platform == PlatformFacts())
        #expect(!snapshot.errors.contains { $0.path.hasPrefix("dev") || $0.path.contains("interrupts") || $0.path.contains("module") })
    }

    @Test func aRootWithThemIsReadAndCopiedAlike() throws {
        let root = try ScratchRoot()
        try root.write("proc/interrupts", Self.remapped)
        try root.write("dev/iommu", "")
        try root.write("dev/vfio/devices/vfio0", "")
        try root.write("sys/module/vfio/parameters/enable_unsafe_noiommu_mode", "N\n")
        try root.write("sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts", "Y\n")
        try root.write("sys/devices/pci0000:00/0000:00:0d.2/domain0/iommu_dma_protection", "1\n")
        try root.link("sys/bus/thunderbolt/devices/domain0", to: "../../../devices/pci0000:00/0000:00:0d.2/domain0")
        let snapshot = try root.read()
        let facts = snapshot.platform
        #expect(facts.interrupts?.lines.count == 4)
        #expect(facts.hasIOMMUFD == true)
        #expect(facts.vfioDeviceFiles == 1)
        #expect(facts.vfioLoaded == true)
        #expect(facts.vfioNoIOMMUMode == false)
        #expect(facts.vfioAllowUnsafeInterrupts == true)
        #expect(facts.thunderboltDMAProtection == ["domain0": true])
        #expect(snapshot.errors.isEmpty, "\(snapshot.errors)")

        let copy = NSTemporaryDirectory() + "iommu-watch-platform-copy-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: copy) }
        let recorder = TreeRecorder()
        _ = try root.read(recorder: recorder)
        try recorder.write(to: copy)
        #expect(try SnapshotReader.read(root: copy).platform == facts)
    }

    /// Found on a real kernel: a `dev/` without `iommu` is "absent" live, and must stay "absent" in
    /// the copy, not become "not known" because nothing in `dev/` was read.
    @Test func absenceSurvivesTheCopy() throws {
        let root = try ScratchRoot()
        try FileManager.default.createDirectory(atPath: root.path + "/dev/pts", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: root.path + "/sys/module/e1000e", withIntermediateDirectories: true)
        let facts = try root.read().platform
        #expect(facts.hasIOMMUFD == false && facts.vfioDeviceFiles == 0 && facts.vfioLoaded == false)
        let copy = NSTemporaryDirectory() + "iommu-watch-platform-absent-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: copy) }
        let recorder = TreeRecorder()
        _ = try root.read(recorder: recorder)
        try recorder.write(to: copy)
        #expect(try SnapshotReader.read(root: copy).platform == facts)
    }

    @Test func anEscapingThunderboltLinkIsRefused() throws {
        let root = try ScratchRoot()
        try root.link("sys/bus/thunderbolt/devices/domain0", to: "../../../../../../../etc")
        let snapshot = try root.read()
        #expect(snapshot.platform.thunderboltDMAProtection.isEmpty)
    }
}

/// What the host runs on: the root filesystem's disk and the default route's NIC, through links the
/// reader resolves inside the root.
@Suite struct HostDependencyTests {
    @Test func mountinfoFindsTheRootMountAndUnescapesPaths() throws {
        let text = """
            22 27 0:21 / /proc rw,relatime - proc proc rw
            27 1 259:2 / / rw,relatime shared:1 - ext4 /dev/nvme0n1p2 rw
            40 27 8:17 / /mnt/with\\040space rw - ext4 /dev/sdb1 rw

            """
        let mounts = try MountInfoParser.parse(Array(text.utf8))
        #expect(mounts.map(\.mountPoint) == ["/proc", "/", "/mnt/with space"])
        #expect(mounts[1].major == 259 && mounts[1].minor == 2 && mounts[1].source == "/dev/nvme0n1p2")
    }

    @Test(arguments: ["", "27 1 259:2 / /\n", "27 1 x:2 / / rw - ext4 /dev/a rw b c\n", "1 2 3:4 / / rw a b c d\n"])
    func hostileMountinfoIsRefused(_ text: String) {
        #expect(throws: ParseError.self) { try MountInfoParser.parse(Array(text.utf8)) }
    }

    @Test func theDefaultRouteIsTheUpRouteToZeroWithTheLowestMetric() throws {
        let text = """
            Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT
            wlan0\t00000000\t0101A8C0\t0003\t0\t0\t600\t00000000\t0\t0\t0
            eth0\t00000000\t010200C0\t0003\t0\t0\t100\t00000000\t0\t0\t0
            eth0\t000200C0\t00000000\t0001\t0\t0\t100\t00FFFFFF\t0\t0\t0
            down0\t00000000\t010300C0\t0002\t0\t0\t1\t00000000\t0\t0\t0

            """
        #expect(try RouteTableParser.defaultRouteInterfaces(Array(text.utf8)) == ["eth0", "wlan0"])
        #expect(throws: ParseError.self) { try RouteTableParser.defaultRouteInterfaces(Array("eth0 0 0\n".utf8)) }
        #expect(throws: ParseError.self) {
            try RouteTableParser.defaultRouteInterfaces(Array("Iface\tDestination\neth0\tzz\t0\t3\t0\t0\t0\t0\n".utf8))
        }
    }

    @Test func theRootDiskAndTheRouteNICAreFoundThroughTheirLinks() throws {
        let root = try ScratchRoot()
        try root.write("proc/self/mountinfo", "27 1 8:2 / / rw - ext4 /dev/sda2 rw\n")
        try root.link("sys/dev/block/8:2", to: "../../devices/pci0000:00/0000:00:1f.2/ata1/host0/target0:0:0/0:0:0:0/block/sda/sda2")
        // A device-mapper root: dm-0 over the same disk, found through its slaves.
        try root.write(
            "proc/net/route",
            "Iface\tDestination\tGateway\tFlags\tRefCnt\tUse\tMetric\tMask\tMTU\tWindow\tIRTT\nbr0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n"
        )
        try root.link("sys/class/net/br0", to: "../../devices/virtual/net/br0")
        try root.link("sys/devices/virtual/net/br0/brif/eth0", to: "../../../../pci0000:00/0000:00:02.0/net/eth0/brport")
        try root.link("sys/class/net/eth0", to: "../../devices/pci0000:00/0000:00:02.0/net/eth0")
        try root.link("sys/devices/pci0000:00/0000:00:02.0/net/eth0/device", to: "../../../0000:00:02.0")
        let facts = try root.read().platform
        #expect(facts.rootFilesystem == HostDependency(name: "/dev/sda2", devices: [PCIAddress("0000:00:1f.2")!]))
        #expect(facts.defaultRoute == [HostDependency(name: "br0", devices: [PCIAddress("0000:00:02.0")!])])

        try root.write("proc/self/mountinfo", "27 1 254:0 / / rw - ext4 /dev/mapper/root rw\n")
        try root.link("sys/dev/block/254:0", to: "../../devices/virtual/block/dm-0")
        try root.link(
            "sys/devices/virtual/block/dm-0/slaves/sda2",
            to: "../../../../pci0000:00/0000:00:1f.2/ata1/host0/target0:0:0/0:0:0:0/block/sda/sda2")
        #expect(try root.read().platform.rootFilesystem?.devices == [PCIAddress("0000:00:1f.2")!])
    }
}
