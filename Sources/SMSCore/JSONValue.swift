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

/// Builds compact JSON text by hand: fixed key order, no intermediate objects.
public struct JSONWriter: Sendable {
    public private(set) var text = ""
    private var needsComma = [false]

    public init() { self.text.reserveCapacity(256) }

    public mutating func write(_ value: JSONValue) {
        switch value {
        case .null: self.raw("null")
        case .bool(let b): self.raw(b ? "true" : "false")
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

    public mutating func beginObject() { self.separator(); self.text.append("{"); self.needsComma.append(false) }
    public mutating func endObject() { self.needsComma.removeLast(); self.text.append("}") }
    public mutating func beginArray() { self.separator(); self.text.append("["); self.needsComma.append(false) }
    public mutating func endArray() { self.needsComma.removeLast(); self.text.append("]") }

    public mutating func key(_ name: String) {
        self.separator()
        Self.escape(name, into: &self.text)
        self.text.append(":")
        self.needsComma[self.needsComma.count - 1] = false
    }

    public mutating func string(_ s: String) { self.separator(); Self.escape(s, into: &self.text) }
    public mutating func int(_ i: Int) { self.raw(String(i)) }
    public mutating func bool(_ b: Bool) { self.raw(b ? "true" : "false") }
    public mutating func null() { self.raw("null") }

    public mutating func field(_ name: String, _ value: String) { self.key(name); self.string(value) }
    public mutating func field(_ name: String, _ value: Int) { self.key(name); self.int(value) }
    public mutating func field(_ name: String, _ value: Bool) { self.key(name); self.bool(value) }
    public mutating func field(_ name: String, _ value: Double) { self.key(name); self.raw(value.isFinite ? String(value) : "null") }
    /// Writes the member only when the value is present.
    public mutating func field(_ name: String, ifPresent value: String?) {
        if let value { self.field(name, value) }
    }

    /// A value that is already JSON text (e.g. another writer's output), written as it is.
    public mutating func rawJSON(_ json: String) { self.raw(json) }

    private mutating func raw(_ s: String) { self.separator(); self.text.append(s) }

    private mutating func separator() {
        let top = self.needsComma.count - 1
        if self.needsComma[top] { self.text.append(",") }
        self.needsComma[top] = true
    }

    static func escape(_ s: String, into out: inout String) {
        var s = s
        s.makeContiguousUTF8()
        let clean = s.utf8.withContiguousStorageIfAvailable { bytes in
            !bytes.contains { $0 == 0x22 || $0 == 0x5C || $0 < 0x20 }
        } ?? false
        out.append("\"")
        if clean {  // the common case: nothing to escape, one append
            out.append(s)
            out.append("\"")
            return
        }
        var plainStart = s.utf8.startIndex
        var index = plainStart
        let utf8 = s.utf8
        while index != utf8.endIndex {
            let byte = utf8[index]
            if byte == 0x22 || byte == 0x5C || byte < 0x20 {
                out.append(contentsOf: s[plainStart..<index])
                switch byte {
                case 0x22: out.append("\\\"")
                case 0x5C: out.append("\\\\")
                case 0x0A: out.append("\\n")
                case 0x0D: out.append("\\r")
                case 0x09: out.append("\\t")
                default:
                    let hex = String(byte, radix: 16)
                    out.append("\\u00" + (hex.count == 1 ? "0" + hex : hex))
                }
                plainStart = utf8.index(after: index)
            }
            index = utf8.index(after: index)
        }
        out.append(contentsOf: s[plainStart..<utf8.endIndex])
        out.append("\"")
    }
}
