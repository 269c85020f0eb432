/// One inbound SMS, normalised from whatever provider format it came in.
public struct InboundMessage: Sendable, Hashable {
    /// The idempotency key: the provider's id, or a derived one (see `IdempotencyKey`).
    public var guid: String
    /// True when `guid` was derived from the content because the provider sent none.
    public var guidDerived: Bool
    /// The sender, trimmed; `nil` when the provider sent none (no reply is possible then).
    public var number: String?
    public var message: String
    /// Provider timestamps, kept as given.
    public var date: String?
    public var hour: String?
    public var timeReceived: String?
    /// Which format it came in, e.g. `smsmobileapi`.
    public var provider: String
    /// Where it arrived (our number, device, account); nil when the provider says nothing about it.
    public var channel: Channel?

    public init(
        guid: String, guidDerived: Bool = false, number: String?, message: String,
        date: String? = nil, hour: String? = nil, timeReceived: String? = nil, provider: String, channel: Channel? = nil
    ) {
        self.channel = channel
        self.guid = guid
        self.guidDerived = guidDerived
        self.number = number
        self.message = message
        self.date = date
        self.hour = hour
        self.timeReceived = timeReceived
        self.provider = provider
    }
}

/// Bounds on what a webhook call may carry. Defaults are documented in README.md.
public struct IngestLimits: Sendable, Hashable {
    public var maxBodyBytes = 1 << 20
    public var maxBatch = 1000
    public var maxMessageLength = 1600
    public var maxGUIDLength = 256
    public var minNumberLength = 2
    public var maxNumberLength = 32

    public init() {}
}
