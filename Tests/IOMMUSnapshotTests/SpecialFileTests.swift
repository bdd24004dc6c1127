import Foundation
import Testing

@testable import IOMMUSnapshot

#if canImport(Glibc)
    import Glibc
#endif

/// FIFOs, sockets and device nodes where sysfs has regular files: a tree from a bug report can hold
/// them. Each is reported by path and type and never opened for reading; the walk goes on.
@Suite struct SpecialFileTests {
    let groupsPath = "sys/kernel/iommu_groups"

    @Test func aFIFOInPlaceOfTypeOrConfigIsReportedNotRead() throws {
        let root = try ScratchRoot()
        let device = try root.devicePath("0000:00:02.0")
        let fifos = ["\(groupsPath)/3/type", device + "/config"]
        for fifo in fifos { try root.fifo(fifo) }
        // Code that opens a FIFO for reading waits for a writer: this one comes after two seconds,
        // so such code fails the expectations below instead of hanging the suite.
        let unblocker = Unblocker(fifos.map { root.path + "/" + $0 })
        defer { unblocker.stop() }
        let snapshot = try root.read()
        for fifo in fifos {
            #expect(snapshot.errors(at: fifo).map(\.kind) == [.notRegularFile(type: "FIFO")])
        }
        #expect(!unblocker.hadToUnblock)
        #expect(snapshot.groups.count == 10)
        #expect(snapshot.group(withID: 3)?.type == .absent)
        #expect(snapshot.device(address("0000:00:02.0"))?.vendorID == 0x8086)
        #expect(snapshot.device(address("0000:00:02.0"))?.config == nil)
    }

    @Test func aSocketInPlaceOfAnAttributeIsReportedNotRead() throws {
        let root = try ScratchRoot()
        let device = try root.devicePath("0000:00:1f.2")
        try root.socket(device + "/vendor")
        let snapshot = try root.read()
        #expect(snapshot.errors(at: device + "/vendor").map(\.kind) == [.notRegularFile(type: "socket")])
        #expect(snapshot.device(address("0000:00:1f.2"))?.deviceID == 0x2922)
    }

    /// `/dev/zero`'s numbers: code that opens and reads it gets 4 KiB of zeros and calls it too large.
    @Test(.enabled(if: getuid() == 0, "mknod needs CAP_MKNOD"))
    func aCharacterDeviceInPlaceOfConfigIsNeverOpened() throws {
        let root = try ScratchRoot()
        let device = try root.devicePath("0000:00:03.0")
        try root.characterDevice(device + "/config", major: 1, minor: 5)
        let snapshot = try root.read()
        #expect(snapshot.errors(at: device + "/config").map(\.kind) == [.notRegularFile(type: "character device")])
    }

    @Test func aFileReachedThroughALinkToAFIFOIsRefusedToo() throws {
        let root = try ScratchRoot()
        try root.fifo("fifo")
        try root.remove("proc/version")
        try root.link("proc/version", to: "../fifo")
        let unblocker = Unblocker([root.path + "/fifo"])
        defer { unblocker.stop() }
        let snapshot = try root.read()
        #expect(snapshot.errors(at: "proc/version").map(\.kind) == [.notRegularFile(type: "FIFO")])
        #expect(!unblocker.hadToUnblock)
    }

    @Test func aLinkWhereAFileShouldBeIsNamedAsALink() throws {
        let root = try ScratchRoot()
        try root.remove("\(groupsPath)/4/type")
        try root.link("\(groupsPath)/4/type", to: "../5/type")
        let snapshot = try root.read()
        #expect(snapshot.errors(at: "\(groupsPath)/4/type").map(\.kind) == [.notRegularFile(type: "symbolic link")])
    }

    @Test func aWalkAskedToStopThrowsInterrupted() throws {
        let root = try ScratchRoot()
        let asked = Counter()
        #expect(throws: ReadError(path: root.path, kind: .interrupted)) {
            _ = try SnapshotReader.read(root: root.path, shouldStop: { asked.increment() >= 3 })
        }
        // It stopped at the third question, not after reading everything.
        #expect(asked.value == 3)
    }
}

/// Opens FIFOs for writing after a grace period, so a reader stuck on one gets end of file.
private final class Unblocker: @unchecked Sendable {
    private let lock = NSLock()
    private var stopped = false
    private var unblocked = false

    init(_ paths: [String]) {
        Thread.detachNewThread { [self] in
            Thread.sleep(forTimeInterval: 2)
            lock.lock()
            defer { lock.unlock() }
            guard !stopped else { return }
            for path in paths {
                let descriptor = open(path, O_WRONLY | O_NONBLOCK)
                if descriptor >= 0 {
                    unblocked = true
                    close(descriptor)
                }
            }
        }
    }

    var hadToUnblock: Bool {
        lock.lock()
        defer { lock.unlock() }
        return unblocked
    }

    func stop() {
        lock.lock()
        stopped = true
        lock.unlock()
    }
}

private final class Counter: @unchecked Sendable {
    private(set) var value = 0
    func increment() -> Int {
        value += 1
        return value
    }
}

extension ScratchRoot {
    func fifo(_ relative: String) throws {
        try? remove(relative)
        guard mkfifo(path + "/" + relative, 0o644) == 0 else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
    }

    /// `makedev()` is a C macro; for major < 4096 and minor < 256 the number is (major << 8) | minor.
    func characterDevice(_ relative: String, major: UInt32, minor: UInt32) throws {
        try? remove(relative)
        guard mknod(path + "/" + relative, S_IFCHR | 0o644, dev_t(major) << 8 | dev_t(minor)) == 0 else {
            throw POSIXError(.init(rawValue: errno) ?? .EIO)
        }
    }

    /// A bound AF_UNIX socket, left in place when its descriptor is closed. It is bound at a short
    /// path (sun_path holds 108 bytes) and renamed into place.
    func socket(_ relative: String) throws {
        try? remove(relative)
        let descriptor = Glibc.socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw POSIXError(.EIO) }
        defer { close(descriptor) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let short = "/tmp/iw-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).sock"
        let full = Array(short.utf8)
        guard full.count < Swift.MemoryLayout.size(ofValue: address.sun_path) else { throw POSIXError(.ENAMETOOLONG) }
        withUnsafeMutableBytes(of: &address.sun_path) { buffer in
            for (index, byte) in full.enumerated() { buffer[index] = byte }
        }
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(Swift.MemoryLayout<sockaddr_un>.size)) }
        }
        guard result == 0 else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
        guard rename(short, path + "/" + relative) == 0 else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
    }
}
