/// A strict RFC 8259 parser: UTF-8 only (invalid bytes are an error), bounded nesting, no trailing garbage.
public struct JSONParser {
    public struct Error: Swift.Error, Sendable, Hashable, CustomStringConvertible {
        public let message: String
        public let offset: Int
        public var description: String { "\(self.message) at byte \(self.offset)" }
    }

    public static let defaultMaxDepth = 32
    /// Most members one object may have: a larger object is refused while it is read, before any lookup.
    public static let maxMembers = 1000

    public static func parse(_ bytes: some Collection<UInt8>, maxDepth: Int = defaultMaxDepth) throws(Error) -> JSONValue {
        let array = Array(bytes)
        return try array.withUnsafeBufferPointer { (buffer) throws(Error) -> JSONValue in
            var parser = JSONParser(buffer, maxDepth: maxDepth)
            parser.skipWhitespace()
            let value = try parser.value(depth: 0)
            parser.skipWhitespace()
            guard parser.position == buffer.count else { throw parser.error("unexpected data after the JSON value") }
            return value
        }
    }

    private let bytes: UnsafeBufferPointer<UInt8>
    private let maxDepth: Int
    private var position = 0

    private init(_ bytes: UnsafeBufferPointer<UInt8>, maxDepth: Int) {
        self.bytes = bytes
        self.maxDepth = maxDepth
    }

    private func error(_ message: String) -> Error { Error(message: message, offset: self.position) }

    private var current: UInt8? { self.position < self.bytes.count ? self.bytes[self.position] : nil }

    private mutating func skipWhitespace() {
        while let b = self.current, b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09 { self.position += 1 }
    }

    private mutating func value(depth: Int) throws(Error) -> JSONValue {
        guard let b = self.current else { throw self.error("unexpected end of input") }
        switch b {
        case UInt8(ascii: "{"): return try self.object(depth: depth + 1)
        case UInt8(ascii: "["): return try self.array(depth: depth + 1)
        case UInt8(ascii: "\""): return .string(try self.string())
        case UInt8(ascii: "t"): try self.literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try self.literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try self.literal("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try self.number()
        default: throw self.error("unexpected character")
        }
    }

    private mutating func literal(_ word: StaticString) throws(Error) {
        let count = word.utf8CodeUnitCount
        guard self.position + count <= self.bytes.count else { throw self.error("unexpected end of input") }
        for i in 0..<count where self.bytes[self.position + i] != word.utf8Start[i] {
            throw self.error("invalid literal")
        }
        self.position += count
    }

    private mutating func object(depth: Int) throws(Error) -> JSONValue {
        guard depth <= self.maxDepth else { throw self.error("nesting deeper than \(self.maxDepth)") }
        self.position += 1
        var members: [(String, JSONValue)] = []
        self.skipWhitespace()
        if self.current == UInt8(ascii: "}") {
            self.position += 1
            return .object(members)
        }
        members.reserveCapacity(8)  // a message's fields in one allocation, not four as the array grows
        while true {
            self.skipWhitespace()
            guard self.current == UInt8(ascii: "\"") else { throw self.error("expected a member name") }
            let key = try self.string()
            self.skipWhitespace()
            guard self.current == UInt8(ascii: ":") else { throw self.error("expected ':'") }
            self.position += 1
            self.skipWhitespace()
            guard members.count < Self.maxMembers else { throw self.error("more than \(Self.maxMembers) members in an object") }
            members.append((key, try self.value(depth: depth)))
            self.skipWhitespace()
            switch self.current {
            case UInt8(ascii: ","): self.position += 1
            case UInt8(ascii: "}"): self.position += 1; return .object(members)
            default: throw self.error("expected ',' or '}'")
            }
        }
    }

    private mutating func array(depth: Int) throws(Error) -> JSONValue {
        guard depth <= self.maxDepth else { throw self.error("nesting deeper than \(self.maxDepth)") }
        self.position += 1
        var items: [JSONValue] = []
        self.skipWhitespace()
        if self.current == UInt8(ascii: "]") {
            self.position += 1
            return .array(items)
        }
        while true {
            self.skipWhitespace()
            items.append(try self.value(depth: depth))
            self.skipWhitespace()
            switch self.current {
            case UInt8(ascii: ","): self.position += 1
            case UInt8(ascii: "]"): self.position += 1; return .array(items)
            default: throw self.error("expected ',' or ']'")
            }
        }
    }

    private mutating func number() throws(Error) -> JSONValue {
        let start = self.position
        if self.current == UInt8(ascii: "-") { self.position += 1 }
        guard let first = self.current, first >= 0x30 && first <= 0x39 else { throw self.error("invalid number") }
        if first == 0x30 {
            self.position += 1
        } else {
            self.skipDigits()
        }
        if self.current == UInt8(ascii: ".") {
            self.position += 1
            guard self.skipDigits() > 0 else { throw self.error("invalid number") }
        }
        if self.current == UInt8(ascii: "e") || self.current == UInt8(ascii: "E") {
            self.position += 1
            if self.current == UInt8(ascii: "+") || self.current == UInt8(ascii: "-") { self.position += 1 }
            guard self.skipDigits() > 0 else { throw self.error("invalid number") }
        }
        return .number(String(decoding: UnsafeBufferPointer(rebasing: self.bytes[start..<self.position]), as: UTF8.self))
    }

    @discardableResult
    private mutating func skipDigits() -> Int {
        let start = self.position
        while let b = self.current, b >= 0x30 && b <= 0x39 { self.position += 1 }
        return self.position - start
    }

    private mutating func string() throws(Error) -> String {
        self.position += 1
        let start = self.position
        // Fast path: no escapes.
        var high: UInt8 = 0
        while let b = self.current, b != UInt8(ascii: "\""), b != UInt8(ascii: "\\"), b >= 0x20 {
            high |= b
            self.position += 1
        }
        if self.current == UInt8(ascii: "\"") {
            let slice = UnsafeBufferPointer(rebasing: self.bytes[start..<self.position])
            self.position += 1
            if high < 0x80 { return String(decoding: slice, as: UTF8.self) }  // ASCII is valid UTF-8
            guard let s = String(validating: slice, as: UTF8.self) else { throw self.error("invalid UTF-8 in string") }
            return s
        }
        var out = Array(UnsafeBufferPointer(rebasing: self.bytes[start..<self.position]))
        while true {
            guard let b = self.current else { throw self.error("unterminated string") }
            self.position += 1
            switch b {
            case UInt8(ascii: "\""):
                guard let s = String(validating: out, as: UTF8.self) else { throw self.error("invalid UTF-8 in string") }
                return s
            case UInt8(ascii: "\\"):
                try self.escape(into: &out)
            case 0..<0x20:
                self.position -= 1
                throw self.error("control character in string")
            default:
                out.append(b)
            }
        }
    }

    private mutating func escape(into out: inout [UInt8]) throws(Error) {
        guard let e = self.current else { throw self.error("unterminated string") }
        self.position += 1
        switch e {
        case UInt8(ascii: "\""): out.append(0x22)
        case UInt8(ascii: "\\"): out.append(0x5C)
        case UInt8(ascii: "/"): out.append(0x2F)
        case UInt8(ascii: "b"): out.append(0x08)
        case UInt8(ascii: "f"): out.append(0x0C)
        case UInt8(ascii: "n"): out.append(0x0A)
        case UInt8(ascii: "r"): out.append(0x0D)
        case UInt8(ascii: "t"): out.append(0x09)
        case UInt8(ascii: "u"):
            var scalar = try self.hex4()
            if (0xD800..<0xDC00).contains(scalar) {
                guard self.current == UInt8(ascii: "\\"), self.position + 1 < self.bytes.count,
                    self.bytes[self.position + 1] == UInt8(ascii: "u")
                else { throw self.error("unpaired surrogate") }
                self.position += 2
                let low = try self.hex4()
                guard (0xDC00..<0xE000).contains(low) else { throw self.error("unpaired surrogate") }
                scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
            } else if (0xDC00..<0xE000).contains(scalar) {
                throw self.error("unpaired surrogate")
            }
            guard let u = Unicode.Scalar(scalar) else { throw self.error("invalid \\u escape") }
            out.append(contentsOf: Array(String(Character(u)).utf8))
        default:
            throw self.error("invalid escape")
        }
    }

    private mutating func hex4() throws(Error) -> UInt32 {
        guard self.position + 4 <= self.bytes.count else { throw self.error("invalid \\u escape") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let b = self.bytes[self.position]
            let digit: UInt8
            switch b {
            case 0x30...0x39: digit = b - 0x30
            case 0x41...0x46: digit = b - 0x41 + 10
            case 0x61...0x66: digit = b - 0x61 + 10
            default: throw self.error("invalid \\u escape")
            }
            value = value << 4 | UInt32(digit)
            self.position += 1
        }
        return value
    }
}
