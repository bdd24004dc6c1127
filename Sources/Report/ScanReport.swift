import IOMMUSnapshot
import Reconcile
