/// Where an inbound message arrived, and so where its reply must leave from: provider, account, our number or
/// device and SIM. Pure. `name` is the configured channel it matched (`ChannelConfig`), nil when none did.
public struct Channel: Sendable, Hashable {
    public var provider: String
    public var name: String?
    /// Twilio `AccountSid`.
    public var account: String?
    /// Twilio `MessagingServiceSid`.
    public var service: String?
    /// Our number the message was sent to (Twilio `To`).
    public var number: String?
    /// SMSMobileAPI `device_id`, android-sms-gateway `deviceId`.
    public var device: String?
    /// SIM slot / port.
    public var sim: String?
    /// SMSMobileAPI's alias of the device.
    public var alias: String?

    public init(
        provider: String, name: String? = nil, account: String? = nil, service: String? = nil, number: String? = nil,
        device: String? = nil, sim: String? = nil, alias: String? = nil
    ) {
        self.provider = provider
        self.name = Self.clean(name)
        self.account = Self.clean(account)
        self.service = Self.clean(service)
        self.number = Self.clean(number)
        self.device = Self.clean(device)
        self.sim = Self.clean(sim)
        self.alias = Self.clean(alias)
    }

    /// An identifier from outside, kept only when it is 1-64 printable ASCII characters (it becomes a metric label,
    /// a form field and a Redis value): anything else is dropped, never an error.
    public static func clean(_ value: String?) -> String? {
        guard let value, (1...64).contains(value.utf8.count), value.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) else {
            return nil
        }
        return value
    }

    public func write(to w: inout JSONWriter) {
        w.beginObject()
        w.field("provider", self.provider)
        w.field("name", ifPresent: self.name)
        w.field("account", ifPresent: self.account)
        w.field("service", ifPresent: self.service)
        w.field("number", ifPresent: self.number)
        w.field("device", ifPresent: self.device)
        w.field("sim", ifPresent: self.sim)
        w.field("alias", ifPresent: self.alias)
        w.endObject()
    }

    /// Writes `"channel": {...}` when there is a channel.
    public static func write(_ channel: Channel?, to w: inout JSONWriter) {
        guard let channel else { return }
        w.key("channel")
        channel.write(to: &w)
    }

    /// Read back from a job or record; nil when absent or without a provider.
    public init?(json: JSONValue?) {
        guard let json, let provider = json["provider"]?.stringValue else { return nil }
        self.init(
            provider: provider, name: json["name"]?.stringValue, account: json["account"]?.stringValue,
            service: json["service"]?.stringValue, number: json["number"]?.stringValue, device: json["device"]?.stringValue,
            sim: json["sim"]?.stringValue, alias: json["alias"]?.stringValue)
    }

    /// `twilio +15550100002` / `smsmobileapi device dev-1`: how an error names it.
    public var summary: String {
        var parts = [self.provider]
        if let name { parts.append("channel \(name)") }
        if let number { parts.append("number \(number)") }
        if let service { parts.append("service \(service)") }
        if let device { parts.append("device \(device)") }
        if let sim { parts.append("sim \(sim)") }
        return parts.joined(separator: " ")
    }
}
