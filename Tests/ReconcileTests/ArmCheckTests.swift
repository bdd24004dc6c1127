import Foundation
import IOMMUModel
import IOMMUSnapshot
import Reconcile
import Testing

/// The Arm checks name what the release is known for (docs/kernel-rules.md#a1).
@Suite struct ArmCheckTests {
    /// 6.15 up to 6.16.3 may leave virtio-iommu endpoints without groups (bcb81ac6ae3c, fixed by
    /// 72b6f7cd89ce): the message says so there and only there.
    @Test(arguments: [("6.15.2", true), ("6.16.3", true), ("6.16.4", false), ("6.12.48", false), ("6.17.1", false)])
    func theVirtioIOMMURegressionIsNamedOnItsReleases(release: String, named: Bool) throws {
        var snapshot = try Fixtures.read("qemu-6.12-arm-virtio-iommu-acpi-default-2g-c")
        snapshot.kernel.version = KernelVersion(release: release)
        let found = Reconciler.divergences(in: snapshot).filter { $0.kind == Catalog.deviceWithoutGroup }
        #expect(!found.isEmpty)
        #expect(found.allSatisfy { $0.message.contains("72b6f7cd89ce") == named })
    }
}
