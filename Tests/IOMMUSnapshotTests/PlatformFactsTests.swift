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

    @Test func anEscapingThunderboltLinkIsRefused() throws {
        let root = try ScratchRoot()
        try root.link("sys/bus/thunderbolt/devices/domain0", to: "../../../../../../../etc")
        let snapshot = try root.read()
        #expect(snapshot.platform.thunderboltDMAProtection.isEmpty)
    }
}
