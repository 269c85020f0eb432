/// Classifies a reply from vocabulary kept in the config file. Pure and immutable; build once, share freely.
///
/// Order: exact compliance keywords (the whole message) → longest phrase matches → negation ("not ok") → hedges
/// ("maybe") and mixed answers ("yes but not today") → unknown.
public struct Classifier: Sendable {
    struct Phrase: Sendable {
        let tokens: [String]
        let intent: Intent
        let text: String
        let language: String
    }

    private let exact: [String: Intent]
    /// Phrases by their first (folded) token, longest first.
    private let phrases: [String: [Phrase]]
    private let negators: Set<String>
    private let contrast: Set<String>

    public init(config: ReplyConfig.ClassifierSection) {
        var exact: [String: Intent] = [:]
        for word in config.exact.optOut { exact[TextNormalizer.tokens(word).joined(separator: " ")] = .optOut }
        for word in config.exact.optIn { exact[TextNormalizer.tokens(word).joined(separator: " ")] = .optIn }
        for word in config.exact.help { exact[TextNormalizer.tokens(word).joined(separator: " ")] = .help }
        self.exact = exact
        var phrases: [String: [Phrase]] = [:]
        for (language, vocabulary) in config.languages.sorted(by: { $0.key < $1.key }) {
            for (intent, list) in [(Intent.affirmative, vocabulary.affirmative), (.negative, vocabulary.negative), (.unknown, vocabulary.unknown)] {
                for text in list {
                    let tokens = TextNormalizer.tokens(text).map(TextNormalizer.fold)
                    guard let first = tokens.first else { continue }
                    phrases[first, default: []].append(Phrase(tokens: tokens, intent: intent, text: text, language: language))
                }
            }
        }
        self.phrases = phrases.mapValues { $0.sorted { $0.tokens.count > $1.tokens.count } }
        self.negators = Set(config.negators.map(TextNormalizer.fold))
        self.contrast = Set(config.contrast.map(TextNormalizer.fold))
    }

    public func classify(_ text: String) -> Classification {
        let raw = TextNormalizer.tokens(text)
        if let intent = self.exact[raw.joined(separator: " ")] {
            return Classification(intent: intent, matched: "exact:\(raw.joined(separator: " "))", confidence: 1)
        }
        let tokens = raw.map(TextNormalizer.fold)
        guard !tokens.isEmpty else { return Classification(intent: .unknown, matched: nil, confidence: 0) }

        // Longest phrase at each position, left to right.
        var matches: [(start: Int, phrase: Phrase)] = []
        var i = 0
        while i < tokens.count {
            let found = self.phrases[tokens[i]]?.first { p in
                i + p.tokens.count <= tokens.count && Array(tokens[i..<(i + p.tokens.count)]) == p.tokens
            }
            if let found {
                matches.append((i, found))
                i += found.tokens.count
            } else {
                i += 1
            }
        }
        guard !matches.isEmpty else { return Classification(intent: .unknown, matched: nil, confidence: 0) }

        // the language whose vocabulary matched first (a phrase shared by several: the first in name order)
        let language = matches[0].phrase.language
        if let hedge = matches.first(where: { $0.phrase.intent == .unknown }) {
            return Classification(intent: .unknown, matched: "hedge:\(hedge.phrase.text)", confidence: 0.8, language: hedge.phrase.language)
        }
        // An affirmative right after a negator that is not itself part of a match is a negative ("not ok").
        func matched(_ position: Int) -> Bool {
            matches.contains { position >= $0.start && position < $0.start + $0.phrase.tokens.count }
        }
        var intents: [(Intent, String)] = matches.map { m in
            if m.phrase.intent == .affirmative, m.start > 0, !matched(m.start - 1),
                self.negators.contains(tokens[m.start - 1])
            {
                return (.negative, "negated:\(tokens[m.start - 1]) \(m.phrase.text)")
            }
            return (m.phrase.intent, m.phrase.text)
        }
        // "yes but not today": a contrast after an affirmative, followed by a negator → mixed.
        if let firstYes = intents.firstIndex(where: { $0.0 == .affirmative }),
            let but = tokens.indices.first(where: { $0 > matches[firstYes].start && self.contrast.contains(tokens[$0]) }),
            tokens[(but + 1)...].contains(where: { self.negators.contains($0) })
        {
            intents.append((.negative, "contrast:\(tokens[but])"))
        }
        if intents.contains(where: { $0.0 != intents[0].0 }) {
            return Classification(intent: .unknown, matched: "mixed:" + intents.map(\.1).joined(separator: "+"), confidence: 0.3, language: language)
        }
        let covered = matches.reduce(0) { $0 + $1.phrase.tokens.count }
        let coverage = Double(covered) / Double(tokens.count)
        let confidence = ((0.6 + 0.35 * coverage) * 100).rounded() / 100
        return Classification(intent: intents[0].0, matched: intents.map(\.1).joined(separator: "+"), confidence: min(confidence, 0.95), language: language)
    }
}
