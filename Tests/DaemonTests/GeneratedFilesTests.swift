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
