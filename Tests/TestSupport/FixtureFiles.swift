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

    /// Every folder with `sys/`, listed anew each run so new captures are covered.
    public static let allCaptures: [String] = ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? [])
        .filter { FileManager.default.fileExists(atPath: folder.path + "/" + $0 + "/sys") }.sorted()

    /// The ARM64 column of the real-kernel test bed (`qemu-<line>-arm-…`: SMMUv3 and virtio-iommu,
    /// Tests/RealKernel/matrix.py, issue #12): trees the guest copied with busybox, scanned on the host.
    public static let armCaptures: [String] = allCaptures.filter(isARM)

    /// Every capture the model is checked on: all but the ARM64 column, which joins once the model
    /// knows SMMUv3 and virtio-iommu (issue #12, parts 2–4; until then the bed records its
    /// divergences as findings).
    public static let captures: [String] = allCaptures.filter { !isARM($0) }

    public static func isARM(_ name: String) -> Bool { name.hasPrefix("qemu-") && name.contains("-arm-") }
}
