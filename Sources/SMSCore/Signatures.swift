import Crypto
import Foundation

/// Webhook signatures. Pure.
public enum Signatures {
    /// Standard Webhooks: `v1,<base64 HMAC-SHA256(key, "<id>.<timestamp>.<body>")>`; a `whsec_` secret is base64.
    /// One signature; to sign many with one secret, keep a `StandardWebhooksSigner`.
    public static func standardWebhooks(secret: String, id: String, timestamp: Int, body: [UInt8]) -> String {
        StandardWebhooksSigner(secret: secret).sign(id: id, timestamp: timestamp, body: body)
    }

    /// The key bytes of a Standard Webhooks secret (`whsec_` + base64, else the text itself): decode them once, sign
    /// with them many times.
    public static func standardWebhooksKey(_ secret: String) -> [UInt8] {
        if secret.hasPrefix("whsec_"), let decoded = Data(base64Encoded: String(secret.dropFirst(6))) {
            return Array(decoded)
        }
        return Array(secret.utf8)
    }
}

/// Standard Webhooks signatures with one key, set up once: the keyed HMAC state (its padded key hashed in) is kept,
/// and each signature continues a copy of it. Setting the key up was 40% of a signature's CPU, and the worker signs
/// every http-provider request and every event.
public struct StandardWebhooksSigner: @unchecked Sendable, Hashable {  // `keyed` is only copied, never mutated in place
    private let key: [UInt8]
    private let keyed: HMAC<SHA256>

    public init(key: [UInt8]) {
        self.key = key
        self.keyed = HMAC<SHA256>(key: SymmetricKey(data: key))
    }

    public static func == (a: Self, b: Self) -> Bool { a.key == b.key }
    public func hash(into hasher: inout Hasher) { hasher.combine(self.key) }

    /// `whsec_` + base64, else the text itself (`Signatures.standardWebhooksKey`).
    public init(secret: String) { self.init(key: Signatures.standardWebhooksKey(secret)) }

    /// `v1,<base64 HMAC-SHA256(key, "<id>.<timestamp>.<body>")>`.
    public func sign(id: String, timestamp: Int, body: [UInt8]) -> String {
        var message: [UInt8] = []
        message.reserveCapacity(id.utf8.count + body.count + 24)
        message.append(contentsOf: id.utf8)
        message.append(UInt8(ascii: "."))
        message.append(contentsOf: String(timestamp).utf8)
        message.append(UInt8(ascii: "."))
        message.append(contentsOf: body)
        var mac = self.keyed  // a copy: its digest contexts are copied on first update (copy on write)
        message.withUnsafeBytes { mac.update(data: $0) }
        return "v1," + Data(mac.finalize()).base64EncodedString()
    }
}

extension Signatures {
    /// SMSMobileAPI V2: hex HMAC-SHA256(secret, "<timestamp>.<body>"); sent as `v1=<hex>`.
    public static func smsMobileAPI(secret: String, timestamp: String, body: [UInt8]) -> String {
        var message = Array("\(timestamp).".utf8)
        message.append(contentsOf: body)
        return self.hex(HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: Array(secret.utf8))))
    }

    /// Twilio: base64 HMAC-SHA1(auth token, URL + each POST parameter's name and value, sorted by name).
    public static func twilio(authToken: String, url: String, parameters: [(String, String)]) -> String {
        var data = url
        for (name, value) in parameters.sorted(by: { $0.0 == $1.0 ? $0.1 < $1.1 : $0.0 < $1.0 }) { data += name + value }
        let mac = HMAC<Insecure.SHA1>.authenticationCode(for: Array(data.utf8), using: SymmetricKey(data: Array(authToken.utf8)))
        return Data(mac).base64EncodedString()
    }

    /// android-sms-gateway: hex HMAC-SHA256(key, body + timestamp).
    public static func androidSMSGateway(key: String, body: [UInt8], timestamp: String) -> String {
        var message = body
        message.append(contentsOf: Array(timestamp.utf8))
        return self.hex(HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: Array(key.utf8))))
    }

    /// Equal in time that does not depend on where the first difference is.
    public static func constantTimeEquals(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8)
        let y = Array(b.utf8)
        var diff = UInt8(x.count == y.count ? 0 : 1)
        for i in 0..<max(x.count, y.count) {
            diff |= (i < x.count ? x[i] : 0) ^ (i < y.count ? y[i] : 0)
        }
        return diff == 0
    }

    /// SHA-256 of `bytes` as lower-case hex.
    public static func sha256Hex(_ bytes: some Sequence<UInt8>) -> String {
        SHA256.hash(data: Array(bytes)).map { $0 < 16 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
    }

    static func hex<M: MessageAuthenticationCode>(_ mac: M) -> String {
        mac.map { b in b < 16 ? "0" + String(b, radix: 16) : String(b, radix: 16) }.joined()
    }
}
