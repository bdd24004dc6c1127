// swift-tools-version:6.0
// iommu-watch: reads the kernel's IOMMU groups, predicts them from the kernel's own rules,
// and reports where the two diverge. Module boundaries (docs/architecture.md):
//   IOMMUSnapshot (reader, parsers) <- IOMMUModel (pure) <- Reconcile (pure, catalog)
//   JSON (writer, strict reader) <- Report (text/JSON rendering) ; Systemd (libsystemd face) ;
//   Daemon (service loop) ; iommu-watch (CLI)
import PackageDescription

let package = Package(
    name: "iommu-watch",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "iommu-watch", targets: ["iommu-watch"])
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2")
    ],
    targets: [
        // libsystemd through pkg-config: journal, notify, device monitor.
        .systemLibrary(name: "CSystemd", pkgConfig: "libsystemd", providers: [.apt(["libsystemd-dev"])]),
        // C helpers: Linux system calls Swift cannot reach directly (openat2 has no glibc wrapper), and
        // zlib's inflate for /proc/config.gz.
        .target(name: "CLinux", linkerSettings: [.linkedLibrary("z")]),
        // The reader: one parser per file format, typed snapshot, typed errors. Never judges.
        .target(name: "IOMMUSnapshot", dependencies: ["CLinux"]),
        // The simulated kernel: pure functions from a snapshot to predictions. Never reads a file.
        .target(name: "IOMMUModel", dependencies: ["IOMMUSnapshot"]),
        // Predictions vs. snapshot -> divergences; the one catalog of divergence kinds.
        .target(name: "Reconcile", dependencies: ["IOMMUModel", "IOMMUSnapshot"]),
        // A JSON writer and a strict reader, without Foundation: the scan's JSON and the daemon's state file.
        .target(name: "JSON"),
        // Text and JSON renderings of a scan (the JSON schema of docs/json.md).
        .target(name: "Report", dependencies: ["IOMMUSnapshot", "IOMMUModel", "Reconcile", "JSON"]),
        // Swift face of libsystemd.
        .target(name: "Systemd", dependencies: ["CSystemd"]),
        // The long-running service.
        .target(
            name: "Daemon",
            dependencies: [
                "CLinux", "IOMMUSnapshot", "IOMMUModel", "Reconcile", "Report", "Systemd", "JSON",
            ]),
        .executableTarget(
            name: "iommu-watch",
            dependencies: [
                "IOMMUSnapshot", "IOMMUModel", "Reconcile", "Report", "Daemon", "JSON",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            linkerSettings: [
                // Release only, for the daemon's resident memory (docs/performance.md): relative
                // relocations packed (DT_RELR, glibc >= 2.36; needs lld, gold has no such option) instead
                // of a 0.9 MB table read at every start, and no dynamic symbol table of our own symbols
                // (the static stdlib's link arguments ask for --export-dynamic; nothing looks them up).
                .unsafeFlags(
                    ["-use-ld=lld", "-Xlinker", "-z", "-Xlinker", "pack-relative-relocs", "-Xlinker", "--no-export-dynamic"],
                    .when(platforms: [.linux], configuration: .release))
            ]),
        // What every test target shares: the package root and the captures under Tests/Fixtures.
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .testTarget(name: "IOMMUSnapshotTests", dependencies: ["IOMMUSnapshot", "CLinux", "TestSupport"]),
        .testTarget(name: "IOMMUModelTests", dependencies: ["IOMMUModel", "IOMMUSnapshot", "TestSupport"]),
        .testTarget(name: "ReconcileTests", dependencies: ["Reconcile", "IOMMUModel", "IOMMUSnapshot", "TestSupport"]),
        .testTarget(name: "JSONTests", dependencies: ["JSON"]),
        .testTarget(name: "ReportTests", dependencies: ["Report", "Reconcile", "IOMMUModel", "IOMMUSnapshot", "TestSupport"]),
        .testTarget(
            name: "DaemonTests", dependencies: ["Daemon", "IOMMUModel", "Reconcile", "IOMMUSnapshot", "Systemd", "JSON", "TestSupport"]),
        .testTarget(name: "SystemdTests", dependencies: ["Systemd"]),
    ],
    swiftLanguageModes: [.v6]
)
