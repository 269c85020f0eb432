/// Whether and how to answer a message: templates per intent, never to our own numbers or to sender ids.
/// Opt-out state and the loop guard live in Redis and are applied by the ingest script.
public struct ReplyPolicy: Sendable, Hashable {
    public enum Decision: Sendable, Hashable {
        case reply(String)
        /// No reply, and why: `no_template`, `no_number`, `own_number`, `sender_id`.
        case none(reason: String)
    }

    public var templates: [Intent: ReplyTemplate]
    /// Replies to a message of unknown language use this language's text.
    public var defaultLanguage: String
    public var ownNumbers: Set<String>
    public var maxRepliesPerWindow: Int
    public var windowSeconds: Int
    /// For numbers in national form (see `PhoneNumber.subscriber`).
    public var defaultCountryCode: String?

    /// One text per intent, whatever the language.
    public init(
        templates: [Intent: String], ownNumbers: [String] = [], maxRepliesPerWindow: Int = 3, windowSeconds: Int = 3600,
        defaultCountryCode: String? = nil
    ) {
        self.init(
            templates: templates.mapValues(ReplyTemplate.init), ownNumbers: ownNumbers,
            maxRepliesPerWindow: maxRepliesPerWindow, windowSeconds: windowSeconds, defaultCountryCode: defaultCountryCode)
    }

    public init(
        templates: [Intent: ReplyTemplate], ownNumbers: [String] = [], maxRepliesPerWindow: Int = 3,
        windowSeconds: Int = 3600, defaultCountryCode: String? = nil, defaultLanguage: String = "en"
    ) {
        self.templates = templates
        self.defaultLanguage = defaultLanguage
        self.defaultCountryCode = defaultCountryCode.flatMap { $0.isEmpty ? nil : $0 }
        self.ownNumbers = Set(ownNumbers.map { Self.digits(PhoneNumber.subscriber($0, defaultCountryCode: defaultCountryCode)) })
        self.maxRepliesPerWindow = maxRepliesPerWindow
        self.windowSeconds = windowSeconds
    }

    public init(config: ReplyConfig) {
        self.init(
            templates: config.templates, ownNumbers: config.ownNumbers,
            maxRepliesPerWindow: config.loopGuard.maxReplies, windowSeconds: config.loopGuard.windowSeconds,
            defaultCountryCode: config.defaultCountryCode, defaultLanguage: config.defaultLanguage ?? "en")
    }

    /// The key for everything kept per number: opt-out, loop guard, replies.
    public func subscriber(_ number: String) -> String {
        PhoneNumber.subscriber(number, defaultCountryCode: self.defaultCountryCode)
    }

    public func decide(_ message: InboundMessage, classification: Classification) -> Decision {
        guard let number = message.number else { return .none(reason: "no_number") }
        // Letters: an alphanumeric sender id, which cannot be answered. ASCII checked directly (Unicode's property
        // table lookup is the slow part and says the same for ASCII).
        let isLetter = { (s: Unicode.Scalar) -> Bool in
            s.isASCII ? (s.value | 0x20) >= 0x61 && (s.value | 0x20) <= 0x7A : s.properties.isAlphabetic
        }
        if number.unicodeScalars.contains(where: isLetter) { return .none(reason: "sender_id") }
        if !self.ownNumbers.isEmpty && self.ownNumbers.contains(Self.digits(self.subscriber(number))) {
            return .none(reason: "own_number")
        }
        let language = self.language(of: classification)
        guard let template = self.templates[classification.intent]?.text(language: language, defaultLanguage: self.defaultLanguage)
        else { return .none(reason: "no_template") }
        return .reply(ReplyTemplate.fill(template, number: number, intent: classification.intent, language: language))
    }

    /// The message's language: the one whose vocabulary matched, else the default.
    public func language(of classification: Classification) -> String { classification.language ?? self.defaultLanguage }

    static func digits(_ number: String) -> String { String(number.unicodeScalars.filter { ("0"..."9").contains($0) }) }
}

extension String {
    public func replacingAll(_ target: String, with replacement: String) -> String {
        guard self.utf8.contains(target.utf8.first ?? 0), self.contains(target) else { return self }
        return self.split(separator: target, omittingEmptySubsequences: false).joined(separator: replacement)
    }
}
