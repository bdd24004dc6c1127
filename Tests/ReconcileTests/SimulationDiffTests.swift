import IOMMUModel
import IOMMUSnapshot
import Reconcile
import Testing

/// `SimulationDiff` compares before and after by key.
@Suite struct SimulationDiffTests {
    static let kind = DivergenceKind(
        name: "test-kind", messageID: "00112233445566778899aabbccddeeff", defaultSeverity: .warning, title: "t", explanation: "e",
        remedy: "r")

    func divergence(_ key: String, _ message: String = "m", severity: Severity? = nil) -> Divergence {
        Divergence(kind: Self.kind, severity: severity, key: key, group: nil, slot: nil, message: message)
    }

    @Test func sortsEveryKeyIntoOneOutcome() {
        let before = [divergence("gone"), divergence("same"), divergence("louder"), divergence("reworded")]
        let after = [
            divergence("same"), divergence("louder", severity: .error), divergence("reworded", "other"), divergence("new"),
        ]
        let diff = SimulationDiff(notes: ["n"], before: before, after: after)
        #expect(diff.notes == ["n"])
        #expect(diff.appear.map(\.key) == ["new"])
        #expect(diff.disappear.map(\.key) == ["gone"])
        #expect(diff.changed.map(\.after.key) == ["louder", "reworded"])
        #expect(diff.changed.map(\.before.severity) == [.warning, .warning])
        #expect(diff.unchanged.map(\.key) == ["same"])
    }

    @Test func noChangeLeavesEverythingUnchanged_linux61() throws {
        let snapshot = try Fixtures.read("linux-61-intel")
        let diff = SimulationDiff(snapshot: snapshot, overrides: Overrides())
        #expect(diff.appear.isEmpty && diff.disappear.isEmpty && diff.changed.isEmpty)
        #expect(diff.unchanged.count == Reconciler.divergences(in: snapshot).count)
    }

    @Test func turningTheIOMMUOffMakesItsAbsenceAppear_linux61() throws {
        let diff = SimulationDiff(snapshot: try Fixtures.read("linux-61-intel"), overrides: Overrides(commandLine: "intel_iommu=off"))
        #expect(diff.appear.map(\.kind.name) == ["iommu-disabled"])
        #expect(diff.notes.count == 1)
    }
}
