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

    public var json: String {
        var w = JSONWriter()
        w.beginObject()
        w.field("id", self.id)
        w.field("to", self.to)
        w.field("body", self.body)
        w.field("in_reply_to", self.inReplyTo)
        w.field("intent", self.intent.rawValue)
        w.field("provider", self.provider)
        w.field("created_at", self.createdAt)
        w.field("attempt", self.attempt)
        w.endObject()
        return w.text
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
        if case .number(let n)? = json["attempt"], let a = Int(n) { self.attempt = a } else { self.attempt = 0 }
    }
}
