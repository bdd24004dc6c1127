import IOMMUSnapshot

/// What a new boot re-derives on an Arm SMMU or virtio-iommu host beyond types and regions, so that
/// `simulate --kernel` does not carry group membership across the releases that change it
/// (docs/kernel-rules.md#a1): which boot-time functions get ACS on a device tree, and which
/// functions are grouped at all (6.15).
extension Overrides {
    /// Arm SMMU or virtio-iommu units, so the Arm rules apply.
    static func isArmIOMMUHost(_ snapshot: Snapshot) -> Bool { snapshot.iommus.first?.driver.isArmOrVirtio ?? false }

    /// A device-tree boot: no IORT or VIOT, and a device tree with a PCI host bridge.
    static func isDeviceTreeBoot(_ snapshot: Snapshot) -> Bool { snapshot.firmware.pciRouteSource == .deviceTree }

    /// The ACS control each function would have under `new` instead of `old`, on a device-tree boot:
    /// `pci_std_enable_acs()` ORs SV, RR, CR and UF (as far as the capability offers them) into what
    /// the firmware left, which is taken as the observed control less what `old` enabled. Translation
    /// Blocking, which the kernel adds only for external-facing ports and `pci=noats`, is left as read.
    static func deviceTreeACS(_ snapshot: Snapshot, from old: KernelRules, to new: KernelRules) -> Snapshot {
        var snapshot = snapshot
        let firstScanned = Dictionary(grouping: snapshot.pciDevices.map(\.address), by: \.domain).compactMapValues { $0.min() }
        func enabled(_ timing: KernelRules.DeviceTreeACS, _ address: PCIAddress) -> Bool {
            switch timing {
            case .none: false
            case .allButTheFirst: firstScanned[address.domain] != address
            case .everyFunction: true
            }
        }
        let standard =
            ACSCapability.sourceValidation | ACSCapability.requestRedirect | ACSCapability.completionRedirect
            | ACSCapability.upstreamForwarding
        for index in snapshot.pciDevices.indices {
            let address = snapshot.pciDevices[index].address
            guard let acs = snapshot.pciDevices[index].config?.acs else { continue }
            let offered = acs.capability & standard
            let firmware = acs.control & ~(enabled(old.deviceTreeACS, address) ? offered : 0)
            snapshot.pciDevices[index].config?.acs?.control = firmware | (enabled(new.deviceTreeACS, address) ? offered : 0)
        }
        return snapshot
    }

    /// The functions the kernel would group under `context`'s release, in probe order: those the
    /// firmware routes to an IOMMU, all of them from 6.15, only the driver-bound ones before. SMMUv3
    /// refuses a function whose StreamIDs another function already holds (`arm_smmu_insert_master()`);
    /// for other drivers a routed, bound function the observed boot left without a group stays
    /// without one. nil when the firmware's routes are unknown.
    static func armCoveredFunctions(_ context: ModelContext, observed: Snapshot) -> [PCIAddress]? {
        guard context.routes.source != nil else { return nil }
        let snapshot = context.snapshot
        var taken: Set<UInt32> = []
        var covered: [PCIAddress] = []
        let isSMMUv3 = snapshot.iommus.first?.driver == .armSMMUv3
        for address in context.topology.probeOrder {
            guard let device = snapshot.device(address),
                case .translated(_, let id)? = context.routes.route(of: address)
            else { continue }
            guard context.rules.armGroupsEveryFunctionAtRegistration || device.driver != nil else { continue }
            if isSMMUv3 {
                let ids = [id] + context.firmwareIDsOfAliases(address)
                guard taken.isDisjoint(with: ids) else { continue }
                taken.formUnion(ids)
            } else if let before = observed.device(address), before.driver != nil, before.iommuGroup == nil {
                continue
            }
            covered.append(address)
        }
        return covered
    }

    /// The snapshot regrouped as the model partitions `covered`: a group with the same PCI members
    /// keeps its number and its non-PCI members, a new one takes the lowest free number (the kernel's
    /// IDA), groups without PCI members stay as they were.
    static func regroup(_ snapshot: Snapshot, covered: [PCIAddress], context: ModelContext) -> Snapshot {
        var snapshot = snapshot
        let (partition, _) = Model.predictGroups(covered, topology: context.topology, aliases: context.aliases)
        let old = snapshot.groups
        var groups = old.filter { $0.pciMembers.isEmpty }
        var used = Set(groups.map(\.id))
        var pending: [[PCIAddress]] = []
        for members in partition {
            if let same = old.first(where: { Set($0.pciMembers) == Set(members) }), !used.contains(same.id) {
                groups.append(same)
                used.insert(same.id)
            } else {
                pending.append(members)
            }
        }
        let unit = snapshot.iommus.first?.name
        for members in pending {
            let id = (0...).first { !used.contains($0) } ?? used.count
            used.insert(id)
            let groupMembers = members.compactMap { address in
                snapshot.device(address).map { GroupMember(name: address.description, bus: "pci", path: $0.path) }
            }
            groups.append(IOMMUGroup(id: id, type: .absent, reservedRegions: [], name: nil, members: groupMembers))
        }
        snapshot.groups = groups.sorted { $0.id < $1.id }
        var groupOf: [PCIAddress: Int] = [:]
        for group in snapshot.groups { for member in group.pciMembers { groupOf[member] = group.id } }
        for index in snapshot.pciDevices.indices {
            let address = snapshot.pciDevices[index].address
            snapshot.pciDevices[index].iommuGroup = groupOf[address]
            snapshot.pciDevices[index].iommu = groupOf[address] == nil ? nil : (snapshot.pciDevices[index].iommu ?? unit)
        }
        return snapshot
    }
}
