/// What an inbound message means.
public enum Intent: String, Sendable, Hashable, CaseIterable {
    case affirmative
    case negative
    case optOut = "opt_out"
    case optIn = "opt_in"
    case help
    case unknown
}

/// The classifier's verdict: the intent, the rule or phrase that matched, and a confidence in 0...1.
public struct Classification: Sendable, Hashable {
    public var intent: Intent
    public var matched: String?
    public var confidence: Double
    /// The language whose vocabulary matched (`classifier.languages` key); nil for exact keywords and no match.
    public var language: String?

    public init(intent: Intent, matched: String? = nil, confidence: Double, language: String? = nil) {
        self.intent = intent
        self.matched = matched
        self.confidence = confidence
        self.language = language
    }
}
