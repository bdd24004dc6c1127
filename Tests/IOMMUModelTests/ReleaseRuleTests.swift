import Foundation
import IOMMUSnapshot
import TestSupport
import Testing

@testable import IOMMUModel

/// Rules that changed in one release (docs/kernel-rules.md, "Where the code and the kernel
/// disagree"): each checked on both sides of its boundary, on real roots.
@Suite struct ReleaseRuleTests {
    static func machine(_ name: String, release: String) throws -> Snapshot {
        var snapshot = try SnapshotReader.read(root: FixtureFiles.folder.appendingPathComponent("lspci/\(name)/root").path)
        snapshot.kernel.release = release
        snapshot.kernel.version = KernelVersion(release: release)
        return snapshot
    }

    /// 47c8846a49ba (6.11) skipped the Intel PCH enable quirk for ports without an ACS capability;
    /// f3c3ccc4fe49 fixed it in 6.12 and 6.11.7. The Wellsburg root port 00:1c.7 then shares its group
    /// with the switch below it.
    @Test func theSixElevenPCHRegressionMergesWhatOtherReleasesIsolate() throws {
        func group(_ release: String) throws -> Set<String> {
            let prediction = Model.predict(try Self.machine("dell-r730-e5v4", release: release))
            return Set(prediction.group(containing: PCIAddress("0000:00:1c.7")!)?.members.map(\.description) ?? [])
        }
        #expect(try group("6.10.14") == ["0000:00:1c.7"])
        #expect(try group("6.11.7") == ["0000:00:1c.7"])
        #expect(try group("6.12.1") == ["0000:00:1c.7"])
        let regressed = try group("6.11.6")
        #expect(regressed.contains("0000:00:1c.7") && regressed.contains("0000:06:00.0"), "\(regressed)")
    }

    /// From 6.1 SMMUv3 puts the HiSilicon PTT device (19e5:a12e) in identity on a strict build.
    @Test func smmuV3PutsHiSiliconPTTInIdentityFromSixOne() throws {
        var snapshot = try Captures.snapshot("qemu-6.12-arm-smmuv3-acpi-default-2g-c")
        let slot = try #require(PCIAddress("0000:00:05.0"))
        let index = try #require(snapshot.pciDevices.firstIndex { $0.address == slot })
        snapshot.pciDevices[index].vendorID = 0x19e5
        snapshot.pciDevices[index].deviceID = 0xa12e
        #expect(ModelContext(snapshot).typeDecision(for: [slot]).type == .identity)
        snapshot.kernel.version = KernelVersion(6, 0)
        #expect(ModelContext(snapshot).typeDecision(for: [slot]).type == .dma)
    }

    /// Since 5.4 memory encryption turns a built-in passthrough default translated; a passthrough the
    /// command line asked for stays.
    @Test func memoryEncryptionCancelsABuiltInPassthroughDefault() throws {
        var snapshot = try Captures.snapshot("qemu-6.12-amd-default-2g-b")
        snapshot.kernelConfig = try KernelConfigParser.parse(Array("CONFIG_AMD_IOMMU=y\nCONFIG_IOMMU_DEFAULT_PASSTHROUGH=y\n".utf8))
        snapshot.kernel.commandLine = KernelCommandLine("quiet")
        #expect(Model.predict(snapshot).policy.globalType == .identity)
        snapshot.kernel.commandLine = KernelCommandLine("quiet mem_encrypt=on")
        let encrypted = Model.predict(snapshot).policy
        #expect(encrypted.globalType != .identity)
        #expect(encrypted.passthroughSource == .memoryEncryption("`mem_encrypt=on`"))
        snapshot.kernel.commandLine = KernelCommandLine("mem_encrypt=on iommu=pt")
        #expect(Model.predict(snapshot).policy.globalType == .identity)
        snapshot.kernel.commandLine = KernelCommandLine("mem_encrypt=on mem_encrypt=off")
        #expect(Model.predict(snapshot).policy.globalType == .identity)
        snapshot.kernel.version = KernelVersion(5, 3)
        snapshot.kernel.commandLine = KernelCommandLine("mem_encrypt=on")
        #expect(Model.predict(snapshot).policy.globalType == .identity)
    }

    /// From 6.16 the AMD driver leaves out the HyperTransport hole when EFR2 bit 11 says the hardware
    /// ignores that range.
    @Test func theHyperTransportHoleGoesWhenTheHardwareIgnoresTheRange() throws {
        var snapshot = try Captures.snapshot("qemu-7-amd-default-6g-a")
        func hasHole() -> Bool {
            Model.predict(snapshot).groups.contains { $0.regions.contains { $0.region.start == 0xfd_0000_0000 } }
        }
        #expect(hasHole())
        let plain = snapshot.iommus
        snapshot.iommus = plain.map { IOMMUUnit(name: $0.name, driver: .amd(capability: nil, features: [0x29d3, 1 << 11])) }
        #expect(!hasHole())
        snapshot.kernel.version = KernelVersion(6, 15)
        #expect(hasHole())
    }

    /// 59ddce4418da (6.7), not 6.5: until then a conflict in one group falls back to the default.
    @Test func identityWinsConflictsFromSixSeven() {
        #expect(KernelRules(KernelVersion(6, 6)).groupResolution == .conflictFallsBackToDefault)
        #expect(KernelRules(KernelVersion(6, 7)).groupResolution == .identityWins)
        #expect(!KernelRules(KernelVersion(5, 10)).typeWriteChecksRequirements)
        #expect(KernelRules(KernelVersion(5, 11)).typeWriteChecksRequirements)
    }
}
