import ArgumentParser
import Daemon
import Reconcile

/// `iommu-watch explain NAME|MESSAGE_ID`: the catalog entry, as `journalctl -x` would show it, of a
/// divergence kind or of one of the daemon's own events (posture-changed, read-error, …).
struct Explain: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Explain a divergence kind or a daemon event: what it means, why it matters, what to do.",
        discussion: "Known divergences: " + Catalog.all.map(\.name).joined(separator: ", ") + ". Daemon events: "
            + DaemonEvent.all.map(\.name).joined(separator: ", ") + ".")

    @Argument(help: "A divergence name (shared-identity-domain), a daemon event (posture-changed) or a MESSAGE_ID.")
    var nameOrID: String

    func run() throws {
        if let kind = Catalog.kind(named: nameOrID) {
            StandardStreams.write(Catalog.explanation(of: kind))
            return
        }
        // A MESSAGE_ID may be written with dashes, as journalctl's catalog shows UUIDs.
        let id = String(nameOrID.lowercased().filter { $0 != "-" })
        if let event = DaemonEvent.all.first(where: { $0.name == nameOrID.lowercased() || $0.messageID == id }) {
            // Text from the code, not from a root, as a divergence's explanation is.
            StandardStreams.write(event.explanation)
            return
        }
        StandardStreams.error(
            "no divergence or daemon event named or numbered \(nameOrID); divergences: \(Catalog.all.map(\.name).joined(separator: ", ")); daemon events: \(DaemonEvent.all.map(\.name).joined(separator: ", "))"
        )
        throw ExitCode(2)
    }
}
