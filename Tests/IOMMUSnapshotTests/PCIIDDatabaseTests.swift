import Foundation
import TestSupport
import Testing

@testable import IOMMUSnapshot

/// Names as `lspci` prints them, from the system's PCI ID database; ids alone when there is none.
@Suite struct PCIIDDatabaseTests {
    static let excerpt = FixtureFiles.folder.appendingPathComponent("pci-ids/pci.ids")
    static let quadro = PCIIDs(vendor: 0x10de, device: 0x1bb1)

    static func parse(_ text: String, _ wanted: Set<PCIIDs>) throws(ParseError) -> PCINames {
        try PCIIDDatabaseParser.parse(Array(text.utf8), wanted: wanted)
    }

    @Test func theRealDatabaseNamesDevicesAsLspciDoes() throws {
        let names = try PCIIDDatabaseParser.parse(
            Array(try Data(contentsOf: Self.excerpt)),
            wanted: [Self.quadro, PCIIDs(vendor: 0x8086, device: 0x1521), PCIIDs(vendor: 0x8086, device: 0xffff)])
        #expect(names.name(vendor: 0x10de, device: 0x1bb1) == "NVIDIA Corporation GP104GL [Quadro P4000]")
        #expect(names.name(vendor: 0x8086, device: 0x1521) == "Intel Corporation I350 Gigabit Network Connection")
        #expect(names.name(vendor: 0x8086, device: 0xffff) == "Intel Corporation Device ffff")
        #expect(names.name(vendor: 0x1234, device: 0x1111) == nil)
        // Only what was asked for is kept.
        #expect(names.devices.count == 2 && names.vendors.count == 2)
    }

    @Test func subsystemsAndTheClassSectionAreNotDevices() throws {
        let names = try Self.parse(
            "10de  NVIDIA Corporation\n\t1bb1  GP104GL [Quadro P4000]\n\t\t10de 11a3  Quadro P4000\nC 03  Display controller\n\t1bb1  not a device\n",
            [Self.quadro])
        #expect(names.devices == [Self.quadro: "GP104GL [Quadro P4000]"])
    }

    @Test(arguments: [
        "\t1bb1  a device before a vendor\n", "10de NVIDIA (one space)\n", "zzzz  bad id\n", "10de  \n", "10de  x\n\t\t\tthree tabs\n",
        "10de  \u{FFFD}ok\n\t1bb1  \(String(repeating: "x", count: 600))\n",
    ])
    func malformedLinesAreRefusedWithTheirNumber(_ text: String) {
        #expect(throws: ParseError.self) { try Self.parse(text, [Self.quadro]) }
    }

    @Test func theRootsDatabaseComesBeforeTheHosts() throws {
        let root = try ScratchRoot()
        try root.write("usr/share/misc/pci.ids", "10de  NVIDIA (from the root)\n\t1bb1  Quadro\n")
        let loaded = PCIIDDatabase.load(root: root.path, wanted: [Self.quadro])
        #expect(loaded.source == root.path + "/usr/share/misc/pci.ids")
        #expect(loaded.names?.name(vendor: 0x10de, device: 0x1bb1) == "NVIDIA (from the root) Quadro")
    }

    @Test func aBrokenDatabaseIsReportedAndTheNextOneTried() throws {
        let root = try ScratchRoot()
        try root.write("usr/share/misc/pci.ids", "garbage\n")
        try root.write("usr/share/hwdata/pci.ids", "10de  NVIDIA\n")
        let loaded = PCIIDDatabase.load(root: root.path, wanted: [Self.quadro])
        #expect(loaded.problems.map(\.path) == [root.path + "/usr/share/misc/pci.ids"])
        #expect(loaded.source == root.path + "/usr/share/hwdata/pci.ids")
    }
}
