import FuzzSupport
import SMSCore

/// WebhookAuth.verify in every mode with an arbitrary header map, path, form and clock. Input: the first 8 bytes
/// are the clock, then lines `name: value` up to an empty line, then the path, then the body.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data, size > 0 else { return 0 }
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    var now = 0
    for b in bytes.prefix(8) { now = now << 8 | Int(b) }
    let rest = bytes.dropFirst(8)
    let parts = rest.split(separator: 0x0A, maxSplits: 64, omittingEmptySubsequences: false)
    var headers: [String: String] = [:]
    var index = 0
    while index < parts.count, !parts[index].isEmpty {
        let line = String(decoding: parts[index], as: UTF8.self)
        if let colon = line.firstIndex(of: ":") {
            headers[line[..<colon].lowercased()] = String(line[line.index(after: colon)...].drop { $0 == " " })
        }
        index += 1
    }
    let path = index + 1 < parts.count ? String(decoding: parts[index + 1], as: UTF8.self) : "/"
    let body = index + 2 < parts.count ? Array(parts[(index + 2)...].joined(separator: [0x0A])) : []
    let form = FormEncoding.decode(String(decoding: body, as: UTF8.self)) ?? []
    let request = WebhookAuth.Request(headers: headers, body: body, pathAndQuery: path, form: form)
    for mode in WebhookAuth.Mode.allCases {
        for tolerance in [0, 300, Int.max] {
            let auth = WebhookAuth(
                mode: mode, secrets: ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "plain"], toleranceSeconds: tolerance,
                publicBaseURL: "https://hooks.example.com")
            if let failure = auth.verify(request, now: now) {
                precondition(["missing", "bad_signature", "bad_timestamp", "stale_timestamp", "not_configured"].contains(failure.reason))
            } else {
                precondition(mode == .none || mode == .token || headers.count > 0)
            }
        }
    }
    return 0
}

@_cdecl("fuzz_auth_main")
func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt { runFuzzer(argc, argv, fuzz) }
