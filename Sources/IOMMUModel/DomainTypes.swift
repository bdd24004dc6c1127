import IOMMUSnapshot

/// What one device asks of its group's default domain: the driver's `def_domain_type()` answer or the
/// core's untrusted rule (docs/kernel-rules.md#d2, #d3).
public struct DeviceTypeNeed: Sendable, Hashable {
    public var device: PCIAddress
    /// `identity` or `DMA`; nil: no preference (the driver returned 0).
    public var type: DomainType?
    public var untrusted: Bool
    /// The rule, in words with its source.
    public var rule: String
}

/// The rule that decided a group's predicted default domain type.
public enum TypeRule: Sendable, Hashable {
    /// No member asked for anything: the global policy.
    case globalPolicy(DomainPolicy)
    /// A member's requirement (driver quirk, untrusted device, hardware without pass-through).
    case deviceRequirement(DeviceTypeNeed)
    /// Members disagreed (5.8–6.4): the kernel logged "Device needs domain type …" and used the default.
    case conflictFellBack(first: DeviceTypeNeed, other: DeviceTypeNeed, policy: DomainPolicy)
    /// Members disagreed (6.5+): identity wins ("IOMMU driver error, requesting conflicting def_domain_type").
    case conflictIdentityWon(first: DeviceTypeNeed, other: DeviceTypeNeed)
    /// An untrusted member among devices whose driver insists on identity (6.5+): the probe is refused
    /// and the group gets no default domain ("Device is not trusted, but driver is overriding group …").
    case untrustedRefused(untrusted: PCIAddress, identity: DeviceTypeNeed)
    /// Before 5.3 Intel groups had no default domain at all.
    case noCoreDefaultDomain

    public var isGlobalPolicy: Bool {
        if case .globalPolicy = self { return true }
        return false
    }

    public var sentence: String {
        switch self {
        case .globalPolicy(let policy): "no member asks for a type, so the global policy applies: \(policy.summary)"
        case .deviceRequirement(let need): "\(need.device) requires \(need.type?.rawValue ?? "nothing"): \(need.rule)"
        case .conflictFellBack(let first, let other, let policy):
            "\(first.device) requires \(first.type?.rawValue ?? "-") but \(other.device) requires \(other.type?.rawValue ?? "-"); this kernel (5.8–6.4) falls back to the global policy: \(policy.summary)"
        case .conflictIdentityWon(let first, let other):
            "\(first.device) requires \(first.type?.rawValue ?? "-") but \(other.device) requires \(other.type?.rawValue ?? "-"); this kernel (6.5+) lets identity win"
        case .untrustedRefused(let untrusted, let identity):
            "\(untrusted) is untrusted but \(identity.device) requires identity (\(identity.rule)); 6.5+ refuses to probe the group"
        case .noCoreDefaultDomain: "Intel kernels before 5.3 give groups no default domain (`type` reads unknown)"
        }
    }
}

/// A group's predicted default domain.
public struct TypeDecision: Sendable, Hashable {
    /// nil: no default domain (refused probe); `unknown` where the kernel prints that.
    public var type: DomainType?
    public var rule: TypeRule
    public var needs: [DeviceTypeNeed]
    /// Members whose needs contradict each other or the decided type: `group-type-conflict`.
    public var conflicting: [DeviceTypeNeed]
}

extension ModelContext {
    /// `def_domain_type()` of the device's driver plus the core's untrusted rule, per release.
    public func need(of address: PCIAddress) -> DeviceTypeNeed {
        let device = topology.device(address)
        let untrusted = device?.removable == .removable
        let family = unitFamily(of: address)
        if case .intel(_, let ecap) = family, rules.intelNeedsPassThroughForIdentity, let ecap, ecap & (1 << 6) == 0 {
            return DeviceTypeNeed(
                device: address, type: .dma, untrusted: untrusted,
                rule: "its IOMMU lacks pass-through (ecap bit 6 clear), so 6.12+ device_def_domain_type() demands DMA")
        }
        if untrusted {
            return DeviceTypeNeed(
                device: address, type: .dma, untrusted: true,
                rule:
                    "it is removable (behind an external-facing port), so the kernel treats it as untrusted and forces DMA (28b41e2c6aeb, iommu_get_def_domain_type())"
            )
        }
        if case .armSMMUv3 = family, rules.smmuV3HiSiliconPTTIdentity, device?.vendorID == 0x19e5, device?.deviceID == 0xa12e {
            return DeviceTypeNeed(
                device: address, type: .identity, untrusted: false,
                rule: "it is a HiSilicon PCIe Tune and Trace device, which SMMUv3's arm_smmu_def_domain_type() puts in identity (6.1+)")
        }
        if case .intel = family, rules.intelGraphicsIdentityQuirk, policy.intelGraphicsIdentityMap, isDisplay(device) {
            return DeviceTypeNeed(
                device: address, type: .identity, untrusted: false,
                rule: "`intel_iommu=igfx_off` sets IDENTMAP_GFX and it is a display device (Intel device_def_domain_type(), before 6.12)")
        }
        return DeviceTypeNeed(device: address, type: nil, untrusted: false, rule: "no driver requirement")
    }

    func isDisplay(_ device: PCIDevice?) -> Bool { device?.classCode.map { $0 >> 16 == 0x03 } ?? false }

    /// The group's default domain type, resolved the way this release resolves its members' needs.
    public func typeDecision(for members: [PCIAddress]) -> TypeDecision {
        let ordered = members.sorted()
        let needs = ordered.map(need(of:))
        if let first = ordered.first, case .intel = unitFamily(of: first), !rules.intelHasDefaultDomains {
            return TypeDecision(type: .unknown, rule: .noCoreDefaultDomain, needs: needs, conflicting: [])
        }
        let wishes = needs.filter { $0.type != nil }
        let global = TypeDecision(type: policy.globalType, rule: .globalPolicy(policy), needs: needs, conflicting: [])
        switch rules.groupResolution {
        case .firstDevice:
            // ≤5.7: allocated with the global type; a single-device group may be switched afterwards
            // (iommu_request_dm_for_dev / iommu_request_dma_domain_for_dev).
            if ordered.count == 1, let wish = wishes.first, let type = wish.type {
                return TypeDecision(type: type, rule: .deviceRequirement(wish), needs: needs, conflicting: [])
            }
            let clashing = wishes.filter { $0.type != policy.globalType }
            return TypeDecision(type: policy.globalType, rule: .globalPolicy(policy), needs: needs, conflicting: clashing)
        case .conflictFallsBackToDefault:
            // probe_get_default_domain_type(): the first device with a wish is remembered; a later
            // different wish resets the type to 0 for good (the first device stays recorded).
            guard let first = wishes.first, let firstType = first.type else { return global }
            if let other = wishes.first(where: { $0.type != firstType }) {
                return TypeDecision(
                    type: policy.globalType, rule: .conflictFellBack(first: first, other: other, policy: policy),
                    needs: needs, conflicting: [first, other])
            }
            return TypeDecision(type: firstType, rule: .deviceRequirement(first), needs: needs, conflicting: [])
        case .identityWins:
            // iommu_get_default_domain_type(): identity wins a conflict; then the untrusted check.
            var decided: DeviceTypeNeed?
            var conflict: (DeviceTypeNeed, DeviceTypeNeed)?
            for wish in wishes {
                guard let current = decided else { decided = wish; continue }
                if wish.type != current.type {
                    conflict = conflict ?? (current, wish)
                    if wish.type == .identity { decided = wish }
                }
            }
            if let untrusted = needs.first(where: \.untrusted), let decided, decided.type == .identity {
                return TypeDecision(
                    type: nil, rule: .untrustedRefused(untrusted: untrusted.device, identity: decided),
                    needs: needs, conflicting: [untrusted, decided])
            }
            if let (first, other) = conflict, let decided {
                return TypeDecision(
                    type: decided.type, rule: .conflictIdentityWon(first: first, other: other), needs: needs, conflicting: [first, other])
            }
            if let decided, let type = decided.type {
                return TypeDecision(type: type, rule: .deviceRequirement(decided), needs: needs, conflicting: [])
            }
            return global
        }
    }
}
