import Foundation
import IOMMUModel
import IOMMUSnapshot
import Reconcile
import Testing

/// What a capture's configuration says it should show, from its `manifest.json` (written by
/// Tests/RealKernel: `expectedDivergences` is "clean", a list of names, or null for "not asserted")
/// and its `proc/cmdline`: hazards are read from how the machine was booted, never from the model.
struct CaptureConfiguration: CustomStringConvertible {
    let name: String
    let commandLine: KernelCommandLine
    /// Names the manifest says must appear.
    let manifestExpects: [String]
    /// The manifest says "clean"; nil when there is no manifest or it asserts nothing.
    let manifestSaysClean: Bool?
    /// A `type` write the kernel accepted during the capture (the typewrite scenario's log).
    let acceptedTypeWrite: Bool
    let hasManifest: Bool
    let snapshot: Snapshot

    init(_ name: String, snapshot: Snapshot) {
        self.name = name
        self.snapshot = snapshot
        var line = snapshot.kernel.commandLine ?? KernelCommandLine("")
        var expects: [String] = []
        var clean: Bool?
        var written = false
        let manifestURL = Fixtures.folder.appendingPathComponent(name + "/manifest.json")
        let manifest = (try? Data(contentsOf: manifestURL)).flatMap { try? JSONSerialization.jsonObject(with: $0) as? [String: Any] }
        if let manifest {
            if snapshot.kernel.commandLine == nil, let text = manifest["cmdline"] as? String { line = KernelCommandLine(text) }
            if let names = manifest["expectedDivergences"] as? [String] { expects = names }
            if let word = manifest["expectedDivergences"] as? String { clean = word == "clean" }
            // "unbound, write identity: echo identity > 5/type -> rc=0; type now identity"
            written = (manifest["typeWrites"] as? [String] ?? []).contains { $0.contains(" write ") && $0.contains("-> rc=0") }
        }
        self.hasManifest = manifest != nil
        self.commandLine = line
        self.manifestExpects = expects
        self.manifestSaysClean = clean
        self.acceptedTypeWrite = written
    }

    var isIntel: Bool { snapshot.firmware.dmar != nil || snapshot.iommus.contains { $0.driver.name == "intel-iommu" } }
    var asksForPassthrough: Bool {
        commandLine.options(of: "iommu").contains("pt") || ["1", "y", "on"].contains(commandLine.value(of: "iommu.passthrough") ?? "")
    }
    var disablesIOMMU: Bool {
        (isIntel && commandLine.options(of: "intel_iommu").contains("off"))
            || (!isIntel && commandLine.options(of: "amd_iommu").contains("off"))
            || commandLine.options(of: "iommu").contains("off")
    }
    var hasFirmwareTable: Bool { snapshot.firmware.dmar != nil || snapshot.firmware.ivrs != nil }
    var bindsVFIO: Bool { snapshot.pciDevices.contains { $0.driver?.hasPrefix("vfio") == true } }

    /// Clean: booted without a hazard and left alone. A manifest's "clean" is trusted unless the capture
    /// itself records an accepted `type` write (which the kernel did not choose).
    var isClean: Bool {
        if acceptedTypeWrite { return false }
        if let manifestSaysClean { return manifestSaysClean }
        return !hasManifest && !asksForPassthrough && !disablesIOMMU && !bindsVFIO
    }

    var description: String { name }
}

@Suite struct RealCaptureDivergenceTests {
    @Test func theFourSharedCapturesAreThere() {
        for name in ["linux-510-intel", "linux-61-intel", "linux-61-intel-pt", "linux-612-intel"] {
            #expect(Fixtures.all.contains(name), "Tests/Fixtures/\(name) is missing")
        }
    }

    @Test(arguments: Fixtures.all)
    func cleanCaptureHasNoDivergenceAtWarningOrAbove(_ name: String) throws {
        let snapshot = try Fixtures.read(name)
        let configuration = CaptureConfiguration(name, snapshot: snapshot)
        guard configuration.isClean else { return }
        let serious = Reconciler.divergences(in: snapshot).filter { $0.severity >= .warning }
        #expect(serious.isEmpty, "\(name): \(serious.map { "\($0.kind.name): \($0.message)" })")
    }

    @Test(arguments: Fixtures.all)
    func passthroughCaptureReportsSharedIdentityDomainAtNotice(_ name: String) throws {
        let snapshot = try Fixtures.read(name)
        let configuration = CaptureConfiguration(name, snapshot: snapshot)
        guard configuration.asksForPassthrough, !configuration.disablesIOMMU else { return }
        let shared = Reconciler.divergences(in: snapshot).filter { $0.kind == Catalog.sharedIdentityDomain }
        // AMD allocates an identity domain per group (amd_iommu_domain_alloc()) until its static
        // identity domain (4402f2627d30, 6.13), SMMUv3 until arm_smmu_identity_domain (12dacfb5b938,
        // 6.9): nothing is shared there, so nothing is reported.
        let isSMMUv3 = snapshot.iommus.contains { $0.driver.name == "arm-smmu-v3" }
        let sharedFrom = isSMMUv3 ? KernelVersion(6, 9) : KernelVersion(6, 13)
        if !configuration.isIntel, let version = snapshot.kernel.version, version < sharedFrom {
            #expect(shared.isEmpty, "\(name)")
            return
        }
        #expect(shared.count == 1, "\(name)")
        // Every released kernel keeps the shared domain alive, and the policy asked for identity: notice,
        // unless a removable device is among the identity groups.
        let removable = snapshot.pciDevices.contains { $0.removable == .removable }
        #expect(shared.first?.severity == (removable ? .error : .notice), "\(name)")
        #expect(shared.first?.message.contains(snapshot.kernel.release ?? "?") == true)
    }

    @Test(arguments: Fixtures.all)
    func disabledIOMMUWithFirmwareTableReportsIOMMUDisabled(_ name: String) throws {
        let snapshot = try Fixtures.read(name)
        let configuration = CaptureConfiguration(name, snapshot: snapshot)
        guard configuration.disablesIOMMU, configuration.hasFirmwareTable else { return }
        let disabled = Reconciler.divergences(in: snapshot).filter { $0.kind == Catalog.iommuDisabled }
        #expect(disabled.count == 1, "\(name)")
    }

    @Test(arguments: Fixtures.all)
    func acceptedTypeWriteIsDefaultTypeMismatch(_ name: String) throws {
        let snapshot = try Fixtures.read(name)
        guard CaptureConfiguration(name, snapshot: snapshot).acceptedTypeWrite else { return }
        #expect(Reconciler.divergences(in: snapshot).contains { $0.kind == Catalog.defaultTypeMismatch }, "\(name)")
    }

    @Test(arguments: Fixtures.all)
    func manifestExpectationsAreMet(_ name: String) throws {
        let snapshot = try Fixtures.read(name)
        let configuration = CaptureConfiguration(name, snapshot: snapshot)
        let found = Set(Reconciler.divergences(in: snapshot).map(\.kind.name))
        for expected in configuration.manifestExpects {
            #expect(found.contains(expected), "\(name): manifest expects \(expected), found \(found.sorted())")
        }
    }

    @Test(arguments: Fixtures.all)
    func keysDoNotDependOnGroupNumbers(_ name: String) throws {
        let snapshot = try Fixtures.read(name)
        var renumbered = snapshot
        // Same machine, groups allocated in another order: ids reversed.
        let maximum = snapshot.groups.map(\.id).max() ?? 0
        renumbered.groups = snapshot.groups.map { group in
            var group = group
            group.id = maximum - group.id
            return group
        }
        for index in renumbered.pciDevices.indices {
            renumbered.pciDevices[index].iommuGroup = renumbered.pciDevices[index].iommuGroup.map { maximum - $0 }
        }
        #expect(Set(Reconciler.divergences(in: snapshot).map(\.key)) == Set(Reconciler.divergences(in: renumbered).map(\.key)))
    }

    @Test func everyDivergenceCarriesItsKindAndASentence() throws {
        for name in Fixtures.all {
            for divergence in Reconciler.divergences(in: try Fixtures.read(name)) {
                #expect(divergence.key.hasPrefix(divergence.kind.name + ":"))
                #expect(divergence.message.count > 40)
            }
        }
    }
}
