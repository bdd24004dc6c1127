import Foundation
import IOMMUModel
import IOMMUSnapshot
import Reconcile
import TestSupport
import Testing

/// "Which mode am I in": on every real-kernel capture the posture states the mode the guest was
/// booted into and the setting that decided it, as its manifest records the boot.
@Suite struct PostureTests {
    struct Boot: Sendable, CustomStringConvertible {
        var capture: String
        var iommu: String
        var variant: String
        var line: String
        var isARM: Bool { iommu.hasPrefix("smmu") || iommu.hasPrefix("virtio") }
        /// The driver the unit belongs to.
        var driver: String {
            if iommu.hasPrefix("smmuv3") { return "arm-smmu-v3" }
            if iommu.hasPrefix("virtio") { return "virtio-iommu" }
            return iommu == "amd" ? "amd-iommu" : "intel-iommu"
        }
        var description: String { capture }
    }

    static let boots: [Boot] = Fixtures.all.compactMap { name in
        guard let data = FileManager.default.contents(atPath: FixtureFiles.root(name) + "/manifest.json"),
            let manifest = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
            let iommu = manifest["iommu"] as? String, let variant = manifest["cmdlineVariant"] as? String,
            let line = manifest["kernelLine"] as? String
        else { return nil }
        return Boot(capture: name, iommu: iommu, variant: variant, line: line)
    }

    /// How each boot was made (Tests/RealKernel/matrix.py): the command line it added, and what QEMU's
    /// emulated unit does to the flush policy (Intel caching mode, AMD NpCache from 5.15). arm64
    /// builds default to strict; virtio-iommu on 7.x attaches nothing (docs/testbed.md).
    static func expected(_ boot: Boot) -> (DomainMode, because: String) {
        if boot.isARM {
            switch boot.variant {
            case "lazy": return (.translatedLazy, "iommu.strict=0")
            case "strict": return (.translatedStrict, "iommu.strict=1")
            case "passthrough": return (.passthrough, "iommu.passthrough=1")
            default:
                if boot.iommu.hasPrefix("virtio") && boot.line == "7" { return (.off, "the kernel made no groups") }
                return (.translatedStrict, "arm64 build's default")
            }
        }
        switch boot.variant {
        case "off" where boot.iommu.hasPrefix("intel"): return (.off, "intel_iommu=off")
        case "pt": return (.passthrough, "iommu=pt")
        case "passthrough": return (.passthrough, "iommu.passthrough=1")
        case "strict": return (.translatedStrict, "iommu.strict=1")
        default:
            if boot.iommu == "intel-cm" { return (.translatedStrict, "caching mode") }
            if boot.iommu == "amd" && boot.line != "5.10" { return (.translatedStrict, "NpCache") }
            return (.translatedLazy, "default build")
        }
    }

    @Test func everyRealKernelConfigurationIsCovered() {
        #expect(Self.boots.count >= 30)
        #expect(
            Set(Self.boots.map(\.variant)).isSuperset(of: ["default", "pt", "passthrough", "strict", "off", "lazy", "default-nonedrivers"]))
        #expect(Self.boots.filter(\.isARM).count >= 16)
    }

    @Test(arguments: boots)
    func theModeIsHowTheGuestWasBooted(_ boot: Boot) throws {
        let snapshot = try Fixtures.read(boot.capture)
        let posture = try #require(Reconciler.reconcile(snapshot).posture)
        let (mode, because) = Self.expected(boot)
        #expect(posture.mode == mode)
        // virtio-iommu on 7.x registers its unit and attaches nothing: not what the rules predict.
        #expect(posture.modeAsPredicted == !(boot.isARM && mode == .off))
        #expect(posture.decidedBy.contains(because), "\(posture.decidedBy)")
        #expect(posture.drivers.keys.sorted() == (mode == .off && !boot.isARM ? [] : [boot.driver]))
    }

    @Test func aCaptureWithoutPlatformFilesSaysSoInsteadOfOff() throws {
        let posture = try #require(Reconciler.reconcile(try Fixtures.read("linux-61-intel")).posture)
        #expect(posture.interruptRemapping.value == nil)
        #expect(posture.vfioNoIOMMUMode.value == nil)
        #expect(posture.vfioAllowUnsafeInterrupts.value == nil)
        #expect(posture.iommufd.value == nil)
        #expect(posture.notChecked.count >= 4)
    }

    @Test func interruptRemappingComesFromTheChips() throws {
        var snapshot = try Fixtures.read("linux-61-intel")
        func remapping(_ chips: [String]) -> Bool? {
            snapshot.platform.interrupts = InterruptTable(
                lines: chips.enumerated().map { InterruptTable.Line(number: $0.offset, chip: $0.element) })
            return Reconciler.reconcile(snapshot).posture?.interruptRemapping.value
        }
        #expect(remapping(["IR-IO-APIC", "IR-PCI-MSIX-0000:00:1f.6", "DMAR-MSI"]) == true)
        #expect(remapping(["IR-IO-APIC", "PCI-MSI-0000:00:02.0"]) == false)
        #expect(remapping(["IO-APIC", "PCI-MSIX-0000:00:01.0"]) == false)
        // Arm: the GICv3 ITS isolates MSIs per device, which is what VFIO asks for there.
        #expect(remapping(["GICv3", "ITS-MSI"]) == true)
        #expect(remapping(["GICv3", "ITS-PCI-MSIX-0000:00:05.0", "PCI-MSI"]) == false)
        #expect(remapping(["GICv3"]) == nil)
    }

    @Test func vfioWithoutAnIOMMUIsNamed() throws {
        var snapshot = try Fixtures.read("linux-61-intel")
        snapshot.groups[0].name = "vfio-noiommu"
        snapshot.platform.vfioLoaded = true
        snapshot.platform.vfioNoIOMMUMode = true
        let posture = try #require(Reconciler.reconcile(snapshot).posture)
        #expect(posture.noIOMMUGroups == [snapshot.groups[0].id])
        #expect(posture.vfioNoIOMMUMode.value == true)
        // Loaded, but the parameter file was unreadable: not known, not "off".
        #expect(posture.vfioAllowUnsafeInterrupts.value == nil)
    }

    @Test func groupsOfAnotherTypeThanTheRulesPredictAreCalledSo() throws {
        var snapshot = try Fixtures.read("linux-61-intel")
        for index in snapshot.groups.indices { snapshot.groups[index].type = .value(.identity, hasNewline: true) }
        let posture = try #require(Reconciler.reconcile(snapshot).posture)
        #expect(posture.mode == .passthrough)
        #expect(!posture.modeAsPredicted)
        #expect(posture.decidedBy.hasPrefix("not what the rules predict"))
    }
}
