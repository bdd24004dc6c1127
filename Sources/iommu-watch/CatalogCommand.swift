import ArgumentParser
import Daemon
import Reconcile

/// `iommu-watch catalog --journal|--markdown`: prints a generated catalog file; `--write ROOT` writes
/// both into a package tree (`systemd/iommu-watch.catalog`, `docs/divergences.md`).
struct CatalogCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "catalog",
        abstract: "Print the divergence catalog as a journald message catalog or as Markdown.")

    @Flag(help: "The journald message catalog (systemd/iommu-watch.catalog).")
    var journal = false

    @Flag(help: "The documentation page (docs/divergences.md).")
    var markdown = false

    @Option(help: "Write every generated file under this package root instead of printing.")
    var write: String?

    func run() throws {
        if let write {
            for file in Catalog.generatedFiles {
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
        guard journal != markdown else { throw ValidationError("give exactly one of --journal, --markdown (or --write ROOT)") }
        StandardStreams.write(journal ? Catalog.journalCatalog() : Catalog.markdown())
    }
}
