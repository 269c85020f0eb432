import Metrics
import SMSCore

/// One way out: a provider account with its sender, its own send rate and its metric handles.
public struct ChannelSender: Sendable {
    public let name: String
    public let sender: any ReplySender
    /// Sends per second through this channel, shared by all workers (GCRA in Redis); 0: no limit.
    public let ratePerSecond: Double
    public let burst: Int
    let sendDuration: Timer
    let counters: [String: Counter]

    public init(name: String, sender: any ReplySender, ratePerSecond: Double = 0, burst: Int = 1) {
        self.name = name
        self.sender = sender
        self.ratePerSecond = ratePerSecond
        self.burst = max(1, burst)
        let labels = [("provider", sender.name), ("channel", name)]
        self.sendDuration = Timer(label: "smshook_send_duration_seconds", dimensions: labels)
        var counters: [String: Counter] = [:]
        for outcome in ["sent", "retry", "dead", "skipped_optout", "skipped_sent"] {
            counters[outcome] = Counter(label: "smshook_jobs_total", dimensions: labels + [("outcome", outcome)])
        }
        self.counters = counters
    }

    func count(_ outcome: String) {
        (self.counters[outcome] ?? Counter(
            label: "smshook_jobs_total", dimensions: [("provider", self.sender.name), ("channel", self.name), ("outcome", outcome)]))
            .increment()
    }
}

/// The channels a worker sends through: the default one (the single-provider environment variables) and those
/// declared in the config file. A job leaves through the channel its message arrived on, never silently another.
public struct WorkerChannels: Sendable {
    public let fallback: ChannelSender
    public let named: [String: ChannelSender]

    public init(default fallback: ChannelSender, named: [ChannelSender] = []) {
        self.fallback = fallback
        self.named = Dictionary(named.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
    }

    public var all: [ChannelSender] { [self.fallback] + self.named.values.sorted { $0.name < $1.name } }

    /// The channel for `job`, or why there is none (the job then goes to the dead list with that reason).
    /// A job without channel (queued before channels existed) uses the default; a job whose message matched a
    /// configured channel uses it; otherwise the default takes it only when it speaks the message's provider
    /// (console and http take any).
    public func route(_ job: ReplyJob) -> Result<ChannelSender, RouteError> {
        guard let inbound = job.channel else { return .success(self.fallback) }
        if let name = inbound.name {
            guard let channel = self.named[name] else {
                return .failure(RouteError(message: "channel '\(name)' is not configured in this worker (config file channels)"))
            }
            return .success(channel)
        }
        let kind = self.fallback.sender.name
        if kind == "console" || kind == "http" || kind == inbound.provider {
            return .success(self.fallback)
        }
        return .failure(RouteError(
            message: "no channel is configured for \(inbound.summary); the default sends through \(kind) (declare the channel in the config file)"))
    }

    public struct RouteError: Error, Sendable, Hashable {
        public let message: String
    }
}
