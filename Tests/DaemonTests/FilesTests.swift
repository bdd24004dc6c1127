import Foundation
import Testing

@testable import Daemon

#if canImport(Glibc)
    import Glibc
#endif

/// The configuration and the state file are opened only when they are regular files: a FIFO in
/// their place must not hang the daemon's start or `status`.
@Suite struct FilesTests {
    @Test func aFIFOIsRefusedNotWaitedOn() throws {
        let folder = NSTemporaryDirectory() + "iommu-watch-files-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = folder + "/iommu-watch.conf"
        #expect(mkfifo(path, 0o644) == 0)
        // Code that opens the FIFO for reading waits for a writer; one arrives after two seconds
        // so that such code fails below instead of hanging.
        Thread.detachNewThread {
            Thread.sleep(forTimeInterval: 2)
            let descriptor = open(path, O_WRONLY | O_NONBLOCK)
            if descriptor >= 0 { close(descriptor) }
        }
        #expect(throws: Files.Failure.self) { _ = try Files.read(path) }
        do {
            _ = try Files.read(path)
        } catch {
            #expect(error.description == "\(path): not a regular file: FIFO; not read")
        }
    }

    @Test func devNullReadsAsAnEmptyFileAsSystemdMasksWithIt() throws {
        #expect(try Files.read("/dev/null") == [])
    }
}
