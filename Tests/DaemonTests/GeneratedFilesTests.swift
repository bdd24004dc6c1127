import Daemon
import Foundation
import Testing
import TestSupport

/// Every checked-in generated file (`GeneratedFiles.all`: the divergence catalog, its documentation
/// page and the daemon's message catalog) must be what the code generates. Regenerate with
/// `iommu-watch catalog --write <package root>`.
@Suite struct GeneratedFilesTests {
    @Test(arguments: GeneratedFiles.all.map(\.path))
    func checkedInFileIsCurrent(_ path: String) throws {
        let onDisk = try String(contentsOf: FixtureFiles.packageRoot.appendingPathComponent(path), encoding: .utf8)
        let generated = try #require(GeneratedFiles.all.first { $0.path == path }).render()
        #expect(onDisk == generated, "\(path) is stale: run `iommu-watch catalog --write .` from the package root")
    }
}

/// docs/daemon.md's table of what is logged is written by hand: it must name every daemon event's
/// MESSAGE_ID (a hand-copied id once went stale there and in the alerting rules).
@Suite struct DaemonDocsTests {
    @Test(arguments: DaemonEvent.all.map(\.name))
    func theDaemonPageNamesEachEventsID(_ name: String) throws {
        let page = try String(contentsOf: FixtureFiles.packageRoot.appendingPathComponent("docs/daemon.md"), encoding: .utf8)
        let event = try #require(DaemonEvent.all.first { $0.name == name })
        #expect(page.contains(event.messageID), "docs/daemon.md lacks \(name)'s MESSAGE_ID \(event.messageID)")
    }
}
