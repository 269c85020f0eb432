import FuzzSupport
import RedisClient

/// RedisCommandBuilder: arguments split from the input at 0xFF are encoded as RESP, which reads back to them.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data, size > 0 else { return 0 }
    let parts = UnsafeBufferPointer(start: data, count: size).split(separator: 0xFF, omittingEmptySubsequences: false).map(Array.init)
    var builder = RedisCommandBuilder(count: parts.count, capacity: 8)
    for part in parts { builder.append(part) }
    let command = builder.command
    _ = command.name
    // *N\r\n then $L\r\n<bytes>\r\n per argument
    var bytes = command.encoded[...]
    func line() -> Int {
        let end = bytes.firstIndex(of: 13)!
        let n = Int(String(decoding: bytes[bytes.startIndex + 1..<end], as: UTF8.self))!
        bytes = bytes[(end + 2)...]
        return n
    }
    precondition(bytes.first == UInt8(ascii: "*") && line() == parts.count)
    for part in parts {
        precondition(bytes.first == UInt8(ascii: "$") && line() == part.count)
        precondition(Array(bytes.prefix(part.count)) == part)
        bytes = bytes.dropFirst(part.count)
        precondition(Array(bytes.prefix(2)) == [13, 10])
        bytes = bytes.dropFirst(2)
    }
    precondition(bytes.isEmpty)
    return 0
}

@_cdecl("fuzz_resp_main")
func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt { runFuzzer(argc, argv, fuzz) }
