import Foundation

/// Turns a message into comparable tokens: lower case, no accents, no apostrophes, punctuation as spaces,
/// emoji mapped to yes / no. Pure.
public enum TextNormalizer {
    static let emoji: [Character: String] = [
        "👍": " yes ", "✅": " yes ", "👌": " yes ", "☑️": " yes ", "✔️": " yes ", "👎": " no ", "❌": " no ",
        "🚫": " no ",
    ]

    /// Tokens as written (repeated letters kept): for the exact compliance keywords.
    public static func tokens(_ text: String) -> [String] {
        if let ascii = self.asciiTokens(text) { return ascii }
        var mapped = ""
        mapped.reserveCapacity(text.utf8.count)
        for ch in text {
            if let word = self.emoji[ch] { mapped += word; continue }
            if ch == "'" || ch == "’" || ch == "‘" || ch == "`" || ch == "´" { continue }
            mapped.append(ch)
        }
        let folded = mapped.lowercased()
            .folding(options: [.diacriticInsensitive, .widthInsensitive], locale: nil)
            .replacingOccurrences(of: "ß", with: "ss")
        return folded.split(whereSeparator: { !($0.isLetter || $0.isNumber) }).map(String.init)
    }

    /// The same for plain ASCII text without Foundation's folding (the common case): nil for other text.
    static func asciiTokens(_ text: String) -> [String]? {
        var text = text
        text.makeContiguousUTF8()
        return text.utf8.withContiguousStorageIfAvailable { bytes -> [String]? in
            var tokens: [String] = []
            var current: [UInt8] = []
            current.reserveCapacity(16)
            for b in bytes {
                if b >= 0x80 { return nil }
                switch b {
                case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"): current.append(b)
                case UInt8(ascii: "A")...UInt8(ascii: "Z"): current.append(b + 32)
                case UInt8(ascii: "'"), UInt8(ascii: "`"): continue
                default:
                    if !current.isEmpty {
                        tokens.append(String(decoding: current, as: UTF8.self))
                        current.removeAll(keepingCapacity: true)
                    }
                }
            }
            if !current.isEmpty { tokens.append(String(decoding: current, as: UTF8.self)) }
            return tokens
        } ?? nil
    }

    /// A token with runs of the same letter folded to one ("yesss" → "yes", "okk" → "ok"): for vocabulary matching.
    public static func fold(_ token: String) -> String {
        var out = ""
        var last: Character?
        for ch in token where ch != last {
            out.append(ch)
            last = ch
        }
        return out
    }
}
