/// Field rules shared by the provider formats. Pure; every rule is documented in README.md.
public enum MessageValidator {
    /// Validates one legacy message object (`date, hour, time_received, message, number, guid`).
    public static func legacyMessage(_ json: JSONValue, limits: IngestLimits) throws(PayloadError) -> InboundMessage {
        guard case .object = json else {
            throw PayloadError(.invalidPayload, "a message must be a JSON object, got \(json.typeName)")
        }
        let message = try self.messageText(json["message"], field: "message", limits: limits)
        let number = try self.number(json["number"], field: "number", limits: limits)
        let date = try self.optionalText(json["date"], field: "date")
        let hour = try self.optionalText(json["hour"], field: "hour")
        let timeReceived = try self.optionalText(json["time_received"], field: "time_received")
        let given = try self.optionalText(json["guid"], field: "guid")
        var guid = given ?? ""
        let derived = guid.isEmpty
        if derived {
            guid = IdempotencyKey.derive(number: number, date: date, hour: hour, timeReceived: timeReceived, message: message)
        } else {
            try self.checkGUID(guid, field: "guid", limits: limits)
            try self.checkNotReserved(guid, field: "guid")
        }
        return InboundMessage(
            guid: guid, guidDerived: derived, number: number, message: message,
            date: date, hour: hour, timeReceived: timeReceived, provider: LegacyPayload.provider)
    }

    /// `message`: required string, at most `maxMessageLength` characters (Unicode scalars). Empty is allowed.
    public static func messageText(_ value: JSONValue?, field: String, limits: IngestLimits) throws(PayloadError)
        -> String
    {
        guard let value, value != .null else { throw PayloadError(.missingField, "\(field) is required", field: field) }
        guard case .string(let text) = value else {
            throw PayloadError(.invalidType, "\(field) must be a string, got \(value.typeName)", field: field)
        }
        // no more bytes than the limit: no more characters either (counting them walks the text)
        guard text.utf8.count <= limits.maxMessageLength || text.unicodeScalars.count <= limits.maxMessageLength else {
            throw PayloadError(
                .tooLong, "\(field) is longer than \(limits.maxMessageLength) characters", field: field)
        }
        return text
    }

    /// An id: 1 to `maxGUIDLength` printable ASCII characters (0x21-0x7E), no spaces or control characters.
    public static func checkGUID(_ guid: String, field: String, limits: IngestLimits) throws(PayloadError) {
        guard guid.utf8.count <= limits.maxGUIDLength else {
            throw PayloadError(.invalidGUID, "\(field) is longer than \(limits.maxGUIDLength) characters", field: field)
        }
        guard guid.utf8.allSatisfy({ $0 >= 0x21 && $0 <= 0x7E }) else {
            throw PayloadError(
                .invalidGUID, "\(field) may hold only printable ASCII characters without spaces", field: field)
        }
    }

    /// Key spaces of the other providers (`twilio:<MessageSid>`, `asg:<messageId>`): an SMSMobileAPI id may not
    /// start with one, or a crafted legacy guid could mark a real Twilio message as a duplicate.
    public static let reservedGUIDPrefixes = ["twilio:", "asg:"]

    public static func checkNotReserved(_ guid: String, field: String) throws(PayloadError) {
        for prefix in self.reservedGUIDPrefixes where guid.utf8.count >= prefix.utf8.count {
            if guid.utf8.prefix(prefix.utf8.count).elementsEqual(prefix.utf8, by: { ($0 | 0x20) == $1 }) {
                throw PayloadError(.invalidGUID, "\(field) may not start with '\(prefix)' (another provider's key space)", field: field)
            }
        }
    }

    /// The sender: optional. Trimmed; empty means absent. A phone number (`+`, digits, spaces, `-`, `.`, `(`, `)`)
    /// or an alphanumeric sender id (letters, digits, space, `-`, `_`, `.`), `minNumberLength`...`maxNumberLength`.
    public static func number(_ value: JSONValue?, field: String, limits: IngestLimits) throws(PayloadError)
        -> String?
    {
        if case .bool? = value {
            throw PayloadError(.invalidType, "\(field) must be a string, got boolean", field: field)
        }
        guard let raw = try self.optionalText(value, field: field) else { return nil }
        let trimmed = raw.trimmingWhitespace()
        if trimmed.isEmpty { return nil }
        let allowed = trimmed.withUTF8Bytes(Self.isNumberText)  // a run over the bytes: no iterator, no dynamic casts
        let count = allowed ? trimmed.utf8.count : trimmed.unicodeScalars.count  // allowed text is ASCII: a byte each
        guard count >= limits.minNumberLength && count <= limits.maxNumberLength else {
            throw PayloadError(
                .invalidNumber,
                "\(field) must be \(limits.minNumberLength) to \(limits.maxNumberLength) characters",
                field: field)
        }
        guard allowed else {
            throw PayloadError(.invalidNumber, "\(field) is not a phone number or sender id", field: field)
        }
        return trimmed
    }

    /// ASCII letters, digits and ` +-_.()`, with `+` only in front.
    static func isNumberText(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        for i in bytes.indices {
            switch bytes[i] {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: " "), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "("), UInt8(ascii: ")"):
                continue
            case UInt8(ascii: "+") where i == 0:
                continue
            default:
                return false
            }
        }
        return true
    }

    /// An optional scalar kept as text: strings as given, numbers and booleans by their JSON text, null as absent.
    public static func optionalText(_ value: JSONValue?, field: String) throws(PayloadError) -> String? {
        switch value {
        case nil, .null?: return nil
        case .string(let s)?: return s
        case .number(let n)?: return n
        case .bool(let b)?: return b ? "true" : "false"
        case let other?:
            throw PayloadError(.invalidType, "\(field) must be a string, got \(other.typeName)", field: field)
        }
    }
}

extension String {
    /// Runs `body` on the UTF-8 bytes, read in place: a native string's are contiguous, and reading them so needs
    /// no copy of the string (a retain and a release) as `withUTF8` does; others are made contiguous first.
    public func withUTF8Bytes<R>(_ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        if let result = try self.utf8.withContiguousStorageIfAvailable(body) { return result }
        var text = self
        return try text.withUTF8(body)
    }

    /// True when the UTF-8 text holds `byte` (an ASCII character): one run over the bytes, unlike `utf8.contains`,
    /// which goes through the view's iterator (ten times the instructions).
    public func containsASCII(_ byte: UInt8) -> Bool {
        self.withUTF8Bytes { $0.contains(byte) }
    }

    /// The string without leading and trailing white space (Unicode-aware).
    public func trimmingWhitespace() -> String {
        // Fast path: starts and ends with a visible ASCII character (the usual case), nothing to trim.
        if let first = self.utf8.first, let last = self.utf8.last, first > 0x20, first < 0x7F, last > 0x20, last < 0x7F {
            return self
        }
        let scalars = self.unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }) else { return "" }
        let last = scalars.lastIndex(where: { !$0.properties.isWhitespace })!
        return String(scalars[first...last])
    }
}
