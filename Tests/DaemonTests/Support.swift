import IOMMUSnapshot
import Reconcile
@testable import Daemon

/// Divergence kinds for tests of the transition logic; the real catalog lives in Reconcile.
enum TestKinds {
    static let notViable = DivergenceKind(
        name: "vfio-group-not-viable", messageID: "0123456789abcdef0123456789abcdef", defaultSeverity: .error,
        title: "t", explanation: "e", remedy: "r")
    static let sharedIdentity = DivergenceKind(
        name: "shared-identity-domain", messageID: "fedcba9876543210fedcba9876543210", defaultSeverity: .notice,
        title: "t", explanation: "e", remedy: "r")
}

func divergence(
    _ kind: DivergenceKind = TestKinds.notViable, key: String, severity: Severity? = nil, group: Int? = 5, slot: String? = "0000:02:01.0"
) -> Divergence {
    Divergence(
        kind: kind, severity: severity, key: key, group: group, slot: slot.flatMap { PCIAddress($0) },
        message: "Group \(group ?? -1) has devices bound to vfio-pci and to host drivers.", domainType: .dmaFQ, expected: "all vfio-pci",
        observed: "mixed")
}

func group(_ id: Int, _ members: [String], type: String? = "DMA-FQ", drivers: [String: String?] = [:]) -> GroupState {
    GroupState(id: id, members: members, type: type, drivers: drivers)
}
