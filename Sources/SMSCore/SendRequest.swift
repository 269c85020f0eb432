/// A validated `POST /api/v1/messages` body: an SMS to send through the worker's reliable path, opening the
/// recipient's conversation for replies. Pure.
public struct SendRequest: Sendable, Hashable {
    /// The recipient as a subscriber key (E.164), as every per-number key uses it.
    public var to: String
    public var body: String
    /// The application's own JSON object (≤ `maxMetadataBytes`), as compact JSON; "{}" when none.
    public var metadata: String
    public var replyWindowSeconds: Int
    public var idempotencyKey: String?
    /// A channel declared in the config file to send through; nil: the worker's default.
    public var channel: String?

    public static let maxBodyLength = 1600
    public static let maxMetadataBytes = 4096
    public static let defaultReplyWindow = 7 * 86400
    public static let replyWindowRange = 60...(90 * 86400)

    /// Validates `json`; `idempotencyHeader` (the `Idempotency-Key` header) wins over the field.
    public init(json: JSONValue, idempotencyHeader: String?, defaultCountryCode: String?) throws(PayloadError) {
        guard case .object = json else { throw PayloadError(.invalidPayload, "expected a JSON object") }
        guard let rawTo = json["to"] else { throw PayloadError(.missingField, "to is required", field: "to") }
        guard let to = rawTo.stringValue else { throw PayloadError(.invalidType, "to must be a string", field: "to") }
        let subscriber = PhoneNumber.subscriber(to, defaultCountryCode: defaultCountryCode)
        guard Self.isE164(subscriber) else {
            throw PayloadError(.invalidNumber, "to must be a phone number in international form (+ and 8 to 15 digits)", field: "to")
        }
        self.to = subscriber
        guard let rawBody = json["body"] else { throw PayloadError(.missingField, "body is required", field: "body") }
        guard let body = rawBody.stringValue else { throw PayloadError(.invalidType, "body must be a string", field: "body") }
        guard body.contains(where: { !$0.isWhitespace }) else {
            throw PayloadError(.invalidPayload, "body must not be empty", field: "body")
        }
        guard body.count <= Self.maxBodyLength else {
            throw PayloadError(.tooLong, "body is longer than \(Self.maxBodyLength) characters", field: "body")
        }
        self.body = body
        switch json["metadata"] {
        case nil, .null?:
            self.metadata = "{}"
        case let value? where value.typeName == "object":
            var w = JSONWriter()
            w.write(value)
            guard w.bytes.count <= Self.maxMetadataBytes else {
                throw PayloadError(.tooLong, "metadata is larger than \(Self.maxMetadataBytes) bytes as JSON", field: "metadata")
            }
            self.metadata = w.text
        default:
            throw PayloadError(.invalidType, "metadata must be a JSON object", field: "metadata")
        }
        switch json["reply_window_seconds"] {
        case nil, .null?:
            self.replyWindowSeconds = Self.defaultReplyWindow
        case .number(let n)?:
            guard let seconds = Int(n), Self.replyWindowRange.contains(seconds) else {
                throw PayloadError(
                    .invalidPayload, "reply_window_seconds must be a whole number from \(Self.replyWindowRange.lowerBound) to \(Self.replyWindowRange.upperBound)",
                    field: "reply_window_seconds")
            }
            self.replyWindowSeconds = seconds
        default:
            throw PayloadError(.invalidType, "reply_window_seconds must be a number", field: "reply_window_seconds")
        }
        let key = idempotencyHeader ?? json["idempotency_key"]?.stringValue
        if json["idempotency_key"] != nil && idempotencyHeader == nil && key == nil {
            throw PayloadError(.invalidType, "idempotency_key must be a string", field: "idempotency_key")
        }
        if let key {
            guard (1...255).contains(key.utf8.count), key.utf8.allSatisfy({ $0 >= 0x21 && $0 <= 0x7E }) else {
                throw PayloadError(.invalidPayload, "idempotency key: 1 to 255 visible ASCII characters", field: "idempotency_key")
            }
        }
        self.idempotencyKey = key
        switch json["channel"] {
        case nil, .null?: self.channel = nil
        case .string(let name)? where (1...100).contains(name.utf8.count): self.channel = name
        default: throw PayloadError(.invalidType, "channel must be the name of a configured channel", field: "channel")
        }
    }

    /// SHA-256 of what the call asks for: a reused idempotency key must come with the same request.
    public var fingerprint: String {
        var w = JSONWriter()
        w.beginObject()
        w.field("to", self.to)
        w.field("body", self.body)
        w.key("metadata")
        w.rawJSON(self.metadata)
        w.field("reply_window_seconds", self.replyWindowSeconds)
        w.field("channel", ifPresent: self.channel)
        w.endObject()
        return Signatures.sha256Hex(w.bytes)
    }

    static func isE164(_ number: String) -> Bool {
        let utf8 = Array(number.utf8)
        return utf8.first == UInt8(ascii: "+") && (9...16).contains(utf8.count) && utf8[1] != UInt8(ascii: "0")
            && utf8.dropFirst().allSatisfy { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
    }
}
