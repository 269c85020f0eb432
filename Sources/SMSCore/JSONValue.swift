/// A parsed JSON document. Object members keep their order; numbers keep their source text.
public enum JSONValue: Sendable, Hashable {
    case null
    case bool(Bool)
    case number(String)
    case string(String)
    case array([JSONValue])
    case object([(String, JSONValue)])

    public static func == (a: JSONValue, b: JSONValue) -> Bool {
        switch (a, b) {
        case (.null, .null): return true
        case (.bool(let x), .bool(let y)): return x == y
        case (.number(let x), .number(let y)): return x == y
        case (.string(let x), .string(let y)): return x == y
        case (.array(let x), .array(let y)): return x == y
        case (.object(let x), .object(let y)):
            return x.count == y.count && zip(x, y).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: return false
        }
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(self.json)
    }

    /// The value of an object member (the last one when a name repeats).
    public subscript(key: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        return members.last { $0.0 == key }?.1
    }

    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    /// A scalar as text: a string as it is, a number by its JSON text, a boolean as `true`/`false`; nil otherwise.
    public var scalarText: String? {
        switch self {
        case .string(let s): s
        case .number(let n): n
        case .bool(let b): b ? "true" : "false"
        default: nil
        }
    }

    /// A short name of the type, for error messages.
    public var typeName: String {
        switch self {
        case .null: return "null"
        case .bool: return "boolean"
        case .number: return "number"
        case .string: return "string"
        case .array: return "array"
        case .object: return "object"
        }
    }

    /// Compact JSON text.
    public var json: String {
        var writer = JSONWriter()
        writer.write(self)
        return writer.text
    }
}

/// Builds compact JSON by hand into UTF-8 bytes: fixed key order, no intermediate objects, no String appends.
public struct JSONWriter: Sendable {
    /// The JSON so far, UTF-8.
    public private(set) var bytes: [UInt8] = []
    /// Per nesting level (bit `depth`): a member was written, so the next one needs a comma. Levels past 63 spill
    /// into `deeper`.
    private var commas: UInt64 = 0
    private var depth = 0
    private var deeper: [Bool] = []

    public init(capacity: Int = 256) { self.bytes.reserveCapacity(capacity) }

    /// Empties the writer, keeping its buffer, to write another document.
    public mutating func reset() {
        self.bytes.removeAll(keepingCapacity: true)
        self.commas = 0
        self.depth = 0
        self.deeper.removeAll()
    }

    /// The JSON so far as a String.
    public var text: String { String(decoding: self.bytes, as: UTF8.self) }

    public mutating func write(_ value: JSONValue) {
        switch value {
        case .null: self.null()
        case .bool(let b): self.bool(b)
        case .number(let n): self.raw(n)
        case .string(let s): self.string(s)
        case .array(let items):
            self.beginArray()
            for item in items { self.write(item) }
            self.endArray()
        case .object(let members):
            self.beginObject()
            for (key, member) in members {
                self.key(key)
                self.write(member)
            }
            self.endObject()
        }
    }

    public mutating func beginObject() { self.open(UInt8(ascii: "{")) }
    public mutating func endObject() { self.close(UInt8(ascii: "}")) }
    public mutating func beginArray() { self.open(UInt8(ascii: "[")) }
    public mutating func endArray() { self.close(UInt8(ascii: "]")) }

    public mutating func key(_ name: String) {
        self.separator()
        Self.escape(name, into: &self.bytes)
        self.bytes.append(UInt8(ascii: ":"))
        self.setComma(false)
    }

    public mutating func string(_ s: String) { self.separator(); Self.escape(s, into: &self.bytes) }
    public mutating func int(_ i: Int) { self.separator(); Self.appendDecimal(i, to: &self.bytes) }
    public mutating func bool(_ b: Bool) { self.raw(b ? "true" : "false") }
    public mutating func null() { self.raw("null") }

    // Member names of `field` are literals with nothing to escape, copied as they are.
    public mutating func field(_ name: StaticString, _ value: String) {
        if !value.withUTF8Bytes({ self.cleanField(name, $0) }) {
            self.key(literal: name, openingQuote: true)
            Self.escapeContent(value, into: &self.bytes)
            self.bytes.append(UInt8(ascii: "\""))
        }
    }

    /// `,"name":"value"` in one append when the value is short and has nothing to escape (most values); false,
    /// writing nothing, otherwise.
    private mutating func cleanField(_ name: StaticString, _ value: UnsafeBufferPointer<UInt8>) -> Bool {
        guard value.count <= 512, Self.firstToEscape(value) == value.count else { return false }
        self.key(literal: name, openingQuote: true, value: value)
        return true
    }

    public mutating func field(_ name: StaticString, _ value: Int) { self.key(literal: name); self.int(value) }
    public mutating func field(_ name: StaticString, _ value: Bool) { self.key(literal: name); self.bool(value) }
    public mutating func field(_ name: StaticString, _ value: Double) {
        self.key(literal: name)
        if let hundredths = Self.hundredths(value) {  // a confidence: written without formatting a Double
            Self.appendDecimal(hundredths / 100, to: &self.bytes)
            self.bytes.append(UInt8(ascii: "."))
            let fraction = hundredths % 100
            self.bytes.append(UInt8(ascii: "0") + UInt8(fraction / 10))
            if fraction % 10 != 0 { self.bytes.append(UInt8(ascii: "0") + UInt8(fraction % 10)) }
            self.setComma(true)
        } else {
            self.raw(value.isFinite ? String(value) : "null")
        }
    }

    /// `value` × 100 when `value` is a positive number of hundredths up to 100 (0.95, 1.0): then its shortest text,
    /// the one `String(value)` gives, is those digits (`n / 100` in binary is the double nearest to the decimal, as
    /// reading the decimal gives). nil otherwise.
    static func hundredths(_ value: Double) -> Int? {
        guard value >= 0, value <= 100, value.sign == .plus else { return nil }
        let n = (value * 100).rounded()
        guard Double(n) / 100 == value else { return nil }
        return Int(n)
    }

    /// Writes the member only when the value is present.
    public mutating func field(_ name: StaticString, ifPresent value: String?) {
        if let value { self.field(name, value) }
    }

    /// `,"name":` in one append, with `openingQuote` also the value's `"`, and with `value` (clean text) that value
    /// and its closing `"`: each append to the array costs more than the few bytes it copies.
    private mutating func key(literal name: StaticString, openingQuote: Bool = false, value: UnsafeBufferPointer<UInt8>? = nil) {
        let comma = self.commaNeeded()
        let count = name.utf8CodeUnitCount
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: count + (value?.count ?? 0) + 6) { buffer in
            var i = 0
            if comma { buffer[i] = UInt8(ascii: ","); i += 1 }
            buffer[i] = UInt8(ascii: "\"")
            UnsafeMutableBufferPointer(rebasing: buffer[(i + 1)...])
                .update(fromContentsOf: UnsafeBufferPointer(start: name.utf8Start, count: count))
            i += 1 + count
            buffer[i] = UInt8(ascii: "\"")
            buffer[i + 1] = UInt8(ascii: ":")
            i += 2
            if openingQuote { buffer[i] = UInt8(ascii: "\""); i += 1 }
            if let value {
                UnsafeMutableBufferPointer(rebasing: buffer[i...]).update(fromContentsOf: value)
                buffer[i + value.count] = UInt8(ascii: "\"")
                i += value.count + 1
            }
            self.bytes.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[..<i]))
        }
        self.setComma(openingQuote)  // a value follows (it sets the comma), or was opened here: the member is complete
    }

    /// A value that is already JSON text (e.g. another writer's output), written as it is.
    public mutating func rawJSON(_ json: String) { self.raw(json) }

    private mutating func raw(_ s: String) {
        self.separator()
        var s = s
        s.withUTF8 { self.bytes.append(contentsOf: $0) }
    }

    private mutating func open(_ byte: UInt8) {
        self.separator()
        self.bytes.append(byte)
        self.depth += 1
        self.setComma(false)
    }

    private mutating func close(_ byte: UInt8) {
        if self.depth > 63 { self.deeper.removeLast() }
        self.depth -= 1
        self.bytes.append(byte)
    }

    @inline(__always)
    private mutating func setComma(_ value: Bool) {
        if self.depth > 63 {
            if self.deeper.count < self.depth - 63 { self.deeper.append(value) } else { self.deeper[self.depth - 64] = value }
        } else if value {
            self.commas |= 1 << UInt64(self.depth)
        } else {
            self.commas &= ~(1 << UInt64(self.depth))
        }
    }

    @inline(__always)
    private mutating func separator() {
        if self.commaNeeded() { self.bytes.append(UInt8(ascii: ",")) }
    }

    /// True when a member came before at this level (a comma is due); otherwise records that one now has.
    @inline(__always)
    private mutating func commaNeeded() -> Bool {
        let needed = self.depth > 63 ? self.deeper[self.depth - 64] : (self.commas >> UInt64(self.depth)) & 1 == 1
        if !needed { self.setComma(true) }
        return needed
    }

    /// Appends `value` in decimal ASCII.
    public static func appendDecimal(_ value: Int, to out: inout [UInt8]) {
        if value < 0 { out.append(UInt8(ascii: "-")) }
        var magnitude = value.magnitude
        if magnitude < 10 {
            out.append(UInt8(ascii: "0") + UInt8(magnitude))
            return
        }
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 24 bytes of scratch, enough for 20 digits
        withUnsafeMutableBytes(of: &digits) { buffer in
            var i = buffer.count
            while magnitude > 0 {
                i -= 1
                buffer[i] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
            }
            out.append(contentsOf: buffer[i...])
        }
    }

    /// Appends `s` as a JSON string literal (quoted, escaped).
    public static func escape(_ s: String, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        Self.escapeContent(s, into: &out)
        out.append(UInt8(ascii: "\""))
    }

    /// Appends `s` escaped for the inside of a JSON string literal.
    static func escapeContent(_ s: String, into out: inout [UInt8]) {
        s.withUTF8Bytes { Self.escapeContent($0, into: &out) }
    }

    /// Appends UTF-8 `bytes` escaped for the inside of a JSON string literal.
    static func escapeContent(_ bytes: UnsafeBufferPointer<UInt8>, into out: inout [UInt8]) {
        let first = Self.firstToEscape(bytes)
        guard first < bytes.count else {
            out.append(contentsOf: bytes)
            return
        }
        var plainStart = 0
        for i in first..<bytes.count {
            let byte = bytes[i]
            guard byte == 0x22 || byte == 0x5C || byte < 0x20 else { continue }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[plainStart..<i]))
            out.append(UInt8(ascii: "\\"))
            switch byte {
            case 0x22: out.append(UInt8(ascii: "\""))
            case 0x5C: out.append(UInt8(ascii: "\\"))
            case 0x0A: out.append(UInt8(ascii: "n"))
            case 0x0D: out.append(UInt8(ascii: "r"))
            case 0x09: out.append(UInt8(ascii: "t"))
            default:
                let hex: [UInt8] = Array("0123456789abcdef".utf8)
                out.append(contentsOf: [UInt8(ascii: "u"), 0x30, 0x30, hex[Int(byte >> 4)], hex[Int(byte & 15)]])
            }
            plainStart = i + 1
        }
        out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[plainStart...]))
    }

    /// The index of the first byte that needs escaping (`"`, `\`, below 0x20), or `bytes.count`: eight bytes at a
    /// time while none does (the usual case), then byte by byte.
    static func firstToEscape(_ bytes: UnsafeBufferPointer<UInt8>) -> Int {
        var start = 0
        if let base = bytes.baseAddress {
            let ones: UInt64 = 0x0101_0101_0101_0101
            let highs: UInt64 = 0x8080_8080_8080_8080
            while start + 8 <= bytes.count {
                let word = UInt64(littleEndian: UnsafeRawPointer(base + start).loadUnaligned(as: UInt64.self))
                let control = (word &- ones &* 0x20) & ~word  // a byte below 0x20
                let quote = word ^ (ones &* 0x22)
                let slash = word ^ (ones &* 0x5C)
                let hit = (control | ((quote &- ones) & ~quote) | ((slash &- ones) & ~slash)) & highs
                if hit != 0 { break }
                start += 8
            }
        }
        while start < bytes.count {
            let byte = bytes[start]
            if byte == 0x22 || byte == 0x5C || byte < 0x20 { return start }
            start += 1
        }
        return bytes.count
    }
}
