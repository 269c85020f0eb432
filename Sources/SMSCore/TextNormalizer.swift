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
