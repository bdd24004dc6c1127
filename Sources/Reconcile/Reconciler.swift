import IOMMUModel
import IOMMUSnapshot

/// Snapshot in, divergences out. Pure: no file, clock or libsystemd.
public enum Reconciler {
    /// Every divergence the snapshot shows, most severe first, then by key.
    public static func divergences(in snapshot: Snapshot) -> [Divergence] {
        []
    }
}
