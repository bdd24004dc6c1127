import IOMMUSnapshot

/// The simulated kernel. Pure functions from a snapshot (and what-if overrides) to predictions.
public enum Model {}
