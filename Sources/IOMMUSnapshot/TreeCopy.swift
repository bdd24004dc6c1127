#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// Records every file, link and folder a reader took, in order, so they can be written out as a
/// portable root that reads back the same (`iommu-watch snapshot`).
public final class TreeRecorder: ReadRecorder {
    public enum Entry: Sendable, Hashable {
        case file(path: String, bytes: [UInt8])
        case link(path: String, target: String)
        case folder(path: String)
        /// Written as an empty file: enough for a replay to meet the same refusal.
        case placeholder(path: String)
    }

    public private(set) var entries: [Entry] = []

    public init() {}

    public func file(_ path: String, _ bytes: [UInt8]) { entries.append(.file(path: path, bytes: bytes)) }
    public func link(_ path: String, _ target: String) { entries.append(.link(path: path, target: target)) }
    public func folder(_ path: String) { entries.append(.folder(path: path)) }
    public func placeholder(_ path: String) { entries.append(.placeholder(path: path)) }

    /// Writes the recorded tree under `output`, which must not exist or be an empty folder.
    /// Files are written 0444 as sysfs shows most attributes; links stay links.
    public func write(to output: String) throws(WriteError) {
        var status = stat()
        if stat(output, &status) == 0 {
            guard status.st_mode & S_IFMT == S_IFDIR else {
                throw WriteError(path: output, kind: .refused(reason: "exists and is not a folder"))
            }
            let names: [String]
            do throws(Errno) {
                names = try Syscalls.listFolder(output)
            } catch {
                throw WriteError(path: output, kind: .system(error))
            }
            if !names.isEmpty { throw WriteError(path: output, kind: .refused(reason: "is not empty; refusing to mix a snapshot into it")) }
        } else {
            try Self.makeFolders(output)
        }
        var madeFolders: Set<String> = [""]
        func ensureParent(of path: String) throws(WriteError) {
            let parent = RootFileSystem.split(path).parent
            guard !madeFolders.contains(parent) else { return }
            try Self.makeFolders(output + "/" + parent)
            madeFolders.insert(parent)
        }
        var written: Set<String> = []
        for entry in entries {
            switch entry {
            case .folder(let path):
                guard !madeFolders.contains(path) else { continue }
                try Self.makeFolders(output + "/" + path)
                madeFolders.insert(path)
            case .file(let path, let bytes):
                guard written.insert(path).inserted else { continue }
                try ensureParent(of: path)
                try Self.writeFile(output + "/" + path, bytes)
            case .placeholder(let path):
                guard written.insert(path).inserted else { continue }
                try ensureParent(of: path)
                try Self.writeFile(output + "/" + path, [])
            case .link(let path, let target):
                guard written.insert(path).inserted else { continue }
                try ensureParent(of: path)
                guard symlink(target, output + "/" + path) == 0 else { throw WriteError(path: path, kind: .system(.current)) }
            }
        }
    }

    static func makeFolders(_ path: String) throws(WriteError) {
        var current = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            current += "/" + component
            if mkdir(current, 0o755) != 0 {
                let error = Errno.current
                if error.rawValue != EEXIST { throw WriteError(path: current, kind: .system(error)) }
            }
        }
    }

    static func writeFile(_ path: String, _ bytes: [UInt8]) throws(WriteError) {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o444)
        guard descriptor >= 0 else { throw WriteError(path: path, kind: .system(.current)) }
        defer { close(descriptor) }
        do throws(Errno) {
            try Syscalls.writeAll(descriptor, bytes)
        } catch {
            throw WriteError(path: path, kind: .system(error))
        }
    }
}
