/// Which intents get an automatic reply, and its text. `{number}` and `{intent}` are filled in.
public struct ReplyPolicy: Sendable, Hashable {
    public var templates: [Intent: String]

    public init(templates: [Intent: String] = ReplyPolicy.defaultTemplates) {
        self.templates = templates
    }

    public static let defaultTemplates: [Intent: String] = [
        .affirmative: "Thanks! We got your YES.",
        .negative: "Thanks, we got your NO.",
        .help: "Reply YES or NO. Reply STOP to unsubscribe.",
        .optOut: "You are unsubscribed and will get no more messages. Reply START to resubscribe.",
        .optIn: "You are subscribed again. Reply STOP to unsubscribe.",
    ]

    /// The reply text for a message, or `nil` when none is due (no template, or no sender to answer).
    public func reply(to message: InboundMessage, classification: Classification) -> String? {
        guard let number = message.number, let template = self.templates[classification.intent] else { return nil }
        return template
            .replacingAll("{number}", with: number)
            .replacingAll("{intent}", with: classification.intent.rawValue)
    }
}

extension String {
    func replacingAll(_ target: String, with replacement: String) -> String {
        guard self.contains(target) else { return self }
        return self.split(separator: target, omittingEmptySubsequences: false).joined(separator: replacement)
    }
}
