/// The ingest transaction: ONE Lua script call per webhook request. For each message, atomically: first sighting
/// (`SET dedup NX EX`), then audit (`XADD`) and reply job (`LPUSH`), or nothing at all for a duplicate.
/// Invalid raw items of the same request are kept in the capped `rejected` stream by the same call.
public enum IngestScript {
    /// `#!lua` (Redis 7 script flags, none set): Redis refuses the whole call up front when it cannot write
    /// (OOM under noeviction, read-only replica), so a call never stops half-way through a batch for that reason.
    public static let source = """
        #!lua
        -- smshook ingest. KEYS: 1 audit stream, 2 replies list, 3 rejected stream, 4.. one dedup key per message.
        -- ARGV: 1 dedup ttl, 2 audit maxlen, 3 rejected maxlen, 4 rejected count R, then R rejected records,
        -- then 3 per message: dedup value, audit record, reply job ('' when none). Returns 1 (new) or 0 per message.
        local ttl, auditMax, rejectedMax, r = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4])
        for i = 1, r do
          redis.call('XADD', KEYS[3], 'MAXLEN', '~', rejectedMax, '*', 'data', ARGV[4 + i])
        end
        local out = {}
        for k = 4, #KEYS do
          local a = 5 + r + (k - 4) * 3
          if redis.call('SET', KEYS[k], ARGV[a], 'NX', 'EX', ttl) then
            redis.call('XADD', KEYS[1], 'MAXLEN', '~', auditMax, '*', 'event', 'inbound', 'data', ARGV[a + 1])
            if ARGV[a + 2] ~= '' then redis.call('LPUSH', KEYS[2], ARGV[a + 2]) end
            out[#out + 1] = 1
          else
            out[#out + 1] = 0
          end
        end
        return out
        """

    /// Retention settings of the transaction.
    public struct Settings: Sendable, Hashable {
        public var dedupTTLSeconds = 7 * 24 * 3600
        public var auditMaxLength = 1_000_000
        public var rejectedMaxLength = 100_000
        public init() {}
    }

    /// One accepted message with everything the script stores for it.
    public struct Entry: Sendable {
        public var message: InboundMessage
        public var classification: Classification
        public var job: ReplyJob?
        public var instance: String
        public var receivedAt: String

        public init(
            message: InboundMessage, classification: Classification, job: ReplyJob?, instance: String,
            receivedAt: String
        ) {
            self.message = message
            self.classification = classification
            self.job = job
            self.instance = instance
            self.receivedAt = receivedAt
        }

        /// The dedup key's value: small, readable with `redis-cli GET`.
        public var dedupValue: String {
            var w = JSONWriter()
            w.beginObject()
            w.field("outcome", "accepted")
            w.field("instance", self.instance)
            w.field("received_at", self.receivedAt)
            w.field("intent", self.classification.intent.rawValue)
            w.field("job_id", ifPresent: self.job?.id)
            w.endObject()
            return w.text
        }

        /// The audit stream record: the message, its classification and the reply decision.
        public var auditRecord: String {
            var w = JSONWriter()
            w.beginObject()
            w.field("guid", self.message.guid)
            if self.message.guidDerived { w.field("guid_derived", true) }
            w.field("provider", self.message.provider)
            w.field("number", ifPresent: self.message.number)
            w.field("message", self.message.message)
            w.field("date", ifPresent: self.message.date)
            w.field("hour", ifPresent: self.message.hour)
            w.field("time_received", ifPresent: self.message.timeReceived)
            w.field("intent", self.classification.intent.rawValue)
            w.field("matched", ifPresent: self.classification.matched)
            w.field("reply", self.job == nil ? "none" : "queued")
            w.field("job_id", ifPresent: self.job?.id)
            w.field("instance", self.instance)
            w.field("received_at", self.receivedAt)
            w.endObject()
            return w.text
        }
    }

    /// A record for the rejected stream: the raw item and why it was refused.
    public static func rejectedRecord(raw: JSONValue, index: Int, error: PayloadError, instance: String, at: String)
        -> String
    {
        var w = JSONWriter()
        w.beginObject()
        w.field("index", index)
        w.key("error")
        error.write(to: &w)
        w.key("raw")
        w.write(raw)
        w.field("instance", instance)
        w.field("received_at", at)
        w.endObject()
        return w.text
    }

    /// KEYS and ARGV for one call.
    public static func arguments(
        entries: [Entry], rejected: [String], keys: RedisKeys, settings: Settings
    ) -> (keys: [String], arguments: [String]) {
        var k = [keys.audit, keys.replies, keys.rejected]
        k.reserveCapacity(3 + entries.count)
        var a = [
            String(settings.dedupTTLSeconds), String(settings.auditMaxLength), String(settings.rejectedMaxLength),
            String(rejected.count),
        ]
        a.reserveCapacity(4 + rejected.count + entries.count * 3)
        a.append(contentsOf: rejected)
        for entry in entries {
            k.append(keys.dedup(entry.message.guid))
            a.append(entry.dedupValue)
            a.append(entry.auditRecord)
            a.append(entry.job?.json ?? "")
        }
        return (k, a)
    }
}
