/// A reply to send, as queued on `<prefix>:replies` (JSON).
public struct ReplyJob: Sendable, Hashable {
    public var id: String
    public var to: String
    public var body: String
    public var inReplyTo: String
    public var intent: Intent
    public var provider: String
    public var createdAt: String
    public var attempt: Int
    /// Times the reaper moved this job back from a dead worker.
    public var recovered: Int = 0
    /// Where the message it answers arrived: the reply leaves through the same channel. nil for jobs queued before
    /// channels existed (the worker's default channel sends them).
    public var channel: Channel?
    /// `reply` (an automatic reply: `in_reply_to` is the inbound guid) or `message` (sent through the send API).
    public var kind: Kind = .reply

    public enum Kind: String, Sendable, Hashable {
        case reply, message
    }

    public init(
        id: String, to: String, body: String, inReplyTo: String, intent: Intent, provider: String,
        createdAt: String, attempt: Int = 0
    ) {
        self.id = id
        self.to = to
        self.body = body
        self.inReplyTo = inReplyTo
        self.intent = intent
        self.provider = provider
        self.createdAt = createdAt
        self.attempt = attempt
    }

    public var json: String { String(decoding: self.jsonBytes, as: UTF8.self) }

    /// The job as queued (JSON, UTF-8).
    public var jsonBytes: [UInt8] {
        var w = JSONWriter(capacity: 256 + self.body.utf8.count)
        self.write(to: &w)
        return w.bytes
    }

    /// Writes the job as queued.
    public func write(to w: inout JSONWriter) {
        w.beginObject()
        w.field("id", self.id)
        w.field("to", self.to)
        w.field("body", self.body)
        w.field("in_reply_to", self.inReplyTo)
        w.field("intent", self.intent.rawValue)
        w.field("provider", self.provider)
        w.field("created_at", self.createdAt)
        w.field("attempt", self.attempt)
        if self.recovered > 0 { w.field("recovered", self.recovered) }
        if self.kind != .reply { w.field("kind", self.kind.rawValue) }
        Channel.write(self.channel, to: &w)
        w.endObject()
    }

    public init(json: JSONValue) throws(PayloadError) {
        func text(_ name: String) throws(PayloadError) -> String {
            guard let s = json[name]?.stringValue else {
                throw PayloadError(.missingField, "reply job lacks \(name)", field: name)
            }
            return s
        }
        self.id = try text("id")
        self.to = try text("to")
        self.body = try text("body")
        self.inReplyTo = try text("in_reply_to")
        self.intent = Intent(rawValue: try text("intent")) ?? .unknown
        self.provider = try text("provider")
        self.createdAt = try text("created_at")
        self.attempt = Self.int(json["attempt"])
        self.recovered = Self.int(json["recovered"])
        self.channel = Channel(json: json["channel"])
        self.kind = json["kind"]?.stringValue.flatMap(Kind.init(rawValue:)) ?? .reply
    }

    /// Whole numbers as Redis' cjson may write them (`3` or `3.0`), within 0...1,000,000: a count read from
    /// outside never traps (`1e300`) nor overflows when incremented.
    static func int(_ value: JSONValue?) -> Int {
        guard case .number(let n)? = value else { return 0 }
        if let whole = Int(n) { return min(max(whole, 0), 1_000_000) }
        guard let d = Double(n), d.isFinite else { return 0 }
        return Int(min(max(d, 0), 1_000_000))
    }
}
