/// Reading providers' answers into a `SendResult`. Pure: status code, headers and body in, verdict out.
public enum ProviderResponses {
    /// Longest wait a provider's `Retry-After` can ask for; a larger value is cut to this.
    public static let maxRetryAfterSeconds: Double = 86_400

    /// Seconds from a `Retry-After` header: delta-seconds (digits, optionally a decimal fraction), at most
    /// `maxRetryAfterSeconds`. Anything else (an HTTP date, `inf`, `1e300`, `-1`, hex) is ignored: nil.
    public static func retryAfter(_ header: String?) -> Double? {
        guard let text = header?.trimmingWhitespace(), (1...32).contains(text.utf8.count) else { return nil }
        var dots = 0
        for b in text.utf8 {
            if b == UInt8(ascii: ".") { dots += 1; continue }
            guard b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9") else { return nil }
        }
        guard dots <= 1, text.utf8.first != UInt8(ascii: "."), let seconds = Double(text), seconds.isFinite else { return nil }
        return min(seconds, self.maxRetryAfterSeconds)
    }

    /// The common part: 429 and 5xx retry, 2xx goes on to the provider's body, other statuses are permanent.
    static func byStatus(_ status: Int, retryAfter: String?, body: String) -> SendResult? {
        if status == 429 { return .retryable(reason: "HTTP 429 rate limited", retryAfter: self.retryAfter(retryAfter)) }
        if status >= 500 { return .retryable(reason: "HTTP \(status): \(body.prefix(200))", retryAfter: self.retryAfter(retryAfter)) }
        if status == 408 { return .retryable(reason: "HTTP 408 timeout", retryAfter: nil) }
        if !(200..<300).contains(status) { return .permanent(reason: "HTTP \(status): \(body.prefix(200))", optOut: false) }
        return nil
    }

    /// SMSMobileAPI `/sendsms/`: `{"result": {"error": "0", "sent": "1", ...}}`; error other than 0 is permanent.
    public static func smsMobileAPI(status: Int, retryAfter: String?, body: [UInt8]) -> SendResult {
        let text = String(decoding: body, as: UTF8.self)
        if let verdict = self.byStatus(status, retryAfter: retryAfter, body: text) { return verdict }
        guard let json = try? JSONParser.parse(body), let result = json["result"] else {
            return .retryable(reason: "unreadable answer: \(text.prefix(200))", retryAfter: nil)
        }
        let error = result["error"]?.scalarText ?? "0"
        let sent = result["sent"]?.scalarText ?? "0"
        if error == "0" || error.isEmpty, sent != "0" {
            return .sent(providerID: result["id"]?.scalarText ?? result["guid"]?.scalarText)
        }
        return .permanent(reason: "smsmobileapi error \(error): \(text.prefix(200))", optOut: false)
    }

    /// Twilio Messages API: 201 with `sid`; errors `{"code": 21610, "message": ..., "status": 400}`.
    public static func twilio(status: Int, retryAfter: String?, body: [UInt8]) -> SendResult {
        let text = String(decoding: body, as: UTF8.self)
        let json = try? JSONParser.parse(body)
        let code = json?["code"]?.scalarText
        if code == "21610" {
            return .permanent(reason: "twilio 21610: recipient unsubscribed", optOut: true)
        }
        if let verdict = self.byStatus(status, retryAfter: retryAfter, body: text) {
            if case .permanent = verdict, let code {
                return .permanent(reason: "twilio \(code): \(json?["message"]?.stringValue ?? text.prefix(200).description)", optOut: false)
            }
            return verdict
        }
        return .sent(providerID: json?["sid"]?.stringValue)
    }

    /// A generic JSON endpoint: 2xx is sent.
    public static func http(status: Int, retryAfter: String?, body: [UInt8]) -> SendResult {
        let text = String(decoding: body, as: UTF8.self)
        return self.byStatus(status, retryAfter: retryAfter, body: text) ?? .sent(providerID: nil)
    }
}
