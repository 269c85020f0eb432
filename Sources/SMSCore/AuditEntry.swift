/// One entry of the audit stream, as read back for people (`smshook audit tail`).
public struct AuditEntry: Sendable, Hashable {
    public var id: String
    public var fields: [String: String]
    public var data: JSONValue

    public init(id: String, fields: [(String, String)]) {
        self.id = id
        var map: [String: String] = [:]
        for (k, v) in fields { map[k] = v }
        self.fields = map
        self.data = (try? JSONParser.parse(Array((map["data"] ?? "{}").utf8))) ?? .object([])
    }

    /// Milliseconds since the epoch, from the stream id.
    public var milliseconds: Int64 { Int64(self.id.split(separator: "-").first ?? "") ?? 0 }
    /// The sequence within that millisecond, from the stream id.
    public var sequence: Int64 { Int64(self.id.split(separator: "-").last ?? "") ?? 0 }

    public var number: String? { self.data["number"]?.stringValue ?? self.data["to"]?.stringValue }

    /// True when the entry is about `number`, as received or as a subscriber key.
    public func concerns(_ number: String) -> Bool {
        ["number", "subscriber", "to"].contains { self.data[$0]?.stringValue == number }
    }

    /// `<time> <event> <decision> guid=… number=… intent=… "message"`
    public func line(time: String) -> String {
        var parts = [time, self.fields["event"] ?? "-", self.fields["decision"] ?? self.data["decision"]?.stringValue ?? "-"]
        for key in ["guid", "job_id", "in_reply_to", "number", "subscriber", "to", "intent", "matched", "no_reply_reason", "provider_id", "error", "instance", "worker", "by"] {
            if let value = self.data[key]?.stringValue { parts.append("\(key)=" + LogText.escape(value)) }
        }
        if let message = self.data["message"]?.stringValue ?? self.data["body"]?.stringValue {
            let short = message.count > 60 ? String(message.prefix(57)) + "..." : message
            parts.append(JSONValue.string(short).json)
        }
        return parts.joined(separator: " ")
    }
}
