import CSystemd
#if canImport(Glibc)
    import Glibc
#endif

/// Signals and uevents through a private `sd_event` loop, exposed as one file descriptor so the
/// caller's own `poll(2)` loop waits on it beside its timers. The loop only collects; the caller
/// decides what to do, on its own thread, between polls.
public final class EventSources {
    private var event: OpaquePointer?
    private var monitor: OpaquePointer?
    private let inbox = Inbox()

    /// What the C callbacks saw since the last `drain()`; they reach it through userdata.
    private final class Inbox {
        var signals: [Int32] = []
        var devices: [DeviceEvent] = []
    }

    public init() throws(SystemdError) {
        var event: OpaquePointer?
        let result = sd_event_new(&event)
        guard result >= 0 else { throw SystemdError(call: "sd_event_new", errno: -result) }
        self.event = event
    }

    deinit {
        sd_device_monitor_unref(monitor)
        sd_event_unref(event)
    }

    /// Blocks `signals` in the calling thread (and so in threads started after) and receives them
    /// through a signalfd instead. Call before starting other threads.
    public func watchSignals(_ signals: [Int32]) throws(SystemdError) {
        var mask = sigset_t()
        sigemptyset(&mask)
        for signal in signals { sigaddset(&mask, signal) }
        pthread_sigmask(SIG_BLOCK, &mask, nil)
        let userdata = Unmanaged.passUnretained(inbox).toOpaque()
        for signal in signals {
            let result = sd_event_add_signal(
                event, nil, signal,
                { source, _, userdata in
                    Unmanaged<Inbox>.fromOpaque(userdata!).takeUnretainedValue().signals.append(sd_event_source_get_signal(source))
                    return 0
                }, userdata)
            guard result >= 0 else { throw SystemdError(call: "sd_event_add_signal", errno: -result) }
        }
    }

    /// Starts an `sd_device_monitor` on `subsystem` (e.g. `pci`). Events come after udev processed
    /// them (udev's netlink group), so a system without udevd sends none. Needs `AF_NETLINK`.
    public func watchDevices(subsystem: String) throws(SystemdError) {
        var monitor: OpaquePointer?
        var result = sd_device_monitor_new(&monitor)
        guard result >= 0 else { throw SystemdError(call: "sd_device_monitor_new", errno: -result) }
        self.monitor = monitor
        result = sd_device_monitor_filter_add_match_subsystem_devtype(monitor, subsystem, nil)
        guard result >= 0 else { throw SystemdError(call: "sd_device_monitor_filter_add_match_subsystem_devtype", errno: -result) }
        result = sd_device_monitor_attach_event(monitor, event)
        guard result >= 0 else { throw SystemdError(call: "sd_device_monitor_attach_event", errno: -result) }
        let userdata = Unmanaged.passUnretained(inbox).toOpaque()
        result = sd_device_monitor_start(
            monitor,
            { _, device, userdata in
                guard let device, let userdata else { return 0 }
                var action = sd_device_action_t(rawValue: 0)
                var name: UnsafePointer<CChar>?
                let actionName = sd_device_get_action(device, &action) >= 0 ? EventSources.name(of: action) : "unknown"
                let sysname = sd_device_get_sysname(device, &name) >= 0 ? name.map { String(cString: $0) } ?? "?" : "?"
                Unmanaged<Inbox>.fromOpaque(userdata).takeUnretainedValue().devices.append(
                    DeviceEvent(action: actionName, sysname: sysname))
                return 0
            }, userdata)
        guard result >= 0 else { throw SystemdError(call: "sd_device_monitor_start", errno: -result) }
    }

    /// Becomes readable when something waits; poll it for `POLLIN`.
    public var fileDescriptor: Int32 { sd_event_get_fd(event) }

    /// Dispatches what is pending without waiting; returns what arrived since the last call.
    public func drain() -> (signals: [Int32], devices: [DeviceEvent]) {
        while sd_event_run(event, 0) > 0 {}
        defer {
            inbox.signals.removeAll(keepingCapacity: true)
            inbox.devices.removeAll(keepingCapacity: true)
        }
        return (inbox.signals, inbox.devices)
    }

    static func name(of action: sd_device_action_t) -> String {
        switch action {
        case SD_DEVICE_ADD: "add"
        case SD_DEVICE_REMOVE: "remove"
        case SD_DEVICE_CHANGE: "change"
        case SD_DEVICE_MOVE: "move"
        case SD_DEVICE_ONLINE: "online"
        case SD_DEVICE_OFFLINE: "offline"
        case SD_DEVICE_BIND: "bind"
        case SD_DEVICE_UNBIND: "unbind"
        default: "unknown"
        }
    }
}
