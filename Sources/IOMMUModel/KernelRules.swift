import IOMMUSnapshot

/// Which of the kernel's IOMMU rules a release follows. One property per rule that changed between
/// releases, each citing where it comes from (a docs/kernel-rules.md section, function, commit). A release
/// we cannot parse is treated as the newest line we know, and says so.
public struct KernelRules: Sendable, Hashable {
    public let version: KernelVersion
    /// False when the version was guessed because `proc/version` could not be read.
    public let isKnown: Bool

    /// What we assume when `proc/version` is missing: the newest line the model knows.
    public static let newestKnown = KernelVersion(7, 0)

    public init(_ version: KernelVersion?) {
        self.version = version ?? Self.newestKnown
        self.isKnown = version != nil
    }

    private func atLeast(_ major: Int, _ minor: Int) -> Bool { version >= KernelVersion(major, minor) }

    /// Intel groups get core default domains from 5.3 (Lu Baolu, "iommu/vt-d: Delegate the identity
    /// domain to upper layer", series of 25 May 2019); before that `type` reads `unknown`.
    public var intelHasDefaultDomains: Bool { atLeast(5, 3) }

    /// `IOMMU_RESV_DIRECT_RELAXABLE` exists (Eric Auger, 5.3); and `iommu_insert_resv_region()` was
    /// rewritten in the same series to coalesce same-type regions that overlap *or touch*.
    public var mergesTouchingRegions: Bool { atLeast(5, 3) }

    /// The ISA/LPC bridge's 0–16 MiB floppy region (`CONFIG_INTEL_IOMMU_FLOPPY_WA`,
    /// `intel_iommu_get_resv_regions`): not listed before 5.3, `direct` in 5.3–5.4, `direct-relaxable`
    /// from "iommu/vt-d: Set ISA bridge reserved region as relaxable" (5.5; the real captures show it
    /// relaxable on 5.10, 6.1 and 6.12).
    public var isaBridgeRegionType: ReservedRegionType? {
        if !atLeast(5, 3) { return nil }
        return atLeast(5, 5) ? .directRelaxable : .direct
    }

    /// RMRRs of USB and display devices print `direct-relaxable` (`device_rmrr_is_relaxable()`, 5.3+)
    /// and also reach devices below a scoped bridge (`is_downstream_to_pci_bridge()`, 5.3+).
    public var rmrrRelaxableAndDownstream: Bool { atLeast(5, 3) }

    /// `IOMMU_DOMAIN_DMA_FQ` and the `DMA-FQ` string (John Garry / Robin Murphy, 5.15).
    public var hasFlushQueueType: Bool { atLeast(5, 15) }

    /// `type` ends with a newline for every value ("iommu: Add missing new line for dma type", 5.3).
    public var typeAlwaysHasNewline: Bool { atLeast(5, 3) }

    /// How a group's members' wishes become one type (docs/kernel-rules.md#d3).
    public enum GroupResolution: Sendable, Hashable {
        /// ≤5.7: the default domain is allocated with the global type when the first device joins.
        case firstDevice
        /// 5.8–6.4 `probe_alloc_default_domain()`: first non-zero wins, a later different one resets
        /// to the global default ("Device needs domain type %s, but device %s …").
        case conflictFallsBackToDefault
        /// 6.5+ `iommu_get_default_domain_type()`: identity wins a conflict; an untrusted member forces
        /// DMA or, against a driver's identity, refuses the probe.
        case identityWins
    }
    public var groupResolution: GroupResolution {
        if !atLeast(5, 8) { return .firstDevice }
        // 59ddce4418da ("iommu: Reorganize iommu_get_default_domain_type() …") is first in v6.7.
        return atLeast(6, 7) ? .identityWins : .conflictFallsBackToDefault
    }

    /// Writing `type` (docs/kernel-rules.md#t2).
    public enum TypeWrite: Sendable, Hashable {
        /// ≤5.10: mode 0444.
        case readOnly
        /// 5.11–6.3: single-device group, no driver bound.
        case singleUnboundDevice
        /// 6.4+: any size, but no owner (no DMA-API driver, no VFIO claim) — "iommu: Replace
        /// device_lock() with group->mutex".
        case noOwner
    }
    public var typeWrite: TypeWrite {
        if !atLeast(5, 11) { return .readOnly }
        return atLeast(6, 4) ? .noOwner : .singleUnboundDevice
    }

    /// A written type that conflicts with a driver's requirement or an untrusted member is refused:
    /// from 5.11 in `iommu_change_dev_def_domain()` ("Device cannot be in %s domain", 08a27c1c3ecf),
    /// from 6.5 in `iommu_setup_default_domain(group, req_type)`.
    public var typeWriteChecksRequirements: Bool { atLeast(5, 11) }

    /// Writing `DMA-FQ` over `DMA` is done in place before the requirement checks only from 6.5; in
    /// 5.15–6.4 the device's wish is checked first, so `DMA-FQ` for a device that needs `DMA` fails.
    public var typeWriteFlushQueueShortcutFirst: Bool { atLeast(6, 5) }

    /// `iommu_subsys_init()`: a passthrough default that did not come from the command line becomes
    /// translated when memory encryption is active (2cc13bb4f59f / 2896ba40d0be, v5.4).
    public var memoryEncryptionCancelsDefaultPassthrough: Bool { atLeast(5, 4) }

    /// `amd_iommu_ht_range_ignore()`: the HyperTransport hole is not reserved when EFR2 says the
    /// hardware ignores that range (94a9921e2c25, v6.16).
    public var amdHonoursHTRangeIgnore: Bool { atLeast(6, 16) }

    /// `pci_enable_acs()` returned before the device-specific enable quirks for devices without a
    /// standard ACS capability (47c8846a49ba, v6.11; fixed by f3c3ccc4fe49 in v6.12 and 6.11.7), so the
    /// pre-Sunrise Point Intel PCH root ports did not isolate.
    public var intelPCHEnableQuirkSkipped: Bool { version >= KernelVersion(6, 11) && version < KernelVersion(6, 11, 7) }

    /// Intel `device_def_domain_type()`: integrated graphics identity-mapped when `intel_iommu=igfx_off`
    /// set `IDENTMAP_GFX` — gone in 6.12 ("iommu/vt-d: Cleanup si_domain" series).
    public var intelGraphicsIdentityQuirk: Bool { !atLeast(6, 12) }

    /// Intel 6.12+: hardware without the pass-through ecap gets DMA for every device
    /// (`device_def_domain_type()`: `!ecap_pass_through(iommu->ecap)`).
    public var intelNeedsPassThroughForIdentity: Bool { atLeast(6, 12) }

    /// How Intel's identity domain is held (docs/kernel-rules.md#i1).
    public var intelIdentityDomain: IdentityDomainObject {
        if !atLeast(5, 3) { return .driverInternal }
        return atLeast(6, 12) ? .staticGlobal(name: "identity_domain") : .sharedAllocated(name: "si_domain")
    }

    /// AMD allocated one pass-through protection domain per group (`domain_alloc(IDENTITY)`) until
    /// 4402f2627d30 "iommu/amd: Implement global identity domain" (v6.13) gave the driver a static
    /// `identity_domain` (drivers/iommu/amd/iommu.c; docs/kernel-rules.md#i1).
    public var amdIdentityDomain: IdentityDomainObject {
        atLeast(6, 13) ? .staticGlobal(name: "identity_domain") : .perGroup
    }

    /// SMMUv3's identity domain became one static `arm_smmu_identity_domain` in 6.9 (12dacfb5b938,
    /// Jason Gunthorpe's "Update SMMUv3 to the modern iommu API (part 1)"); before, one per group.
    public var smmuV3IdentityDomain: IdentityDomainObject {
        atLeast(6, 9) ? .staticGlobal(name: "arm_smmu_identity_domain") : .perGroup
    }

    /// Arm SMMU and virtio-iommu: from 6.15 every PCI function the firmware routes to an IOMMU is
    /// grouped when the IOMMU registers (bcb81ac6ae3c "iommu: Get DT/ACPI parsing into the proper probe
    /// path"); before, only when a driver binds to it, through `dma_configure` at probe
    /// (docs/kernel-rules.md#a1).
    public var armGroupsEveryFunctionAtRegistration: Bool { atLeast(6, 15) }

    /// Device-tree PCI hosts: which boot-time functions get ACS (docs/kernel-rules.md#a1). The only
    /// `pci_request_acs()` on that path is in `of_iommu_configure()`, and `pci_enable_acs()` ran from
    /// `pci_acs_init()` at enumeration until c41e2fb67e26 "PCI: Enable ACS after configuring IOMMU for
    /// OF platforms" (v7.0) moved it after `of_dma_configure()`.
    public var deviceTreeACS: DeviceTreeACS {
        if atLeast(7, 0) { return .everyFunction }
        return atLeast(6, 15) ? .allButTheFirst : .none
    }

    public enum DeviceTreeACS: Sendable, Hashable {
        /// ≤6.14: `of_iommu_configure()` runs when a driver binds, after every boot-time function
        /// passed `pci_acs_init()`: none gets ACS.
        case none
        /// 6.15–6.19: it runs when each function is added, after that function's `pci_acs_init()`: the
        /// first function scanned misses ACS, the rest get it.
        case allButTheFirst
        /// 7.0+: `pci_dma_configure()` enables ACS after the IOMMU is configured: every function.
        case everyFunction

        public var description: String {
            switch self {
            case .none: "none gets it (before 6.15)"
            case .allButTheFirst: "all but the first function scanned get it (6.15–6.19)"
            case .everyFunction: "every function gets it (7.0+)"
            }
        }
    }

    /// SMMUv3's `arm_smmu_def_domain_type()` demands identity for the HiSilicon PCIe Tune and Trace
    /// device (19e5:a12e, `IS_HISI_PTT_DEVICE()`), whose trace DMA must not be translated; 6.1+
    /// (docs/kernel-rules.md#a1).
    public var smmuV3HiSiliconPTTIdentity: Bool { atLeast(6, 1) }

    /// bcb81ac6ae3c (6.15) broke virtio-iommu's instance lookup, so its endpoints may get no group;
    /// 72b6f7cd89ce "iommu/virtio: Make instance lookup robust" fixed it in 6.17 and 6.16.4.
    public var virtioIOMMUMayLoseGroups: Bool { version >= KernelVersion(6, 15) && version < KernelVersion(6, 16, 4) }

    /// IORT RMR nodes become `direct`/`direct-relaxable` reserved regions from 6.0 (491cf4a6735a
    /// "ACPI/IORT: Add support to retrieve IORT RMR reserved regions").
    public var iortRMRRegions: Bool { atLeast(6, 0) }

    /// Who refuses to give a group with a `direct` region to VFIO (docs/kernel-rules.md#v1).
    /// ≤6.5 only Intel, for RMRR-locked devices; 6.6+ the core for any `direct` region
    /// (a48ce36e2786 "iommu: Prevent RESV_DIRECT devices from blocking domains").
    public var coreRefusesDirectRegionsForVFIO: Bool { atLeast(6, 6) }

    /// ≤5.7 the Intel driver moved 32-bit devices off the identity map ("32bit DMA uses non-identity
    /// mapping"); 5.8+ ("iommu/vt-d: Allow 32bit devices to uses DMA domain") they stay and bounce.
    public var intelMovesNarrowDevicesOffIdentity: Bool { !atLeast(5, 8) }

    /// A virtualised IOMMU forces strict invalidation, which only shows in `type` once DMA-FQ exists:
    /// Intel caching mode (29b32839725f "iommu/vt-d: Do not use flush-queue when caching-mode is on",
    /// `iommu_set_dma_strict()` in `init_dmars()`), AMD NpCache ("iommu/amd: Do not use flush-queue
    /// when NpCache is on", Nadav Amit, 5.15).
    public var virtualisedIOMMUForcesStrict: Bool { atLeast(5, 15) }

    /// `iommu=pt` / `iommu=nopt` set the core's global default (≈5.4; on 4.19 they only steered drivers).
    public var x86IOMMUParameterSetsDefault: Bool { atLeast(5, 4) }

    /// Whether any release frees a shared identity domain while other groups use it. None does: the
    /// pointer guard in `intel_iommu_domain_free()` shipped in the same 5.3 patch that shared
    /// `si_domain`, and 6.12's static domain is never freed (docs/kernel-rules.md#i1).
    public var protectsSharedIdentityDomain: Bool { true }
}

/// The object behind a group's identity default domain.
public enum IdentityDomainObject: Sendable, Hashable {
    /// Before 5.3 Intel kept identity mapping inside the driver; groups had no default domain.
    case driverInternal
    /// One allocated domain shared by every identity group (Intel `si_domain`, 5.3–6.11).
    case sharedAllocated(name: String)
    /// One static domain with nothing to free (Intel 6.12+, AMD 6.13+).
    case staticGlobal(name: String)
    /// A separate pass-through domain per group (AMD before its static identity domain).
    case perGroup

    public var isShared: Bool {
        switch self {
        case .sharedAllocated, .staticGlobal: true
        case .driverInternal, .perGroup: false
        }
    }

    public var description: String {
        switch self {
        case .driverInternal: "the driver's internal identity map (no core default domain)"
        case .sharedAllocated(let name): "one identity domain, \(name), allocated once"
        case .staticGlobal(let name): "one static identity domain, \(name)"
        case .perGroup: "a separate pass-through domain per group"
        }
    }
}
