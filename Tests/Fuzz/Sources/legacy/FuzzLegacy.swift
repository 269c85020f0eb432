import FuzzSupport
import SMSCore

/// The legacy SMSMobileAPI decoder: any body gives messages and rejected items, or one error; never a trap.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data, size > 0 else { return 0 }
    var limits = IngestLimits()
    limits.maxBatch = 50
    guard let decoded = try? LegacyPayload.decode(Array(UnsafeBufferPointer(start: data, count: size)), limits: limits) else { return 0 }
    precondition(decoded.items.count <= limits.maxBatch)
    for case .accepted(let message) in decoded.items {
        precondition(!message.guid.isEmpty && message.guid.utf8.count <= limits.maxGUIDLength || message.guidDerived)
        precondition(message.message.unicodeScalars.count <= limits.maxMessageLength)
        if let number = message.number { _ = PhoneNumber.subscriber(number, defaultCountryCode: "1") }
    }
    return 0
}

@_cdecl("fuzz_legacy_main")
func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt { runFuzzer(argc, argv, fuzz) }
