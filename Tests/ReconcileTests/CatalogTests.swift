import Foundation
import Reconcile
import Testing

@Suite struct CatalogTests {
    /// The kinds the catalog started with; later kinds come on top.
    static let productCatalog = [
        "shared-identity-domain", "default-type-mismatch", "identity-dma-mask", "untrusted-identity", "group-type-conflict",
        "reserved-region-mismatch", "direct-region-assigned", "vfio-group-not-viable", "isolation-not-backed",
        "group-membership-mismatch", "no-iommu-isolation", "iommu-disabled", "group-released-while-shared",
    ]

    @Test func everyProductDivergenceIsInTheCatalog() {
        for name in Self.productCatalog { #expect(Catalog.kind(named: name) != nil, "\(name)") }
    }

    @Test func messageIDsAreUnique128BitLowercaseHex() {
        let ids = Catalog.all.map(\.messageID)
        #expect(Set(ids).count == ids.count)
        for id in ids {
            #expect(id.count == 32 && id.allSatisfy { ("0"..."9").contains($0) || ("a"..."f").contains($0) }, "\(id)")
        }
    }

    @Test func namesAreUniqueKebabCase() {
        let names = Catalog.all.map(\.name)
        #expect(Set(names).count == names.count)
        for name in names { #expect(name.allSatisfy { $0 == "-" || ("a"..."z").contains($0) }, "\(name)") }
    }

    @Test func kindsAreFoundByNameOrMessageID() {
        let kind = Catalog.sharedIdentityDomain
        #expect(Catalog.kind(named: kind.messageID) == kind)
        #expect(Catalog.kind(named: kind.messageID.uppercased()) == kind)
        #expect(Catalog.kind(named: "Shared-Identity-Domain") == kind)
        #expect(Catalog.kind(named: "no-such-thing") == nil)
    }

    @Test func journalCatalogHasOneWellFormedEntryPerKind() {
        let lines = Catalog.journalCatalog().split(separator: "\n", omittingEmptySubsequences: false)
        let headers = lines.enumerated().filter { $0.element.hasPrefix("-- ") }
        #expect(headers.map { String($0.element.dropFirst(3)) } == Catalog.all.map(\.messageID))
        for (index, _) in headers { #expect(lines[index + 1].hasPrefix("Subject: ")) }
        // A body line starting with "-- " would open a new entry in journald's parser.
        #expect(lines.filter { $0.hasPrefix("-- ") }.count == Catalog.all.count)
    }
}
