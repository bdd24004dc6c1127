import Foundation
import Testing
import IOMMUModel
import IOMMUSnapshot
import Reconcile
import TestSupport
@testable import Report

let fixtures = FixtureFiles.folder

private let captures = ["linux-510-intel", "linux-61-intel", "linux-61-intel-pt", "linux-612-intel"]

private func temporaryFolder() -> String {
    NSTemporaryDirectory() + "iommu-watch-report-" + UUID().uuidString
}

/// A divergence value to render; the reconciler's own tests decide when real ones appear.
private let sample = Divergence(
    kind: DivergenceKind(
        name: "test-kind", messageID: "00112233445566778899aabbccddeeff", defaultSeverity: .warning,
        title: "t", explanation: "e", remedy: "r"),
    key: "k", group: 8, slot: PCIAddress("0000:00:1f.0"), message: "Quote \" and backslash \\ and tab \t and \u{01}.")

@Suite struct ReportTests {
    @Test(arguments: captures)
    func snapshotOfARootScansToTheSameBytes(_ capture: String) throws {
        let recorder = TreeRecorder()
        let original = try SnapshotReader.read(root: fixtures.appendingPathComponent(capture).path, recorder: recorder)
        let copy = temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: copy) }
        try recorder.write(to: copy)
        let reread = try SnapshotReader.read(root: copy)
        #expect(ScanJSON.render(reread, divergences: []) == ScanJSON.render(original, divergences: []))
        #expect(reread == original)
        // Links stay links in the copy.
        let link = copy + "/sys/bus/pci/devices/0000:02:01.0"
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: link) == "../../../devices/pci0000:00/0000:00:05.0/0000:02:01.0")
    }

    @Test func snapshotRefusesANonEmptyOutputFolder() throws {
        let recorder = TreeRecorder()
        _ = try SnapshotReader.read(root: fixtures.appendingPathComponent("linux-61-intel").path, recorder: recorder)
        let output = temporaryFolder()
        try FileManager.default.createDirectory(atPath: output + "/something", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: output) }
        #expect(throws: WriteError.self) { try recorder.write(to: output) }
    }

    @Test func theSchemaDocumentListsExactlyTheFieldsScanPrints() throws {
        let doc = try String(contentsOf: FixtureFiles.packageRoot.appendingPathComponent("docs/json.md"), encoding: .utf8)
        let block = try #require(doc.components(separatedBy: "```fields\n").last?.components(separatedBy: "```").first)
        let documented = Set(block.split(separator: "\n").map(String.init))
        let snapshot = try SnapshotReader.read(root: fixtures.appendingPathComponent("linux-61-intel").path)
        var withError = snapshot
        withError.errors = [ReadError(path: "p", kind: .missing)]
        var found = Reconciler.reconcile(withError)
        found.divergences = [sample]
        found.unverified = [Unverified(group: 7, members: [PCIAddress("0000:00:0d.0")!], question: "q", reason: "r", remedy: "m")]
        // One of each optional list, so every field of the posture is printed.
        found.posture?.noIOMMUGroups = [3]
        found.posture?.thunderboltDMAProtection = ["domain0": true]
        found.posture?.untrustedDevices = [PCIAddress("0000:05:00.0")!]
        found.posture?.interruptRemapping = .known(true, evidence: "e")
        let smmu = FirmwareIOMMU(name: "the SMMUv3 at 0x9050000", source: "IORT", pciAddress: nil)
        found.posture?.firmwareRoutes = .known(
            FirmwareRouteSummary(
                translated: [.init(iommu: smmu, functions: [PCIAddress("0000:00:01.0")!])], bypassing: [PCIAddress("0000:03:00.0")!]),
            evidence: "IORT")
        let slot = PCIAddress("0000:00:1f.3")!
        found.vfio[8]?.mustUnbind = [VFIOReadiness.Binding(device: slot, driver: "i801_smbus")]
        found.vfio[8]?.mayStay = [VFIOReadiness.Binding(device: slot, driver: "pci-stub")]
        let json = try JSONSerialization.jsonObject(with: Data(ScanJSON.render(withError, found)))
        #expect(fieldPaths(json) == documented)
    }

    @Test func jsonEscapesWhatItMust() throws {
        let snapshot = try SnapshotReader.read(root: fixtures.appendingPathComponent("linux-61-intel").path)
        let json = try #require(
            try JSONSerialization.jsonObject(with: Data(ScanJSON.render(snapshot, divergences: [sample]))) as? [String: Any])
        let divergence = try #require((json["divergences"] as? [[String: Any]])?.first)
        #expect(divergence["message"] as? String == sample.message)
        #expect(divergence["slot"] as? String == "0000:00:1f.0")
        let group = try #require((json["groups"] as? [[String: Any]])?.first { $0["id"] as? Int == 8 })
        let devices = try #require(group["devices"] as? [[String: Any]])
        #expect(devices.map { $0["slot"] as? String } == ["0000:00:1f.0", "0000:00:1f.2", "0000:00:1f.3"])
        #expect(devices.first?["class"] as? String == "0x060100")
        #expect(devices.first?["driver"] is NSNull)
    }

    @Test func textShowsEachGroupWithRegionsAndReadableDevices() throws {
        let snapshot = try SnapshotReader.read(root: fixtures.appendingPathComponent("linux-61-intel").path)
        let text = ScanText.render(snapshot, divergences: [])
        #expect(
            text.contains(
                "Group 8  DMA-FQ\n  reserved 0x0000000000000000 0x0000000000ffffff direct-relaxable\n           0x00000000fee00000 0x00000000feefffff msi\n  0000:00:1f.0  8086:2918  ISA bridge"
            ))
        #expect(text.contains("0000:00:04.0  1b36:000c  PCI bridge                       pcieport"))
        #expect(text.contains("10 IOMMU groups, 14 devices"))
    }

    @Test func noGroupsExplainsWhetherFirmwareHasAnIOMMU() {
        var snapshot = Snapshot(hasIOMMUGroupsFolder: false)
        #expect(
            IOMMUAbsence.explanation(for: snapshot, translation: Model.predict(snapshot).policy.translation).contains("declares no IOMMU"))
        snapshot.firmware.dmar = FirmwareTable(bytes: nil)
        #expect(IOMMUAbsence.explanation(for: snapshot, translation: Model.predict(snapshot).policy.translation).contains("intel_iommu=on"))
        snapshot.kernel.commandLine = KernelCommandLine("quiet intel_iommu=off")
        #expect(
            IOMMUAbsence.explanation(for: snapshot, translation: Model.predict(snapshot).policy.translation).contains(
                "says intel_iommu=off"))
        snapshot.firmware = FirmwareTables(ivrs: FirmwareTable(bytes: nil))
        snapshot.kernel.commandLine = KernelCommandLine("amd_iommu=off")
        #expect(
            IOMMUAbsence.explanation(for: snapshot, translation: Model.predict(snapshot).policy.translation).contains("says amd_iommu=off"))
        #expect(ScanText.render(snapshot, divergences: []).contains("No IOMMU groups (sys/kernel/iommu_groups does not exist)"))
        // `intel_iommu=off,on` leaves VT-d on (tokens apply left to right): the words follow the model.
        snapshot.firmware = FirmwareTables(dmar: FirmwareTable(bytes: nil))
        snapshot.kernel.commandLine = KernelCommandLine("intel_iommu=off,on")
        #expect(
            !IOMMUAbsence.explanation(for: snapshot, translation: Model.predict(snapshot).policy.translation).contains("says intel_iommu"))
    }
}

/// Every key path in a JSON value, arrays written `[]`.
private func fieldPaths(_ value: Any, prefix: String = "") -> Set<String> {
    var paths: Set<String> = []
    if let object = value as? [String: Any] {
        for (key, child) in object {
            let path = prefix.isEmpty ? key : prefix + "." + key
            paths.insert(path)
            paths.formUnion(fieldPaths(child, prefix: path))
        }
    } else if let array = value as? [Any] {
        for child in array { paths.formUnion(fieldPaths(child, prefix: prefix + "[]")) }
    }
    return paths
}

/// Every capture in Tests/Fixtures, the test bed's included, listed anew each run.
private let allCaptures = FixtureFiles.captures

@Suite struct EveryCaptureTests {
    @Test(arguments: allCaptures)
    func readsWithoutErrors(_ capture: String) throws {
        let snapshot = try SnapshotReader.read(root: fixtures.appendingPathComponent(capture).path)
        #expect(snapshot.errors == [], "\(capture): \(snapshot.errors.map { "\($0.path): \($0.message)" })")
    }

    /// The test bed keeps the scan the guest printed on the live kernel beside the snapshot it took:
    /// reading the snapshot on the host must show the same kernel, IOMMUs and groups.
    @Test(arguments: allCaptures)
    func snapshotShowsWhatTheLiveScanShowed(_ capture: String) throws {
        let liveURL = fixtures.appendingPathComponent(capture + "/live-scan.json")
        guard FileManager.default.fileExists(atPath: liveURL.path) else { return }
        let live = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: liveURL)) as? [String: Any])
        let snapshot = try SnapshotReader.read(root: fixtures.appendingPathComponent(capture).path)
        var replay = try #require(
            try JSONSerialization.jsonObject(with: Data(ScanJSON.render(snapshot, divergences: []))) as? [String: Any])
        // The live scans were taken before groups carried the model's `reasons` and `vfio` and devices
        // their `name`: compare what both have.
        replay["groups"] = (replay["groups"] as? [[String: Any]])?.map { group in
            var group = group.filter { $0.key != "reasons" && $0.key != "vfio" }
            group["devices"] = (group["devices"] as? [[String: Any]])?.map { $0.filter { $0.key != "name" } }
            return group
        }
        for field in ["kernel", "iommus", "groups"] {
            let same = NSDictionary(dictionary: [field: live[field] ?? NSNull()]).isEqual(to: [field: replay[field] ?? NSNull()])
            #expect(same, "\(capture): \(field) differs between the live scan and the snapshot")
        }
    }

    /// The ARM64 column (issue #12): what the reader must already do on SMMUv3 and virtio-iommu trees —
    /// read them without errors, every group of the tree with its type and members.
    @Test(arguments: FixtureFiles.armCaptures)
    func armCaptureReadsEveryGroup(_ capture: String) throws {
        let root = fixtures.appendingPathComponent(capture)
        let snapshot = try SnapshotReader.read(root: root.path)
        #expect(snapshot.errors == [], "\(capture): \(snapshot.errors.map { "\($0.path): \($0.message)" })")
        let groups = root.appendingPathComponent("sys/kernel/iommu_groups")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: groups.path)) ?? []
        #expect(Set(snapshot.groups.map { String($0.id) }) == Set(names), "\(capture)")
        for group in snapshot.groups {
            let members = try FileManager.default.contentsOfDirectory(
                atPath: groups.appendingPathComponent("\(group.id)/devices").path)
            #expect(Set(group.members.map(\.name)) == Set(members), "\(capture): group \(group.id)")
        }
    }

    @Test func amdIOMMUFunctionHoldsItsUnitAsAFolderNotALink() throws {
        let snapshot = try SnapshotReader.read(root: fixtures.appendingPathComponent("qemu-6.12-amd-default-2g-b").path)
        #expect(snapshot.errors == [])
        let unit = try #require(snapshot.iommus.first)
        #expect(unit.name == "ivhd0")
        #expect(unit.driver == .amd(capability: 0x1f03000f, features: [0x29d3, 0]))
        let iommuFunction = try #require(snapshot.device(PCIAddress(domain: 0, bus: 0, device: 1, function: 0)))
        #expect(iommuFunction.classCode == 0x080600)
        #expect(iommuFunction.iommu == nil)
    }
}

/// Colour: only at a terminal that wants it, only on lines the renderer began.
@Suite struct TerminalColourTests {
    @Test func noColorAndDumbTerminalsAndPipesGetNone() {
        #expect(TerminalColour.wanted(isTerminal: true, environment: ["TERM": "xterm-256color"]))
        #expect(!TerminalColour.wanted(isTerminal: false, environment: [:]))
        #expect(!TerminalColour.wanted(isTerminal: true, environment: ["NO_COLOR": "1"]))
        #expect(TerminalColour.wanted(isTerminal: true, environment: ["NO_COLOR": ""]))
        #expect(!TerminalColour.wanted(isTerminal: true, environment: ["TERM": "dumb"]))
    }

    @Test func severitiesAreColouredAndNothingElseIs() {
        let text = "  warning isolation-not-backed: x\n  0000:00:1f.0  8086:2918  warning in a name\nwhy: warning\n"
        let coloured = TerminalColour.apply(text)
        #expect(coloured.hasPrefix("  \u{1b}[33mwarning\u{1b}[0m isolation-not-backed: x\n"))
        #expect(coloured.hasSuffix("  0000:00:1f.0  8086:2918  warning in a name\nwhy: warning\n"))
        #expect(TerminalColour.apply("interrupts:  NOT remapped (x)\n").contains("\u{1b}[1;31mNOT remapped\u{1b}[0m"))
    }
}
