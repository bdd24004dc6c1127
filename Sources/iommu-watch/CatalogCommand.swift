import ArgumentParser
import Daemon
import Reconcile

/// `iommu-watch catalog --journal|--daemon|--markdown`: prints a generated catalog file; `--write ROOT`
/// writes every one into a package tree (`GeneratedFiles.all`: `systemd/iommu-watch.catalog`,
/// `systemd/iommu-watch-daemon.catalog`, `docs/divergences.md`).
struct CatalogCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "catalog",
        abstract: "Print the divergence catalog as a journald message catalog or as Markdown, or the daemon's message catalog.")

    @Flag(help: "The journald message catalog (systemd/iommu-watch.catalog).")
    var journal = false

    @Flag(help: "The daemon's journald message catalog (systemd/iommu-watch-daemon.catalog).")
    var daemon = false

    @Flag(help: "The documentation page (docs/divergences.md).")
    var markdown = false

    @Option(help: "Write every generated file under this package root instead of printing.")
    var write: String?

    func run() throws {
        if let write {
            for file in GeneratedFiles.all {
                // Every missing folder on the way (mkdir -p), then an atomic replace (a temporary file
                // renamed over the old one).
                let path = write + "/" + file.path
                for slash in path.indices.dropFirst() where path[slash] == "/" && path[path.index(before: slash)] != "/" {
                    try Files.makeFolder(String(path[..<slash]))
                }
                try Files.replace(path, with: Array(file.render().utf8))
            }
            return
        }
        switch (journal, daemon, markdown) {
        case (true, false, false): StandardStreams.write(Catalog.journalCatalog())
        case (false, true, false): StandardStreams.write(DaemonEvent.catalogFile)
        case (false, false, true): StandardStreams.write(Catalog.markdown())
        default: throw ValidationError("give exactly one of --journal, --daemon, --markdown (or --write ROOT)")
        }
    }
}
