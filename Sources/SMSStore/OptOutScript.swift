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
