/// A channel declared in the config file: a provider account and the numbers or devices it owns, its credentials
/// (named environment variables, never the secrets themselves) and its own send rate.
///
/// ```yaml
/// channels:
///   - name: twilio-b
///     provider: twilio
///     numbers: ["+15550100002"]
///     credentials: {account_sid: TWILIO_B_ACCOUNT_SID, auth_token: TWILIO_B_AUTH_TOKEN}
///     rate_per_second: 1
/// ```
public struct ChannelConfig: Sendable, Hashable, Decodable {
    public var name: String
    /// `twilio`, `smsmobileapi` or `http`: the API replies are sent through.
    public var provider: String
    /// Our numbers on this account (Twilio `To`); a reply leaves from the one the message came in on.
    public let numbers: [String]
    /// `numbers` as subscriber keys, made once: each inbound message is compared with them.
    let numberKeys: Set<String>
    /// Devices (SMSMobileAPI `device_id` / `sIdentifiant`, android-sms-gateway `deviceId`).
    public var devices: [String] = []
    /// Twilio Messaging Service the messages come through (and replies leave through).
    public var messagingServiceSID: String?
    /// Setting name → environment variable holding it: `account_sid`, `auth_token`, `api_key`, `url`, `secret`.
    public var credentials: [String: String] = [:]
    /// Provider API base URL; the provider's own when absent.
    public var baseURL: String?
    /// Sends per second through this channel, shared by all workers; nil or 0: no limit.
    public var ratePerSecond: Double?

    enum CodingKeys: String, CodingKey {
        case name, provider, numbers, devices, credentials
        case messagingServiceSID = "messaging_service_sid"
        case baseURL = "base_url"
        case ratePerSecond = "rate_per_second"
    }

    public init(name: String, provider: String, numbers: [String] = [], devices: [String] = [], credentials: [String: String] = [:]) {
        self.name = name
        self.provider = provider
        self.numbers = numbers
        self.numberKeys = Set(numbers.map { PhoneNumber.subscriber($0) })
        self.devices = devices
        self.credentials = credentials
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.name = try c.decode(String.self, forKey: .name)
        self.provider = try c.decode(String.self, forKey: .provider)
        self.numbers = try c.decodeIfPresent([String].self, forKey: .numbers) ?? []
        self.numberKeys = Set(self.numbers.map { PhoneNumber.subscriber($0) })
        self.devices = try c.decodeIfPresent([String].self, forKey: .devices) ?? []
        self.messagingServiceSID = try c.decodeIfPresent(String.self, forKey: .messagingServiceSID)
        self.credentials = try c.decodeIfPresent([String: String].self, forKey: .credentials) ?? [:]
        self.baseURL = try c.decodeIfPresent(String.self, forKey: .baseURL)
        self.ratePerSecond = try c.decodeIfPresent(Double.self, forKey: .ratePerSecond)
    }

    /// True when a message that arrived through `inbound` belongs to this channel: named so by its route, or from
    /// the same provider (any, for an `http` bridge) to one of its numbers, devices or its Messaging Service.
    public func receives(_ inbound: Channel) -> Bool {
        if let name = inbound.name { return name == self.name }
        guard inbound.provider == self.provider || self.provider == "http" else { return false }
        if let number = inbound.number, self.numberKeys.contains(PhoneNumber.subscriber(number)) {
            return true
        }
        if let device = inbound.device, self.devices.contains(device) { return true }
        if let service = inbound.service, service == self.messagingServiceSID { return true }
        return false
    }

    /// Checks a list of channels: names unique and plain, known providers, rates finite.
    public static func validate(_ channels: [ChannelConfig]) throws(ReplyConfigError) {
        var seen: Set<String> = []
        for channel in channels {
            guard Channel.clean(channel.name) == channel.name, !channel.name.contains(" "), channel.name != "default" else {
                throw ReplyConfigError(message: "channels: '\(channel.name)' must be 1-64 printable characters without spaces, not 'default'")
            }
            guard seen.insert(channel.name).inserted else {
                throw ReplyConfigError(message: "channels: '\(channel.name)' is declared twice")
            }
            guard ["twilio", "smsmobileapi", "http", "console"].contains(channel.provider) else {
                throw ReplyConfigError(message: "channels: '\(channel.name)': provider must be twilio, smsmobileapi, http or console")
            }
            if let rate = channel.ratePerSecond, !(rate.isFinite && rate >= 0 && rate <= 100_000) {
                throw ReplyConfigError(message: "channels: '\(channel.name)': rate_per_second must be 0 to 100000")
            }
        }
    }
}

extension Array where Element == ChannelConfig {
    /// The name of the first channel that receives `inbound`; nil when none does.
    public func resolve(_ inbound: Channel) -> String? {
        self.first { $0.receives(inbound) }?.name
    }
}
