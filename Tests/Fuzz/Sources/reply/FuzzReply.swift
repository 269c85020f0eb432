import FuzzSupport
import RedisClient

/// hiredis's reply reader, as a connection uses it, on bytes a Redis server (or something posing as one) could send:
/// it never crashes, and reading the bytes whole or one at a time gives the same replies (or both fail).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data, size > 0 else { return 0 }
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let whole = Result { try RedisReply.parse(bytes) }
    let trickled = Result { try RedisReply.parse(bytes, chunk: 1) }
    switch (whole, trickled) {
    case (.success(let a), .success(let b)): precondition(a == b, "whole and byte-by-byte reads differ")
    case (.failure, .failure): break
    default: preconditionFailure("whole and byte-by-byte reads disagree on validity")
    }
    return 0
}

@_cdecl("fuzz_reply_main")
func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt { runFuzzer(argc, argv, fuzz) }
