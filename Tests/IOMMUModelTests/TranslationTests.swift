import Foundation
import IOMMUSnapshot
import Testing

@testable import IOMMUModel

/// Whether the IOMMU comes up at all, from build configuration, command line and firmware
/// (docs/kernel-rules.md#p1); when it does not, the model predicts no groups.
@Suite struct TranslationTests {
    static func snapshot(_ capture: String, cmdline: String, config: [String: String]? = nil) throws -> Snapshot {
        var snapshot = try Captures.snapshot(capture)
        snapshot.kernel.commandLine = KernelCommandLine(cmdline)
        if let config {
            let release = try #require(snapshot.kernel.release)
            let bytes = try Data(contentsOf: Captures.root.appendingPathComponent("kernel-configs/config-" + release))
            var text = String(decoding: bytes, as: UTF8.self)
            for (option, value) in config {
                text = text.split(separator: "\n", omittingEmptySubsequences: false).map { line in
                    line.hasPrefix(option + "=") || line == "# \(option) is not set"
                        ? (value == "n" ? "# \(option) is not set" : "\(option)=\(value)") : String(line)
                }.joined(separator: "\n")
            }
            snapshot.kernelConfig = try KernelConfigParser.parse(Array(text.utf8))
        }
        return snapshot
    }

    static func translation(_ snapshot: Snapshot) -> TranslationState { Model.predict(snapshot).policy.translation }

    @Test func debianTurnsVTdOnWithoutIntelIOMMUOn() throws {
        let state = Self.translation(try Self.snapshot("linux-61-intel", cmdline: "quiet", config: [:]))
        #expect(state == .on(.buildConfig("CONFIG_INTEL_IOMMU_DEFAULT_ON_INTGPU_OFF=y: on, integrated graphics excepted")))
        let noConfig = Self.translation(try Self.snapshot("linux-61-intel", cmdline: "iommu=pt"))
        #expect(noConfig == .on(.distributionDefault("Debian's build: on, integrated graphics excepted")))
    }

    @Test func anUpstreamStyleBuildLeavesVTdOffUnlessTheCommandLineAsks() throws {
        let upstream = ["CONFIG_INTEL_IOMMU_DEFAULT_ON_INTGPU_OFF": "n"]
        let off = try Self.snapshot("linux-61-intel", cmdline: "iommu=pt", config: upstream)
        #expect(Self.translation(off).isOff)
        #expect(Model.predict(off).groups.isEmpty)
        #expect(
            Self.translation(try Self.snapshot("linux-61-intel", cmdline: "intel_iommu=on", config: upstream))
                == .on(.commandLine("intel_iommu=on")))
    }

    @Test func intelIOMMUTokensApplyLeftToRightAndIOMMUOffWinsWherever() throws {
        #expect(
            Self.translation(try Self.snapshot("linux-61-intel", cmdline: "intel_iommu=off,on")) == .on(.commandLine("intel_iommu=off,on")))
        #expect(Self.translation(try Self.snapshot("linux-61-intel", cmdline: "intel_iommu=on,off")).isOff)
        #expect(
            Self.translation(try Self.snapshot("linux-61-intel", cmdline: "iommu=off intel_iommu=on")) == .off(.commandLine("iommu=off")))
    }

    @Test func amdIsOnWheneverItsTableExistsAndOnlyItsOwnOffStopsIt() throws {
        let capture = try #require(Captures.names.first { $0.contains("amd-default") })
        #expect(!Self.translation(try Self.snapshot(capture, cmdline: "amd_iommu=on")).isOff)
        #expect(!Self.translation(try Self.snapshot(capture, cmdline: "intel_iommu=off")).isOff)
        #expect(Self.translation(try Self.snapshot(capture, cmdline: "amd_iommu=off")) == .off(.commandLine("amd_iommu=off")))
    }

    @Test func noFirmwareTableMeansNoIOMMU() throws {
        var snapshot = try Self.snapshot("linux-61-intel", cmdline: "intel_iommu=on")
        snapshot.firmware = FirmwareTables()
        snapshot.iommus = []
        #expect(Self.translation(snapshot).isOff)
    }
}
