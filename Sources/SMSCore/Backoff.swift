/// Retry delays: capped exponential backoff with full jitter; a provider's Retry-After wins when larger. Pure.
public struct Backoff: Sendable, Hashable {
    public var baseSeconds: Double = 5
    public var capSeconds: Double = 3600
    public var maxAttempts: Int = 10

    public init(baseSeconds: Double = 5, capSeconds: Double = 3600, maxAttempts: Int = 10) {
        self.baseSeconds = baseSeconds
        self.capSeconds = capSeconds
        self.maxAttempts = maxAttempts
    }

    /// The delay before attempt `attempt + 1`, after `attempt` failures (1-based), with `random` in 0..<1.
    /// Half fixed, half jittered: between 50% and 100% of min(cap, base * 2^(attempt-1)).
    public func delay(afterAttempt attempt: Int, retryAfter: Double? = nil, random: Double) -> Double {
        let exponent = Double(attempt <= 1 ? 0 : min(attempt - 1, 40))
        let ceiling = min(self.capSeconds, self.baseSeconds * pow2(exponent))
        let jittered = ceiling * (0.5 + 0.5 * min(max(random, 0), 1))
        // Finite and bounded whatever comes in: a provider's answer or a configuration value.
        let wait = max(jittered, retryAfter.flatMap { $0.isFinite ? $0 : nil } ?? 0)
        return wait.isFinite ? min(max(wait, 0), Self.maxDelaySeconds) : 60
    }

    /// The longest delay ever returned (7 days), so that a due time in milliseconds cannot overflow.
    public static let maxDelaySeconds: Double = 7 * 86_400

    /// True when `attempt` failures are all the attempts allowed.
    public func isExhausted(afterAttempt attempt: Int) -> Bool { attempt >= self.maxAttempts }

    private func pow2(_ e: Double) -> Double {
        var v = 1.0
        for _ in 0..<Int(e) { v *= 2 }
        return v
    }
}

/// What came of one send attempt.
public enum SendResult: Sendable, Hashable {
    case sent(providerID: String?)
    /// Worth trying again later (network, timeout, 5xx, 429); `retryAfter` in seconds when the provider said.
    case retryable(reason: String, retryAfter: Double?)
    /// Will never succeed (invalid number, unsubscribed recipient, bad credentials). `optOut`: the provider says
    /// the recipient unsubscribed, so the number joins the opt-out set.
    case permanent(reason: String, optOut: Bool)
}
