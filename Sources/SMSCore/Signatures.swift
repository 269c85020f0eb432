import Crypto
import Foundation

/// Webhook signatures. Pure.
public enum Signatures {
    /// Standard Webhooks: `v1,<base64 HMAC-SHA256(key, "<id>.<timestamp>.<body>")>`; a `whsec_` secret is base64.
    public static func standardWebhooks(secret: String, id: String, timestamp: Int, body: [UInt8]) -> String {
        let keyBytes: [UInt8]
        if secret.hasPrefix("whsec_"), let decoded = Data(base64Encoded: String(secret.dropFirst(6))) {
            keyBytes = Array(decoded)
        } else {
            keyBytes = Array(secret.utf8)
        }
        var message = Array("\(id).\(timestamp).".utf8)
        message.append(contentsOf: body)
        let mac = HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: keyBytes))
        return "v1," + Data(mac).base64EncodedString()
    }
}
