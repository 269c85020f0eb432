import Crypto

/// Idempotency keys for messages the provider sent without an id.
public enum IdempotencyKey {
    /// `derived-` + hex SHA-256 of number, time (time_received, else date + " " + hour) and message, joined by
    /// the unit separator U+001F. The same message retried by the provider maps to the same key.
    public static func derive(number: String?, date: String?, hour: String?, timeReceived: String?, message: String)
        -> String
    {
        let time = timeReceived ?? [date, hour].compactMap { $0 }.joined(separator: " ")
        let material = [number ?? "", time, message].joined(separator: "\u{1F}")
        let digest = SHA256.hash(data: Array(material.utf8))
        return "derived-" + digest.map { b in b < 16 ? "0" + String(b, radix: 16) : String(b, radix: 16) }.joined()
    }
}
