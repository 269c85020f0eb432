/// `application/x-www-form-urlencoded`, as providers send and expect it. Pure.
public enum FormEncoding {
    /// `a=1&b=x%20y`: every byte but A-Z a-z 0-9 - . _ ~ percent-encoded.
    public static func encode(_ fields: [(String, String)]) -> String {
        fields.map { "\(self.escape($0.0))=\(self.escape($0.1))" }.joined(separator: "&")
    }

    public static func escape(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count)
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(b))
            default:
                let hex = String(b, radix: 16, uppercase: true)
                out += "%" + (hex.count == 1 ? "0" + hex : hex)
            }
        }
        return out
    }

    /// Most fields a form may have: more is refused before anything is sorted or hashed (Twilio sends about 30).
    public static let maxFields = 256

    /// Parses a form body; `+` is a space. Returns nil for invalid percent escapes or UTF-8, or more than
    /// `maxFields` fields.
    public static func decode(_ body: String, maxFields: Int = FormEncoding.maxFields) -> [(String, String)]? {
        var out: [(String, String)] = []
        let pairs = body.split(separator: "&", maxSplits: maxFields, omittingEmptySubsequences: true)
        guard pairs.count <= maxFields else { return nil }
        for pair in pairs {
            let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let key = self.unescape(kv[0]), let value = self.unescape(kv.count > 1 ? kv[1] : "") else { return nil }
            out.append((key, value))
        }
        return out
    }

    static func unescape(_ s: Substring) -> String? {
        var bytes: [UInt8] = []
        var it = Array(s.utf8)[...]
        while let b = it.popFirst() {
            if b == UInt8(ascii: "+") {
                bytes.append(0x20)
            } else if b == UInt8(ascii: "%") {
                guard it.count >= 2, let v = UInt8(String(decoding: it.prefix(2), as: UTF8.self), radix: 16) else { return nil }
                bytes.append(v)
                it = it.dropFirst(2)
            } else {
                bytes.append(b)
            }
        }
        return String(validating: bytes, as: UTF8.self)
    }
}
