import IOMMUSnapshot

/// The simulated kernel. Pure functions from a snapshot (and what-if overrides) to predictions.
/// Nothing here reads a file, the clock or the environment.
public enum Model {
    /// Predicts groups, types, reserved regions and the identity-domain structure for `snapshot`.
    public static func predict(_ snapshot: Snapshot) -> Prediction {
        let context = ModelContext(snapshot)
        return context.predict()
    }
}

/// Everything the rules need, derived once from the snapshot: release rules, global policy, indexed
/// topology, parsed firmware tables.
public struct ModelContext: Sendable {
    public let snapshot: Snapshot
    public let rules: KernelRules
    public let policy: DomainPolicy
    public let topology: PCITopology
    public let dmar: DMARTable?
    public let ivrs: IVRSTable?
    /// Firmware tables that exist but could not be decoded, with why.
    public let firmwareProblems: [FirmwareProblem]
    /// Arm and virtio-iommu: which IOMMU the firmware puts each requester ID behind.
    public let routes: FirmwareRoutes

    public init(_ snapshot: Snapshot) {
        self.snapshot = snapshot
        let rules = KernelRules(snapshot.kernel.version)
        self.rules = rules
        // pci_quirk_amd_sb_acs asks whether an IVRS table exists; an AMD IOMMU unit proves one does (the
        // driver cannot start without it), also where the table itself is readable by root only.
        let hasIVRS = snapshot.firmware.ivrs != nil || snapshot.iommus.contains { if case .amd = $0.driver { true } else { false } }
        self.topology = PCITopology(snapshot.pciDevices, quirks: ACSQuirks(release: rules.version, hasIVRS: hasIVRS))
        var problems: [FirmwareProblem] = []
        var dmar: DMARTable?
        if let bytes = snapshot.firmware.dmar?.bytes {
            do throws(ParseError) { dmar = try DMARTableParser.parse(bytes) } catch {
                problems.append(FirmwareProblem(table: .dmar, reason: error.reason))
            }
        }
        var ivrs: IVRSTable?
        if let bytes = snapshot.firmware.ivrs?.bytes {
            do throws(ParseError) { ivrs = try IVRSTableParser.parse(bytes) } catch {
                problems.append(FirmwareProblem(table: .ivrs, reason: error.reason))
            }
        }
        var iort: IORTTable?
        if let bytes = snapshot.firmware.iort?.bytes {
            do throws(ParseError) { iort = try IORTTableParser.parse(bytes) } catch {
                problems.append(FirmwareProblem(table: .iort, reason: error.reason))
            }
        }
        var viot: VIOTTable?
        if let bytes = snapshot.firmware.viot?.bytes {
            do throws(ParseError) { viot = try VIOTTableParser.parse(bytes) } catch {
                problems.append(FirmwareProblem(table: .viot, reason: error.reason))
            }
        }
        self.dmar = dmar
        self.policy = Model.policy(for: snapshot, rules: rules, dmar: dmar)
        self.ivrs = ivrs
        self.routes = FirmwareRoutes(snapshot, iort: iort, viot: viot)
        self.firmwareProblems = problems
    }

    /// The driver family of the unit translating for this device: its `iommu` link, else the only
    /// family present, else what the firmware table declares.
    public func unitFamily(of address: PCIAddress) -> IOMMUDriverFamily? {
        if let name = topology.device(address)?.iommu, let unit = snapshot.iommus.first(where: { $0.name == name }) { return unit.driver }
        return defaultFamily
    }

    public var defaultFamily: IOMMUDriverFamily? {
        if let unit = snapshot.iommus.first { return unit.driver }
        if snapshot.firmware.dmar != nil { return .intel(capability: nil, extendedCapability: nil) }
        if snapshot.firmware.ivrs != nil { return .amd(capability: nil, features: nil) }
        return nil
    }

    /// PCI devices an IOMMU translates for: those the kernel linked to a unit or a group. With the
    /// IOMMU disabled on the command line, none.
    public var coveredDevices: [PCIAddress] {
        if policy.disabledBy != nil || policy.translation.isOff { return [] }
        return snapshot.pciDevices.filter { $0.iommu != nil || $0.iommuGroup != nil }.map(\.address)
    }

    /// Same-bus DMA aliases between devices that exist, both ways (`pci_devs_are_dma_aliases()` asks
    /// either device's alias mask): IVRS alias entries the kernel turns into PCI DMA aliases
    /// (`setup_aliases()` / `pci_add_dma_alias()`), and the DMA-alias quirks.
    var aliases: [PCIAddress: [(PCIAddress, MergeCause)]] {
        var result: [PCIAddress: [(PCIAddress, MergeCause)]] = [:]
        func add(_ device: PCIAddress, _ target: PCIAddress, _ cause: MergeCause) {
            guard device != target, topology.device(target) != nil else { return }
            result[device, default: []].append((target, cause))
            result[target, default: []].append((device, cause))
        }
        if let ivrs {
            for definition in ivrs.hardware {
                for alias in definition.aliases {
                    for device in topology.probeOrder where UInt32(definition.segment) == device.domain {
                        let id = device.requesterID
                        guard alias.first <= id, id <= alias.last, alias.alias != id, UInt8(alias.alias >> 8) == device.bus else {
                            continue
                        }
                        let target = PCIAddress(
                            domain: device.domain, bus: device.bus, device: UInt8((alias.alias >> 3) & 0x1f),
                            function: UInt8(alias.alias & 7))
                        add(device, target, .firmwareAlias("IVRS alias entry"))
                    }
                }
            }
        }
        for address in topology.probeOrder {
            guard let device = topology.device(address), let (devfns, quirk) = DMAAliasQuirks.aliases(of: device, release: rules.version)
            else { continue }
            for devfn in devfns {
                add(
                    address, PCIAddress(domain: address.domain, bus: address.bus, device: devfn >> 3, function: devfn & 7),
                    .quirkAlias(quirk: quirk))
            }
        }
        return result
    }

    func predict() -> Prediction {
        let (partition, merges) = Model.predictGroups(coveredDevices, topology: topology, aliases: aliases)
        let mergesByDevice = Dictionary(grouping: merges, by: \.device)
        let groups = partition.map { members in
            PredictedGroup(
                members: members, merges: members.flatMap { mergesByDevice[$0, default: []] },
                typeDecision: typeDecision(for: members), regions: regions(for: members))
        }
        return Prediction(context: self, groups: groups)
    }
}

/// An ACPI table that exists but could not be decoded.
public struct FirmwareProblem: Sendable, Hashable {
    public enum Table: String, Sendable, Hashable {
        case dmar = "DMAR"
        case ivrs = "IVRS"
        case iort = "IORT"
        case viot = "VIOT"
    }

    public var table: Table
    public var reason: String
}

/// One predicted group: members, how they came together, its type and its regions.
public struct PredictedGroup: Sendable, Hashable {
    public var members: [PCIAddress]
    public var merges: [Merge]
    public var typeDecision: TypeDecision
    public var regions: [PredictedRegion]

    /// Stable name from the members: `0000:00:1f.0+0000:00:1f.2+0000:00:1f.3`.
    public var key: String { members.map(\.description).joined(separator: "+") }
}

/// The model's answer for one snapshot.
public struct Prediction: Sendable {
    public let context: ModelContext
    public let groups: [PredictedGroup]

    public var rules: KernelRules { context.rules }
    public var policy: DomainPolicy { context.policy }

    /// The predicted group holding `address`.
    public func group(containing address: PCIAddress) -> PredictedGroup? { groups.first { $0.members.contains(address) } }

    /// Which identity groups share one domain object, per driver family, and whether this release
    /// keeps that object alive while groups come and go (docs/kernel-rules.md#i1).
    /// `identityGroups` are member sets of the groups whose type is identity (observed or predicted,
    /// as the caller decides).
    public func identityStructure(identityGroups: [[PCIAddress]]) -> [IdentityDomainShare] {
        var byFamily: [String: (IdentityDomainObject, [[PCIAddress]])] = [:]
        var order: [String] = []
        for members in identityGroups {
            guard let first = members.first, let family = context.unitFamily(of: first) else { continue }
            let object: IdentityDomainObject
            switch family {
            case .intel: object = rules.intelIdentityDomain
            case .amd: object = rules.amdIdentityDomain
            case .armSMMUv3: object = rules.smmuV3IdentityDomain
            case .armSMMU, .virtio, .other: object = .perGroup
            }
            if byFamily[family.name] == nil { order.append(family.name) }
            byFamily[family.name, default: (object, [])].1.append(members)
        }
        return order.compactMap { name in
            guard let (object, groups) = byFamily[name] else { return nil }
            return IdentityDomainShare(driver: name, object: object, groups: groups, lifetimeProtected: rules.protectsSharedIdentityDomain)
        }
    }
}

/// The identity groups of one IOMMU driver and the domain object they use.
public struct IdentityDomainShare: Sendable, Hashable {
    /// `intel-iommu`, `amd-iommu`.
    public var driver: String
    public var object: IdentityDomainObject
    public var groups: [[PCIAddress]]
    /// The release keeps the shared object alive when one of its groups is released.
    public var lifetimeProtected: Bool

    /// Two or more groups in one domain object: no isolation between them.
    public var isShared: Bool { object.isShared && groups.count >= 2 }
}
