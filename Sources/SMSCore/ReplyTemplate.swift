/// One intent's reply text: the same in every language (`affirmative: "Thanks!"`), or per language
/// (`affirmative: {en: "Thanks!", es: "¡Gracias!"}`).
public struct ReplyTemplate: Sendable, Hashable, Decodable {
    /// The text for any language without its own.
    public var any: String?
    /// Texts by language (the `classifier.languages` keys).
    public var byLanguage: [String: String]

    public init(_ text: String) {
        self.any = text
        self.byLanguage = [:]
    }

    public init(byLanguage: [String: String], any: String? = nil) {
        self.any = any
        self.byLanguage = byLanguage
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let text = try? container.decode(String.self) {
            self.init(text)
        } else {
            self.init(byLanguage: try container.decode([String: String].self))
        }
    }

    /// The text for `language`, else the default language's, else the one for any language.
    public func text(language: String?, defaultLanguage: String?) -> String? {
        if let language, let text = self.byLanguage[language] { return text }
        if let defaultLanguage, let text = self.byLanguage[defaultLanguage] { return text }
        return self.any
    }

    /// Fills `{number}`, `{intent}` and `{language}`. `{meta.<key>}` stays for the ingest script, which fills it from
    /// the number's conversation (or removes it: no braces reach an SMS).
    public static func fill(_ template: String, number: String, intent: Intent, language: String) -> String {
        guard template.containsASCII(UInt8(ascii: "{")) else { return template }  // most replies: one scan
        return template
            .replacingAll("{number}", with: number)
            .replacingAll("{intent}", with: intent.rawValue)
            .replacingAll("{language}", with: language)
    }
}
