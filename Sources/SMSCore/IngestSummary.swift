/// The webhook's answer: the seed's shape (`status, message, processed, skipped`) plus additive fields.
public struct IngestSummary: Sendable, Hashable {
    public enum Outcome: String, Sendable, Hashable, CaseIterable {
        case accepted, duplicate, rejected
    }

    public struct Result: Sendable, Hashable {
        public var guid: String?
        public var derived: Bool
        public var outcome: Outcome
        public var intent: Intent?
        public var index: Int
        public var error: PayloadError?
        /// The reply decision of an accepted message: queued, suppressed_optout, suppressed_rate, no_reply.
        public var reply: String?

        public init(guid: String?, derived: Bool = false, outcome: Outcome, intent: Intent?, index: Int, error: PayloadError? = nil, reply: String? = nil) {
            self.reply = reply
            self.guid = guid
            self.derived = derived
            self.outcome = outcome
            self.intent = intent
            self.index = index
            self.error = error
        }
    }

    public var results: [Result]

    public init(results: [Result]) { self.results = results }

    public var processed: Int { self.counts.processed }
    public var skipped: Int { self.counts.skipped }
    public var rejected: Int { self.counts.rejected }

    /// The outcomes counted in one pass.
    var counts: (processed: Int, skipped: Int, rejected: Int) {
        var processed = 0, skipped = 0, rejected = 0
        for i in self.results.indices {
            switch self.results[i].outcome {
            case .accepted: processed += 1
            case .duplicate: skipped += 1
            case .rejected: rejected += 1
            }
        }
        return (processed, skipped, rejected)
    }

    /// "Processed 2 messages, skipped 1 duplicate" (", rejected 1 invalid message" when any were).
    public var text: String {
        let counts = self.counts
        return Self.text(processed: counts.processed, skipped: counts.skipped, rejected: counts.rejected)
    }

    static func text(processed: Int, skipped: Int, rejected: Int) -> String {
        var s = ""
        s.reserveCapacity(80)
        func count(_ n: Int, _ noun: String) {
            s += String(n)
            s += " "
            s += noun
            if n != 1 { s += "s" }
        }
        s += "Processed "
        count(processed, "message")
        s += ", skipped "
        count(skipped, "duplicate")
        if rejected > 0 {
            s += ", rejected "
            count(rejected, "invalid message")
        }
        return s
    }

    public var json: String { String(decoding: self.jsonBytes, as: UTF8.self) }

    /// The response body (JSON, UTF-8).
    public var jsonBytes: [UInt8] {
        let (processed, skipped, rejected) = self.counts
        var w = JSONWriter(capacity: 160 + 96 * self.results.count)
        w.beginObject()
        w.field("status", "success")
        w.field("message", Self.text(processed: processed, skipped: skipped, rejected: rejected))
        w.field("processed", processed)
        w.field("skipped", skipped)
        w.field("rejected", rejected)
        w.key("results")
        w.beginArray()
        for i in self.results.indices {  // in place: a copy of each result would retain its strings
            w.beginObject()
            if let guid = self.results[i].guid { w.field("guid", guid) } else { w.key("guid"); w.null() }
            if self.results[i].derived { w.field("guid_derived", true) }
            w.field("outcome", self.results[i].outcome.rawValue)
            if let intent = self.results[i].intent { w.field("intent", intent.rawValue) }
            w.field("reply", ifPresent: self.results[i].reply)
            if let error = self.results[i].error {
                w.field("index", self.results[i].index)
                w.key("error")
                error.write(to: &w)
            }
            w.endObject()
        }
        w.endArray()
        w.endObject()
        return w.bytes
    }
}
