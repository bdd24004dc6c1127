import IOMMUSnapshot
import Reconcile
import Testing

/// Every multi-device group of the kernel's says why it is one, in the words of the rule that made it.
@Suite struct ReasonsTests {
    @Test func bridgeAndMultifunctionGroupsNameTheirRule() throws {
        let snapshot = try Fixtures.read("linux-61-intel")
        let reasons = Reconciler.reconcile(snapshot).reasons
        func group(containing slot: String) -> IOMMUGroup? { snapshot.groups.first { $0.pciMembers.contains(PCIAddress(slot)!) } }
        let lpc = try #require(group(containing: "0000:00:1f.0"))
        let bridge = try #require(group(containing: "0000:02:01.0"))
        #expect(reasons[lpc.id]?.count == 2)
        #expect(reasons[lpc.id]?.allSatisfy { $0.contains("slot 0000:00:1f is multifunction") } == true)
        #expect(reasons[bridge.id]?.contains { $0.contains("sits behind PCIe-to-PCI bridge 0000:00:05.0") } == true)
        for group in snapshot.groups where group.pciMembers.count > 1 {
            #expect(reasons[group.id]?.count == group.pciMembers.count - 1, "group \(group.id)")
        }
        for group in snapshot.groups where group.pciMembers.count == 1 { #expect(reasons[group.id] == nil) }
    }
}
