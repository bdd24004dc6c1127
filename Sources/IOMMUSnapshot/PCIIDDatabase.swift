/// Finds and reads the PCI ID database for the names `lspci` would print: under the root first (a
/// captured tree may bring its own), then on this host. Read without a recorder, so a `snapshot`
/// does not copy a 1.4 MB file into every bug report.
public enum PCIIDDatabase {
    /// Debian's `pci.ids` package, then `hwdata`'s copy, then a compressed one.
    public static let paths = ["usr/share/misc/pci.ids", "usr/share/hwdata/pci.ids", "usr/share/misc/pci.ids.gz"]
    /// The real file is about 1.4 MB; far above that is not a PCI ID database.
    static let limit = 16 << 20

    /// What was found: the names, and which file they came from; or why none could be used.
    public struct Loaded: Sendable {
        public var names: PCINames?
        /// `/usr/share/misc/pci.ids` (under the root or on the host).
        public var source: String?
        public var problems: [ReadError]
    }

    public static func load(root: String, wanted: Set<PCIIDs>) -> Loaded {
        var problems: [ReadError] = []
        for base in root == "/" ? ["/"] : [root, "/"] {
            guard let fileSystem = try? RootFileSystem(root: base) else { continue }
            for path in paths {
                switch fileSystem.readFile(path, limit: limit) {
                case .success(nil): continue
                case .failure(let error):
                    problems.append(ReadError(path: join(base, error.path), kind: error.kind))
                case .success(let bytes?):
                    do throws(ParseError) {
                        let text = path.hasSuffix(".gz") ? try GzipDecoder.decompress(bytes, limit: limit) : bytes
                        return Loaded(
                            names: try PCIIDDatabaseParser.parse(text, wanted: wanted), source: join(base, path), problems: problems)
                    } catch {
                        problems.append(ReadError(path: join(base, path), kind: .malformed(reason: error.reason)))
                    }
                }
            }
        }
        return Loaded(names: nil, source: nil, problems: problems)
    }

    static func join(_ base: String, _ path: String) -> String { base == "/" ? "/" + path : base + "/" + path }
}
