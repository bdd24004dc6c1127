import ArgumentParser
import Reconcile

/// `iommu-watch explain NAME|MESSAGE_ID`: the catalog entry, as `journalctl -x` would show it.
struct Explain: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Explain a divergence kind: what it means, why it matters, what to do.",
        discussion: "Known kinds: " + Catalog.all.map(\.name).joined(separator: ", "))

    @Argument(help: "A divergence name (shared-identity-domain) or its MESSAGE_ID.")
    var nameOrID: String

    func run() throws {
        guard let kind = Catalog.kind(named: nameOrID) else {
            StandardStreams.error("no divergence named or numbered \(nameOrID); known: \(Catalog.all.map(\.name).joined(separator: ", "))")
            throw ExitCode(2)
        }
        StandardStreams.write(Catalog.explanation(of: kind))
    }
}
