/// Every Redis key smshook uses, in one place. See docs/ARCHITECTURE.md for the data model.
public struct RedisKeys: Sendable, Hashable {
    public let prefix: String
    /// List of reply jobs (LPUSH by serve, BLMOVE by workers).
    public let replies: String
    /// Stream: every message, its classification and reply decision; every send outcome.
    public let audit: String
    /// Stream: raw items refused by validation, kept so nothing is lost.
    public let rejected: String
    public let optOut: String

    public init(prefix: String = "smshook") {
        self.prefix = prefix
        self.replies = prefix + ":replies"
        self.audit = prefix + ":audit"
        self.rejected = prefix + ":rejected"
        self.optOut = prefix + ":optout"
    }

    /// `SET NX EX`: first sighting of a message id.
    public func dedup(_ guid: String) -> String { self.prefix + ":dedup:" + guid }
    /// Jobs held by one worker.
    public func processing(_ worker: String) -> String { "\(self.prefix):replies:processing:\(worker)" }
    public func heartbeat(_ worker: String) -> String { "\(self.prefix):worker:\(worker)" }
    public var retry: String { "\(self.prefix):replies:retry" }
    public var dead: String { "\(self.prefix):replies:dead" }
    /// Set by a worker after a successful send (TTL), so a recovered job is not sent twice.
    public func sent(_ jobID: String) -> String { "\(self.prefix):sent:\(jobID)" }
    /// Set of live worker ids (their processing lists are checked by the reaper).
    public var workers: String { "\(self.prefix):workers" }
    /// Lock held by the one worker that reaps at a time.
    public var reaperLock: String { "\(self.prefix):reaper" }
    /// Shared send rate limit per provider (GCRA theoretical arrival time).
    public func sendRate(_ provider: String) -> String { "\(self.prefix):ratelimit:\(provider)" }
    public func rate(_ number: String) -> String { self.prefix + ":rate:" + number }
    /// The opt-out set: the global one, or a channel's own when opt-out is scoped per channel.
    public func optOut(channel: String?) -> String {
        guard let channel else { return self.optOut }
        return self.optOut + ":" + channel
    }
}
