import Crypto
import Foundation
import Yams

/// The reply-decision configuration file (`config/smshook.yaml`): classifier vocabulary, reply templates,
/// loop guard and the service's own numbers. See the shipped file for every key.
public struct ReplyConfig: Sendable, Hashable, Decodable {
    public struct Vocabulary: Sendable, Hashable, Decodable {
        public var affirmative: [String] = []
        public var negative: [String] = []
        public var unknown: [String] = []
    }

    public struct Exact: Sendable, Hashable, Decodable {
        public var optOut: [String]
        public var optIn: [String]
        public var help: [String]
        enum CodingKeys: String, CodingKey {
            case optOut = "opt_out"
            case optIn = "opt_in"
            case help
        }
    }

    public struct ClassifierSection: Sendable, Hashable, Decodable {
        public var exact: Exact
        public var negators: [String]
        public var contrast: [String]
        public var languages: [String: Vocabulary]
    }

    public struct LoopGuard: Sendable, Hashable, Decodable {
        public var maxReplies: Int
        public var windowSeconds: Int
        enum CodingKeys: String, CodingKey {
            case maxReplies = "max_replies"
            case windowSeconds = "window_seconds"
        }
    }

    public var classifier: ClassifierSection
    public var replies: [String: ReplyTemplate?]
    /// The language of replies to messages whose language is not known (exact keywords, no match): `en` when absent.
    public var defaultLanguage: String?
    /// Signed event webhooks to the application (README "Integrating your application"); none: no events.
    public var events: EventsConfig?
    public var loopGuard: LoopGuard
    public var ownNumbers: [String]
    /// Country calling code for numbers that arrive in national form (`(555) 010-0000`); none: kept as digits.
    public var defaultCountryCode: String?
    /// Where replies leave from (see `ChannelConfig`); none: every reply through the worker's default provider.
    public var channels: [ChannelConfig]?
    /// `global` (default): a STOP silences every channel; `channel`: only the channel it was sent to.
    public var optOutScope: OptOutScope?

    public enum OptOutScope: String, Sendable, Hashable, Decodable {
        case global, channel
    }

    enum CodingKeys: String, CodingKey {
        case classifier, replies
        case loopGuard = "loop_guard"
        case ownNumbers = "own_numbers"
        case defaultCountryCode = "default_country_code"
        case channels
        case optOutScope = "opt_out_scope"
        case defaultLanguage = "default_language"
        case events
    }

    /// Parses the YAML (or JSON) text; errors name what is wrong.
    public static func parse(_ text: String) throws -> ReplyConfig {
        let config: ReplyConfig
        do {
            config = try YAMLDecoder().decode(ReplyConfig.self, from: text)
        } catch {
            throw ReplyConfigError(message: "cannot read the config: \(error)")
        }
        for key in config.replies.keys where Intent(rawValue: key) == nil {
            throw ReplyConfigError(message: "replies: unknown intent '\(key)'")
        }
        let languages = Set(config.classifier.languages.keys)
        for (key, template) in config.replies {
            for language in template?.byLanguage.keys.sorted() ?? [] where !languages.contains(language) {
                throw ReplyConfigError(message: "replies.\(key): unknown language '\(language)' (not in classifier.languages)")
            }
        }
        if let language = config.defaultLanguage, !languages.contains(language) {
            throw ReplyConfigError(message: "default_language: '\(language)' is not in classifier.languages")
        }
        try config.events?.validate()
        guard config.loopGuard.maxReplies >= 0, config.loopGuard.windowSeconds > 0 else {
            throw ReplyConfigError(message: "loop_guard: max_replies must be >= 0 and window_seconds > 0")
        }
        try ChannelConfig.validate(config.channels ?? [])
        if let code = config.defaultCountryCode, !code.isEmpty, !PhoneNumber.isCountryCode(code) {
            throw ReplyConfigError(message: "default_country_code: expected 1 to 3 digits such as \"1\" or \"44\", got '\(code)'")
        }
        return config
    }

    /// A config file as loaded: where from, and the SHA-256 of its text (so instances can be compared).
    public struct File: Sendable {
        public let config: ReplyConfig
        public let path: String
        public let sha256: String

        /// Parses `text`, the contents of the file at `path` (named in errors). Pure: reading the file is the
        /// caller's (`ReplyConfig.loadFile` in SMSSystem).
        public init(text: String, path: String) throws {
            do {
                self.config = try ReplyConfig.parse(text)
            } catch let error as ReplyConfigError {
                throw ReplyConfigError(message: "\(path): \(error.message)")
            }
            self.path = path
            self.sha256 = Signatures.sha256Hex(text.utf8)
        }
    }

    /// Where the config file is looked for when no path is given, in order.
    public static let defaultPaths = ["config/smshook.yaml", "/etc/smshook/smshook.yaml"]

    /// Reply templates by intent.
    public var templates: [Intent: ReplyTemplate] {
        var out: [Intent: ReplyTemplate] = [:]
        for (key, value) in self.replies {
            if let intent = Intent(rawValue: key), let value { out[intent] = value }
        }
        return out
    }
}

public struct ReplyConfigError: Error, CustomStringConvertible, Sendable {
    public let message: String
    public init(message: String) { self.message = message }
    public var description: String { self.message }
}
