import SMSCore

/// Authentication of each inbound route. The default requires it everywhere; `none` must be chosen explicitly.
public struct RouteAuth: Sendable, Hashable {
    public var legacy = WebhookAuth(mode: .standardWebhooks)
    public var smsMobileAPI = WebhookAuth(mode: .smsMobileAPI)
    public var twilio = WebhookAuth(mode: .twilio)
    public var androidSMSGateway = WebhookAuth(mode: .androidSMSGateway)

    public init() {}

    /// No authentication anywhere: local development only.
    public static var none: RouteAuth {
        var a = RouteAuth()
        a.legacy.mode = .none
        a.smsMobileAPI.mode = .none
        a.twilio.mode = .none
        a.androidSMSGateway.mode = .none
        return a
    }

    public var all: [(route: String, auth: WebhookAuth)] {
        [("legacy", self.legacy), ("smsmobileapi", self.smsMobileAPI), ("twilio", self.twilio), ("android-sms-gateway", self.androidSMSGateway)]
    }

    /// Reads `SMSHOOK_AUTH`, `SMSHOOK_<ROUTE>_AUTH`, the secrets lists (comma-separated, for rotation),
    /// `SMSHOOK_PUBLIC_BASE_URL` and `SMSHOOK_SIGNATURE_TOLERANCE`.
    public init(environment env: [String: String]) throws {
        if env["SMSHOOK_AUTH"] == "none" {
            self = .none
            return
        }
        if let global = env["SMSHOOK_AUTH"], !global.isEmpty, global != "required" {
            throw ConfigurationError(variable: "SMSHOOK_AUTH", message: "expected 'none' or 'required', got '\(global)'")
        }
        let tolerance = try EnvironmentReader(env).int("SMSHOOK_SIGNATURE_TOLERANCE", default: 300, range: 1...86400)
        func read(_ name: String, _ secretsName: String, _ auth: inout WebhookAuth) throws {
            if let text = env["SMSHOOK_\(name)_AUTH"], !text.isEmpty {
                guard let mode = WebhookAuth.Mode(rawValue: text) else {
                    throw ConfigurationError(
                        variable: "SMSHOOK_\(name)_AUTH",
                        message: "one of \(WebhookAuth.Mode.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                auth.mode = mode
            }
            auth.secrets = (env[secretsName] ?? "").split(separator: ",").map { String($0).trimmingWhitespace() }.filter { !$0.isEmpty }
            auth.toleranceSeconds = tolerance
            auth.publicBaseURL = env["SMSHOOK_PUBLIC_BASE_URL"].map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 }
        }
        try read("LEGACY", "SMSHOOK_LEGACY_SECRETS", &self.legacy)
        try read("SMSMOBILEAPI", "SMSHOOK_SMSMOBILEAPI_SECRETS", &self.smsMobileAPI)
        try read("TWILIO", "SMSHOOK_TWILIO_AUTH_TOKENS", &self.twilio)
        try read("ASG", "SMSHOOK_ASG_SECRETS", &self.androidSMSGateway)
    }
}
