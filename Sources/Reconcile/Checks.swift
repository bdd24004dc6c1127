import IOMMUModel
import IOMMUSnapshot

/// One reconciliation pass: each `check…` compares one aspect of the snapshot with the prediction and
/// appends what differs.
struct Check {
    let snapshot: Snapshot
    let prediction: Prediction
    var found: [Divergence] = []
    var unverified: [Unverified] = []

    var context: ModelContext { prediction.context }
    var rules: KernelRules { prediction.rules }
    var policy: DomainPolicy { prediction.policy }

    init(snapshot: Snapshot, prediction: Prediction) {
        self.snapshot = snapshot
        self.prediction = prediction
    }

    mutating func run() {
        checkFirmware()
        checkDisabled()
        checkMembership()
        for group in snapshot.groups {
            checkNoIOMMU(group)
            guard !group.pciMembers.isEmpty else { continue }
            checkType(group)
            checkRegions(group)
            checkUntrusted(group)
            checkDMAMask(group)
            checkVFIO(group)
        }
        checkSharedIdentity()
        checkDevicesWithoutGroup()
        let virtioGroups = snapshot.groups.filter { group in group.pciMembers.first.map { !context.regionsPredictable(for: $0) } ?? false }
        if !virtioGroups.isEmpty {
            unverified.append(
                Unverified(
                    group: nil, members: [],
                    question: "whether the reserved regions of the \(virtioGroups.count) virtio-iommu groups are right",
                    reason: "virtio-iommu takes them from the device itself (its probe request), which sysfs does not show",
                    remedy: "compare them with the hypervisor's configuration of the virtio-iommu device"))
        }
        let withoutRegions = snapshot.groups.filter { !$0.reservedRegionsReadable && !$0.pciMembers.isEmpty }.map(\.id)
        if !withoutRegions.isEmpty {
            let listed = withoutRegions.prefix(8).map(String.init).joined(separator: ", ") + (withoutRegions.count > 8 ? " …" : "")
            unverified.append(
                Unverified(
                    group: nil, members: [],
                    question:
                        "whether the reserved regions of \(withoutRegions.count == 1 ? "group" : "\(withoutRegions.count) groups") (\(listed)) are what the rules predict",
                    reason: "their reserved_regions files are not in the root or could not be read",
                    remedy: "scan the live system, or capture it with `iommu-watch snapshot`, which copies reserved_regions"))
        }
    }

    mutating func add(
        _ kind: DivergenceKind, severity: Severity? = nil, members: [PCIAddress], suffix: String = "", group: Int?, slot: PCIAddress?,
        message: String, domainType: DomainType? = nil, expected: String? = nil, observed: String? = nil
    ) {
        let key = kind.name + ":" + (members.isEmpty ? suffix : Names.key(members) + (suffix.isEmpty ? "" : "/" + suffix))
        found.append(
            Divergence(
                kind: kind, severity: severity, key: key, group: group, slot: slot, message: message,
                domainType: domainType, expected: expected, observed: observed))
    }

    // MARK: firmware and the IOMMU as a whole

    mutating func checkFirmware() {
        for problem in context.firmwareProblems {
            add(
                Catalog.firmwareTableUnreadable, members: [], suffix: problem.table.rawValue, group: nil, slot: nil,
                message:
                    "the \(problem.table.rawValue): \(problem.reason); reserved-region and alias predictions that depend on it may be incomplete"
            )
        }
    }

    mutating func checkDisabled() {
        guard snapshot.groups.isEmpty else { return }
        if snapshot.firmware.dmar == nil && snapshot.firmware.ivrs == nil {
            checkNothingTranslated()
            return
        }
        let table = snapshot.firmware.dmar != nil ? "a DMAR table (Intel VT-d)" : "an IVRS table (AMD-Vi)"
        let cause =
            policy.disabledBy.map { "`\($0)` on the kernel command line turned it off" }
            ?? (snapshot.firmware.dmar != nil && snapshot.kernel.commandLine?.options(of: "intel_iommu").contains("on") != true
                ? "the command line has no `intel_iommu=on` and the build may not enable VT-d by default"
                : "no disabling parameter is on the command line; check the kernel log for DMAR/AMD-Vi errors")
        add(
            Catalog.iommuDisabled, members: [], suffix: "firmware", group: nil, slot: nil,
            message:
                "firmware declares an IOMMU with \(table), but the kernel created no IOMMU groups\(snapshot.hasIOMMUGroupsFolder ? "" : " (no sys/kernel/iommu_groups at all)"): \(cause); every device DMAs to physical memory unchecked",
            expected: "IOMMU groups", observed: "none")
    }

    /// Arm and virtio-iommu: the firmware declares an IOMMU (IORT, VIOT, the device tree), and a unit
    /// may even be registered, yet there is no group while drivers are bound.
    mutating func checkNothingTranslated() {
        // No groups because the folder could not be listed is missing data, not an IOMMU left off.
        guard !snapshot.errors.contains(where: { $0.path == SnapshotReader.groupsFolder }) else { return }
        let declared = snapshot.firmware.declarations
        guard !declared.isEmpty || !snapshot.iommus.isEmpty else { return }
        // Where the firmware's routes are known, only the functions it sends to an IOMMU count.
        let bound = snapshot.pciDevices.filter { device in
            guard device.driver != nil, !Self.isIOMMUItself(device, units: snapshot.iommus) else { return false }
            guard let route = context.routes.route(of: device.address) else {
                return true
            }
            return route.iommu != nil
        }
        guard !bound.isEmpty else { return }
        let units = snapshot.iommus.map { "\($0.name) (\($0.driver.name))" }
        let what =
            units.isEmpty
            ? "firmware declares an IOMMU with \(declared.joined(separator: " and ")), but no unit is registered and the kernel created no IOMMU groups"
            : "IOMMU unit \(units.joined(separator: ", ")) is registered\(declared.isEmpty ? "" : ", declared by \(declared.joined(separator: " and "))"), but the kernel created no IOMMU groups"
        add(
            Catalog.iommuDisabled, members: [], suffix: "firmware", group: nil, slot: nil,
            message:
                "\(what): \(Names.list(bound.map(\.address))) \(bound.count == 1 ? "is" : "are") bound to drivers and DMA untranslated\(virtioRegression)",
            expected: "IOMMU groups", observed: "none")
    }

    /// A PCI function that is an IOMMU (class 0x0806), or the function a virtio-iommu unit is named after.
    static func isIOMMUItself(_ device: PCIDevice, units: [IOMMUUnit]) -> Bool {
        device.classCode.map { $0 >> 8 == 0x0806 } == true || units.contains { $0.name == device.address.description }
    }

    /// Arm SMMU and virtio-iommu hosts: a bound PCI function without a group although the firmware
    /// routes its requester ID to an IOMMU (`FirmwareRoutes`), while other devices have groups. Not
    /// checked on x86, where DMAR/IVRS scopes and the integrated-graphics exception decide who is
    /// translated; a function the firmware routes past every IOMMU is untranslated by design.
    mutating func checkDevicesWithoutGroup() {
        guard !snapshot.groups.isEmpty, let family = snapshot.iommus.first?.driver, family.isArmOrVirtio else { return }
        for device in snapshot.pciDevices where device.driver != nil && device.iommuGroup == nil {
            guard !Self.isIOMMUItself(device, units: snapshot.iommus), device.classCode.map({ $0 >> 8 != 0x0600 }) ?? true else { continue }
            // A link that could not be read says nothing about the group.
            let link = device.path + "/iommu_group"
            if snapshot.errors.contains(where: { $0.path == link }) {
                unverified.append(
                    Unverified(
                        group: nil, members: [device.address], question: "whether \(Names.short(device.address)) has an IOMMU group",
                        reason: "its iommu_group link could not be read", remedy: "scan as root, or capture it with `iommu-watch snapshot`")
                )
                continue
            }
            guard let route = context.routes.route(of: device.address) else {
                unverified.append(
                    Unverified(
                        group: nil, members: [device.address],
                        question:
                            "whether \(Names.short(device.address)), bound to \(device.driver ?? "") without an IOMMU group, is meant to be behind an IOMMU",
                        reason: context.routes.unknownReason,
                        remedy: "scan as root (the ACPI tables are readable by root only), or capture with `iommu-watch snapshot` as root"))
                continue
            }
            guard case .translated(let iommu, let id) = route else { continue }
            let idName = family == .virtio ? "endpoint ID" : "StreamID"
            var why = "no IOMMU attached it"
            if let (bridge, aliasRID) = context.aliasRequesterIDs(of: device.address).first {
                let aliasID = context.routes.route(domain: device.address.domain, requesterID: aliasRID).flatMap { route in
                    if case .translated(_, let id) = route { " (\(idName) 0x\(Hex.string(UInt64(id), width: 1)))" } else { nil }
                }
                let sharers = snapshot.pciDevices.filter { other in
                    other.address != device.address && other.iommuGroup != nil
                        && context.topology.dmaAliasBridges(of: other.address).first?.bridge == bridge
                }
                if let first = sharers.first {
                    why =
                        family == .armSMMUv3 || family == .armSMMU
                        ? "it sits behind PCIe-to-PCI bridge \(Names.short(bridge)) with \(Names.short(first.address)), so both DMA with \(FirmwareRoutes.words(aliasRID))\(aliasID ?? ""); the SMMU accepted \(Names.short(first.address)) and refused \(Names.short(device.address)) (\"Aliasing StreamID … unsupported\" or \"stream … already in tree\" in the kernel log), so its DMA is broken or untranslated"
                        : "it sits behind PCIe-to-PCI bridge \(Names.short(bridge)) with \(Names.short(first.address)) and shares its requester ID; the virtio-iommu did not attach it"
                } else {
                    why = "it sits behind PCIe-to-PCI bridge \(Names.short(bridge)); the \(family.name) driver did not attach it"
                }
            }
            add(
                Catalog.deviceWithoutGroup, members: [device.address], group: nil, slot: device.address,
                message:
                    "\(Names.short(device.address)) is bound to \(device.driver ?? "") but has no IOMMU group, though the \(iommu.source) routes its DMA to \(iommu.name) (\(idName) 0x\(Hex.string(UInt64(id), width: 1))) and other devices have groups: \(why)\(virtioRegression)",
                expected: "an IOMMU group", observed: "none")
        }
    }

    /// The known virtio-iommu regression of this release, as a clause to add; empty on others.
    var virtioRegression: String {
        guard snapshot.iommus.first?.driver == .virtio, context.rules.virtioIOMMUMayLoseGroups else { return "" }
        return
            " (this release has the virtio-iommu instance-lookup bug bcb81ac6ae3c brought in 6.15, which can leave endpoints without groups; 72b6f7cd89ce fixed it in 6.16.4 and 6.17)"
    }

    mutating func checkNoIOMMU(_ group: IOMMUGroup) {
        guard group.isVFIONoIOMMU else { return }
        let names = group.members.map(\.name).sorted()
        add(
            Catalog.noIOMMUIsolation, members: group.pciMembers, suffix: group.pciMembers.isEmpty ? names.joined(separator: "+") : "",
            group: group.id, slot: group.pciMembers.first,
            message:
                "group \(group.id) (\(names.joined(separator: ", "))) is a vfio-noiommu group: its device is driven from user space with no DMA translation at all"
        )
    }

    // MARK: membership

    /// Compares the kernel's partition with the model's, over devices both cover.
    mutating func checkMembership() {
        var predictedOf: [PCIAddress: Int] = [:]
        for (index, group) in prediction.groups.enumerated() { for member in group.members { predictedOf[member] = index } }
        var observedOf: [PCIAddress: IOMMUGroup] = [:]
        for group in snapshot.groups { for member in group.pciMembers { observedOf[member] = group } }
        // Kernel groups coarser than the model's: the kernel knows a reason we do not.
        for group in snapshot.groups {
            let members = group.pciMembers.filter { predictedOf[$0] != nil }
            let parts = Dictionary(grouping: members) { predictedOf[$0] ?? -1 }
            guard parts.count > 1 else { continue }
            let apart = parts.values.map { $0.sorted() }.sorted { $0[0] < $1[0] }
            if let unreadable = unreadable(among: members) {
                unverified.append(
                    Unverified(
                        group: group.id, members: group.pciMembers,
                        question: "whether \(Names.list(members)) belong in one group", reason: unreadable.reason, remedy: unreadable.remedy
                    ))
                continue
            }
            let reasons = apart.map { part in "\(Names.list(part)): \(whyApart(part))" }
            add(
                Catalog.groupMembershipMismatch, members: group.pciMembers, group: group.id, slot: apart[0][0],
                message:
                    "group \(group.id) holds \(Names.list(members)), but the model keeps \(apart.map { Names.list($0) }.joined(separator: " apart from ")) — \(reasons.joined(separator: "; ")); the kernel applied a DMA alias, quirk or rule the model does not know",
                expected: apart.map { Names.list($0) }.joined(separator: " | "), observed: Names.list(members))
        }
        // Kernel groups finer than the model's: isolation claimed that ACS does not back.
        for predicted in prediction.groups {
            let members = predicted.members.filter { observedOf[$0] != nil }
            let parts = Dictionary(grouping: members) { observedOf[$0]?.id ?? -1 }
            guard parts.count > 1 else { continue }
            if let unreadable = unreadable(among: predicted.members) {
                unverified.append(
                    Unverified(
                        group: parts.keys.min(), members: predicted.members,
                        question: "whether the kernel may keep \(Names.list(members)) apart", reason: unreadable.reason,
                        remedy: unreadable.remedy))
                continue
            }
            let override = snapshot.kernel.commandLine?.value(of: "pcie_acs_override")
            let because = predicted.merges.map(\.sentence)
            let split = parts.sorted { $0.key < $1.key }.map { "\(Names.list($0.value)) in group \($0.key)" }
            let source =
                override.map { "`pcie_acs_override=\($0)` is on the command line" }
                ?? "no pcie_acs_override= is on the command line, so either a patched kernel overrides ACS or an in-kernel ACS quirk the model lacks applies"
            add(
                Catalog.isolationNotBacked, members: predicted.members, group: parts.keys.min(), slot: members.first,
                message:
                    "\(split.joined(separator: ", ")) are kept apart, but the topology cannot isolate them: \(because.joined(separator: "; ")); \(source)",
                expected: Names.list(members), observed: split.joined(separator: " | "))
        }
    }

    /// The devices among `members` and the bridges above them whose config space could not be read
    /// in full, so that ACS, port types and the header were not seen: the grouping rules cannot be
    /// checked for them. Nil when everything needed was read.
    func unreadable(among members: [PCIAddress]) -> (reason: String, remedy: String)? {
        let topology = context.topology
        var involved = Set(members)
        for member in members { involved.formUnion(topology.device(member)?.upstream ?? []) }
        let blind = involved.filter { topology.device($0) != nil && !topology.canSeeCapabilities($0) }.sorted()
        guard !blind.isEmpty else { return nil }
        let truncated = blind.filter { topology.device($0)?.config != nil }
        let missing = blind.filter { topology.device($0)?.config == nil }
        var reasons: [String] = []
        if !truncated.isEmpty {
            reasons.append(
                "\(Names.list(truncated)) \(truncated.count == 1 ? "shows" : "show") only the first 64 bytes of config space, so ACS and port types are unknown"
            )
        }
        if !missing.isEmpty { reasons.append("\(Names.list(missing)) \(missing.count == 1 ? "has" : "have") no readable config file") }
        let remedy =
            truncated.isEmpty
            ? "capture the tree with `iommu-watch snapshot` as root on the machine, which copies every device's config"
            : "run as root: the kernel shows only 64 bytes of config space to other users"
        return (reasons.joined(separator: "; "), remedy)
    }

    /// Why the model puts this part in a group of its own.
    func whyApart(_ part: [PCIAddress]) -> String {
        guard let first = part.first else { return "" }
        let topology = context.topology
        if let bridge = topology.bridge(above: first) {
            let path = topology.acsPathEnabled(from: bridge)
            if path.enabled { return "the ports above it (\(Names.short(bridge)) up to the root) have ACS SV+RR+CR+UF enabled" }
        }
        if topology.isMultifunction(first) {
            return topology.acsEnabled(first).enabled ? "its slot's functions have ACS" : "no sibling function without ACS"
        }
        return topology.bridge(above: first) == nil ? "a single-function device on the root bus" : "a single-function device"
    }

    // MARK: default domain type

    mutating func checkType(_ group: IOMMUGroup) {
        let members = group.pciMembers
        let decision = context.typeDecision(for: members)
        let groupName = "group \(group.id)"
        if !decision.conflicting.isEmpty {
            let refused: Bool = if case .untrustedRefused = decision.rule { true } else { false }
            add(
                Catalog.groupTypeConflict, severity: refused ? .error : nil, members: members, group: group.id,
                slot: decision.conflicting[0].device,
                message: "\(groupName) cannot satisfy all its devices: \(decision.rule.sentence)",
                domainType: decision.type, expected: decision.conflicting.compactMap { $0.type?.rawValue }.joined(separator: "+"),
                observed: group.type.domainType?.rawValue)
        }
        guard case .value(let observed, let newline) = group.type else { return }
        // Strings this release cannot print (docs/kernel-rules.md#t1).
        var impossible: String?
        if observed == .dmaFQ && !rules.hasFlushQueueType {
            impossible = "DMA-FQ does not exist before 5.15"
        } else if observed == .dma && !newline && rules.typeAlwaysHasNewline {
            impossible = "from 5.3 the kernel prints DMA with a newline"
        } else if observed == .unknown, let expected = decision.type, expected != .unknown {
            impossible =
                "this release gives PCI groups a default domain (\(expected.rawValue) predicted); unknown means its setup failed or the probe was refused"
        }
        if let impossible {
            add(
                Catalog.impossibleTypeReading, members: members, group: group.id, slot: members.first,
                message:
                    "\(groupName) type reads \(observed.rawValue)\(newline ? "" : " without a newline") on \(snapshot.kernel.release ?? "this kernel"): \(impossible)",
                domainType: observed, expected: decision.type?.rawValue, observed: observed.rawValue)
            return
        }
        guard let expected = decision.type, expected != observed, expected != .unknown else { return }
        var who: String =
            switch rules.typeWrite {
            case .readOnly:
                "type is read-only on this release, so nobody wrote it: a driver quirk or a distribution patch we do not model applies"
            default: "the kernel did not choose this; someone wrote `type` or a driver quirk we do not model applies"
            }
        // Strict forced by a virtualised IOMMU is invisible when the unit's registers were not captured.
        let registersUnknown =
            snapshot.iommus.isEmpty
            || snapshot.iommus.contains { unit in
                switch unit.driver {
                case .intel(let cap, _): cap == nil
                case .amd(let cap, _): cap == nil
                case .armSMMUv3, .armSMMU, .virtio, .other: false
                }
            }
        // …and it would make every translated group DMA, not just this one.
        let noGroupIsLazy = !snapshot.groups.contains { $0.type.domainType == .dmaFQ }
        if observed == .dma && expected == .dmaFQ && registersUnknown && noGroupIsLazy {
            who =
                "the IOMMU unit's cap register was not readable, so a virtualised IOMMU forcing strict mode (Intel caching mode, AMD NpCache) cannot be ruled out; otherwise "
                + who
        }
        let lessProtected = observed == .identity && expected.isTranslated
        add(
            Catalog.defaultTypeMismatch, severity: lessProtected || expected == .identity ? .warning : .notice, members: members,
            group: group.id, slot: members.first,
            message:
                "\(groupName) is \(observed.rawValue) although \(ruleSummary(decision)) says \(expected.rawValue)\(decision.rule.isGlobalPolicy ? " (\(policy.explanation))" : ""): \(who)",
            domainType: observed, expected: expected.rawValue, observed: observed.rawValue)
    }

    func ruleSummary(_ decision: TypeDecision) -> String {
        switch decision.rule {
        case .globalPolicy: "the policy"
        default: "the kernel's rule (\(decision.rule.sentence))"
        }
    }

    // MARK: reserved regions

    mutating func checkRegions(_ group: IOMMUGroup) {
        guard group.reservedRegionsReadable else { return }
        let members = group.pciMembers
        guard let first = members.first, context.regionsPredictable(for: first) else { return }
        let predicted = context.regions(for: members)
        let expectedLines = predicted.map(\.region.kernelLine)
        let observedLines = group.reservedRegions.map(\.kernelLine)
        guard expectedLines != observedLines else { return }
        // Regions on a condition the root does not show (IORT RMR ranges on PCI devices) may be absent.
        guard context.regions(for: members, conditional: false).map(\.region.kernelLine) != observedLines else { return }
        let missing = predicted.filter { !observedLines.contains($0.region.kernelLine) }
        let extra = group.reservedRegions.filter { !expectedLines.contains($0.kernelLine) }
        var parts: [String] = []
        if !missing.isEmpty {
            parts.append(
                "missing "
                    + missing.map { "`\($0.region.kernelLine)` (from \($0.sources.map(\.description).joined(separator: ", ")))" }.joined(
                        separator: ", "))
        }
        if !extra.isEmpty {
            parts.append("unpredicted " + extra.map { "`\($0.kernelLine)`" }.joined(separator: ", "))
        }
        if parts.isEmpty { parts.append("the same lines in a different order than the kernel's merge produces") }
        add(
            Catalog.reservedRegionMismatch, members: members, group: group.id, slot: members.first,
            message:
                "group \(group.id) (\(Names.list(members))) reserved regions differ from the prediction: \(parts.joined(separator: "; "))",
            expected: expectedLines.joined(separator: "; "), observed: observedLines.joined(separator: "; "))
    }

    // MARK: devices in untranslated domains

    mutating func checkUntrusted(_ group: IOMMUGroup) {
        guard let type = group.type.domainType, !type.isTranslated, type != .unknown || !group.pciMembers.isEmpty else { return }
        guard type == .identity else { return }
        for device in group.pciMembers.compactMap(snapshot.device) where device.removable == .removable {
            add(
                Catalog.untrustedIdentity, members: group.pciMembers, suffix: device.address.description, group: group.id,
                slot: device.address,
                message:
                    "\(Names.short(device.address)) is removable (behind an external-facing port, untrusted) but sits in identity group \(group.id): it can DMA to all memory",
                domainType: type, expected: "DMA", observed: type.rawValue)
        }
    }

    mutating func checkDMAMask(_ group: IOMMUGroup) {
        guard group.type.domainType == .identity, let top = snapshot.memory.topOfRAM else { return }
        for device in group.pciMembers.compactMap(snapshot.device) {
            // Bridges (pcieport) and stub drivers do no DMA of their own; VFIO devices DMA through the VFIO domain.
            guard let driver = device.driver, !VFIOReadiness.isVFIO(driver), !VFIOReadiness.acceptedHostDrivers.contains(driver),
                device.classCode.map({ $0 >> 16 != 0x06 }) ?? true
            else { continue }
            guard let bits = device.dmaMaskBits else {
                unverified.append(
                    Unverified(
                        group: group.id, members: [device.address],
                        question: "whether \(Names.short(device.address))'s DMA mask reaches all RAM in identity group \(group.id)",
                        reason: "its dma_mask_bits is not in the root",
                        remedy: "scan the live system, or capture it with `iommu-watch snapshot`, which copies dma_mask_bits"))
                continue
            }
            guard bits < 64 else { continue }
            let limit = (UInt64(1) << UInt64(bits)) - 1
            guard limit < top else { continue }
            let consequence =
                rules.intelMovesNarrowDevicesOffIdentity
                ? "this release (≤5.7) moves it off the identity map when its driver first maps DMA (\"32bit DMA uses non-identity mapping\"), while the group still reads identity"
                : "from 5.8 it stays identity and every buffer above \(ReservedRegion.format(limit)) is bounced through swiotlb"
            add(
                Catalog.identityDMAMask, members: [], suffix: device.address.description, group: group.id, slot: device.address,
                message:
                    "\(Names.short(device.address)) (driver \(driver)) has a \(bits)-bit DMA mask in identity group \(group.id), but RAM reaches \(ReservedRegion.format(top)): \(consequence)",
                domainType: .identity, expected: "mask ≥ \(64 - top.leadingZeroBitCount) bits", observed: "\(bits) bits")
        }
    }

    // MARK: VFIO

    mutating func checkVFIO(_ group: IOMMUGroup) {
        let devices = group.pciMembers.compactMap(snapshot.device)
        let vfio = devices.filter { ($0.driver.map(VFIOReadiness.isVFIO) ?? false) }
        guard !vfio.isEmpty else { return }
        let host = devices.filter { device in
            guard let driver = device.driver else { return false }
            return !VFIOReadiness.isVFIO(driver) && !VFIOReadiness.acceptedHostDrivers.contains(driver)
        }
        if !host.isEmpty {
            add(
                Catalog.vfioGroupNotViable, members: group.pciMembers, group: group.id, slot: vfio[0].address,
                message:
                    "group \(group.id) is not viable for VFIO: \(vfio.map { "\(Names.short($0.address)) is bound to \($0.driver ?? "")" }.joined(separator: ", ")) but \(host.map { "\(Names.short($0.address)) to \($0.driver ?? "")" }.joined(separator: ", ")); every device of the group must be bound to a VFIO driver, pci-stub, pcieport or nothing",
                expected: "all members VFIO-safe", observed: host.map { "\($0.address)=\($0.driver ?? "")" }.joined(separator: ", "))
        }
        let direct = group.reservedRegions.filter { $0.type == .direct }
        if !direct.isEmpty {
            let who =
                rules.coreRefusesDirectRegionsForVFIO
                ? "from 6.6 the core refuses to claim such a group (\"Firmware has requested this device have a 1:1 IOMMU mapping\"), so a relax-RMRR patch or similar is in use"
                : "Intel kernels up to 6.5 refuse to attach RMRR-locked devices to a VFIO domain; other drivers do not check"
            add(
                Catalog.directRegionAssigned, members: group.pciMembers, group: group.id, slot: vfio[0].address,
                message:
                    "group \(group.id) has the non-relaxable direct region \(direct.map { "`\($0.kernelLine)`" }.joined(separator: ", ")) and \(Names.list(vfio.map(\.address))) \(vfio.count == 1 ? "is" : "are") bound to vfio-pci: firmware DMA to that range would land in the guest; \(who)",
                expected: "no VFIO binding", observed: vfio.map { "\($0.address)=\($0.driver ?? "")" }.joined(separator: ", "))
        }
    }

    // MARK: the shared identity domain

    mutating func checkSharedIdentity() {
        let identityGroups = snapshot.groups.filter { $0.type.domainType == .identity && !$0.pciMembers.isEmpty }
        let structure = prediction.identityStructure(identityGroups: identityGroups.map(\.pciMembers))
        for share in structure where share.isShared {
            let shared = Set(share.groups)
            let groups = identityGroups.filter { shared.contains($0.pciMembers) }
            let members = groups.flatMap(\.pciMembers)
            let removable = members.filter { snapshot.device($0)?.removable == .removable }
            let severity: Severity
            var why: String
            if !removable.isEmpty {
                severity = .error
                why =
                    "\(Names.list(removable)) \(removable.count == 1 ? "is" : "are") removable (untrusted) and share\(removable.count == 1 ? "s" : "") it"
            } else if !share.lifetimeProtected {
                severity = .error
                why = "this release does not keep the shared domain alive when one of its groups is released"
            } else if policy.askedForIdentity {
                severity = .notice
                why = "the policy asked for identity (\(policy.passthroughSource))"
            } else {
                severity = .warning
                why = "the policy is translated (\(policy.summary)), yet these groups are identity"
            }
            let lifetime =
                share.lifetimeProtected
                ? "; \(snapshot.kernel.release ?? "this release") keeps it alive when a group is released (\(lifetimeGuard(share.object)))"
                : ""
            add(
                Catalog.sharedIdentityDomain, severity: severity, members: [], suffix: share.driver, group: groups.first?.id,
                slot: members.first,
                message:
                    "\(Names.groups(groups.map(\.id))) (\(members.count) devices) share \(share.driver)'s \(share.object.description): their devices DMA to all memory and to each other's buffers unchecked; \(why)\(lifetime)",
                domainType: .identity, expected: policy.globalType.rawValue, observed: "\(groups.count) identity groups")
        }
    }

    func lifetimeGuard(_ object: IdentityDomainObject) -> String {
        switch object {
        case .sharedAllocated: "intel_iommu_domain_free() skips si_domain, since 5.3"
        case .staticGlobal: "a static domain is never freed"
        case .perGroup, .driverInternal: "each group owns its domain"
        }
    }
}
