/// Splitting paths on `/` by bytes: the reader does it for every link it meets, and `split` on
/// `Character`s costs grapheme breaking that paths never need.
enum PathComponents {
    /// Non-empty components of `path`, as substrings of it.
    static func split(_ path: String) -> [Substring] {
        var components: [Substring] = []
        let utf8 = path.utf8
        var start = utf8.startIndex
        var index = start
        while index != utf8.endIndex {
            if utf8[index] == 0x2f {
                if start != index { components.append(path[start..<index]) }
                start = utf8.index(after: index)
            }
            index = utf8.index(after: index)
        }
        if start != utf8.endIndex { components.append(path[start...]) }
        return components
    }

    /// The last component: what a `driver` or `iommu_group` link names.
    static func basename(_ path: String) -> String? {
        let utf8 = path.utf8
        guard let slash = utf8.lastIndex(of: 0x2f) else { return path.isEmpty ? nil : path }
        let name = path[utf8.index(after: slash)...]
        return name.isEmpty ? nil : String(name)
    }
}
