import Foundation
import FuzzSupport
import SMSCore

/// The classifier and its normaliser on any text, with the shipped vocabulary; the subscriber normaliser too.
/// Run from the repository root (ops/scripts/fuzz.sh does): config/smshook.yaml, as serve reads it.
let classifier = Classifier(config: try! ReplyConfig.parse(String(contentsOfFile: "config/smshook.yaml", encoding: .utf8)).classifier)

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data, size > 0 else { return 0 }
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    let result = classifier.classify(text)
    precondition(result.confidence >= 0 && result.confidence <= 1)
    _ = TextNormalizer.tokens(text)
    let subscriber = PhoneNumber.subscriber(text, defaultCountryCode: "44")
    precondition(PhoneNumber.subscriber(subscriber, defaultCountryCode: "44") == subscriber, "subscriber keys are not stable")
    _ = LogText.escape(text)
    return 0
}

@_cdecl("fuzz_classifier_main")
func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt { runFuzzer(argc, argv, fuzz) }
