import FuzzSupport
import SMSCore

/// Twilio's form body: decoded within the field cap, then read as a message; encoding round-trips.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data, size > 0 else { return 0 }
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    guard let form = FormEncoding.decode(text) else { return 0 }
    precondition(form.count <= FormEncoding.maxFields)
    let again = FormEncoding.decode(FormEncoding.encode(form))
    precondition(again.map { $0.map { "\($0.0)=\($0.1)" } } == form.map { "\($0.0)=\($0.1)" }, "form encoding does not round-trip")
    if let message = try? ProviderPayloads.twilio(form, limits: IngestLimits()) { precondition(message.guid.hasPrefix("twilio:")) }
    return 0
}

@_cdecl("fuzz_form_main")
func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt { runFuzzer(argc, argv, fuzz) }
