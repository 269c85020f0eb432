import RedisClient
import SMSCore

/// An operator's opt-out change (`smshook optout add|remove`): the set, the audit entry and, when the set changed and
/// an endpoint takes it, the `optout.changed` event, in one call.
public enum OptOutScript {
    /// KEYS: opt-out set, audit, then the event queues. ARGV: add | remove, subscriber, audit maxlen, audit record,
    /// event entry. Returns 1 when the set changed.
    public static let script = RedisScript("""
        #!lua
        local changed = redis.call(ARGV[1] == 'add' and 'SADD' or 'SREM', KEYS[1], ARGV[2])
        redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[3], '*', 'event', 'optout_change', 'decision', ARGV[1], 'data', ARGV[4])
        if changed == 1 then
          for q = 3, #KEYS do redis.call('LPUSH', KEYS[q], ARGV[5]) end
        end
        return changed
        """)

    /// Adds (`add`) or removes `subscriber` in the set (`channel`'s own, or the global one) of its shard with the audit
    /// `record`, and queues `optout.changed` (source `operator`) for `endpoints` when the set changed. Returns whether
    /// it changed.
    public static func change(
        redis: RedisClient, keys: KeySpace, subscriber: String, channel: String?, add: Bool, record: String,
        endpoints: [EventEndpoint], auditMaxLength: Int, at: String, eventID: String
    ) async throws -> Bool {
        let shard = keys.shard(subscriber: subscriber, guid: subscriber)
        let event = Self.event(id: eventID, subscriber: subscriber, optedOut: add, source: "operator", channel: channel, at: at)
        let reply = try await redis.evaluate(
            Self.script,
            keys: ([shard.optOut(channel: channel), shard.audit] + endpoints.map { shard.events($0.name) }).map { RedisArgument($0) },
            arguments: [
                RedisArgument(add ? "add" : "remove"), RedisArgument(subscriber), RedisArgument(keys.perShard(auditMaxLength)),
                RedisArgument(record), RedisArgument(bytes: endpoints.isEmpty ? [] : event.entry),
            ])
        return try reply.orThrow().int == 1
    }

    /// The `optout.changed` event entry: number, opted_out, source (`keyword` from the ingest script, `operator`,
    /// `provider`: the provider said the number refuses messages), channel, at.
    public static func event(id: String, subscriber: String, optedOut: Bool, source: String, channel: String?, at: String) -> QueuedEvent {
        QueuedEvent(id: id, body: QueuedEvent.body(type: .optOutChanged, timestamp: at) { w in
            w.beginObject()
            w.field("number", subscriber)
            w.field("opted_out", optedOut)
            w.field("source", source)
            w.field("channel", ifPresent: channel)
            w.field("at", at)
            w.endObject()
        })
    }
}
