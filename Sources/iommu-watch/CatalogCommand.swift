import ArgumentParser
import Foundation
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
                let url = URL(fileURLWithPath: write).appendingPathComponent(file.path)
                try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
                try Data(file.render().utf8).write(to: url)
            }
            return
        }
        guard journal != markdown else { throw ValidationError("give exactly one of --journal, --markdown (or --write ROOT)") }
        StandardStreams.write(journal ? Catalog.journalCatalog() : Catalog.markdown())
    }
}
