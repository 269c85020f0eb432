import RedisClient
import SMSCore

/// The send API's one atomic step: idempotency, opt-out check, the job on the recipient's shard queue, the
/// conversation opened (replacing the previous one) for the reply window, the message record, its history entry
/// and audit.
public enum SendScript {
    /// KEYS: 1 opt-out set, 2 replies queue, 3 conversation, 4 history, 5 message record, 6 idempotency key, 7 audit.
    /// ARGV: 1 number, 2 job, 3 conversation JSON, 4 reply window (s), 5 history entry, 6 history length, 7 history
    /// and record ttl (s), 8 fingerprint ('' without idempotency key), 9 idempotency ttl, 10 answer (JSON), 11 audit
    /// maxlen, 12... message record field/value pairs. The history entry is the audit record too.
    /// Returns {'queued', answer} | {'replayed', first answer} | {'conflict'} | {'opted_out'}.
    public static let script = RedisScript("""
        #!lua
        if ARGV[8] ~= '' then
          local prior = redis.call('GET', KEYS[6])
          if prior then
            local space = string.find(prior, ' ', 1, true) or #prior
            if string.sub(prior, 1, space - 1) ~= ARGV[8] then return {'conflict'} end
            return {'replayed', string.sub(prior, space + 1)}
          end
        end
        if redis.call('SISMEMBER', KEYS[1], ARGV[1]) == 1 then return {'opted_out'} end
        redis.call('LPUSH', KEYS[2], ARGV[2])
        redis.call('SET', KEYS[3], ARGV[3], 'EX', ARGV[4])
        redis.call('LPUSH', KEYS[4], ARGV[5])
        redis.call('LTRIM', KEYS[4], 0, tonumber(ARGV[6]) - 1)
        redis.call('EXPIRE', KEYS[4], ARGV[7])
        redis.call('HSET', KEYS[5], unpack(ARGV, 12))
        redis.call('EXPIRE', KEYS[5], ARGV[7])
        redis.call('XADD', KEYS[7], 'MAXLEN', '~', ARGV[11], '*', 'event', 'api_send', 'decision', 'queued', 'data', ARGV[5])
        if ARGV[8] ~= '' then redis.call('SET', KEYS[6], ARGV[8] .. ' ' .. ARGV[10], 'EX', ARGV[9]) end
        return {'queued', ARGV[10]}
        """)

    public enum Outcome: Sendable, Hashable {
        /// Queued now; the answer to give.
        case queued(String)
        /// The same idempotency key and request came before: its first answer.
        case replayed(String)
        /// The idempotency key came before with another request.
        case conflict
        case optedOut

        public init(reply: RedisReply) throws {
            let parts = try reply.orThrow().array ?? []
            switch (parts.first?.string, parts.count > 1 ? parts[1].string : nil) {
            case ("queued", let answer?): self = .queued(answer)
            case ("replayed", let answer?): self = .replayed(answer)
            case ("conflict", _): self = .conflict
            case ("opted_out", _): self = .optedOut
            default: throw RedisError(.unexpectedReply, "send script answered \(reply)")
            }
        }
    }

    /// Retention of what the API keeps.
    public struct Settings: Sendable, Hashable {
        public var historyMaxLength = 50
        /// Message records and histories live this long after their last write.
        public var recordTTLSeconds = 30 * 86400
        public var idempotencyTTLSeconds = 86400
        public var auditMaxLength = 1_000_000
        public init() {}
    }

    /// The message as the read API and the history show it.
    public static func record(id: String, request: SendRequest, status: String, createdAt: String) -> [(String, String)] {
        var fields = [
            ("id", id), ("direction", "outbound"), ("to", request.to), ("body", request.body), ("metadata", request.metadata),
            ("status", status), ("created_at", createdAt), ("reply_window_seconds", String(request.replyWindowSeconds)),
        ]
        if let channel = request.channel { fields.append(("channel", channel)) }
        return fields
    }

    /// KEYS and ARGV of one send.
    public static func call(
        id: String, request: SendRequest, job: ReplyJob, keys shard: RedisKeys, optOutKey: String,
        idempotencyHash: String?, answer: String, createdAt: String, settings: Settings
    ) -> (keys: [RedisArgument], arguments: [RedisArgument]) {
        var conversation = JSONWriter()
        conversation.beginObject()
        conversation.field("id", id)
        conversation.field("body", request.body)
        conversation.key("metadata")
        conversation.rawJSON(request.metadata)
        conversation.field("sent_at", createdAt)
        conversation.endObject()
        let fields = self.record(id: id, request: request, status: "queued", createdAt: createdAt)
        var entry = JSONWriter()
        entry.beginObject()
        for (name, value) in fields {
            entry.key(name)
            if name == "metadata" { entry.rawJSON(value) } else if name == "reply_window_seconds" { entry.rawJSON(value) } else { entry.string(value) }
        }
        entry.endObject()
        let keys = [
            optOutKey, shard.replies, shard.conversation(request.to), shard.history(request.to), shard.message(id),
            shard.idempotency(idempotencyHash ?? "-"), shard.audit,
        ].map { RedisArgument($0) }
        var arguments = [
            RedisArgument(request.to), RedisArgument(bytes: job.jsonBytes), RedisArgument(bytes: conversation.bytes),
            RedisArgument(request.replyWindowSeconds), RedisArgument(bytes: entry.bytes), RedisArgument(settings.historyMaxLength),
            RedisArgument(settings.recordTTLSeconds), RedisArgument(idempotencyHash == nil ? "" : request.fingerprint),
            RedisArgument(settings.idempotencyTTLSeconds), RedisArgument(answer), RedisArgument(settings.auditMaxLength),
        ]
        for (name, value) in fields { arguments += [RedisArgument(name), RedisArgument(value)] }
        return (keys, arguments)
    }
}
