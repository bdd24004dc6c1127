import Reconcile

/// Every file the code generates and the repository checks in, by path relative to the package root:
/// the divergence catalog and its documentation page (`Catalog.generatedFiles`) and the daemon's
/// message catalog. `iommu-watch catalog --write ROOT` writes them all; a unit test fails when a
/// checked-in copy drifts from what the code generates.
public enum GeneratedFiles {
    public static let all: [(path: String, render: @Sendable () -> String)] =
        Catalog.generatedFiles + [(DaemonEvent.catalogPath, { @Sendable in DaemonEvent.catalogFile })]
}
