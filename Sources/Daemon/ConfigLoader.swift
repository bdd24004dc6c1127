/// Reads the configuration from disk: the main file, then `<main>.d/*.conf` in name order
/// (systemd's drop-in convention), each overriding what came before.
public struct ConfigLoader: Sendable {
    public static let defaultPath = "/etc/iommu-watch/iommu-watch.conf"

    /// The main file.
    public var path: String
    /// True when the user named the file: then it must exist.
    public var required: Bool

    public init(path: String?) {
        self.path = path ?? Self.defaultPath
        self.required = path != nil
    }

    /// The files to read, in order: the main file, then drop-ins.
    func candidates() throws(ConfigError) -> [String] {
        let dropIns: [String]
        do throws(Files.Failure) {
            dropIns = (try Files.list(path + ".d") ?? []).filter { $0.hasSuffix(".conf") }.map { path + ".d/" + $0 }
        } catch {
            throw ConfigError(file: error.path, line: 0, message: "cannot list drop-ins: \(error)")
        }
        return [path] + dropIns
    }

    /// The configuration and the files it came from (those that exist), in order.
    public func load() throws(ConfigError) -> (config: DaemonConfig, files: [String]) {
        var config = DaemonConfig()
        var read: [String] = []
        for file in try candidates() {
            let bytes: [UInt8]?
            do throws(Files.Failure) {
                bytes = try Files.read(file)
            } catch {
                throw ConfigError(file: file, line: 0, message: "cannot read: \(error)")
            }
            guard let bytes else {
                if file == path && required { throw ConfigError(file: file, line: 0, message: "does not exist") }
                continue
            }
            guard let text = String(validating: bytes, as: UTF8.self) else {
                throw ConfigError(file: file, line: 0, message: "is not UTF-8 text")
            }
            try ConfigParser.apply(text, file: file, to: &config)
            read.append(file)
        }
        return (config, read)
    }
}
