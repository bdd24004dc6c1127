import IOMMUSnapshot

/// Where a predicted reserved region comes from.
public enum RegionSource: Sendable, Hashable, CustomStringConvertible {
    /// The x86 interrupt window `IOAPIC_RANGE_START…END` every Intel and AMD device gets.
    case msiWindow
    /// AMD's HyperTransport hole `HT_RANGE_START…END` (`amd_iommu_get_resv_regions()`).
    case hyperTransportHole
    /// `CONFIG_INTEL_IOMMU_FLOPPY_WA`: an ISA/LPC bridge keeps 0–16 MiB for legacy floppy DMA.
    case isaBridge(PCIAddress)
    /// A DMAR RMRR whose scope names the device (or a bridge above it).
    case rmrr(device: PCIAddress, base: UInt64, limit: UInt64)
    /// An IVRS IVMD (unity map or exclusion range) covering the device's requester id.
    case ivmd(device: PCIAddress, start: UInt64, exclusion: Bool)
    /// Arm SMMU's software MSI window `MSI_IOVA_BASE`, `MSI_IOVA_LENGTH` (`arm_smmu_get_resv_regions()`).
    case armSoftwareMSIWindow
    /// An IORT RMR range whose ID mapping names one of the device's StreamIDs on its SMMU. A PCI
    /// device gets it only when its host bridge's firmware asks to preserve the boot configuration
    /// (`preserve_config`, an ACPI _DSM sysfs does not show), so it may be there or not.
    case iortRMR(base: UInt64, length: UInt64)

    /// A region the kernel adds or not on a condition the root does not show.
    public var isConditional: Bool {
        if case .iortRMR = self { true } else { false }
    }

    public var description: String {
        switch self {
        case .msiWindow: "x86 MSI window"
        case .hyperTransportHole: "AMD HyperTransport hole"
        case .isaBridge(let device): "ISA bridge \(device) (CONFIG_INTEL_IOMMU_FLOPPY_WA)"
        case .rmrr(let device, let base, let limit): "RMRR \(ReservedRegion.format(base))–\(ReservedRegion.format(limit)) for \(device)"
        case .ivmd(let device, let start, let exclusion):
            "IVMD \(exclusion ? "exclusion range" : "unity map") at \(ReservedRegion.format(start)) for \(device)"
        case .armSoftwareMSIWindow: "Arm SMMU software MSI window"
        case .iortRMR(let base, let length):
            "IORT RMR \(ReservedRegion.format(base))–\(ReservedRegion.format(base &+ length &- 1)), if the host bridge preserves its boot configuration"
        }
    }
}

/// A region in a group's merged list, with every source that contributed to it.
public struct PredictedRegion: Sendable, Hashable {
    public var region: ReservedRegion
    public var sources: [RegionSource]
}

extension ModelContext {
    static let msiWindow = (start: UInt64(0xfee0_0000), end: UInt64(0xfeef_ffff))
    static let hyperTransport = (start: UInt64(0xfd_0000_0000), end: UInt64(0xff_ffff_ffff))
    /// `MSI_IOVA_BASE` 0x8000000, `MSI_IOVA_LENGTH` 0x100000 (drivers/iommu/arm/arm-smmu*/).
    static let armMSIWindow = (start: UInt64(0x0800_0000), end: UInt64(0x080f_ffff))

    /// Whether the model can predict this device's regions: virtio-iommu's come from the device
    /// itself (its probe request, `viommu_get_resv_regions()`), which sysfs does not show.
    public func regionsPredictable(for address: PCIAddress) -> Bool {
        if case .virtio? = unitFamily(of: address) { return false }
        return true
    }

    /// EFR2 bit 11 (`FEATURE_HT_RANGE_IGNORE`, `check_feature2()`); `amd-iommu/features` prints
    /// `efr:efr2` on the releases that honour it. Unreadable features: the hole stays, as before 6.16.
    static func ignoresHTRange(_ family: IOMMUDriverFamily?) -> Bool {
        guard case .amd(_, let features?)? = family, features.count >= 2 else { return false }
        return features[1] & (1 << 11) != 0
    }

    /// One device's `get_resv_regions()` answer, per driver and release (docs/kernel-rules.md#r1).
    public func regions(of address: PCIAddress) -> [(ReservedRegion, RegionSource)] {
        var result: [(ReservedRegion, RegionSource)] = []
        let device = topology.device(address)
        switch unitFamily(of: address) {
        case .intel:
            // intel_iommu_get_resv_regions(): RMRRs in scope, the ISA range, then the MSI window.
            for rmrr in dmar?.reservedMemory ?? [] where rmrrApplies(rmrr, to: address) {
                let relaxable = rules.rmrrRelaxableAndDownstream && isRelaxableRMRRDevice(device)
                result.append(
                    (
                        ReservedRegion(start: rmrr.base, end: rmrr.limit, type: relaxable ? .directRelaxable : .direct),
                        .rmrr(device: address, base: rmrr.base, limit: rmrr.limit)
                    ))
            }
            if let type = rules.isaBridgeRegionType, isISABridge(device),
                snapshot.kernelConfig?.isEnabled("CONFIG_INTEL_IOMMU_FLOPPY_WA") != false
            {
                result.append((ReservedRegion(start: 0, end: 0xff_ffff, type: type), .isaBridge(address)))
            }
            result.append((ReservedRegion(start: Self.msiWindow.start, end: Self.msiWindow.end, type: .msi), .msiWindow))
        case .amd:
            // amd_iommu_get_resv_regions(): IVMD ranges for the device id, the MSI window, the HT hole.
            let requester = address.requesterID
            for ivmd in ivrs?.memory ?? []
            where ivmd.firstDevice <= requester && requester <= ivmd.lastDevice && (ivmd.isUnity || ivmd.isExclusion) {
                let length = (ivmd.length + 0xfff) & ~0xfff
                guard length > 0 else { continue }
                let start = (ivmd.start + 0xfff) & ~0xfff
                result.append(
                    (
                        ReservedRegion(start: start, end: start &+ length &- 1, type: ivmd.isExclusion ? .reserved : .direct),
                        .ivmd(device: address, start: start, exclusion: ivmd.isExclusion)
                    ))
            }
            result.append((ReservedRegion(start: Self.msiWindow.start, end: Self.msiWindow.end, type: .msi), .msiWindow))
            if !(rules.amdHonoursHTRangeIgnore && Self.ignoresHTRange(unitFamily(of: address))) {
                result.append(
                    (ReservedRegion(start: Self.hyperTransport.start, end: Self.hyperTransport.end, type: .reserved), .hyperTransportHole))
            }
        case .armSMMUv3, .armSMMU:
            // arm_smmu_get_resv_regions(): the software MSI window, then iommu_dma_get_resv_regions():
            // IORT RMR nodes under ACPI (6.0+); a device tree's `iommu-addresses` (6.3+) are not
            // modelled, as the reserved-memory nodes that carry them are not read.
            result.append((ReservedRegion(start: Self.armMSIWindow.start, end: Self.armMSIWindow.end, type: .msi), .armSoftwareMSIWindow))
            result += iortReservedMemory(of: address)
        case .virtio, .other, nil:
            break
        }
        return result
    }

    /// `iort_iommu_rmr_get_resv_regions()` (6.0+): one region per descriptor of each RMR node with an ID
    /// mapping to the device's SMMU whose output range `[output_base, output_base + id_count]` holds
    /// one of its StreamIDs (`iort_rmr_has_dev()`); `direct-relaxable` when the node permits
    /// remapping. The descriptors' 64 KiB alignment fix-up is not modelled.
    func iortReservedMemory(of address: PCIAddress) -> [(ReservedRegion, RegionSource)] {
        guard rules.iortRMRRegions, case .acpi(let iort?, _)? = routes.source,
            case .translated(let smmu, let id)? = routes.route(of: address),
            let smmuOffset = smmu.iortNodeOffset
        else { return [] }
        let ids = [id] + firmwareIDsOfAliases(address)
        var result: [(ReservedRegion, RegionSource)] = []
        for node in iort.nodes {
            guard case .reservedMemory(let relaxable, let ranges) = node.kind,
                node.mappings.contains(where: { mapping in
                    mapping.outputReference == smmuOffset
                        && ids.contains {
                            UInt64($0) >= UInt64(mapping.outputBase) && UInt64($0) <= UInt64(mapping.outputBase) + UInt64(mapping.idCount)
                        }
                })
            else { continue }
            for range in ranges where range.length > 0 {
                result.append(
                    (
                        ReservedRegion(
                            start: range.base, end: range.base &+ (range.length - 1), type: relaxable ? .directRelaxable : .direct),
                        .iortRMR(base: range.base, length: range.length)
                    ))
            }
        }
        return result
    }

    /// `device_rmrr_is_relaxable()`: USB (`class >> 8 == PCI_CLASS_SERIAL_USB`) or display.
    func isRelaxableRMRRDevice(_ device: PCIDevice?) -> Bool {
        guard let code = device?.classCode else { return false }
        return code >> 8 == 0x0c03 || code >> 16 == 0x03
    }

    /// `PCI_CLASS_BRIDGE_ISA` (0x0601).
    func isISABridge(_ device: PCIDevice?) -> Bool { device?.classCode.map { $0 >> 8 == 0x0601 } ?? false }

    /// Whether an RMRR's scope names the device, or (5.3+) a bridge above it
    /// (`for_each_active_dev_scope` + `is_downstream_to_pci_bridge()`).
    func rmrrApplies(_ rmrr: DMARTable.ReservedMemory, to address: PCIAddress) -> Bool {
        guard UInt32(rmrr.segment) == address.domain else { return false }
        for scope in rmrr.scopes {
            guard let target = resolve(scope, segment: rmrr.segment) else { continue }
            if target == address { return true }
            if rules.rmrrRelaxableAndDownstream, scope.kind == .bridge,
                topology.device(address)?.upstream.contains(target) == true
            {
                return true
            }
        }
        return false
    }

    /// The device a DMAR scope path names: the first hop on the start bus, each next hop on the
    /// secondary bus of the bridge before it (`dmar_find_matched_dev_scope` walks the same way).
    func resolve(_ scope: DMARTable.DeviceScope, segment: UInt16) -> PCIAddress? {
        var bus = scope.startBus
        var current: PCIAddress?
        for hop in scope.path {
            guard hop.device < 32, hop.function < 8 else { return nil }
            if let previous = current {
                guard let secondary = topology.secondaryBus(of: previous) else { return nil }
                bus = secondary
            }
            current = PCIAddress(domain: UInt32(segment), bus: bus, device: hop.device, function: hop.function)
        }
        return current
    }

    /// The group's list, as `iommu_get_group_resv_regions()` builds it from its members; without the
    /// regions whose condition the root does not show (`RegionSource.isConditional`) when
    /// `conditional` is false.
    public func regions(for members: [PCIAddress], conditional: Bool = true) -> [PredictedRegion] {
        var merged: [PredictedRegion] = []
        for member in members.sorted() {
            for (region, source) in regions(of: member) where conditional || !source.isConditional {
                merged =
                    rules.mergesTouchingRegions
                    ? Self.insert(region, source, into: merged) : Self.insertBefore53(region, source, into: merged)
            }
        }
        return merged
    }

    /// `iommu_insert_resv_region()` 5.3+: sorted by (start, type); same-type regions that overlap or
    /// touch are coalesced; different types are never merged.
    static func insert(_ region: ReservedRegion, _ source: RegionSource, into list: [PredictedRegion]) -> [PredictedRegion] {
        var list = list
        let position =
            list.firstIndex { region.start < $0.region.start || (region.start == $0.region.start && region.type <= $0.region.type) }
            ?? list.count
        list.insert(PredictedRegion(region: region, sources: [source]), at: position)
        var result: [PredictedRegion] = []
        var top: Int?
        for entry in list {
            guard entry.region.type == region.type else { result.append(entry); continue }
            if let index = top, entry.region.start <= result[index].region.end || entry.region.start == result[index].region.end &+ 1 {
                result[index].region.end = max(result[index].region.end, entry.region.end)
                result[index].sources.append(contentsOf: entry.sources.filter { !result[index].sources.contains($0) })
                continue
            }
            result.append(entry)
            top = result.count - 1
        }
        return result
    }

    /// 4.11–5.2: only overlapping same-type regions merge; touching ones stay apart.
    static func insertBefore53(_ region: ReservedRegion, _ source: RegionSource, into list: [PredictedRegion]) -> [PredictedRegion] {
        var list = list
        var new = PredictedRegion(region: region, sources: [source])
        var index = 0
        while index < list.count {
            let entry = list[index]
            if new.region.end < entry.region.start { break }
            if new.region.start > entry.region.end || entry.region.type != new.region.type { index += 1; continue }
            new.region.start = min(new.region.start, entry.region.start)
            new.region.end = max(new.region.end, entry.region.end)
            new.sources = entry.sources + new.sources.filter { !entry.sources.contains($0) }
            list.remove(at: index)
            index = 0
        }
        list.insert(new, at: index)
        return list
    }
}
