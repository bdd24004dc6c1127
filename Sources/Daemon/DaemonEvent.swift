import Reconcile
import Systemd

/// The daemon's own journal messages, each defined once here: the `IOMMU_WATCH_EVENT=` name, the
/// `MESSAGE_ID`, the priority and the catalog text. Each id is stable forever; `catalogFile` renders
/// the journal catalog entries `journalctl -x` shows beside them (`systemd/iommu-watch-daemon.catalog`).
/// A divergence appearing or changing severity is logged with the divergence kind's own `MESSAGE_ID`
/// and severity instead (`DivergenceEvent`; the divergence catalog explains those).
public struct DaemonEvent: Sendable, Hashable {
    /// `IOMMU_WATCH_EVENT=`.
    public let name: String
    /// 32 lower-case hex digits: journal `MESSAGE_ID=`.
    public let messageID: String
    /// syslog priority the entry carries.
    public let priority: Int
    public let subject: String
    /// Catalog body: what happened and what to do. `@FIELD@` is replaced by journalctl.
    public let text: String

    /// What `iommu-watch explain` prints, laid out as `Catalog.explanation(of:)` lays out a divergence.
    public var explanation: String {
        (["\(name) — \(subject)", "MESSAGE_ID=\(messageID)", ""]
            + text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init))
            .joined(separator: "\n") + "\n"
    }

    public static let started = DaemonEvent(
        name: "started", messageID: "17f9b22b74b14f02bffb48591dc1b25b", priority: 6,
        subject: "iommu-watch read the IOMMU groups and is watching them",
        text: """
            iommu-watch read every IOMMU group and PCI device under @IOMMU_WATCH_ROOT@, compared them with \
            what the kernel's rules predict, and now watches for changes. The entry counts groups, devices \
            and divergences by severity; each divergence follows as an entry of its own.

            From here on only changes are logged: a divergence when it appears and when it is resolved, \
            a group when it appears or goes away, a driver binding or a group's domain type when it changes.
            Run "iommu-watch status" for the current state.
            """)

    public static let divergenceResolved = DaemonEvent(
        name: "resolved", messageID: "f43399310401480ebd66d6cdce161c16", priority: 6,
        subject: "An IOMMU divergence was resolved",
        text: """
            The divergence @IOMMU_WATCH_DIVERGENCE@ with key @IOMMU_WATCH_KEY@ no longer shows: the kernel \
            now does what its rules predict for it. The entry that reported it carries the same \
            IOMMU_WATCH_KEY; "journalctl IOMMU_WATCH_KEY=@IOMMU_WATCH_KEY@" shows both.
            """)

    public static let groupAdded = DaemonEvent(
        name: "group-added", messageID: "0ece78eb7b234c34b919faba7e13c7c7", priority: 6,
        subject: "An IOMMU group appeared",
        text: """
            The kernel created IOMMU group @IOMMU_GROUP@, usually because a device was hot-plugged, an SR-IOV \
            virtual function was created or a driver registered a device. Its members are listed in PCI_SLOT \
            fields. Groups are told apart by their members, not by number: the kernel reuses numbers.
            """)

    public static let groupRemoved = DaemonEvent(
        name: "group-removed", messageID: "2de160759f7047a587dbf43ea0f58558", priority: 6,
        subject: "An IOMMU group went away",
        text: """
            IOMMU group @IOMMU_GROUP@ with the members in this entry's PCI_SLOT fields no longer exists, usually \
            because its devices were unplugged or their SR-IOV virtual functions removed. Its number may be \
            given to another group later.
            """)

    public static let groupTypeChanged = DaemonEvent(
        name: "group-type-changed", messageID: "73125cdb133b40b8971d8fb7675c3188", priority: 5,
        subject: "An IOMMU group's default domain type changed",
        text: """
            The default domain type of IOMMU group @IOMMU_GROUP@ changed from @EXPECTED@ to @OBSERVED@. \
            The kernel changes it only when someone writes the group's "type" file (with no driver bound) \
            or a driver asks for it. An "identity" domain lets the devices reach all memory without translation.

            If nobody meant to change it, find who writes /sys/kernel/iommu_groups/@IOMMU_GROUP@/type.
            """)

    public static let driverChanged = DaemonEvent(
        name: "driver-changed", messageID: "f34f530c65ce4a90a811b7afea2e2dd0", priority: 6,
        subject: "A device in an IOMMU group changed its driver",
        text: """
            The PCI function @PCI_SLOT@ in IOMMU group @IOMMU_GROUP@ was bound to @OBSERVED@ (before: @EXPECTED@; \
            "none" means unbound). Binding a device to vfio-pci hands its DMA to user space; every device \
            of the group must then be bound to vfio-pci or to no driver.
            """)

    public static let readError = DaemonEvent(
        name: "read-error", messageID: "99fccfb725ba4b5eaeac3fcc4f727a9b", priority: 4,
        subject: "iommu-watch cannot read a file it needs",
        text: """
            iommu-watch could not read or parse @IOMMU_WATCH_PATH@ under its root. What depends on that \
            file is left out of the comparison until it reads again. Permission errors usually mean the \
            service lacks a capability (full PCI configuration space and /proc/iomem need CAP_SYS_ADMIN).
            """)

    public static let readErrorResolved = DaemonEvent(
        name: "read-error-resolved", messageID: "64e24d3524cf4cadb1b0238689f7ae3d", priority: 6,
        subject: "iommu-watch can read a file again",
        text: """
            @IOMMU_WATCH_PATH@ can be read again; it is part of the comparison once more.
            """)

    public static let configRejected = DaemonEvent(
        name: "config-rejected", messageID: "7ac878cb19604e969496052f8ab8a49b", priority: 3,
        subject: "iommu-watch kept its old configuration",
        text: """
            On reload iommu-watch found an error in its configuration (@CONFIG_FILE@, line @CONFIG_LINE@) \
            and kept the configuration it was running with. Fix the file and reload again \
            ("systemctl reload iommu-watch"); "iommu-watch daemon --check-config" checks it without a reload.
            """)

    public static let reloaded = DaemonEvent(
        name: "reloaded", messageID: "b55c5fd0276b4b54ac0facbb478e0e22", priority: 6,
        subject: "iommu-watch reloaded its configuration",
        text: """
            iommu-watch read its configuration again and rescanned. A divergence that a new suppression now \
            hides, or that a lower minimum severity now shows, is not announced again; \
            "iommu-watch status" lists what is current.
            """)

    public static let degraded = DaemonEvent(
        name: "degraded", messageID: "eadbeab4de8743fab3448b2208f51ae5", priority: 4,
        subject: "iommu-watch works with less than it should",
        text: """
            Part of iommu-watch could not start or failed: @IOMMU_WATCH_REASON@. It keeps running; \
            changes are still found by the periodic rescan, only later.
            """)

    public static let postureChanged = DaemonEvent(
        name: "posture-changed", messageID: "84c0fb244e494db19eefdda6642b8806", priority: 5,
        subject: "The machine's IOMMU posture changed",
        text: """
            The IOMMU's mode or a DMA-protection switch changed while iommu-watch was running: \
            @IOMMU_WATCH_MODE@ is the default-domain mode now (translated-lazy, translated-strict, \
            passthrough or off). EXPECTED holds the posture before, OBSERVED the posture now: the mode, \
            whether interrupts are remapped, whether iommufd exists, VFIO groups without an IOMMU and \
            VFIO's no-IOMMU and unsafe-interrupt switches.

            Most of these change only at boot. A change at run time means someone wrote group types, \
            loaded VFIO with unsafe options or bound a device without an IOMMU: check that it was meant. \
            "iommu-watch scan" shows the posture with the evidence for each part.
            """)

    public static let all: [DaemonEvent] = [
        .started, .divergenceResolved, .groupAdded, .groupRemoved, .groupTypeChanged, .driverChanged,
        .readError, .readErrorResolved, .configRejected, .reloaded, .degraded, .postureChanged,
    ]

    /// An entry of this event: its priority, then `MESSAGE_ID` and `IOMMU_WATCH_EVENT`, then `fields`.
    public func entry(_ message: String, fields: [JournalField] = []) -> LogEntry {
        LogEntry(
            priority: priority, message: message,
            fields: [JournalField("MESSAGE_ID", messageID), JournalField("IOMMU_WATCH_EVENT", name)] + fields)
    }

    /// Every daemon event as one journald catalog file (`JournalCatalogFormat`).
    public static var catalogFile: String {
        JournalCatalogFormat.file(
            title: "iommu-watch daemon message catalog", command: "iommu-watch catalog --daemon",
            source: "Sources/Daemon/DaemonEvent.swift",
            entries: all.map { event in
                JournalCatalogFormat.entry(messageID: event.messageID, subject: event.subject, body: [event.text])
            })
    }

    /// Where `catalogFile` is checked in, relative to the package root.
    public static let catalogPath = "systemd/iommu-watch-daemon.catalog"
}

/// `IOMMU_WATCH_EVENT=` of a divergence's entries other than its resolution
/// (`DaemonEvent.divergenceResolved`): they carry the divergence kind's `MESSAGE_ID` and severity.
public enum DivergenceEvent: String, Sendable {
    /// A key not seen before.
    case appeared
    /// The same key at another severity.
    case changed
}
