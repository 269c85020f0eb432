import Crypto

/// A Lua script called by SHA1 (`EVALSHA`), loaded on demand.
public struct RedisScript: Sendable, Hashable {
    public let source: String
    public let sha1: String

    public init(_ source: String) {
        self.source = source
        self.sha1 = Insecure.SHA1.hash(data: Array(source.utf8)).map { byte in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined()
    }

    /// `EVALSHA sha numkeys keys... arguments...`, for `RedisClient.evaluate(_:call:)` or a pipeline of calls
    /// (`RedisClient.evaluateEach`).
    public func call(keys: [RedisArgument], arguments: [RedisArgument]) -> RedisCommand {
        RedisCommand(parts: ["EVALSHA", RedisArgument(self.sha1), RedisArgument(keys.count)], keys, arguments)
    }
}
