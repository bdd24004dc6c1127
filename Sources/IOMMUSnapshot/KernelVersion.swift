/// A kernel release's numeric part: `6.1.0-56-amd64` → 6.1.0, `6.12.117+deb13-amd64` → 6.12.117.
public struct KernelVersion: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var major: Int
    public var minor: Int
    public var patch: Int

    public init(_ major: Int, _ minor: Int, _ patch: Int = 0) {
        self.major = major
        self.minor = minor
        self.patch = patch
    }

    /// Parses the leading `major.minor[.patch]` of a release string; nil when it has none.
    public init?(release: some StringProtocol) {
        var numbers: [Int] = []
        var current = 0, digits = 0
        for character in release.unicodeScalars {
            if character.isASCII, let digit = Int(String(character)) {
                current = current * 10 + digit
                digits += 1
                guard digits < 7 else { return nil }
            } else if character == "." && digits > 0 && numbers.count < 2 {
                numbers.append(current); current = 0; digits = 0
            } else {
                break
            }
        }
        if digits > 0 { numbers.append(current) }
        guard numbers.count >= 2 else { return nil }
        self.init(numbers[0], numbers[1], numbers.count > 2 ? numbers[2] : 0)
    }

    public var description: String { "\(major).\(minor).\(patch)" }

    public static func < (lhs: Self, rhs: Self) -> Bool { (lhs.major, lhs.minor, lhs.patch) < (rhs.major, rhs.minor, rhs.patch) }
}
