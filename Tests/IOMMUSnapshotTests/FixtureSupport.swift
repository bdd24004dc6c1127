import Foundation
import TestSupport
@testable import IOMMUSnapshot

/// The real captures under Tests/Fixtures, and scratch copies of them to plant hostile input in.
enum Fixtures {
    static let folder = FixtureFiles.folder

    static func root(_ name: String) -> String { FixtureFiles.root(name) }

    static func read(_ name: String) throws -> Snapshot { try SnapshotReader.read(root: root(name)) }

    /// The four captures every release line of the seed was checked on.
    static let sharedCaptures = ["linux-510-intel", "linux-61-intel", "linux-61-intel-pt", "linux-612-intel"]

    /// Debian's build configurations of the test bed's kernels, as `boot/config-<release>` holds them.
    static let kernelConfigs = ["config-5.10.0-46-amd64", "config-6.1.0-56-amd64", "config-6.12.118+deb13-amd64"]

    static func kernelConfig(_ name: String) throws -> [UInt8] {
        Array(try Data(contentsOf: folder.appendingPathComponent("kernel-configs/" + name)))
    }

    /// `gzip -9 -n`, as the kernel's build compresses the configuration into `/proc/config.gz`.
    static func gzip(_ bytes: [UInt8]) throws -> [UInt8] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/gzip")
        process.arguments = ["-c", "-n", "-9"]
        let input = Pipe(), output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        // Write from another thread: a config larger than the pipe's buffer would block the writer
        // while gzip waits for its output to be read.
        let writer = Thread { [handle = input.fileHandleForWriting] in
            handle.write(Data(bytes))
            try? handle.close()
        }
        writer.start()
        let compressed = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Array(compressed)
    }
}

/// A writable copy of a capture in a temporary folder, removed when the value goes away.
final class ScratchRoot {
    let path: String

    init(copying fixture: String = "linux-61-intel") throws {
        path = NSTemporaryDirectory() + "iommu-watch-test-" + UUID().uuidString
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/cp")
        process.arguments = ["-a", Fixtures.root(fixture), path]
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw CocoaError(.fileWriteUnknown) }
        try makeWritable()
    }

    deinit {
        _ = try? FileManager.default.removeItem(atPath: path)
    }

    /// Captures are read-only (0444) like sysfs; tests edit their copy.
    private func makeWritable() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/chmod")
        process.arguments = ["-R", "u+w", path]
        try process.run()
        process.waitUntilExit()
    }

    func write(_ relative: String, _ bytes: [UInt8]) throws {
        let url = URL(fileURLWithPath: path + "/" + relative)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try? FileManager.default.removeItem(at: url)
        try Data(bytes).write(to: url)
    }

    func write(_ relative: String, _ text: String) throws { try write(relative, Array(text.utf8)) }

    func remove(_ relative: String) throws { try FileManager.default.removeItem(atPath: path + "/" + relative) }

    func link(_ relative: String, to target: String) throws {
        let full = path + "/" + relative
        try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try? FileManager.default.removeItem(atPath: full)
        try FileManager.default.createSymbolicLink(atPath: full, withDestinationPath: target)
    }

    /// The device folder a `sys/bus/pci/devices` link resolves to.
    func devicePath(_ slot: String) throws -> String {
        let target = try FileManager.default.destinationOfSymbolicLink(atPath: path + "/sys/bus/pci/devices/" + slot)
        return URL(fileURLWithPath: "sys/bus/pci/devices/" + target, relativeTo: URL(fileURLWithPath: "/")).standardized.path.dropFirst()
            .description
    }

    func read(recorder: ReadRecorder? = nil) throws -> Snapshot { try SnapshotReader.read(root: path, recorder: recorder) }
}

extension Snapshot {
    func group(withID id: Int) -> IOMMUGroup? { groups.first { $0.id == id } }
    func errors(at path: String) -> [ReadError] { errors.filter { $0.path == path } }
}

func address(_ text: String) -> PCIAddress {
    guard let address = PCIAddress(text) else { fatalError("bad address in test: \(text)") }
    return address
}
