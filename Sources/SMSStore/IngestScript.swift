import SMSCore

/// The ingest transaction: ONE Lua script call per webhook request. For each message, atomically: first sighting
/// (`SET dedup NX EX`), then the decision, audit (`XADD`) and reply job (`LPUSH`), or nothing more for a duplicate.
/// Invalid raw items of the same request are kept in the capped `rejected` stream by the same call.
public enum IngestScript {
    /// `#!lua` (Redis 7 script flags, none set): Redis refuses the whole call up front when it cannot write
    /// (OOM under noeviction, read-only replica), so a call never stops half-way through a batch for that reason.
    public static let source = """
        #!lua
        -- smshook ingest. KEYS: 1 audit, 2 replies, 3 rejected, then per message: dedup key, rate key, opt-out set
        -- (the global one, or its channel's when opt-out is scoped per channel).
        -- ARGV: 1 dedup ttl, 2 audit maxlen, 3 rejected maxlen, 4 max replies per window, 5 window seconds,
        -- 6 rejected count R, R rejected records, then 5 per message: dedup value, audit record (JSON objects),
        -- reply job ('' when none is due), number ('' when none), intent. The two JSON objects open with
        -- {"decision":"<expected>", where expected is queued when a job is given, else no_reply; only when the
        -- decision differs is that head rewritten (a new string: worth avoiding for every message).
        -- Returns per message: duplicate | queued | suppressed_optout | suppressed_rate | no_reply.
        local ttl, auditMax, rejectedMax = ARGV[1], ARGV[2], ARGV[3]
        local rateMax, window, r = tonumber(ARGV[4]), ARGV[5], tonumber(ARGV[6])
        for i = 1, r do
          redis.call('XADD', KEYS[3], 'MAXLEN', '~', rejectedMax, '*', 'data', ARGV[6 + i])
        end
        local out, jobs = {}, {}
        for j = 0, (#KEYS - 3) / 3 - 1 do
          local dedup, rate, optout = KEYS[4 + 3 * j], KEYS[5 + 3 * j], KEYS[6 + 3 * j]
          local a = 7 + r + 5 * j
          local value, audit, job, number, intent = ARGV[a], ARGV[a + 1], ARGV[a + 2], ARGV[a + 3], ARGV[a + 4]
          local expected = job ~= '' and 'queued' or 'no_reply'
          if not redis.call('SET', dedup, value, 'NX', 'EX', ttl) then
            out[#out + 1] = 'duplicate'
          else
            local decision = 'no_reply'
            if intent == 'opt_out' then
              if number ~= '' and redis.call('SADD', optout, number) == 0 then
                decision = 'suppressed_optout'
              elseif job ~= '' then
                decision = 'queued'
              end
            else
              local optedOut = number ~= '' and redis.call('SISMEMBER', optout, number) == 1
              if optedOut and (intent == 'opt_in' or intent == 'affirmative') then
                redis.call('SREM', optout, number)
                optedOut = false
              end
              if optedOut then
                if job ~= '' then decision = 'suppressed_optout' end
              elseif job ~= '' then
                local n = redis.call('INCR', rate)
                if n == 1 then redis.call('EXPIRE', rate, window) end
                if n > rateMax then decision = 'suppressed_rate' else decision = 'queued' end
              end
            end
            if decision ~= expected then  -- rewritten within the script: nobody sees the first value
              local head, skip = '{"decision":"' .. decision .. '",', 16 + #expected
              redis.call('SET', dedup, head .. string.sub(value, skip), 'EX', ttl)
              audit = head .. string.sub(audit, skip)
            end
            redis.call('XADD', KEYS[1], 'MAXLEN', '~', auditMax, '*', 'event', 'inbound', 'decision', decision,
              'data', audit)
            if decision == 'queued' then jobs[#jobs + 1] = job end
            out[#out + 1] = decision
          end
        end
        for i = 1, #jobs, 1000 do  -- one LPUSH for the jobs of the call (in order), in chunks for unpack
          redis.call('LPUSH', KEYS[2], unpack(jobs, i, math.min(i + 999, #jobs)))
        end
        return out
        """

    /// Retention settings of the transaction.
    public struct Settings: Sendable, Hashable {
        public var dedupTTLSeconds = 7 * 24 * 3600
        public var maxRepliesPerWindow = 3
        public var replyWindowSeconds = 3600
        public var auditMaxLength = 1_000_000
        public var rejectedMaxLength = 100_000
        public init() {}
    }

    /// One accepted message with everything the script stores for it.
    public struct Entry: Sendable {
        public var message: InboundMessage
        public var classification: Classification
        public var job: ReplyJob?
        /// Why no reply is due, when `job` is nil.
        public var noReplyReason: String?
        public var instance: String
        public var receivedAt: String
        /// The number as a subscriber key (`PhoneNumber.subscriber`): opt-out and loop guard use it.
        public var subscriber: String?
        /// The channel whose own opt-out set applies (opt-out scoped per channel); nil: the global set.
        public var optOutChannel: String?

        public init(
            message: InboundMessage, classification: Classification, job: ReplyJob?, noReplyReason: String? = nil,
            instance: String, receivedAt: String, subscriber: String? = nil
        ) {
            self.message = message
            self.subscriber = subscriber ?? message.number
            self.classification = classification
            self.job = job
            self.noReplyReason = noReplyReason
            self.instance = instance
            self.receivedAt = receivedAt
        }

        /// The decision the JSON records are written with; the script rewrites it when Redis decides otherwise
        /// (opted out, over the loop guard).
        public var expectedDecision: String { self.job == nil ? "no_reply" : "queued" }

        /// The dedup key's value (JSON, UTF-8): small, readable with `redis-cli GET`.
        public var dedupValue: [UInt8] {
            var w = JSONWriter(capacity: 160)
            self.writeDedupValue(to: &w)
            return w.bytes
        }

        public func writeDedupValue(to w: inout JSONWriter) {
            w.beginObject()
            w.field("decision", self.expectedDecision)
            w.field("outcome", "accepted")
            w.field("instance", self.instance)
            w.field("received_at", self.receivedAt)
            w.field("intent", self.classification.intent.rawValue)
            w.field("job_id", ifPresent: self.job?.id)
            Channel.write(self.message.channel, to: &w)
            w.endObject()
        }

        /// The audit stream record (JSON, UTF-8): the message, its classification and the reply decision.
        public var auditRecord: [UInt8] {
            var w = JSONWriter(capacity: 384 + self.message.message.utf8.count)
            self.writeAuditRecord(to: &w)
            return w.bytes
        }

        public func writeAuditRecord(to w: inout JSONWriter) {
            w.beginObject()
            w.field("decision", self.expectedDecision)
            w.field("guid", self.message.guid)
            if self.message.guidDerived { w.field("guid_derived", true) }
            w.field("provider", self.message.provider)
            w.field("number", ifPresent: self.message.number)
            if self.subscriber != self.message.number { w.field("subscriber", ifPresent: self.subscriber) }
            w.field("message", self.message.message)
            w.field("date", ifPresent: self.message.date)
            w.field("hour", ifPresent: self.message.hour)
            w.field("time_received", ifPresent: self.message.timeReceived)
            w.field("intent", self.classification.intent.rawValue)
            w.field("matched", ifPresent: self.classification.matched)
            w.field("confidence", self.classification.confidence)
            w.field("job_id", ifPresent: self.job?.id)
            w.field("no_reply_reason", ifPresent: self.noReplyReason)
            Channel.write(self.message.channel, to: &w)
            w.field("instance", self.instance)
            w.field("received_at", self.receivedAt)
            w.endObject()
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

    /// How many KEYS and ARGV one call has.
    public static func counts(entries: Int, rejected: Int) -> (keys: Int, arguments: Int) {
        (3 + 3 * entries, 6 + rejected + 5 * entries)
    }

    /// KEYS and ARGV for one call, as UTF-8 bytes.
    public static func arguments(
        entries: [Entry], rejected: [String], keys: RedisKeys, settings: Settings
    ) -> (keys: [[UInt8]], arguments: [[UInt8]]) {
        var all: [[UInt8]] = []
        self.write(entries: entries, rejected: rejected, keys: keys, settings: settings) { all.append(Array($0)) }
        let keyCount = self.counts(entries: entries.count, rejected: rejected.count).keys
        return (Array(all[..<keyCount]), Array(all[keyCount...]))
    }

    /// Hands KEYS then ARGV of one call to `argument`, one at a time and in order, from buffers reused between
    /// arguments: the caller writes them straight into the command, with no array per argument.
    public static func write<Entries: RandomAccessCollection<Entry>>(
        entries: Entries, rejected: [String], keys: RedisKeys, settings: Settings,
        argument: (UnsafeRawBufferPointer) -> Void
    ) where Entries.Index == Int {
        var scratch: [UInt8] = []
        scratch.reserveCapacity(128)
        var w = JSONWriter(capacity: 1024)
        func emit(_ text: String) {
            var text = text
            text.withUTF8 { argument(UnsafeRawBufferPointer($0)) }
        }
        func emit(_ n: Int) {
            scratch.removeAll(keepingCapacity: true)
            JSONWriter.appendDecimal(n, to: &scratch)
            scratch.withUnsafeBytes(argument)
        }
        func emitJSON() { w.bytes.withUnsafeBytes(argument) }
        emit(keys.audit)
        emit(keys.replies)
        emit(keys.rejected)
        for i in entries.indices {  // by index: no copy (and retain) of each entry's strings
            emit(keys.dedup(entries[i].message.guid))
            emit(keys.rate(entries[i].subscriber ?? "-"))
            emit(keys.optOut(channel: entries[i].optOutChannel))
        }
        emit(settings.dedupTTLSeconds)
        emit(settings.auditMaxLength)
        emit(settings.rejectedMaxLength)
        emit(settings.maxRepliesPerWindow)
        emit(settings.replyWindowSeconds)
        emit(rejected.count)
        for record in rejected { emit(record) }
        for i in entries.indices {
            w.reset()
            entries[i].writeDedupValue(to: &w)
            emitJSON()
            w.reset()
            entries[i].writeAuditRecord(to: &w)
            emitJSON()
            w.reset()
            entries[i].job?.write(to: &w)
            emitJSON()
            emit(entries[i].subscriber ?? "")
            emit(entries[i].classification.intent.rawValue)
        }
    }
}
