/// A uevent as the device monitor passed it on.
public struct DeviceEvent: Sendable, Hashable {
    /// `add`, `remove`, `change`, `bind`, `unbind`, `move`, `online`, `offline`.
    public var action: String
    /// The kernel's name: `0000:01:00.0` for PCI.
    public var sysname: String

    public init(action: String, sysname: String) {
        self.action = action
        self.sysname = sysname
    }
}
