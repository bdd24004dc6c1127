import ArgumentParser
import Reconcile

/// `iommu-watch explain NAME|MESSAGE_ID`: the catalog entry, as `journalctl -x` would show it.
struct Explain: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Explain a divergence kind: what it means, why it matters, what to do.",
        discussion: "Known kinds: " + Catalog.all.map(\.name).joined(separator: ", "))

    @Argument(help: "A divergence name (shared-identity-domain) or its MESSAGE_ID.")
    var nameOrID: String

    @Option(help: "Filesystem root (unused: the catalog does not depend on the machine).")
    var root: String = "/"

    func run() throws {
        guard let kind = Catalog.kind(named: nameOrID) else {
            var standardError = StandardError()
            print("iommu-watch: no divergence named or numbered \(nameOrID); known: \(Catalog.all.map(\.name).joined(separator: ", "))", to: &standardError)
            throw ExitCode(2)
        }
        print(Catalog.explanation(of: kind), terminator: "")
    }
}
