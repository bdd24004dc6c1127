import Foundation
import IOMMUModel
import IOMMUSnapshot
import Reconcile
import Testing

/// What a capture's configuration says it should show, from its `manifest.json` when present and its
/// `proc/cmdline`: the hazards are read from how the machine was booted, never from the model.
struct CaptureConfiguration: CustomStringConvertible {
    let name: String
    let commandLine: KernelCommandLine
    /// Divergence names the manifest says must appear, if it lists any.
    let manifestExpects: [String]
    let hasFirmwareTable: Bool

    init(_ name: String, snapshot: Snapshot) {
        self.name = name
        var line = snapshot.kernel.commandLine ?? KernelCommandLine("")
        var expects: [String] = []
        let manifestURL = Fixtures.folder.appendingPathComponent(name + "/manifest.json")
        if let data = try? Data(contentsOf: manifestURL), let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] {
            for key in ["cmdline", "commandLine", "command_line", "append"] {
                if let text = object[key] as? String, snapshot.kernel.commandLine == nil { line = KernelCommandLine(text) }
            }
            for key in ["expectedDivergences", "expected_divergences", "expect", "divergences"] {
                if let names = object[key] as? [String] { expects += names }
            }
        }
        self.commandLine = line
        self.manifestExpects = expects
        self.hasFirmwareTable = snapshot.firmware.dmar != nil || snapshot.firmware.ivrs != nil
    }

    var asksForPassthrough: Bool {
        commandLine.options(of: "iommu").contains("pt") || ["1", "y", "on"].contains(commandLine.value(of: "iommu.passthrough") ?? "")
    }
    var disablesIOMMU: Bool {
        commandLine.options(of: "intel_iommu").contains("off") || commandLine.options(of: "amd_iommu").contains("off") || commandLine.options(of: "iommu").contains("off")
    }
    /// Captures where something is bound to VFIO were set up to show a VFIO hazard.
    func bindsVFIO(_ snapshot: Snapshot) -> Bool { snapshot.pciDevices.contains { $0.driver?.hasPrefix("vfio") == true } }

    func isClean(_ snapshot: Snapshot) -> Bool { !asksForPassthrough && !disablesIOMMU && !bindsVFIO(snapshot) && manifestExpects.isEmpty }

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
        guard configuration.isClean(snapshot) else { return }
        let serious = Reconciler.divergences(in: snapshot).filter { $0.severity >= .warning }
        #expect(serious.isEmpty, "\(name): \(serious.map { "\($0.kind.name): \($0.message)" })")
    }

    @Test(arguments: Fixtures.all)
    func passthroughCaptureReportsSharedIdentityDomainAtNotice(_ name: String) throws {
        let snapshot = try Fixtures.read(name)
        let configuration = CaptureConfiguration(name, snapshot: snapshot)
        guard configuration.asksForPassthrough, !configuration.disablesIOMMU else { return }
        let shared = Reconciler.divergences(in: snapshot).filter { $0.kind == Catalog.sharedIdentityDomain }
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
        for index in renumbered.pciDevices.indices { renumbered.pciDevices[index].iommuGroup = renumbered.pciDevices[index].iommuGroup.map { maximum - $0 } }
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
