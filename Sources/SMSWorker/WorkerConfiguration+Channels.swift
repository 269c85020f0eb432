import SMSCore

/// A sender that cannot send: a channel declared without its credentials. Its jobs go to the dead list with why.
public struct UnavailableSender: ReplySender {
    public let name: String
    public let reason: String
    public init(name: String, reason: String) {
        self.name = name
        self.reason = reason
    }
    public func send(_ job: ReplyJob) async -> SendResult { .permanent(reason: self.reason, optOut: false) }
    public func shutdown() async {}
}

extension WorkerConfiguration {
    /// The channels declared in the config file, each with its provider settings read from the environment variables
    /// the file names. A channel whose credentials are missing still exists: its jobs are dead-lettered with the reason.
    public static func channelSenders(
        _ channels: [ChannelConfig], environment env: [String: String], base: ProviderSettings
    ) throws -> [ChannelSender] {
        try channels.map { channel in
            guard let provider = Provider(rawValue: channel.provider) else {
                throw ConfigurationError(variable: "channels", message: "'\(channel.name)': unknown provider \(channel.provider)")
            }
            var p = ProviderSettings()
            p.connectTimeoutMS = base.connectTimeoutMS
            p.requestTimeoutMS = base.requestTimeoutMS
            p.connectionsPerHost = base.connectionsPerHost
            var missing: [String] = []
            func credential(_ setting: String) -> String {
                guard let variable = channel.credentials[setting] else {
                    missing.append("credentials.\(setting)")
                    return ""
                }
                guard let value = env[variable], !value.isEmpty else {
                    missing.append(variable)
                    return ""
                }
                return value
            }
            var url: (String, String)?
            switch provider {
            case .console:
                break
            case .twilio:
                p.twilioAccountSID = credential("account_sid")
                p.twilioAuthToken = credential("auth_token")
                p.twilioBaseURL = channel.baseURL ?? p.twilioBaseURL
                p.twilioMessagingServiceSID = channel.messagingServiceSID
                p.twilioFrom = channel.numbers.first
                url = ("base_url", p.twilioBaseURL)
            case .smsmobileapi:
                p.smsMobileAPIKey = credential("api_key")
                p.smsMobileAPIBaseURL = channel.baseURL ?? p.smsMobileAPIBaseURL
                p.smsMobileAPISender = channel.devices.first
                url = ("base_url", p.smsMobileAPIBaseURL)
            case .http:
                p.httpURL = channel.baseURL ?? credential("url")
                p.httpSecret = credential("secret")
                url = ("base_url", p.httpURL)
            }
            if let (field, value) = url, !value.isEmpty, env["SMSHOOK_ALLOW_INSECURE_PROVIDER"] != "1",
                !value.lowercased().hasPrefix("https://")
            {
                throw ConfigurationError(variable: "channels", message: "'\(channel.name)': \(field) must be an https:// URL")
            }
            let sender: any ReplySender = missing.isEmpty
                ? HTTPSender.make(provider, p)
                : UnavailableSender(
                    name: provider.rawValue,
                    reason: "channel '\(channel.name)' has no credentials: \(missing.joined(separator: ", ")) not set")
            return ChannelSender(name: channel.name, sender: sender, ratePerSecond: channel.ratePerSecond ?? 0)
        }
    }
}
