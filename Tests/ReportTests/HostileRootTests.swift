import Foundation
import IOMMUSnapshot
import Reconcile
import Testing

@testable import Report

/// Trees someone else made: names that carry terminal escapes, links that leave the root, links
/// flattened into files by a copy that did not keep them.
@Suite struct HostileRootTests {
    static let escape = "\u{1b}"
    /// Clears the screen, homes the cursor and forges two lines of a clean report.
    static let forgery = "\(escape)[2J\(escape)[1;1HIOMMU OK\nNo divergences"

    @Test func namesFromTheRootCannotWriteControlCharactersOrLines() throws {
        let root = try CopiedRoot()
        // A group member whose link name is the forgery.
        try root.link("sys/kernel/iommu_groups/1/devices/" + Self.forgery, to: "../../../../devices/pci0000:00/0000:00:01.0")
        // A driver link whose target names a driver with colour and a new line.
        try root.link("sys/devices/pci0000:00/0000:00:02.0/driver", to: "../../../bus/pci/drivers/\(Self.escape)[31mevil\nFAKE LINE")
        // An IOMMU unit that sets the window title.
        try root.rename("sys/devices/virtual/iommu/dmar0", to: "sys/devices/virtual/iommu/dmar\(Self.escape)]0;title\u{07}")
        try root.link("sys/class/iommu/dmar0", to: "../../devices/virtual/iommu/dmar\(Self.escape)]0;title\u{07}")
        try root.rename("sys/class/iommu/dmar0", to: "sys/class/iommu/dmar\(Self.escape)]0;title\u{07}")
        // The command line clears the screen; a file that cannot be read names itself with a new line.
        try root.write("proc/cmdline", "quiet \(Self.escape)[2J\n")
        try FileManager.default.createDirectory(
            atPath: root.path + "/sys/kernel/iommu_groups/7\nFAKE LINE", withIntermediateDirectories: false)
        try root.link("sys/kernel/iommu_groups/2/devices/\u{202e}0.10:00:0000", to: "nowhere\u{9b}31m")

        let snapshot = try SnapshotReader.read(root: root.path)
        let text = ScanText.render(snapshot, divergences: Reconciler.divergences(in: snapshot))
        let clean = ScanText.render(try SnapshotReader.read(root: fixtures.appendingPathComponent("linux-61-intel").path), divergences: [])

        #expect(!text.unicodeScalars.contains { $0.value < 0x20 && $0 != "\n" || (0x7f...0x9f).contains($0.value) || $0.value == 0x202e })
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(!lines.contains { $0.hasPrefix("FAKE") || $0.hasPrefix("IOMMU OK") })
        #expect(lines.filter { $0.hasPrefix("No divergences") }.count <= 1)
        #expect(text.contains("sys/kernel/iommu_groups/7\\nFAKE LINE: not a group number"))
        #expect(text.contains("\\x1b[2J\\x1b[1;1HIOMMU OK\\nNo divergences"))
        #expect(text.contains("\\x1b[31mevil\\nFAKE LINE"))
        #expect(text.contains("dmar\\x1b]0;title\\x07"))
        #expect(text.contains("cmdline: quiet \\x1b[2J"))
        #expect(text.contains("\\u{202e}0.10:00:0000"))
        // Only the planted lines are new: one member line more, the rest as in the clean report.
        #expect(lines.count > clean.split(separator: "\n", omittingEmptySubsequences: false).count)
    }

    @Test func terminalLinesEscapeExactlyTheDangerousCharacters() {
        #expect(TerminalText.line("plain ascii, ünïcode, tab-free") == "plain ascii, ünïcode, tab-free")
        #expect(TerminalText.line("a\tb\rc\nd\u{0}e\u{7f}f\u{85}g") == "a\\tb\\rc\\nd\\x00e\\x7ff\\u{85}g")
        #expect(TerminalText.line("\u{2028}\u{2066}\u{fffd}") == "\\u{2028}\\u{2066}\\u{fffd}")
        #expect(TerminalText.line("back\\slash") == "back\\slash")
        #expect(TerminalText.lines(["one", "two\nthree"]) == "one\ntwo\\nthree\n")
    }

    @Test func aSnapshotNeverCopiesALinkThatLeavesTheRoot() throws {
        let root = try CopiedRoot()
        try root.link("sys/devices/pci0000:00/0000:00:02.0/driver", to: "/etc")
        try root.link("sys/devices/pci0000:00/0000:00:03.0/driver", to: "../../../../../../../etc")
        let recorder = TreeRecorder()
        let snapshot = try SnapshotReader.read(root: root.path, recorder: recorder)
        #expect(
            snapshot.errors.map(\.path).sorted() == [
                "sys/devices/pci0000:00/0000:00:02.0/driver", "sys/devices/pci0000:00/0000:00:03.0/driver",
            ])
        #expect(snapshot.device(PCIAddress("0000:00:02.0")!)?.driver == nil)
        let copy = temporaryCopyFolder()
        defer { try? FileManager.default.removeItem(atPath: copy) }
        try recorder.write(to: copy)
        for slot in ["0000:00:02.0", "0000:00:03.0"] {
            #expect(!FileManager.default.fileExists(atPath: copy + "/sys/devices/pci0000:00/\(slot)/driver"))
            #expect((try? FileManager.default.destinationOfSymbolicLink(atPath: copy + "/sys/devices/pci0000:00/\(slot)/driver")) == nil)
        }
    }

    /// A tree copied by a tool that wrote each link as a file holding its target, and one whose
    /// IOMMU unit link leads to a file: what could not be followed reads the same from the snapshot.
    @Test(arguments: [false, true])
    func snapshotOfATreeWithUnresolvableLinksScansToTheSameBytes(_ linkToFile: Bool) throws {
        let root = try CopiedRoot()
        if linkToFile {
            try root.remove("sys/devices/virtual/iommu/dmar0")
            try root.write("sys/devices/virtual/iommu/dmar0", "not a folder")
        } else {
            try root.flattenLinks(under: "sys/class/iommu")
            try root.flattenLinks(under: "sys/devices/pci0000:00/0000:00:02.0")
            try root.flattenLinks(under: "sys/kernel/iommu_groups/4/devices")
        }
        let recorder = TreeRecorder()
        let original = try SnapshotReader.read(root: root.path, recorder: recorder)
        #expect(!original.errors.isEmpty)
        let copy = temporaryCopyFolder()
        defer { try? FileManager.default.removeItem(atPath: copy) }
        try recorder.write(to: copy)
        let reread = try SnapshotReader.read(root: copy)
        let divergences = Reconciler.divergences(in: original)
        #expect(
            ScanJSON.render(reread, divergences: Reconciler.divergences(in: reread)) == ScanJSON.render(original, divergences: divergences))
    }
}

func temporaryCopyFolder() -> String {
    NSTemporaryDirectory() + "iommu-watch-copy-" + UUID().uuidString
}

/// A writable copy of a capture, removed when the value goes away.
final class CopiedRoot {
    let path: String

    init(_ capture: String = "linux-61-intel") throws {
        path = NSTemporaryDirectory() + "iommu-watch-hostile-" + UUID().uuidString
        for arguments in [["cp", "-a", fixtures.appendingPathComponent(capture).path, path], ["chmod", "-R", "u+w", path]] {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = arguments
            try process.run()
            process.waitUntilExit()
            guard process.terminationStatus == 0 else { throw CocoaError(.fileWriteUnknown) }
        }
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    func write(_ relative: String, _ text: String) throws {
        try? FileManager.default.removeItem(atPath: path + "/" + relative)
        try Data(text.utf8).write(to: URL(fileURLWithPath: path + "/" + relative))
    }

    func remove(_ relative: String) throws { try FileManager.default.removeItem(atPath: path + "/" + relative) }

    func rename(_ relative: String, to other: String) throws {
        try FileManager.default.moveItem(atPath: path + "/" + relative, toPath: path + "/" + other)
    }

    func link(_ relative: String, to target: String) throws {
        try? FileManager.default.removeItem(atPath: path + "/" + relative)
        try FileManager.default.createSymbolicLink(atPath: path + "/" + relative, withDestinationPath: target)
    }

    /// Replaces every link directly in `folder` by a file holding its target, as a copy that does not
    /// keep links writes them.
    func flattenLinks(under folder: String) throws {
        let full = path + "/" + folder
        for name in try FileManager.default.contentsOfDirectory(atPath: full) {
            guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: full + "/" + name) else { continue }
            try write(folder + "/" + name, target)
        }
    }
}
