import Foundation
import SMSCore
import SMSSystem
import Testing

let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
let shippedConfig: ReplyConfig = try! ReplyConfig.load(path: repoRoot.appendingPathComponent("config/smshook.yaml").path).0
let classifier = Classifier(config: shippedConfig.classifier)

@Suite struct ClassifierTests {
    @Test func labelledSetIsAtLeast97PercentRight() throws {
        let text = try String(contentsOf: repoRoot.appendingPathComponent("eval/labelled.tsv"), encoding: .utf8)
        let evaluation = try Evaluation(labelled: text, classifier: classifier)
        #expect(evaluation.count >= 200)
        #expect(evaluation.accuracy >= 0.97, "\(evaluation.report)")
        for intent in Intent.allCases {
            #expect(evaluation.total[intent, default: 0] >= 5, "too few \(intent) examples")
        }
    }

    @Test(arguments: ["stop", "stopall", "unsubscribe", "cancel", "end", "quit", "revoke", "optout"])
    func eachOptOutKeywordAloneInAnyCaseWithPunctuation(keyword: String) {
        for text in [keyword, keyword.uppercased(), keyword.capitalized, "  \(keyword.uppercased())! ", "\"\(keyword)\".", "(\(keyword))"] {
            let result = classifier.classify(text)
            #expect(result.intent == .optOut, "\(text)")
            #expect(result.confidence == 1)
        }
        // not alone: not an opt-out
        for text in ["\(keyword) please", "please \(keyword)", "don't \(keyword)", "\(keyword) it now"] {
            #expect(classifier.classify(text).intent != .optOut, "\(text)")
        }
    }

    @Test func stopPleaseAndDontStopAreNotOptOuts() {
        #expect(classifier.classify("STOP PLEASE").intent == .unknown)
        #expect(classifier.classify("don't stop").intent == .unknown)
        #expect(classifier.classify("dont stop!!").intent == .unknown)
    }

    @Test(arguments: [("START", Intent.optIn), ("unstop", .optIn), ("Start.", .optIn), ("HELP", .help), ("info?", .help)])
    func complianceKeywords(text: String, intent: Intent) {
        #expect(classifier.classify(text).intent == intent)
    }

    @Test func emojiRepeatedLettersAndAccents() {
        #expect(classifier.classify("👍").intent == .affirmative)
        #expect(classifier.classify("✅").intent == .affirmative)
        #expect(classifier.classify("👌").intent == .affirmative)
        #expect(classifier.classify("👎").intent == .negative)
        #expect(classifier.classify("❌").intent == .negative)
        #expect(classifier.classify("yesssss!!!").intent == .affirmative)
        #expect(classifier.classify("noooo").intent == .negative)
        #expect(classifier.classify("SÍ").intent == .affirmative)
        #expect(classifier.classify("NÃO").intent == .negative)
    }

    @Test func phrasesNegationAndMixedAnswers() {
        let cases: [(String, Intent)] = [
            ("yes I can help", .affirmative), ("count me in", .affirmative), ("sounds good", .affirmative),
            ("no problem", .affirmative), ("no thanks", .negative), ("not available", .negative),
            ("can't make it", .negative), ("nope", .negative), ("maybe", .unknown), ("not sure", .unknown),
            ("not ok", .negative), ("yes but not today", .unknown), ("yes but no", .unknown),
        ]
        for (text, intent) in cases {
            #expect(classifier.classify(text).intent == intent, "\(text)")
        }
        #expect(classifier.classify("not sure").intent != .affirmative)
        #expect(classifier.classify("not ok").intent != .affirmative)
    }

    @Test func resultCarriesRuleAndConfidence() {
        let r = classifier.classify("sounds good")
        #expect(r.matched == "sounds good")
        #expect(r.confidence == 0.95)
        let partial = classifier.classify("yes see you at the station")
        #expect(partial.intent == .affirmative)
        #expect(partial.confidence < 0.95 && partial.confidence >= 0.6)
        #expect(classifier.classify("what?").confidence == 0)
    }

    @Test func fiveLanguages() {
        #expect(Set(shippedConfig.classifier.languages.keys).isSuperset(of: ["en", "es", "fr", "de", "pt"]))
        let cases: [(String, Intent)] = [
            ("claro", .affirmative), ("no puedo", .negative), ("oui", .affirmative), ("non merci", .negative),
            ("ja gerne", .affirmative), ("nein", .negative), ("sim", .affirmative), ("não posso", .negative),
            ("tal vez", .unknown), ("peut-être", .unknown), ("vielleicht", .unknown), ("talvez", .unknown),
        ]
        for (text, intent) in cases {
            #expect(classifier.classify(text).intent == intent, "\(text)")
        }
    }
}

@Suite struct ReplyPolicyTests {
    let policy = ReplyPolicy(config: shippedConfig)

    func decide(_ number: String?, _ intent: Intent) -> ReplyPolicy.Decision {
        policy.decide(
            InboundMessage(guid: "g", number: number, message: "m", provider: "p"),
            classification: Classification(intent: intent, confidence: 1))
    }

    @Test func templatesAndReasons() {
        #expect(decide("+15550001", .affirmative) == .reply("Thanks! We got your YES."))
        #expect(decide("+15550001", .unknown) == .none(reason: "no_template"))
        #expect(decide(nil, .affirmative) == .none(reason: "no_number"))
        #expect(decide("ACME", .affirmative) == .none(reason: "sender_id"))
        let own = ReplyPolicy(templates: [.affirmative: "hi {number} ({intent})"], ownNumbers: ["+1 555 0001"])
        let msg = InboundMessage(guid: "g", number: "+15550001", message: "yes", provider: "p")
        #expect(own.decide(msg, classification: .init(intent: .affirmative, confidence: 1)) == .none(reason: "own_number"))
        let other = InboundMessage(guid: "g", number: "+15550002", message: "yes", provider: "p")
        #expect(own.decide(other, classification: .init(intent: .affirmative, confidence: 1)) == .reply("hi +15550002 (affirmative)"))
    }

    @Test func configErrorsAreClear() {
        #expect(throws: ReplyConfigError.self) { try ReplyConfig.load(path: "/nonexistent/smshook.yaml") }
        let bad = """
            classifier: {exact: {opt_out: [stop], opt_in: [start], help: [help]}, negators: [], contrast: [], languages: {}}
            replies: {yes_please: "x"}
            loop_guard: {max_replies: 3, window_seconds: 3600}
            own_numbers: []
            """
        #expect(throws: ReplyConfigError.self) { try ReplyConfig.parse(bad) }
        do {
            _ = try ReplyConfig.parse(bad)
        } catch {
            #expect("\(error)".contains("yes_please"))
        }
    }
}
