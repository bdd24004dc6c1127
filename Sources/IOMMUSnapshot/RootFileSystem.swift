#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif
import CLinux

/// Reads files, links and folders beneath one root folder and nowhere else.
///
/// Every open goes through `openat2(RESOLVE_BENEATH)` from the root's descriptor, so `..` or a link
/// that would leave the root fails with EXDEV in the kernel, not in our string handling. Link targets
/// we follow ourselves are resolved as paths inside the root (`resolve(link:target:)`).
/// One instance is used by one reader on one thread; it keeps a reusable read buffer.
public final class RootFileSystem {
    public let rootPath: String
    private let rootDescriptor: Int32
    private let buffer: UnsafeMutableRawBufferPointer
    /// Sees every successful read, so `snapshot` can copy exactly what was read.
    public var recorder: ReadRecorder?

    /// Largest file the reader accepts anywhere (DMAR and IVRS tables included).
    public static let bufferSize = 1 << 20

    public init(root: String) throws(ReadError) {
        let descriptor = open(root, IW_O_PATH | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { throw ReadError(path: root, kind: Self.kind(errno)) }
        rootPath = root
        rootDescriptor = descriptor
        buffer = .allocate(byteCount: Self.bufferSize + 1, alignment: 16)
    }

    deinit {
        close(rootDescriptor)
        buffer.deallocate()
    }

    // MARK: whole-path operations

    /// The file's bytes; nil when it does not exist.
    public func readFile(_ path: String, limit: Int) -> Result<[UInt8]?, ReadError> {
        readRegularFile(in: rootDescriptor, path, how: Int32(IW_OPEN_BENEATH), path: path, limit: limit)
    }

    /// The link's target as stored; nil when there is no entry of that name.
    public func readLink(_ path: String) -> Result<String?, ReadError> {
        let (parent, name) = Self.split(path)
        let parentDescriptor = parent.isEmpty ? dup(rootDescriptor) : iw_open_beneath(rootDescriptor, parent, IW_O_PATH | O_DIRECTORY)
        guard parentDescriptor >= 0 else { return absentOrError(parent, errno) }
        defer { close(parentDescriptor) }
        return readLink(in: parentDescriptor, name: name, path: path)
    }

    /// The names in a folder, sorted, without `.` and `..`; nil when it does not exist.
    public func list(_ path: String) -> Result<[String]?, ReadError> {
        let descriptor = iw_open_beneath(rootDescriptor, path.isEmpty ? "." : path, O_RDONLY | O_DIRECTORY)
        guard descriptor >= 0 else { return folderError(in: rootDescriptor, path, beneath: true, path: path, errno) }
        return list(descriptor: descriptor, path: path)
    }

    /// Opens a folder for reading several entries by name, relative to it.
    public func openFolder(_ path: String) -> Result<Folder?, ReadError> {
        let descriptor = iw_open_beneath(rootDescriptor, path, IW_O_PATH | O_DIRECTORY)
        guard descriptor >= 0 else { return folderError(in: rootDescriptor, path, beneath: true, path: path, errno) }
        return .success(Folder(fileSystem: self, descriptor: descriptor, path: path))
    }

    /// A folder opened once; its entries are read with `*at()` calls and `O_NOFOLLOW`, so a name
    /// cannot lead elsewhere.
    public final class Folder {
        let fileSystem: RootFileSystem
        let descriptor: Int32
        public let path: String
        /// How its files are opened: directly on sysfs and procfs (the live case, which holds no
        /// special files), with the O_PATH check and reopen anywhere else.
        let openHow: Int32

        init(fileSystem: RootFileSystem, descriptor: Int32, path: String) {
            self.fileSystem = fileSystem
            self.descriptor = descriptor
            self.path = path
            openHow = Int32(IW_OPEN_NOFOLLOW) | (iw_is_kernel_filesystem(descriptor) == 1 ? Int32(IW_OPEN_KERNEL_FS) : 0)
        }

        deinit { close(descriptor) }

        public func readFile(_ name: String, limit: Int) -> Result<[UInt8]?, ReadError> {
            fileSystem.readRegularFile(in: descriptor, name, how: openHow, path: entryPath(name), limit: limit)
        }

        public func readLink(_ name: String) -> Result<String?, ReadError> {
            fileSystem.readLink(in: descriptor, name: name, path: entryPath(name))
        }

        /// The names in the sub-folder `name` (`.` for this folder itself).
        public func list(_ name: String) -> Result<[String]?, ReadError> {
            let entryPath = name == "." ? path : path + "/" + name
            let folder = openat(descriptor, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            guard folder >= 0 else { return fileSystem.folderError(in: descriptor, name, beneath: false, path: entryPath, errno) }
            return fileSystem.list(descriptor: folder, path: entryPath)
        }

        public func openFolder(_ name: String) -> Result<Folder?, ReadError> {
            let entryPath = path + "/" + name
            let folder = openat(descriptor, name, IW_O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            guard folder >= 0 else { return fileSystem.folderError(in: descriptor, name, beneath: false, path: entryPath, errno) }
            return .success(Folder(fileSystem: fileSystem, descriptor: folder, path: entryPath))
        }

        /// Root-relative path of an entry: built only for errors and the recorder.
        func entryPath(_ name: String) -> String { path + "/" + name }

        /// True when `name` is a folder (not a link to one).
        public func containsFolder(_ name: String) -> Bool {
            var status = stat()
            return fstatat(descriptor, name, &status, AT_SYMLINK_NOFOLLOW) == 0 && status.st_mode & S_IFMT == S_IFDIR
        }

        public func contains(_ name: String) -> Bool {
            var status = stat()
            return fstatat(descriptor, name, &status, AT_SYMLINK_NOFOLLOW) == 0
        }

        /// True when an entry `name` exists, of any type; nothing is opened. The recorder notes it
        /// as a placeholder, so a copied tree says the same (`dev/iommu`, a character device, is
        /// only ever asked whether it is there).
        public func notesPresence(_ name: String) -> Bool {
            guard contains(name) else { return false }
            fileSystem.recorder?.placeholder(entryPath(name))
            return true
        }
    }

    // MARK: links as paths inside the root

    /// Where a link at root-relative `link` with stored `target` points, as a root-relative path.
    /// Absolute targets and `..` past the root are refused: kernel links never need them.
    public static func resolve(link: String, target: String) -> Result<String, ReadError> {
        guard !target.hasPrefix("/"), !target.isEmpty else {
            return .failure(ReadError(path: link, kind: .escapingLink(target: target)))
        }
        var components = PathComponents.split(link)
        components.removeLast()
        for component in PathComponents.split(target) {
            if component == "." { continue }
            if component == ".." {
                guard components.popLast() != nil else { return .failure(ReadError(path: link, kind: .escapingLink(target: target))) }
            } else {
                components.append(component)
            }
        }
        return .success(components.joined(separator: "/"))
    }

    /// `a/b/c` → (`a/b`, `c`).
    static func split(_ path: String) -> (parent: String, name: String) {
        let utf8 = path.utf8
        guard let slash = utf8.lastIndex(of: 0x2f) else { return ("", path) }
        return (String(path[..<slash]), String(path[utf8.index(after: slash)...]))
    }

    // MARK: system calls

    fileprivate func readLink(in parent: Int32, name: String, path: @autoclosure () -> String) -> Result<String?, ReadError> {
        let capacity = 4096
        let count = readlinkat(parent, name, buffer.baseAddress!.assumingMemoryBound(to: CChar.self), capacity)
        guard count >= 0 else {
            if errno == EINVAL {
                recorder?.placeholder(path())
                return .failure(ReadError(path: path(), kind: .malformed(reason: "expected a link, found a file or folder")))
            }
            let error = errno
            return absentOrError(path(), error)
        }
        guard count < capacity else { return .failure(ReadError(path: path(), kind: .tooLarge(limit: capacity))) }
        let bytes = UnsafeRawBufferPointer(rebasing: buffer[0..<count])
        if bytes.contains(0) { return .failure(ReadError(path: path(), kind: .malformed(reason: "link target contains a NUL byte"))) }
        let target = String(decoding: bytes, as: UTF8.self)
        // A link that would leave the root is refused wherever it is used, so a snapshot never
        // carries it either.
        if case .success = Self.resolve(link: path(), target: target) { recorder?.link(path(), target) }
        return .success(target)
    }

    /// Opens `name` under `parent` only if it is a regular file (`iw_open_regular`: never a FIFO,
    /// socket or device node, which could block or act on open), reads it whole, and records it.
    fileprivate func readRegularFile(in parent: Int32, _ name: String, how: Int32, path: @autoclosure () -> String, limit: Int) -> Result<
        [UInt8]?, ReadError
    > {
        var mode: UInt32 = 0
        let descriptor = iw_open_regular(parent, name, how, &mode)
        if descriptor == IW_NOT_REGULAR {
            return .failure(ReadError(path: path(), kind: .notRegularFile(type: Self.typeName(mode))))
        }
        guard descriptor >= 0 else { return absentOrError(path(), errno) }
        defer { close(descriptor) }
        let filePath = path()
        return readAll(descriptor, path: filePath, limit: limit).map { bytes -> [UInt8]? in
            recorder?.file(filePath, bytes)
            return bytes
        }
    }

    /// What `ls -l` would call an entry of this `st_mode`, for errors.
    public static func typeName(_ mode: UInt32) -> String {
        switch mode & UInt32(S_IFMT) {
        case UInt32(S_IFIFO): "FIFO"
        case UInt32(S_IFSOCK): "socket"
        case UInt32(S_IFCHR): "character device"
        case UInt32(S_IFBLK): "block device"
        case UInt32(S_IFDIR): "folder"
        case UInt32(S_IFLNK): "symbolic link"
        default: "unknown file type"
        }
    }

    fileprivate func readAll(_ descriptor: Int32, path: @autoclosure () -> String, limit: Int) -> Result<[UInt8], ReadError> {
        if limit > Self.bufferSize { return readLarge(descriptor, path: path(), limit: limit) }
        let capacity = min(limit, Self.bufferSize) + 1
        var total = 0
        while true {
            let count: Int
            do throws(Errno) {
                count = try Syscalls.read(descriptor, into: buffer.baseAddress! + total, count: capacity - total)
            } catch {
                return .failure(ReadError(path: path(), kind: Self.kind(error.rawValue)))
            }
            if count == 0 { break }
            total += count
            if total > limit { return .failure(ReadError(path: path(), kind: .tooLarge(limit: limit))) }
        }
        return .success(Array(UnsafeRawBufferPointer(rebasing: buffer[0..<total])))
    }

    /// Files larger than the shared buffer (the PCI ID database): read in buffer-sized pieces into
    /// a growing array, still never past `limit`.
    private func readLarge(_ descriptor: Int32, path: String, limit: Int) -> Result<[UInt8], ReadError> {
        var bytes: [UInt8] = []
        while true {
            let count: Int
            do throws(Errno) {
                count = try Syscalls.read(descriptor, into: buffer.baseAddress!, count: Self.bufferSize)
            } catch {
                return .failure(ReadError(path: path, kind: Self.kind(error.rawValue)))
            }
            if count == 0 { return .success(bytes) }
            bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
            if bytes.count > limit { return .failure(ReadError(path: path, kind: .tooLarge(limit: limit))) }
        }
    }

    fileprivate func list(descriptor: Int32, path: String) -> Result<[String]?, ReadError> {
        var names: [String]
        do throws(Errno) {
            names = try Syscalls.listFolder(descriptor: descriptor)
        } catch {
            return .failure(ReadError(path: path, kind: Self.kind(error.rawValue)))
        }
        names.sort()
        recorder?.folder(path)
        return .success(names)
    }

    /// The error for a folder that could not be opened. When the entry exists but is no folder, the
    /// recorder learns of it, so that a snapshot holds an empty file there and replays the same refusal.
    fileprivate func folderError<T>(in parent: Int32, _ name: String, beneath: Bool, path: String, _ error: Int32) -> Result<T?, ReadError>
    {
        if error == ENOTDIR, let recorder {
            let flags = IW_O_PATH | O_NOFOLLOW
            let entry = beneath ? iw_open_beneath(parent, name, flags) : openat(parent, name, flags | O_CLOEXEC)
            if entry >= 0 {
                var status = stat()
                if fstat(entry, &status) == 0 && status.st_mode & S_IFMT != S_IFDIR { recorder.placeholder(path) }
                close(entry)
            }
        }
        return absentOrError(path, error)
    }

    fileprivate func absentOrError<T>(_ path: @autoclosure () -> String, _ error: Int32) -> Result<T?, ReadError> {
        error == ENOENT ? .success(nil) : .failure(ReadError(path: path(), kind: Self.kind(error)))
    }

    static func kind(_ error: Int32) -> ReadError.Kind {
        switch error {
        case ENOENT: .missing
        case EACCES, EPERM: .permissionDenied
        case ENOTDIR: .notADirectory
        case EXDEV: .escapingLink(target: "(a link on the way)")
        case ELOOP: .malformed(reason: "is a link where a file was expected, or links loop")
        case ESTALE: .malformed(reason: "was replaced while being opened; not read")
        default: .io(errno: error, description: String(cString: strerror(error)))
        }
    }
}

/// Receives every successful read of a `RootFileSystem`.
public protocol ReadRecorder: AnyObject {
    func file(_ path: String, _ bytes: [UInt8])
    /// A link whose target stays inside the root (others are refused, and not recorded).
    func link(_ path: String, _ target: String)
    func folder(_ path: String)
    /// An entry that exists but is not what the reader expected there (a file where a link or a
    /// folder should be): its contents were not read, only the fact that it is there.
    func placeholder(_ path: String)
}
