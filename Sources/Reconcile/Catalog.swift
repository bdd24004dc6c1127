/// Every divergence kind iommu-watch knows: the one source from which `systemd/iommu-watch.catalog`,
/// `docs/divergences.md` and `iommu-watch explain` are generated. MESSAGE_IDs were drawn once at random
/// and never change: users filter the journal by them.
public enum Catalog {
    public static let sharedIdentityDomain = DivergenceKind(
        name: "shared-identity-domain", messageID: "d0583d451ef34037921b932721696b22", defaultSeverity: .notice,
        title: "IOMMU groups share one identity domain",
        explanation: """
            Two or more IOMMU groups use the IOMMU driver's single identity (pass-through) domain instead of \
            owning a translated default domain each. Their devices can DMA to all of memory and to each \
            other's buffers; the IOMMU checks nothing for them. For the kernel this is normal: Intel's \
            si_domain (5.3–6.11) and static identity domain (6.12+) are shared by design, and every released \
            kernel keeps the shared domain alive when one group is released. It is logged at notice when the \
            policy asked for identity (iommu=pt, iommu.passthrough=1, a passthrough build default), at warning \
            when the policy is translated and some groups are identity all the same, and at error when a \
            removable (untrusted) device is among them or the release does not protect the shared domain's lifetime.
            """,
        remedy: """
            If you did not mean to run in pass-through, remove iommu=pt / iommu.passthrough=1 from the kernel \
            command line (or build with CONFIG_IOMMU_DEFAULT_DMA_LAZY or _STRICT). For single groups switched to \
            identity, find who wrote /sys/kernel/iommu_groups/N/type (udev rules, tuning scripts) and write \
            DMA-FQ or DMA back while no driver is bound. Keep external (Thunderbolt, removable) devices out of \
            identity groups.
            """)

    public static let defaultTypeMismatch = DivergenceKind(
        name: "default-type-mismatch", messageID: "e5e2b79e2e7f4943a981f577e9aea308", defaultSeverity: .warning,
        title: "A group's default domain type is not what the kernel's rules predict",
        explanation: """
            The group's type file shows a default domain type that neither the build configuration, the kernel \
            command line, a virtualised IOMMU's forced strict mode, a driver's def_domain_type quirk nor an \
            untrusted member explains. On 5.11 and later the usual cause is a write to the group's type file \
            (tuning scripts, udev rules, VFIO helpers); otherwise a driver quirk or a distribution patch the \
            model does not know applies. An identity group where translation was intended has no DMA \
            protection; a DMA group where DMA-FQ was intended only costs performance.
            """,
        remedy: """
            Check who writes /sys/kernel/iommu_groups/N/type (grep udev rules and boot scripts). Write the \
            expected type back (unbind the group's drivers first; the kernel refuses writes while a driver \
            owns the group), or write "auto" to let the kernel choose. If nothing wrote it, report the kernel \
            release and the group's devices so the model can learn the rule.
            """)

    public static let identityDMAMask = DivergenceKind(
        name: "identity-dma-mask", messageID: "a15bb9264a7e42c2a8aaaa769b4533cc", defaultSeverity: .warning,
        title: "A device in an identity domain cannot address all memory",
        explanation: """
            A driver-bound device sits in an identity (untranslated) domain, and its DMA mask is narrower than \
            the highest RAM address. Through an identity map the IOMMU cannot help it reach high memory: \
            kernels up to 5.7 moved such Intel devices out of identity ("32bit DMA uses non-identity mapping", \
            the group still reads identity); from 5.8 they stay identity and every transfer above the mask is \
            bounced through swiotlb, which costs CPU time and can run out of bounce buffers under load.
            """,
        remedy: """
            Give the group a translated default domain (drop iommu=pt, or write DMA-FQ to the group's type with \
            the driver unbound), so the IOMMU remaps its DMA below the mask; or use a driver/firmware setting \
            that enables 64-bit DMA for the device.
            """)

    public static let untrustedIdentity = DivergenceKind(
        name: "untrusted-identity", messageID: "967b285cae534c9c88e8d767bee19806", defaultSeverity: .error,
        title: "A removable (untrusted) device is in an untranslated domain",
        explanation: """
            A device behind an external-facing port (removable, e.g. Thunderbolt or a hot-plug slot) is in an \
            identity or otherwise untranslated domain. The kernel treats such devices as untrusted and forces \
            them into DMA domains at probe, but a device hot-added into an existing group joins that group's \
            domain without any check, and a written type bypasses the rule on older kernels. Such a device can \
            read and write all of memory: the attack DMA protection exists to stop.
            """,
        remedy: """
            Unplug the device, or give its group a translated domain (write DMA to the group's type with no \
            driver bound). Do not boot with iommu=pt on machines with external PCIe ports; on 6.5 and later the \
            kernel refuses to probe an untrusted device whose group a driver forces to identity.
            """)

    public static let groupTypeConflict = DivergenceKind(
        name: "group-type-conflict", messageID: "8f359e5498a54c82b70ec7578c22bb97", defaultSeverity: .warning,
        title: "Devices in one group need different domain types",
        explanation: """
            One member of the group needs an identity domain (e.g. a graphics or audio identity-map quirk) and \
            another needs DMA translation (e.g. an untrusted device, or hardware without pass-through). A group \
            has one default domain, so one of them loses: 5.8–6.4 log "Device needs domain type …" and fall back \
            to the global default; 6.5 and later let identity win ("IOMMU driver error, requesting conflicting \
            def_domain_type"), and refuse to probe the group when the loser is an untrusted device.
            """,
        remedy: """
            Separate the devices (another slot, an ACS-capable port), or drop the option that creates the \
            identity requirement (intel_iommu=igfx_off). If an untrusted device is involved, treat the machine \
            as exposed until it is removed.
            """)

    public static let reservedRegionMismatch = DivergenceKind(
        name: "reserved-region-mismatch", messageID: "79a50b02fa1844db9b5bf8d7a3bd3c35", defaultSeverity: .warning,
        title: "A group's reserved regions differ from what firmware and driver rules predict",
        explanation: """
            The group's reserved_regions file lists a region the model does not predict, or lacks one it \
            predicts. Regions come from the x86 MSI window, AMD's HyperTransport hole, Intel's ISA-bridge \
            floppy workaround, RMRRs in the DMAR table and IVMD ranges in the IVRS table, merged per group. A \
            difference means a firmware table the kernel saw differently, a patched kernel (relaxed RMRRs), or \
            a rule the model does not know; a missing direct region can break a device's firmware DMA, an \
            unexpected one can block VFIO assignment.
            """,
        remedy: """
            Compare the group's regions with the DMAR/IVRS table (acpidump, iasl -d) and the kernel log's \
            "RMRR base" lines. A wrong direct/direct-relaxable type on the ISA range means an old or patched \
            kernel. Report persistent differences with a snapshot (iommu-watch snapshot --output DIR).
            """)

    public static let directRegionAssigned = DivergenceKind(
        name: "direct-region-assigned", messageID: "2e51023c07284113a4b52ca70f76029d", defaultSeverity: .error,
        title: "A group with a firmware direct-map region is bound to vfio-pci",
        explanation: """
            The group has a non-relaxable direct region (an RMRR or IVMD unity map firmware keeps using) and some \
            of its devices are bound to vfio-pci. Handing such a device to a guest either breaks the firmware's \
            DMA or lets the guest reach memory the firmware owns. Intel kernels up to 6.5 refuse the attach \
            ("Device is ineligible for IOMMU domain attach due to platform RMRR requirement"); from 6.6 the core \
            refuses to claim the group at all ("Firmware has requested this device have a 1:1 IOMMU mapping"). \
            Seeing it bound anyway means an out-of-tree relax-RMRR patch or a kernel that does not enforce it.
            """,
        remedy: """
            Do not assign this device to a guest. Ask the platform vendor for firmware without the RMRR, or move \
            the device to a slot the RMRR does not cover. If a relax-RMRR patch is in use, understand that the \
            firmware's DMA now lands in guest memory.
            """)

    public static let vfioGroupNotViable = DivergenceKind(
        name: "vfio-group-not-viable", messageID: "92cea48f0b6d44008658e0dc3516b277", defaultSeverity: .warning,
        title: "Part of a group is bound to vfio-pci, the rest to host drivers",
        explanation: """
            VFIO can hand a group to user space only when every device in it is bound to a VFIO driver, to \
            pci-stub, to no driver, or is a bridge served by pcieport. Here some members are bound to vfio-pci \
            and others to host drivers, so QEMU and other VFIO users fail with "group N is not viable", and the \
            host driver shares an address space boundary with whatever user space does with the rest.
            """,
        remedy: """
            Bind every non-bridge device of the group to vfio-pci (driverctl set-override, or vfio-pci.ids=), or \
            unbind the host drivers; or move the device you want to assign to a slot with its own group.
            """)

    public static let isolationNotBacked = DivergenceKind(
        name: "isolation-not-backed", messageID: "3bbaa2d1c2b74dc5859123219fd3f107", defaultSeverity: .warning,
        title: "Groups are finer than the PCI topology's ACS allows",
        explanation: """
            The kernel split devices into separate groups although the PCI topology gives no isolation between \
            them: a port on the way up lacks ACS source validation, request/completion redirect and upstream \
            forwarding, a multifunction slot's functions have no ACS, or a PCIe-to-PCI bridge makes all devices \
            behind it share one requester id. This is the signature of the out-of-tree pcie_acs_override patch \
            (or an ACS quirk the model lacks): the groups claim isolation that peer-to-peer DMA can bypass, so a \
            device given to a guest can reach devices left with the host.
            """,
        remedy: """
            Remove pcie_acs_override= from the kernel command line when isolation matters, and treat the devices \
            the model groups together as one unit when assigning them. If no override is in use, report the \
            port's vendor:device: the kernel may have an ACS quirk for it that the model lacks.
            """)

    public static let groupMembershipMismatch = DivergenceKind(
        name: "group-membership-mismatch", messageID: "198b7286ba6344b7afb36d7ee444b367", defaultSeverity: .notice,
        title: "The kernel grouped devices together that the model keeps apart",
        explanation: """
            The kernel put devices into one group although the model, from config space, ACS capabilities and \
            firmware aliases, finds nothing that ties them together. Usually a DMA-alias quirk (Marvell, Ricoh \
            and others), a firmware alias, an ACS control bit firmware left off, or a rule the model does not \
            know. The kernel errs on the safe side here; the only cost is coarser assignment to guests.
            """,
        remedy: """
            Nothing is unsafe. If you need the devices in separate groups, check the kernel log for DMA-alias \
            quirks and the ports' ACS control bits (lspci -vvv); report the devices so the model can learn the rule.
            """)

    public static let noIOMMUIsolation = DivergenceKind(
        name: "no-iommu-isolation", messageID: "6d726d7ff05940a3b619e5944cc090d4", defaultSeverity: .error,
        title: "A device is driven from user space with no IOMMU at all",
        explanation: """
            A group named vfio-noiommu exists: VFIO's unsafe no-IOMMU mode (vfio.enable_unsafe_noiommu_mode=1) \
            gives a user-space driver (DPDK, SPDK) a device with no DMA translation. The device can read and \
            write all of memory; the kernel taints itself when it is opened.
            """,
        remedy: """
            Enable the IOMMU (intel_iommu=on / amd_iommu=on, firmware VT-d/AMD-Vi settings) and use VFIO with a \
            real group; turn off vfio.enable_unsafe_noiommu_mode.
            """)

    public static let iommuDisabled = DivergenceKind(
        name: "iommu-disabled", messageID: "77c8f2e6b300454aa3162ed6f4eb6919", defaultSeverity: .warning,
        title: "Firmware declares an IOMMU but no IOMMU groups exist",
        explanation: """
            The firmware describes an IOMMU — an ACPI DMAR (Intel VT-d), IVRS (AMD-Vi), IORT (Arm SMMU) or VIOT \
            (virtio-iommu) table, or a device tree whose nodes route DMA through one — but the kernel created no \
            IOMMU groups. Every device does DMA to physical addresses unchecked, and VFIO device assignment is \
            impossible. Typical causes: intel_iommu=off, amd_iommu=off or iommu=off on the command line, a kernel \
            built without CONFIG_INTEL_IOMMU_DEFAULT_ON booted without intel_iommu=on, an IOMMU driver that is not \
            loaded, or one that registered its unit and then attached no device (seen with virtio-iommu on 7.x: \
            the groups appear and vanish, and the drivers bind untranslated after their deferred-probe timeout).
            """,
        remedy: """
            Remove the disabling parameter, or add intel_iommu=on (Intel) and check the kernel log for DMAR / \
            AMD-Vi / arm-smmu / virtio_iommu errors and "deferred probe timeout" lines. On AMD check that IOMMU is \
            enabled in firmware setup; with a module-built driver (virtio_iommu) check that it is in the initramfs.
            """)

    public static let deviceWithoutGroup = DivergenceKind(
        name: "device-without-group", messageID: "fccb20be3206476d85bf8de6089ee1c3", defaultSeverity: .warning,
        title: "A device the firmware puts behind an IOMMU is driven without an IOMMU group",
        explanation: """
            The firmware routes this PCI function's DMA through an IOMMU (the IORT's or device tree's ID \
            mapping, or the VIOT), other devices have IOMMU groups, and a driver is bound to it — but it has \
            no IOMMU group. Its DMA is either untranslated or, where the IOMMU blocks unknown streams, broken. \
            The usual cause on Arm SMMUv3: two devices behind a PCIe-to-PCI bridge share one requester ID and \
            so one StreamID; the SMMU accepts the first and refuses the second ("stream … already in tree", \
            "Aliasing StreamID … unsupported, expect DMA to be broken"). virtio-iommu may likewise leave \
            devices behind such a bridge unattached.
            """,
        remedy: """
            Do not put two DMA-capable devices behind one PCIe-to-PCI bridge on an Arm SMMUv3 host (move one \
            to its own root port, or unbind the second); check the kernel log for the StreamID message. \
            Until then treat the device's DMA as unprotected, and never hand its group's neighbours to a VM.
            """)

    public static let groupReleasedWhileShared = DivergenceKind(
        name: "group-released-while-shared", messageID: "b34fecaebfa247828f304630b8246cf1", defaultSeverity: .error,
        title: "A group using the shared identity domain went away on a kernel that could free it",
        explanation: """
            A group whose default domain was the shared identity domain was released (its last device removed) \
            on a kernel release whose rules do not keep that shared domain alive. The domain's page tables could \
            be freed while other identity groups still use them: DMA faults or silent corruption for every \
            remaining identity device. No released kernel has this flaw (Intel guarded si_domain in the same 5.3 \
            patch that shared it; 6.12 made it static), so seeing this means an out-of-tree regression or a model \
            override.
            """,
        remedy: """
            Watch the kernel log for DMAR faults on the remaining identity devices; reboot to restore a consistent \
            state; do not hot-unplug identity devices on that kernel. Report the kernel build.
            """)

    public static let impossibleTypeReading = DivergenceKind(
        name: "impossible-type-reading", messageID: "c7125a6953ff4c739e8443a8d365308a", defaultSeverity: .warning,
        title: "A group's type file shows a value this kernel release cannot print",
        explanation: """
            The type file reads something the release's iommu_group_show_type() cannot produce for this group: \
            DMA-FQ before 5.15, DMA without its newline on 5.3 and later, unknown for a PCI group on an Intel or \
            AMD kernel that gives every group a default domain. Either the release string does not describe the \
            running code (a backport, a vendor kernel), the group failed to get a default domain, or the snapshot \
            was edited.
            """,
        remedy: """
            Check the kernel log for "Failed to allocate default IOMMU domain" or "refusing to probe" lines for \
            the group's devices, and that proc/version matches the running kernel.
            """)

    public static let firmwareTableUnreadable = DivergenceKind(
        name: "firmware-table-unreadable", messageID: "5b436a5efc6243849a7bbc751401bef0", defaultSeverity: .info,
        title: "A DMAR or IVRS table could not be decoded",
        explanation: """
            The ACPI DMAR or IVRS table exists but its bytes do not decode (truncated, a length past the end, an \
            unknown entry with no defined length). The model cannot predict RMRR or IVMD regions or firmware DMA \
            aliases, so reserved-region and membership predictions may be incomplete. The kernel's own parser may \
            have been more lenient, or may have ignored the same entries.
            """,
        remedy: """
            Dump the table (acpidump -n DMAR, iasl -d) and check it against the kernel log's DMAR/AMD-Vi lines; \
            report it with a snapshot if the kernel accepted it.
            """)

    /// In catalog order: the most consequential first.
    public static let all: [DivergenceKind] = [
        sharedIdentityDomain, defaultTypeMismatch, identityDMAMask, untrustedIdentity, groupTypeConflict,
        reservedRegionMismatch, directRegionAssigned, vfioGroupNotViable, isolationNotBacked, groupMembershipMismatch,
        noIOMMUIsolation, iommuDisabled, groupReleasedWhileShared, impossibleTypeReading, firmwareTableUnreadable,
        deviceWithoutGroup,
    ]

    /// A kind by kebab name or MESSAGE_ID (case-insensitive, dashes in the id allowed).
    public static func kind(named nameOrID: String) -> DivergenceKind? {
        let wanted = nameOrID.lowercased()
        let compactID = wanted.filter { $0 != "-" }
        return all.first { $0.name == wanted || $0.messageID == compactID }
    }
}
