/// A first keyword classifier: exact compliance keywords, then yes / no words. Pure.
public struct Classifier: Sendable {
    public var optOut: Set<String> = ["stop", "stopall", "unsubscribe", "cancel", "end", "quit", "revoke", "optout"]
    public var optIn: Set<String> = ["start", "unstop"]
    public var help: Set<String> = ["help", "info"]
    public var affirmative: Set<String> = ["yes", "y", "yeah", "yep", "sure", "ok", "okay", "si", "oui", "ja", "sim"]
    public var negative: Set<String> = ["no", "n", "nope", "nah", "non", "nein", "não", "nao"]

    public init() {}

    public func classify(_ text: String) -> Classification {
        let normalized = Self.normalize(text)
        if self.optOut.contains(normalized) { return Classification(intent: .optOut, matched: normalized, confidence: 1) }
        if self.optIn.contains(normalized) { return Classification(intent: .optIn, matched: normalized, confidence: 1) }
        if self.help.contains(normalized) { return Classification(intent: .help, matched: normalized, confidence: 1) }
        let first = normalized.split(separator: " ").first.map(String.init) ?? ""
        if self.affirmative.contains(normalized) {
            return Classification(intent: .affirmative, matched: normalized, confidence: 0.95)
        }
        if self.negative.contains(normalized) {
            return Classification(intent: .negative, matched: normalized, confidence: 0.95)
        }
        if self.affirmative.contains(first) { return Classification(intent: .affirmative, matched: first, confidence: 0.7) }
        if self.negative.contains(first) { return Classification(intent: .negative, matched: first, confidence: 0.7) }
        return Classification(intent: .unknown, confidence: 0)
    }

    /// Lower case, surrounding white space and punctuation removed, inner white space folded.
    public static func normalize(_ text: String) -> String {
        let lowered = text.lowercased()
        let words = lowered.split(whereSeparator: { $0.isWhitespace }).map { word in
            word.trimmingCharacters { $0.isPunctuation || $0.isSymbol }
        }.filter { !$0.isEmpty }
        return words.joined(separator: " ")
    }
}

extension Substring {
    func trimmingCharacters(where predicate: (Character) -> Bool) -> Substring {
        guard let start = self.firstIndex(where: { !predicate($0) }) else { return "" }
        let end = self.lastIndex(where: { !predicate($0) })!
        return self[start...end]
    }
}
