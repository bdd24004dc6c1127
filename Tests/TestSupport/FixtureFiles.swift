import Foundation

/// Where the tests find the repository's files: the package root and the real captures under
/// Tests/Fixtures, located from this source file (`#filePath`), never from the working directory.
public enum FixtureFiles {
    /// The package root: the first folder above this file that holds Package.swift.
    public static let packageRoot: URL = {
        var url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        while url.path != "/" && !FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) {
            url.deleteLastPathComponent()
        }
        return url
    }()

    /// Tests/Fixtures.
    public static let folder = packageRoot.appendingPathComponent("Tests/Fixtures")

    /// The root of capture `name` (a folder of Tests/Fixtures).
    public static func root(_ name: String) -> String { folder.appendingPathComponent(name).path }

    /// Every capture: a folder with `sys/`, listed anew each run so new captures are covered.
    public static let captures: [String] = ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? [])
        .filter { FileManager.default.fileExists(atPath: folder.path + "/" + $0 + "/sys") }.sorted()
}
