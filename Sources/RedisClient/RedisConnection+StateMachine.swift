/// The life of one Redis connection as a value: events in, actions out. No I/O here; `RedisConnection` performs the
/// actions. `Channel` is generic so the table can be tested with plain values.
///
///     idle ──request──▶ connecting ──connected──▶ ready ──closed──▶ idle
///                          │ failed                                  
///                          ▼                                         
///                      backingOff ──request after the wait──▶ connecting
///     any ──close──▶ closed
///
/// Requests made while connecting wait for the outcome; requests made while backing off fail at once with the last
/// error (so callers see Redis is down in microseconds, not after a connect timeout each).
struct RedisConnectionStateMachine<Channel: Equatable, Request> {
    enum State {
        case idle
        case connecting(waiting: [Request])
        case ready(Channel)
        case backingOff(until: ContinuousClock.Instant, error: RedisError)
        case closed
    }

    enum RequestAction {
        /// Write it on this channel.
        case write(Channel)
        /// Start connecting; the request waits for the outcome.
        case connect
        /// A connect is under way; the request waits for it.
        case wait
        case fail(RedisError)
    }

    enum ConnectedAction {
        /// Write the waiting requests on the new channel.
        case write(Channel, [Request])
        /// The connection was closed meanwhile: close the new channel; nobody is waiting.
        case closeChannel(Channel)
    }

    enum CloseAction {
        /// Close this channel (its handler fails what it has in flight) and fail the waiting requests.
        case close(Channel?, failing: [Request])
        case none
    }

    private(set) var state: State = .idle
    private let initialBackoff: Duration
    private let maxBackoff: Duration
    private(set) var backoff: Duration
    /// Connects failed in a row: the first failure and the recovery after failures are what is worth logging.
    private(set) var consecutiveFailures = 0

    init(initialBackoff: Duration, maxBackoff: Duration) {
        self.initialBackoff = initialBackoff
        self.maxBackoff = maxBackoff
        self.backoff = initialBackoff
    }

    mutating func request(_ request: Request, now: ContinuousClock.Instant) -> RequestAction {
        switch self.state {
        case .ready(let channel):
            return .write(channel)
        case .connecting(var waiting):
            waiting.append(request)
            self.state = .connecting(waiting: waiting)
            return .wait
        case .idle:
            self.state = .connecting(waiting: [request])
            return .connect
        case .backingOff(let until, let error):
            if now < until { return .fail(error) }
            self.state = .connecting(waiting: [request])
            return .connect
        case .closed:
            return .fail(RedisError(.closed, "the Redis client is closed"))
        }
    }

    mutating func connected(_ channel: Channel) -> ConnectedAction {
        switch self.state {
        case .connecting(let waiting):
            self.state = .ready(channel)
            self.backoff = self.initialBackoff
            self.consecutiveFailures = 0
            return .write(channel, waiting)
        case .closed, .idle, .ready, .backingOff:
            // only `connecting` starts a connect; anything else means close() came first
            return .closeChannel(channel)
        }
    }

    /// The connect failed: the waiting requests fail with `error`; new ones fail at once until the backoff ends.
    mutating func connectFailed(_ error: RedisError, now: ContinuousClock.Instant) -> [Request] {
        guard case .connecting(let waiting) = self.state else { return [] }
        self.state = .backingOff(until: now + self.backoff, error: error)
        self.backoff = min(self.backoff * 2, self.maxBackoff)
        self.consecutiveFailures += 1
        return waiting
    }

    /// The channel closed (server gone, reset, timeout): the next request reconnects at once.
    mutating func channelClosed(_ channel: Channel) {
        if case .ready(let current) = self.state, current == channel { self.state = .idle }
    }

    mutating func close() -> CloseAction {
        switch self.state {
        case .ready(let channel):
            self.state = .closed
            return .close(channel, failing: [])
        case .connecting(let waiting):
            self.state = .closed
            return .close(nil, failing: waiting)
        case .idle, .backingOff:
            self.state = .closed
            return .close(nil, failing: [])
        case .closed:
            return .none
        }
    }
}
