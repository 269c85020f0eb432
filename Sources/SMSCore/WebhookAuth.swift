/// Authentication of one webhook route. Pure: request pieces and the clock in, a verdict out.
/// Several secrets may be configured at once (rotation); any of them may sign.
public struct WebhookAuth: Sendable, Hashable {
    public enum Mode: String, Sendable, Hashable, CaseIterable {
        case none
        case token
        case standardWebhooks = "standard-webhooks"
        case smsMobileAPI = "smsmobileapi-signature"
        case twilio = "twilio-signature"
        case androidSMSGateway = "asg-signature"
    }

    /// Why a request was refused. `reason` is a metric label: missing, bad_signature, bad_timestamp,
    /// stale_timestamp, not_configured.
    public struct Failure: Error, Sendable, Hashable {
        public let reason: String
        public let message: String
    }

    /// What the verifier looks at. Header names in lower case.
    public struct Request: Sendable {
        public var headers: [String: String]
        public var body: [UInt8]
        /// Path and query as received, e.g. `/webhooks/twilio?x=1`.
        public var pathAndQuery: String
        /// Parsed form fields (Twilio).
        public var form: [(String, String)]

        public init(headers: [String: String], body: [UInt8], pathAndQuery: String, form: [(String, String)] = []) {
            self.headers = headers
            self.body = body
            self.pathAndQuery = pathAndQuery
            self.form = form
        }
    }

    public var mode: Mode
    public var secrets: [String] {
        didSet { self.signers = self.secrets.map(StandardWebhooksSigner.init(secret:)) }
    }
    /// The secrets' Standard Webhooks signers (a `whsec_` secret's base64 decoded, the HMAC keyed): once, not per
    /// request.
    private var signers: [StandardWebhooksSigner]
    public var toleranceSeconds: Int
    /// The URL providers call, without a trailing slash (`https://hooks.example.com`): Twilio signs it.
    public var publicBaseURL: String?

    public init(mode: Mode, secrets: [String] = [], toleranceSeconds: Int = 300, publicBaseURL: String? = nil) {
        self.mode = mode
        self.secrets = secrets.filter { !$0.isEmpty }
        self.signers = self.secrets.map(StandardWebhooksSigner.init(secret:))
        self.toleranceSeconds = toleranceSeconds
        self.publicBaseURL = publicBaseURL
    }

    /// The (lower-case) request headers `verify` reads in this mode.
    public var headerNames: [String] {
        switch self.mode {
        case .none: []
        case .token: ["authorization"]
        case .standardWebhooks: ["webhook-id", "webhook-timestamp", "webhook-signature"]
        case .smsMobileAPI: ["x-smsmobileapi-signature", "x-smsmobileapi-timestamp"]
        case .twilio: ["x-twilio-signature"]
        case .androidSMSGateway: ["x-signature", "x-timestamp"]
        }
    }

    /// nil when the request is authentic.
    public func verify(_ r: Request, now: Int) -> Failure? {
        if self.mode == .none { return nil }
        guard !self.secrets.isEmpty else {
            return Failure(reason: "not_configured", message: "no secret is configured for this route")
        }
        switch self.mode {
        case .none:
            return nil
        case .token:
            let bearer = r.headers["authorization"].flatMap { $0.hasPrefix("Bearer ") ? String($0.dropFirst(7)) : nil }
            guard let given = bearer ?? Self.queryParameter("token", in: r.pathAndQuery) else {
                return Failure(reason: "missing", message: "missing Authorization: Bearer token")
            }
            return self.secrets.contains { Signatures.constantTimeEquals($0, given) }
                ? nil : Failure(reason: "bad_signature", message: "token does not match")
        case .standardWebhooks:
            guard let id = r.headers["webhook-id"], let ts = r.headers["webhook-timestamp"], let sigs = r.headers["webhook-signature"] else {
                return Failure(reason: "missing", message: "missing webhook-id, webhook-timestamp or webhook-signature")
            }
            let timestamp: Int
            switch self.checkTimestamp(ts, now: now) {
            case .success(let t): timestamp = t
            case .failure(let failure): return failure
            }
            guard id.utf8.count <= Self.maxIDLength else {
                return Failure(reason: "bad_signature", message: "webhook-id is longer than \(Self.maxIDLength) bytes")
            }
            let given = sigs.split(separator: " ", omittingEmptySubsequences: true)
            guard given.count <= Self.maxSignatures else {
                return Failure(reason: "bad_signature", message: "more than \(Self.maxSignatures) signatures in webhook-signature")
            }
            for signer in self.signers {
                let expected = signer.sign(id: id, timestamp: timestamp, body: r.body)
                if given.contains(where: { Signatures.constantTimeEquals(String($0), expected) }) { return nil }
            }
            return Failure(reason: "bad_signature", message: "webhook-signature does not match")
        case .smsMobileAPI:
            guard let sig = r.headers["x-smsmobileapi-signature"], let ts = r.headers["x-smsmobileapi-timestamp"] else {
                return Failure(reason: "missing", message: "missing X-SMSMobileAPI-Signature or X-SMSMobileAPI-Timestamp")
            }
            if case .failure(let failure) = self.checkTimestamp(ts, now: now) { return failure }
            let ok = self.secrets.contains { Signatures.constantTimeEquals(sig, "v1=" + Signatures.smsMobileAPI(secret: $0, timestamp: ts, body: r.body)) }
            return ok ? nil : Failure(reason: "bad_signature", message: "X-SMSMobileAPI-Signature does not match")
        case .twilio:
            guard let sig = r.headers["x-twilio-signature"] else {
                return Failure(reason: "missing", message: "missing X-Twilio-Signature")
            }
            guard let base = self.publicBaseURL else {
                return Failure(reason: "not_configured", message: "SMSHOOK_PUBLIC_BASE_URL is needed to check Twilio signatures")
            }
            let urls = Self.portVariants(base + r.pathAndQuery)
            for token in self.secrets {
                for url in urls where Signatures.constantTimeEquals(sig, Signatures.twilio(authToken: token, url: url, parameters: r.form)) {
                    return nil
                }
            }
            return Failure(reason: "bad_signature", message: "X-Twilio-Signature does not match")
        case .androidSMSGateway:
            guard let sig = r.headers["x-signature"], let ts = r.headers["x-timestamp"] else {
                return Failure(reason: "missing", message: "missing X-Signature or X-Timestamp")
            }
            if case .failure(let failure) = self.checkTimestamp(ts, now: now) { return failure }
            let ok = self.secrets.contains {
                Signatures.constantTimeEquals(sig.lowercased(), Signatures.androidSMSGateway(key: $0, body: r.body, timestamp: ts))
            }
            return ok ? nil : Failure(reason: "bad_signature", message: "X-Signature does not match")
        }
    }

    /// At most this many space-separated entries in `webhook-signature` are looked at; more is refused.
    public static let maxSignatures = 10
    /// Longest `webhook-id` accepted (it is hashed with the body).
    public static let maxIDLength = 256

    /// The timestamp when it is within the tolerance of `now`. Any text from outside: a header of digits only
    /// (no sign, space or exponent), at most 12 of them; the difference is computed without overflow.
    private func checkTimestamp(_ text: String, now: Int) -> Result<Int, Failure> {
        guard let ts = Self.parseTimestamp(text) else {
            return .failure(Failure(reason: "bad_timestamp", message: "timestamp must be 1 to 12 digits of Unix seconds"))
        }
        let (difference, overflow) = now.subtractingReportingOverflow(ts)
        guard !overflow, difference.magnitude <= UInt(max(0, self.toleranceSeconds)) else {
            return .failure(Failure(reason: "stale_timestamp", message: "timestamp is more than \(self.toleranceSeconds) s from now"))
        }
        return .success(ts)
    }

    /// Unix seconds written as 1 to 12 ASCII digits; nil for anything else.
    public static func parseTimestamp(_ text: String) -> Int? {
        let bytes = text.utf8
        guard (1...12).contains(bytes.count) else { return nil }
        var value = 0
        for b in bytes {
            guard b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9") else { return nil }
            value = value * 10 + Int(b - UInt8(ascii: "0"))  // 12 digits cannot overflow
        }
        return value
    }

    /// The URL as given, plus the same with the default port added or removed (Twilio signs either form).
    static func portVariants(_ url: String) -> [String] {
        guard let schemeEnd = url.range(of: "://") else { return [url] }
        let scheme = url[..<schemeEnd.lowerBound].lowercased()
        let rest = url[schemeEnd.upperBound...]
        let hostEnd = rest.firstIndex { $0 == "/" || $0 == "?" } ?? rest.endIndex
        let host = String(rest[..<hostEnd])
        let tail = String(rest[hostEnd...])
        let port = scheme == "https" ? "443" : "80"
        let prefix = String(url[..<schemeEnd.upperBound])
        if host.hasSuffix(":" + port) {
            return [url, prefix + String(host.dropLast(port.count + 1)) + tail]
        }
        if host.contains(":") && !host.hasSuffix("]") { return [url] }
        return [url, prefix + host + ":" + port + tail]
    }

    public static func queryParameter(_ name: String, in pathAndQuery: String) -> String? {
        guard let mark = pathAndQuery.utf8.firstIndex(of: UInt8(ascii: "?")) else { return nil }  // most URLs: no query
        return FormEncoding.decode(String(pathAndQuery[pathAndQuery.index(after: mark)...]))?.last { $0.0 == name }?.1
    }
}
