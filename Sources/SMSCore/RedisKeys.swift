/// Every Redis key smshook uses, in one place. See docs/ARCHITECTURE.md for the data model.
public struct RedisKeys: Sendable, Hashable {
    public let prefix: String

    public init(prefix: String = "smshook") { self.prefix = prefix }

    /// `SET NX EX`: first sighting of a message id.
    public func dedup(_ guid: String) -> String { "\(self.prefix):dedup:\(guid)" }
    /// List of reply jobs (LPUSH by serve, BLMOVE by workers).
    public var replies: String { "\(self.prefix):replies" }
    /// Jobs held by one worker.
    public func processing(_ worker: String) -> String { "\(self.prefix):replies:processing:\(worker)" }
    public func heartbeat(_ worker: String) -> String { "\(self.prefix):worker:\(worker)" }
    public var retry: String { "\(self.prefix):replies:retry" }
    public var dead: String { "\(self.prefix):replies:dead" }
    /// Stream: every message, its classification and reply decision; every send outcome.
    public var audit: String { "\(self.prefix):audit" }
    /// Stream: raw items refused by validation, kept so nothing is lost.
    public var rejected: String { "\(self.prefix):rejected" }
    public var optOut: String { "\(self.prefix):optout" }
    /// Set by a worker after a successful send (TTL), so a recovered job is not sent twice.
    public func sent(_ jobID: String) -> String { "\(self.prefix):sent:\(jobID)" }
    /// Set of live worker ids (their processing lists are checked by the reaper).
    public var workers: String { "\(self.prefix):workers" }
    /// Lock held by the one worker that reaps at a time.
    public var reaperLock: String { "\(self.prefix):reaper" }
    /// Shared send rate limit per provider (GCRA theoretical arrival time).
    public func sendRate(_ provider: String) -> String { "\(self.prefix):ratelimit:\(provider)" }
    public func rate(_ number: String) -> String { "\(self.prefix):rate:\(number)" }
}
