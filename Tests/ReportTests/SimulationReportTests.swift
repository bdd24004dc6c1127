import IOMMUSnapshot
import Reconcile
import Report
import Testing

/// `simulate`'s text and JSON, from a diff made by hand.
@Suite struct SimulationReportTests {
    static let kind = DivergenceKind(
        name: "test-kind", messageID: "00112233445566778899aabbccddeeff", defaultSeverity: .warning, title: "t", explanation: "e",
        remedy: "r")

    static let diff = SimulationDiff(
        notes: ["`intel_iommu=off`: no groups"],
        before: [
            Divergence(kind: kind, key: "old", group: 1, slot: nil, message: "gone"),
            Divergence(kind: kind, key: "kept", group: 2, slot: nil, message: "was"),
        ],
        after: [
            Divergence(kind: kind, severity: .error, key: "kept", group: 2, slot: nil, message: "now\u{1b}"),
            Divergence(kind: kind, key: "new", group: nil, slot: nil, message: "appears"),
        ])

    @Test func textListsEachSectionAndEscapesControlCharacters() {
        #expect(
            SimulationReport.text(Self.diff) == """
                • `intel_iommu=off`: no groups

                would appear (1)
                  + [warning] test-kind: appears

                would disappear (1)
                  - [warning] test-kind: gone

                would change (1)
                  ~ [warning → error] test-kind: now\\x1b

                unchanged: 0

                """)
    }

    @Test func jsonHasTheFiveFields() {
        let text = String(decoding: SimulationReport.json(Self.diff), as: UTF8.self)
        for field in ["\"notes\"", "\"appear\"", "\"disappear\"", "\"change\"", "\"unchanged\": 0"] {
            #expect(text.contains(field), "\(field)")
        }
    }
}
