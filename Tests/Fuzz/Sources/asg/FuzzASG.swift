import FuzzSupport
import SMSCore

/// android-sms-gateway events: a message keyed `asg:<messageId>`, another event, or an error.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data, size > 0 else { return 0 }
    let body = Array(UnsafeBufferPointer(start: data, count: size))
    if case .message(let message)? = try? ProviderPayloads.androidSMSGateway(body, limits: IngestLimits()) {
        precondition(message.guid.hasPrefix("asg:"))
    }
    return 0
}

@_cdecl("fuzz_asg_main")
func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt { runFuzzer(argc, argv, fuzz) }
