import FuzzSupport
import SMSCore

/// The worker's readers of provider answers: status from the first two bytes, a Retry-After header up to the first
/// newline, the body after it. Whatever comes back, the retry delay is finite and bounded.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data, size > 0 else { return 0 }
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard bytes.count >= 2 else { return 0 }
    let status = Int(bytes[0]) << 8 | Int(bytes[1])
    let rest = bytes.dropFirst(2)
    let newline = rest.firstIndex(of: 0x0A) ?? rest.endIndex
    let retryAfter = String(decoding: rest[..<newline], as: UTF8.self)
    let body = Array(rest[newline...].dropFirst())
    let backoff = Backoff()
    for read in [ProviderResponses.smsMobileAPI, ProviderResponses.twilio, ProviderResponses.http] {
        if case .retryable(_, let after) = read(status, retryAfter, body) {
            if let after { precondition(after.isFinite && after >= 0 && after <= ProviderResponses.maxRetryAfterSeconds) }
            let delay = backoff.delay(afterAttempt: Int(bytes[0]), retryAfter: after, random: Double(bytes[1]) / 255)
            precondition(delay.isFinite && delay >= 0 && delay <= Backoff.maxDelaySeconds)
            _ = Int64(delay * 1000)
        }
    }
    return 0
}

@_cdecl("fuzz_provider_responses_main")
func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt { runFuzzer(argc, argv, fuzz) }
