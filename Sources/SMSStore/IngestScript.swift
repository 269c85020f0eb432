import RedisClient
import SMSCore
import Synchronization

/// The ingest transaction: ONE Lua script call per webhook request. For each message, atomically: first sighting
/// (`SET dedup NX EX`), then the decision, audit (`XADD`) and reply job (`LPUSH`), or nothing more for a duplicate.
/// Invalid raw items of the same request are kept in the capped `rejected` stream by the same call.
public enum IngestScript {
    /// The script for `settings` (cached: one per distinct set of constants). Its configured numbers and switches
    /// are written into its text rather than sent with every call: an argument costs Redis about 1,000 instructions
    /// (parsed, copied into Lua, collected), and a single message's call carried 11 of them. A config reload that
    /// changes one gives a new script, loaded on its first `NOSCRIPT`.
    public static func script(for settings: Settings) -> RedisScript {
        let constants = Constants(settings)
        return Self.scripts.withLock { cache in
            if let script = cache[constants] { return script }
            if cache.count >= 16 { cache.removeAll() }  // reloads that keep changing a number: a bounded cache
            let script = RedisScript(Self.source(constants))
            cache[constants] = script
            return script
        }
    }

    private static let scripts = Mutex<[Constants: RedisScript]>([:])

    /// What the script's text fixes: the settings' numbers and switches (no names, URLs or secrets).
    struct Constants: Hashable, Sendable {
        var dedupTTL, auditMax, rejectedMax, rateMax, window, eventQueues, keysPerMessage, historyMax, historyTTL: Int
        var perChannel, conversations: Bool

        init(_ settings: Settings) {
            self.dedupTTL = settings.dedupTTLSeconds
            self.auditMax = settings.auditMaxLength
            self.rejectedMax = settings.rejectedMaxLength
            self.rateMax = settings.maxRepliesPerWindow
            self.window = settings.replyWindowSeconds
            self.eventQueues = settings.eventEndpoints.count
            self.keysPerMessage = settings.keysPerMessage
            self.historyMax = settings.historyMaxLength
            self.historyTTL = settings.historyTTLSeconds
            self.perChannel = settings.optOutPerChannel
            self.conversations = settings.conversations
        }

        /// Lua `local`s of these values. Numbers Redis reads back as arguments are strings, exact at any size.
        var lua: String {
            """
            local ttl, auditMax, rejectedMax, rateMax, window = '\(self.dedupTTL)', '\(self.auditMax)', '\(self.rejectedMax)', \(self.rateMax), '\(self.window)'
            local e, p, historyMax, historyTTL = \(self.eventQueues), \(self.keysPerMessage), \(self.historyMax), '\(self.historyTTL)'
            local perChannel, conversations = \(self.perChannel), \(self.conversations)

            """
        }
    }

    /// The script's text for `constants`. `#!lua` (Redis 7 script flags, none set): Redis refuses the whole call up
    /// front when it cannot write (OOM under noeviction, read-only replica), so a call never stops half-way through a
    /// batch for that reason.
    static func source(_ constants: Constants) -> String { Self.header + constants.lua + Self.body }

    private static let header = """
        #!lua
        -- smshook ingest. KEYS: 1 audit, 2 replies, 3 rejected, 4 opt-out set, 5..4+E event queues, then P per
        -- message: dedup key, rate key, its channel's opt-out set (only when opt-out is scoped per channel: then it
        -- replaces KEYS[4]) and, with conversations, the number's conversation and history.
        -- ARGV: 1 rejected count R, 2 now (events' timestamp; '' without event queues), 3 some reply has {meta.}
        -- placeholders (1/0), then E type lists (' message.received optout.changed '), R rejected records, then per
        -- message: dedup value ('' = the audit record), audit record (JSON objects), reply job ('' when none is due),
        -- number ('' when none), intent and, only when E > 0, its event id. The two JSON objects open with
        -- {"decision":"<expected>", where expected is queued when a job is given, else no_reply; only when the
        -- decision differs is that head rewritten (a new string: worth avoiding for every message). Every argument
        -- costs Redis about 1,000 instructions however short (parsed, copied into Lua, collected) and about 16 per
        -- byte (Lua hashes all of it), so none is sent that a call does not need: the settings are the constants below.
        -- Returns per message: duplicate | queued | suppressed_optout | suppressed_rate | no_reply.

        """

    private static let body = """
        local r, now, placeholders = tonumber(ARGV[1]), ARGV[2], ARGV[3] == '1'
        local base, m = 3 + e, e > 0 and 6 or 5  -- m: arguments per message
        for i = 1, r do
          redis.call('XADD', KEYS[3], 'MAXLEN', '~', rejectedMax, '*', 'data', ARGV[base + i])
        end
        local publish, optOutChanged  -- with event queues only: a closure made per call costs even when unused
        if e > 0 then
          publish = function(kind, id, data)
            for q = 1, e do
              if string.find(ARGV[3 + q], ' ' .. kind .. ' ', 1, true) then
                redis.call('LPUSH', KEYS[4 + q], id .. ' 0 {"type":"' .. kind .. '","timestamp":"' .. now .. '","data":' .. data .. '}')
              end
            end
          end
          optOutChanged = function(id, number, optedOut)
            publish('optout.changed', id .. '.optout', cjson.encode({number = number, opted_out = optedOut, source = 'keyword', at = now}))
          end
        end
        local out, jobs, heldDecision, heldAudit = {}, {}, nil, nil
        for j = 0, (#KEYS - 4 - e) / p - 1 do
          local k = 5 + e + p * j
          local dedup, rate, optout, c = KEYS[k], KEYS[k + 1], KEYS[4], k + 2  -- c: the conversation's key
          if perChannel then optout, c = KEYS[k + 2], k + 3 end
          local a = base + r + 1 + m * j
          local value, audit, job, number, intent = ARGV[a], ARGV[a + 1], ARGV[a + 2], ARGV[a + 3], ARGV[a + 4]
          local eventID = e > 0 and ARGV[a + 5] or ''
          local expected = job ~= '' and 'queued' or 'no_reply'
          local first = value == '' and audit or value
          if not redis.call('SET', dedup, first, 'NX', 'EX', ttl) then
            out[#out + 1] = 'duplicate'
          else
            local conversation = conversations and number ~= '' and redis.call('GET', KEYS[c])
            if conversation then  -- the question this message answers, inside its reply window
              audit = string.sub(audit, 1, -2) .. ',"in_reply_to":' .. conversation .. '}'
            end
            if placeholders and job ~= '' and string.find(job, '{meta.', 1, true) then  -- placeholders from the conversation's metadata
              local ok, conv = pcall(cjson.decode, conversation or '{}')
              local meta = ok and type(conv) == 'table' and type(conv.metadata) == 'table' and conv.metadata or {}
              job = string.gsub(job, '{meta%.([%w_%-]+)}', function(name)
                local v = meta[name]
                if type(v) ~= 'string' and type(v) ~= 'number' then return '' end
                local text = cjson.encode(tostring(v))
                return string.sub(text, 2, -2)
              end)
            end
            local decision, changed = 'no_reply', nil
            if intent == 'opt_out' then
              if number ~= '' and redis.call('SADD', optout, number) == 0 then
                decision = 'suppressed_optout'
              else
                if number ~= '' then changed = true end
                if job ~= '' then decision = 'queued' end
              end
            else
              local optedOut = number ~= '' and redis.call('SISMEMBER', optout, number) == 1
              if optedOut and (intent == 'opt_in' or intent == 'affirmative') then
                redis.call('SREM', optout, number)
                changed = false
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
            local skip = 16 + #expected
            if decision ~= expected then  -- rewritten within the script: nobody sees the first value
              audit = '{"decision":"' .. decision .. '",' .. string.sub(audit, skip)
            end
            if value == '' then
              value = audit
            elseif decision ~= expected then
              value = '{"decision":"' .. decision .. '",' .. string.sub(value, skip)
            end
            if value ~= first then redis.call('SET', dedup, value, 'EX', ttl) end
            if heldAudit then  -- the previous message's entry; this one's waits for the next, or goes last with the cap
              redis.call('XADD', KEYS[1], '*', 'event', 'inbound', 'decision', heldDecision, 'data', heldAudit)
            end
            heldDecision, heldAudit = decision, audit
            if conversations and number ~= '' then
              local history = KEYS[c + 1]
              redis.call('LPUSH', history, '{"direction":"inbound",' .. string.sub(audit, 2))
              redis.call('LTRIM', history, 0, historyMax - 1)
              redis.call('EXPIRE', history, historyTTL)
            end
            if eventID ~= '' then
              publish('message.received', eventID, audit)
              if changed ~= nil then optOutChanged(eventID, number, changed) end
            end
            if decision == 'queued' then jobs[#jobs + 1] = job end
            out[#out + 1] = decision
          end
        end
        for i = 1, #jobs, 1000 do  -- one LPUSH for the jobs of the call (in order), in chunks for unpack
          redis.call('LPUSH', KEYS[2], unpack(jobs, i, math.min(i + 999, #jobs)))
        end
        if heldAudit then  -- the audit cap once per call, with its last entry: within the script nobody sees the excess
          redis.call('XADD', KEYS[1], 'MAXLEN', '~', auditMax, '*', 'event', 'inbound', 'decision', heldDecision,
            'data', heldAudit)
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
        /// Conversations and per-number history (the send/read API is on): 2 more keys per message, and the dedup
        /// key holds the whole record (the read API's answer for an inbound guid).
        public var conversations = false
        /// Opt-out scoped per channel: each message names its channel's opt-out set (`Entry.optOutChannel`), one key
        /// more per message; otherwise one set serves the whole call.
        public var optOutPerChannel = false
        /// Entries kept in each number's history, and for how long after its last message.
        public var historyMaxLength = 50
        public var historyTTLSeconds = 30 * 86400
        /// Endpoints taking events the ingest script publishes (`message.received`, `optout.changed`).
        public var eventEndpoints: [EventEndpoint] = []
        public init() {}

        var keysPerMessage: Int { 2 + (self.optOutPerChannel ? 1 : 0) + (self.conversations ? 2 : 0) }
        var argumentsPerMessage: Int { self.eventEndpoints.isEmpty ? 5 : 6 }
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
        /// The channel whose own opt-out set applies when opt-out is scoped per channel (`Settings.optOutPerChannel`);
        /// nil: the global set.
        public var optOutChannel: String?
        /// The `webhook-id` of its `message.received` event; nil when no endpoint takes events.
        public var eventID: String?

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
        public var expectedDecision: String {
            if case .none = self.job { return "no_reply" }  // not `== nil`: that copies the job (a retain per string)
            return "queued"
        }

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
            w.field("language", ifPresent: self.classification.language)
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
    public static func counts(entries: Int, rejected: Int, settings: Settings) -> (keys: Int, arguments: Int) {
        let e = settings.eventEndpoints.count
        return (4 + e + settings.keysPerMessage * entries, 3 + e + rejected + settings.argumentsPerMessage * entries)
    }

    /// KEYS and ARGV for one call, as UTF-8 bytes.
    public static func arguments(
        entries: [Entry], rejected: [String], keys: RedisKeys, settings: Settings
    ) -> (keys: [[UInt8]], arguments: [[UInt8]]) {
        var all: [[UInt8]] = []
        self.write(entries: entries, rejected: rejected, keys: keys, settings: settings) { all.append(Array($0)) }
        let keyCount = self.counts(entries: entries.count, rejected: rejected.count, settings: settings).keys
        return (Array(all[..<keyCount]), Array(all[keyCount...]))
    }

    /// Hands KEYS then ARGV of one call to `argument`, one at a time and in order, from buffers reused between
    /// arguments: the caller writes them straight into the command, with no array per argument.
    public static func write<Entries: RandomAccessCollection<Entry>>(
        entries: Entries, rejected: [String], keys: RedisKeys, settings: Settings,
        argument: (UnsafeRawBufferPointer) -> Void
    ) {
        // Entries are read in place through a buffer: a collection's subscript hands out a copy of the entry (a
        // retain and a release of each of its ~20 strings) for every method called on it.
        let done: Void? = entries.withContiguousStorageIfAvailable {
            self.write(entries: $0, rejected: rejected, keys: keys, settings: settings, argument: argument)
        }
        if done == nil {
            Array(entries).withUnsafeBufferPointer {
                self.write(entries: $0, rejected: rejected, keys: keys, settings: settings, argument: argument)
            }
        }
    }

    private static func write(
        entries: UnsafeBufferPointer<Entry>, rejected: [String], keys: RedisKeys, settings: Settings,
        argument: (UnsafeRawBufferPointer) -> Void
    ) {
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
        emit(keys.optOut(channel: nil))
        for endpoint in settings.eventEndpoints { emit(keys.events(endpoint.name)) }
        var placeholders = false
        for i in entries.indices {
            keys.writeDedup(entries[i].message.guid, into: &scratch)
            scratch.withUnsafeBytes(argument)
            keys.writeRate(entries[i].subscriber ?? "-", into: &scratch)
            scratch.withUnsafeBytes(argument)
            if settings.optOutPerChannel { emit(keys.optOut(channel: entries[i].optOutChannel)) }
            if !placeholders, let body = entries[i].job?.body, body.containsASCII(UInt8(ascii: "{")) {
                placeholders = body.contains("{meta.")
            }
            if settings.conversations {
                emit(keys.conversation(entries[i].subscriber ?? "-"))
                emit(keys.history(entries[i].subscriber ?? "-"))
            }
        }
        emit(rejected.count)  // the settings are in the script's text (`script(for:)`)
        emit(settings.eventEndpoints.isEmpty || entries.isEmpty ? "" : entries[0].receivedAt)
        emit(placeholders ? 1 : 0)
        for endpoint in settings.eventEndpoints { emit(endpoint.typeList) }
        for record in rejected { emit(record) }
        for i in entries.indices {
            if settings.conversations {
                emit("")  // the dedup key holds the audit record
            } else {
                w.reset()
                entries[i].writeDedupValue(to: &w)
                emitJSON()
            }
            w.reset()
            entries[i].writeAuditRecord(to: &w)
            emitJSON()
            w.reset()
            entries[i].job?.write(to: &w)
            emitJSON()
            emit(entries[i].subscriber ?? "")
            emit(entries[i].classification.intent.rawValue)
            if !settings.eventEndpoints.isEmpty { emit(entries[i].eventID ?? "") }
        }
    }
}
