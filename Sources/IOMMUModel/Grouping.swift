import IOMMUSnapshot

/// Why one device joined another's group: the step of `pci_device_group()` (drivers/iommu/iommu.c,
/// unchanged in substance 4.x → 7.x) that found the group.
public enum MergeCause: Sendable, Hashable {
    /// Its DMA carries the requester id of a bridge above it (`pci_for_each_dma_alias()`).
    case dmaAlias(bridge: PCIAddress, hop: PCITopology.AliasHop)
    /// A bridge on the way up lacks the ACS controls `REQ_ACS_FLAGS` needs (`pci_acs_path_enabled()`).
    case upstreamWithoutACS(port: PCIAddress, why: String)
    /// A function of a multifunction slot whose functions lack ACS (`get_pci_function_alias_group()`).
    case multifunctionWithoutACS(slot: String, why: String)
    /// Firmware declares one device's requester id an alias of the other's (AMD IVRS alias entries,
    /// `setup_aliases()` in drivers/iommu/amd/iommu.c).
    case firmwareAlias(String)
    /// A DMA-alias quirk names the other device's devfn as one this device's DMA uses, or the other
    /// way round (`pci_devs_are_dma_aliases()`; the quirk's name).
    case quirkAlias(quirk: String)
}

/// One step that put `device` into the group of `joined`.
public struct Merge: Sendable, Hashable {
    public var device: PCIAddress
    public var joined: PCIAddress
    public var cause: MergeCause

    /// "02:01.0 joins 00:05.0: it sits behind PCIe-to-PCI bridge 00:05.0 and its DMA carries the bridge's requester id"
    public var sentence: String {
        switch cause {
        case .dmaAlias(let bridge, let hop):
            switch hop {
            case .pcieToPCIBridge: return "\(device) sits behind PCIe-to-PCI bridge \(bridge), so its DMA carries the bridge's requester id"
            case .pciToPCIeBridge:
                return "\(device) sits behind PCI-X-to-PCIe bridge \(bridge), so its DMA carries the bridge's requester id"
            case .conventionalBridge:
                return "\(device) sits behind conventional PCI bridge \(bridge), so its DMA carries the bridge's requester id"
            case .quirkedAsPCIeToPCIBridge:
                return
                    "\(device) sits behind PCI bridge \(bridge), which quirk_use_pcie_bridge_dma_alias makes alias like a PCIe-to-PCI bridge, so its DMA carries the bridge's requester id"
            }
        case .upstreamWithoutACS(let port, let why):
            return "\(device) is below \(port), which does not isolate its downstream devices (\(why))"
        case .multifunctionWithoutACS(let slot, let why):
            return "slot \(slot) is multifunction and its functions have no ACS isolation (\(why))"
        case .firmwareAlias(let what):
            return "\(device) is a DMA alias of \(joined) (\(what))"
        case .quirkAlias(let quirk):
            return "\(device) and \(joined) issue DMA with each other's requester id (\(quirk))"
        }
    }
}

extension Model {
    /// Partitions the covered devices into groups the way `pci_device_group()` does: devices are probed
    /// in order, and each joins the first existing group its aliases, its non-isolating upstream
    /// bridges or its non-isolating slot siblings belong to, else starts a new one.
    static func predictGroups(_ covered: [PCIAddress], topology: PCITopology, aliases: [PCIAddress: [(PCIAddress, MergeCause)]])
        -> (groups: [[PCIAddress]], merges: [Merge])
    {
        var groupOf: [PCIAddress: Int] = [:]
        var groups: [[PCIAddress]] = []
        var merges: [Merge] = []
        let coveredSet = Set(covered)
        // Functions of each slot in probe order, so step 4 looks at its siblings, not at every device.
        var slotFunctions: [PCIAddress: [PCIAddress]] = [:]
        for function in topology.probeOrder {
            var slot = function
            slot.function = 0
            slotFunctions[slot, default: []].append(function)
        }
        for address in topology.probeOrder where coveredSet.contains(address) {
            var found: (group: Int, merge: Merge)?
            func consider(_ other: PCIAddress, _ cause: MergeCause) {
                guard found == nil, let group = groupOf[other] else { return }
                found = (group, Merge(device: address, joined: other, cause: cause))
            }
            // 1. The device's DMA aliases: itself, quirk/firmware aliases, then alias bridges.
            var aliasRoot = address
            for (alias, cause) in aliases[address, default: []] { consider(alias, cause) }
            for (bridge, hop) in topology.dmaAliasBridges(of: address) where found == nil {
                aliasRoot = bridge
                consider(bridge, .dmaAlias(bridge: bridge, hop: hop))
            }
            // 2. Up from the alias root while the bridge above does not isolate.
            var candidate = aliasRoot
            var steps = 0
            while found == nil, let bridge = topology.bridge(above: candidate), steps < 256 {
                steps += 1
                let path = topology.acsPathEnabled(from: bridge)
                if path.enabled { break }
                candidate = bridge
                consider(bridge, .upstreamWithoutACS(port: bridge, why: path.why))
            }
            // 4. Functions of the candidate's slot that lack ACS, when the candidate is multifunction
            // and lacks it too. (3, same-bus DMA aliases of quirks and firmware, is taken with step 1.)
            if found == nil, topology.isMultifunction(candidate) {
                let own = topology.acsEnabled(candidate)
                if !own.enabled {
                    var slot = candidate
                    slot.function = 0
                    for sibling in slotFunctions[slot, default: []] where sibling != candidate && found == nil {
                        let theirs = topology.acsEnabled(sibling)
                        if !theirs.enabled { consider(sibling, .multifunctionWithoutACS(slot: candidate.slot, why: own.why)) }
                    }
                }
            }
            if let (group, merge) = found {
                groups[group].append(address)
                groupOf[address] = group
                merges.append(merge)
            } else {
                groupOf[address] = groups.count
                groups.append([address])
            }
        }
        return (groups, merges)
    }
}
