import ArgumentParser
import Foundation
import SMSCore
import SMSSystem

struct Classify: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Classify a message with the current config, or evaluate a labelled set (--eval FILE).")

    @Argument(help: "The message text.") var text: String?
    @Option(help: "A labelled set (intent<TAB>message per line): print accuracy per intent.") var eval: String?
    @Option(help: "Minimum overall accuracy (percent) for --eval to exit 0.") var minAccuracy: Double = 0
    @Option(help: "Config file (default: SMSHOOK_CONFIG, ./config/smshook.yaml, /etc/smshook/smshook.yaml).") var config: String?

    func run() throws {
        let (replyConfig, _) = try ReplyConfig.load(path: self.config ?? ProcessInfo.processInfo.environment["SMSHOOK_CONFIG"])
        let classifier = Classifier(config: replyConfig.classifier)
        if let eval {
            let evaluation = try Evaluation(labelled: String(contentsOfFile: eval, encoding: .utf8), classifier: classifier)
            print(evaluation.report)
            if evaluation.accuracy * 100 < self.minAccuracy {
                throw ValidationError("accuracy \(String(format: "%.1f", evaluation.accuracy * 100))% is below \(self.minAccuracy)%")
            }
            return
        }
        guard let text else { throw ValidationError("give a message, or --eval FILE") }
        let result = classifier.classify(text)
        let policy = ReplyPolicy(config: replyConfig)
        let message = InboundMessage(guid: "cli", number: "+10000000000", message: text, provider: "cli")
        let reply: String
        switch policy.decide(message, classification: result) {
        case .reply(let body): reply = body
        case .none(let reason): reply = "(none: \(reason))"
        }
        print("intent:     \(result.intent.rawValue)")
        print("rule:       \(result.matched ?? "-")")
        print("confidence: \(result.confidence)")
        print("language:   \(result.language ?? "- (default: \(policy.defaultLanguage))")")
        print("reply:      \(reply)")
    }
}
