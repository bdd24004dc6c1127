import IOMMUSnapshot

/// What-if changes for `simulate`, applied as values to a snapshot before predicting and reconciling.
///
/// A new command line or kernel release means a new boot: the kernel re-derives every group's type and
/// reserved regions, so the simulated snapshot takes them from the model (membership stays as observed:
/// it follows the hardware). Unplug, bind and type writes happen on the running system after that, in
/// that order, and a type write the release would refuse is not applied.
public struct Overrides: Sendable, Hashable {
    public var commandLine: String?
    public var kernelRelease: String?
    public var unplug: [PCIAddress]
    /// nil driver: unbind.
    public var bind: [Binding]
    public var setType: [TypeWrite]

    public struct Binding: Sendable, Hashable {
        public var slot: PCIAddress
        public var driver: String?
        public init(slot: PCIAddress, driver: String?) {
            self.slot = slot
            self.driver = driver
        }
    }

    /// A write to `/sys/kernel/iommu_groups/N/type`; nil type is `auto`.
    public struct TypeWrite: Sendable, Hashable {
        public var group: Int
        public var type: DomainType?
        public init(group: Int, type: DomainType?) {
            self.group = group
            self.type = type
        }
    }

    public init(
        commandLine: String? = nil, kernelRelease: String? = nil, unplug: [PCIAddress] = [], bind: [Binding] = [], setType: [TypeWrite] = []
    ) {
        self.commandLine = commandLine
        self.kernelRelease = kernelRelease
        self.unplug = unplug
        self.bind = bind
        self.setType = setType
    }

    /// The simulated snapshot and one line per override saying what happened (or why the kernel would refuse).
    public func apply(to original: Snapshot) -> (snapshot: Snapshot, notes: [String]) {
        var snapshot = original
        var notes: [String] = []
        if commandLine != nil || kernelRelease != nil {
            if let commandLine { snapshot.kernel.commandLine = KernelCommandLine(commandLine) }
            if let kernelRelease {
                snapshot.kernel.release = kernelRelease
                snapshot.kernel.version = KernelVersion(release: kernelRelease)
                if snapshot.kernel.version == nil {
                    notes.append("release \(kernelRelease) has no major.minor; assuming the newest rules the model knows")
                }
                snapshot.kernel.versionLine = snapshot.kernel.versionLine.map { line in
                    line.replacingFirst(original.kernel.release ?? "", with: kernelRelease)
                }
                snapshot.kernelConfig = nil
            }
            snapshot = reboot(snapshot, original: original, notes: &notes)
        }
        for slot in unplug { snapshot = remove(slot, from: snapshot, notes: &notes) }
        for binding in bind {
            guard let index = snapshot.pciDevices.firstIndex(where: { $0.address == binding.slot }) else {
                notes.append("--bind: \(binding.slot) is not in the snapshot")
                continue
            }
            snapshot.pciDevices[index].driver = binding.driver
            notes.append(binding.driver.map { "bound \(binding.slot) to \($0)" } ?? "unbound \(binding.slot)")
        }
        for write in setType { snapshot = apply(write, to: snapshot, notes: &notes) }
        return (snapshot, notes)
    }

    /// A new boot: types and reserved regions as the kernel would set them, on the observed membership
    /// (re-derived on Arm hosts where the release changes it, `ArmReboot.swift`).
    func reboot(_ snapshot: Snapshot, original: Snapshot, notes: inout [String]) -> Snapshot {
        var snapshot = snapshot
        var context = ModelContext(snapshot)
        if context.policy.disabledBy != nil || context.policy.translation.isOff {
            notes.append("DMA translation \(context.policy.translation): the kernel would create no IOMMU groups")
            snapshot.groups = []
            for index in snapshot.pciDevices.indices {
                snapshot.pciDevices[index].iommuGroup = nil
                snapshot.pciDevices[index].iommu = nil
            }
            return snapshot
        }
        if snapshot.groups.isEmpty {
            notes.append("the snapshot has no groups to re-derive; boot it with the IOMMU on to simulate groups")
        } else if Self.isArmIOMMUHost(snapshot) {
            let old = KernelRules(original.kernel.version), new = context.rules
            var changes: [String] = []
            if Self.isDeviceTreeBoot(snapshot), old.deviceTreeACS != new.deviceTreeACS {
                snapshot = Self.deviceTreeACS(snapshot, from: old, to: new)
                changes.append("ACS on the device tree's boot-time functions: \(new.deviceTreeACS.description)")
            }
            if old.armGroupsEveryFunctionAtRegistration != new.armGroupsEveryFunctionAtRegistration {
                changes.append(
                    new.armGroupsEveryFunctionAtRegistration
                        ? "every function the firmware routes to the IOMMU is grouped when it registers (6.15+)"
                        : "only functions with a driver bound are grouped (before 6.15)")
            }
            if !changes.isEmpty {
                context = ModelContext(snapshot)
                if let covered = Self.armCoveredFunctions(context, observed: original) {
                    snapshot = Self.regroup(snapshot, covered: covered, context: context)
                    context = ModelContext(snapshot)
                    notes.append("group membership re-derived: \(changes.joined(separator: "; "))")
                } else {
                    notes.append(
                        "group membership kept as observed, though \(changes.joined(separator: "; ")): the firmware's routes are unknown (\(context.routes.unknownReason))"
                    )
                }
            }
        }
        for index in snapshot.groups.indices {
            let members = snapshot.groups[index].pciMembers
            guard !members.isEmpty else { continue }
            let type = context.typeDecision(for: members).type ?? .unknown
            snapshot.groups[index].type = .value(type, hasNewline: context.rules.typeAlwaysHasNewline || type != .dma)
            // A condition the root does not show (IORT RMR on PCI devices) is taken as the observed
            // boot had it: the ranges stay when its group had them.
            let withConditional = context.regions(for: members)
            let observed = Set(snapshot.groups[index].reservedRegions)
            let keepsConditional = withConditional.allSatisfy { entry in
                !entry.sources.contains(where: \.isConditional) || observed.contains(entry.region)
            }
            snapshot.groups[index].reservedRegions = context.regions(for: members, conditional: keepsConditional).map(\.region)
        }
        notes.append(
            "rebooted with \(snapshot.kernel.release ?? "the same kernel") and `\(snapshot.kernel.commandLine?.raw ?? "")`: DMA translation \(context.policy.translation); global policy \(context.policy.summary)"
        )
        return snapshot
    }

    /// Hot-unplug: the device and everything below it leave; emptied groups are released; the others'
    /// reserved regions are recomputed from the remaining members (the kernel builds the file on read).
    func remove(_ slot: PCIAddress, from snapshot: Snapshot, notes: inout [String]) -> Snapshot {
        guard snapshot.device(slot) != nil else {
            notes.append("--unplug: \(slot) is not in the snapshot")
            return snapshot
        }
        var snapshot = snapshot
        let gone = Set(snapshot.pciDevices.filter { $0.address == slot || $0.upstream.contains(slot) }.map(\.address))
        let context = ModelContext(snapshot)
        snapshot.pciDevices.removeAll { gone.contains($0.address) }
        for index in snapshot.groups.indices {
            let before = snapshot.groups[index].pciMembers
            guard !Set(before).isDisjoint(with: gone) else { continue }
            let predictedBefore = Set(context.regions(for: before).map(\.region))
            let unexplained = snapshot.groups[index].reservedRegions.filter { !predictedBefore.contains($0) }
            snapshot.groups[index].members.removeAll { $0.pciAddress.map(gone.contains) ?? false }
            let remaining = snapshot.groups[index].pciMembers
            snapshot.groups[index].reservedRegions = (context.regions(for: remaining).map(\.region) + unexplained)
                .sorted { ($0.start, $0.type) < ($1.start, $1.type) }
        }
        let released = snapshot.groups.filter { $0.members.isEmpty }.map(\.id)
        snapshot.groups.removeAll { $0.members.isEmpty }
        notes.append(
            "unplugged \(gone.sorted().map(\.description).joined(separator: ", "))"
                + (released.isEmpty ? "" : "; released group(s) \(released.map(String.init).joined(separator: ", "))"))
        return snapshot
    }

    /// A write to a group's `type`, checked against the release's rules (docs/kernel-rules.md#t2).
    func apply(_ write: TypeWrite, to snapshot: Snapshot, notes: inout [String]) -> Snapshot {
        guard let index = snapshot.groups.firstIndex(where: { $0.id == write.group }) else {
            notes.append("--set-type: group \(write.group) does not exist")
            return snapshot
        }
        var snapshot = snapshot
        let context = ModelContext(snapshot)
        let group = snapshot.groups[index]
        let members = group.pciMembers
        let decision = context.typeDecision(for: members)
        let requested = write.type ?? decision.type ?? context.policy.globalType
        let current = group.type.domainType
        let owners = members.compactMap(snapshot.device).filter { device in
            guard let driver = device.driver else { return false }
            return driver != "pcieport" && driver != "pci-stub"
        }
        let inPlaceFQ = requested == .dmaFQ && current == .dma && context.rules.hasFlushQueueType
        var refusal: String?
        if requested == .dmaFQ && !context.rules.hasFlushQueueType {
            refusal = "DMA-FQ does not exist before 5.15 (EINVAL)"
        } else {
            switch context.rules.typeWrite {
            case .readOnly:
                refusal = "type is read-only before 5.11 (EACCES)"
            case .singleUnboundDevice:
                if members.count > 1 {
                    refusal = "the group has more than one device (EINVAL: \"Group has more than one device\")"
                } else if !owners.isEmpty && !inPlaceFQ {
                    refusal = "\(owners[0].address) is bound to \(owners[0].driver ?? "") (EBUSY)"
                }
            case .noOwner:
                if !owners.isEmpty && !inPlaceFQ {
                    refusal = "\(owners.map { "\($0.address) (\($0.driver ?? ""))" }.joined(separator: ", ")) own the group (EPERM)"
                }
            }
        }
        if refusal == nil, context.rules.typeWriteChecksRequirements {
            if requested == .identity, let untrusted = decision.needs.first(where: \.untrusted) {
                refusal = "\(untrusted.device) is untrusted (EINVAL)"
            } else if let need = decision.needs.first(where: {
                $0.type != nil && $0.type != requested
                    && !(requested == .dmaFQ && $0.type == .dma && context.rules.typeWriteFlushQueueShortcutFirst)
            }) {
                refusal = "\(need.device) requires \(need.type?.rawValue ?? "") (EINVAL)"
            }
        }
        if let refusal {
            notes.append("--set-type \(write.group)=\(write.type?.rawValue ?? "auto"): the kernel would refuse: \(refusal); not applied")
            return snapshot
        }
        snapshot.groups[index].type = .value(requested, hasNewline: true)
        notes.append("wrote \(requested.rawValue) to group \(write.group)'s type")
        return snapshot
    }
}

extension String {
    func replacingFirst(_ target: String, with replacement: String) -> String {
        guard !target.isEmpty, let range = firstRange(of: target) else { return self }
        var result = self
        result.replaceSubrange(range, with: replacement)
        return result
    }
}
