/// Every Redis key smshook uses, in one place. See docs/ARCHITECTURE.md for the data model.
///
/// The keys of one subscriber live in one shard, so that one script call can touch all of them. With one shard
/// (standalone Redis, Sentinel) the names are plain: `smshook:dedup:<guid>`, `smshook:replies`. With several (a Redis
/// Cluster) each shard's keys carry the hash tag `{s}` and so share one slot: `smshook:{7}:dedup:<guid>`,
/// `smshook:{7}:replies`. Keys shared by all shards (worker registry, send rate limits) carry `{global}`.
public struct KeySpace: Sendable, Hashable {
    public let prefix: String
    /// One shard's keys per shard, by index.
    public let shards: [RedisKeys]
    /// Prefix of the keys shared by all shards.
    private let global: String

    /// Most shards a deployment may use: every fetch loop of every worker polls its share of them.
    public static let maxShards = 1024

    /// - Parameter shards: 1 for plain names; more (clamped to 1...`maxShards`) for hash-tagged shards.
    public init(prefix: String = "smshook", shards: Int = 1) {
        self.prefix = prefix
        let count = min(max(shards, 1), Self.maxShards)
        self.shards = count == 1 ? [RedisKeys(prefix: prefix)] : (0..<count).map { RedisKeys(prefix: prefix, shard: $0) }
        self.global = count == 1 ? prefix : prefix + ":{global}"
    }

    public var isSharded: Bool { self.shards.count > 1 }

    /// Each shard's share of a cap meant for the whole key space (`SMSHOOK_AUDIT_MAXLEN` is the audit's total length,
    /// whatever the shards), rounded up.
    public func perShard(_ total: Int) -> Int { max(1, total / self.shards.count + (total % self.shards.count == 0 ? 0 : 1)) }

    /// The shard of a message: by its subscriber (normalised number), or by its guid when it has none. A provider's
    /// retry carries both again, so it reaches the same shard and is caught there.
    public func shard(subscriber: String?, guid: String) -> RedisKeys {
        self.shards[self.shardIndex(subscriber: subscriber, guid: guid)]
    }

    public func shardIndex(subscriber: String?, guid: String) -> Int {
        guard self.shards.count > 1 else { return 0 }
        return Int(Self.fnv1a(subscriber ?? guid) % UInt64(self.shards.count))
    }

    /// 64-bit FNV-1a of the UTF-8 text: stable across processes, hosts and versions (unlike `Hasher`).
    static func fnv1a(_ text: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return hash
    }

    /// Set of live worker ids (their processing lists are checked by the reaper).
    public var workers: String { self.global + ":workers" }
    public func heartbeat(_ worker: String) -> String { self.global + ":worker:" + worker }
    /// Lock held by the one worker that reaps at a time.
    public var reaperLock: String { self.global + ":reaper" }
    /// Shared send rate limit per channel (GCRA theoretical arrival time).
    public func sendRate(_ channel: String) -> String { self.global + ":ratelimit:" + channel }
    /// One minute's counts of every instance (`MinuteStats`): hash field → count.
    public func stats(minute: Int64) -> String { self.global + ":stats:" + String(minute) }
    /// Each serve instance's reply-rules hash and when it last said so (hash: instance → JSON).
    public var instances: String { self.global + ":instances" }
    /// A console session by the SHA-256 of its cookie (JSON: user, CSRF token, created), with its TTL.
    public func consoleSession(_ hash: String) -> String { self.global + ":console:session:" + hash }
    /// Set while an event endpoint answered 410 Gone: nothing is delivered to it until `smshook events retry`.
    public func eventsDisabled(_ endpoint: String) -> String { self.global + ":endpoint-disabled:" + endpoint }
    /// The shard count this key space was first used with; serve and workers refuse to start with another. Named
    /// alike whatever the count (no hash tag), so that every count finds it.
    public var layout: String { self.prefix + ":shards" }
}

/// The keys of one shard.
public struct RedisKeys: Sendable, Hashable {
    /// `smshook`, or `smshook:{7}` for shard 7 of several.
    public let base: String
    public let index: Int
    /// List of reply jobs (LPUSH by serve, BLMOVE/LMOVE by workers).
    public let replies: String
    /// Stream: every message, its classification and reply decision; every send outcome.
    public let audit: String
    /// Stream: raw items refused by validation, kept so nothing is lost.
    public let rejected: String
    public let optOut: String

    /// The one shard of a key space without shards: plain names.
    public init(prefix: String = "smshook") { self.init(base: prefix, index: 0) }

    /// Shard `shard` of several: names with the hash tag `{shard}`.
    public init(prefix: String, shard: Int) { self.init(base: "\(prefix):{\(shard)}", index: shard) }

    private init(base: String, index: Int) {
        self.base = base
        self.index = index
        self.replies = base + ":replies"
        self.audit = base + ":audit"
        self.rejected = base + ":rejected"
        self.optOut = base + ":optout"
    }

    /// `SET NX EX`: first sighting of a message id.
    public func dedup(_ guid: String) -> String { self.base + Self.dedupPart + guid }
    /// `dedup(guid)` as UTF-8 into `out` (emptied first), with no String in between: once per message of an ingest.
    func writeDedup(_ guid: String, into out: inout [UInt8]) { self.write(Self.dedupPart, guid, into: &out) }
    /// Jobs held by one worker.
    public func processing(_ worker: String) -> String { self.base + ":replies:processing:" + worker }
    public var retry: String { self.base + ":replies:retry" }
    public var dead: String { self.base + ":replies:dead" }
    /// Set by a worker after a successful send (TTL), so a recovered job is not sent twice.
    public func sent(_ jobID: String) -> String { self.base + ":sent:" + jobID }
    /// Loop guard: replies to one number in the current window.
    public func rate(_ number: String) -> String { self.base + Self.ratePart + number }
    func writeRate(_ number: String, into out: inout [UInt8]) { self.write(Self.ratePart, number, into: &out) }

    private static let dedupPart = ":dedup:"
    private static let ratePart = ":rate:"

    private func write(_ part: String, _ id: String, into out: inout [UInt8]) {
        out.removeAll(keepingCapacity: true)
        out.append(contentsOf: self.base.utf8)
        out.append(contentsOf: part.utf8)
        out.append(contentsOf: id.utf8)
    }
    /// The number's open conversation (JSON: the sent message it answers), for its reply window.
    public func conversation(_ number: String) -> String { self.base + ":conv:" + number }
    /// The number's last messages both ways (JSON, newest first, capped).
    public func history(_ number: String) -> String { self.base + ":history:" + number }
    /// A message sent through the API (hash: to, body, metadata, status, ...).
    public func message(_ id: String) -> String { self.base + ":message:" + id }
    /// The first answer to an API call with this `Idempotency-Key` (its SHA-256), for its TTL.
    public func idempotency(_ keyHash: String) -> String { self.base + ":idem:" + keyHash }
    /// Events waiting for one endpoint (`QueuedEvent` entries), its workers' lists, retries and dead events.
    public func events(_ endpoint: String) -> String { self.base + ":events:" + endpoint }
    public func eventsProcessing(_ endpoint: String, _ worker: String) -> String { self.events(endpoint) + ":processing:" + worker }
    public func eventsRetry(_ endpoint: String) -> String { self.events(endpoint) + ":retry" }
    public func eventsDead(_ endpoint: String) -> String { self.events(endpoint) + ":dead" }
    /// The opt-out set: the global one, or a channel's own when opt-out is scoped per channel.
    public func optOut(channel: String?) -> String {
        guard let channel else { return self.optOut }
        return self.optOut + ":" + channel
    }
}
