/// One command, encoded as RESP on the caller's thread so the I/O thread only copies bytes.
public struct RedisCommand: Sendable, Hashable {
    /// The command in RESP wire format.
    public let encoded: [UInt8]

    /// The command name, upper-cased, for logs and errors.
    public var name: String {
        // *N\r\n$L\r\nNAME\r\n
        guard let first = self.encoded.firstIndex(of: UInt8(ascii: "$")),
            let lengthEnd = self.encoded[first...].firstIndex(of: 13),
            let length = Int(String(decoding: self.encoded[(first + 1)..<lengthEnd], as: UTF8.self)),
            length >= 0, length <= self.encoded.count - lengthEnd - 2
        else { return "?" }
        return String(decoding: self.encoded[(lengthEnd + 2)..<(lengthEnd + 2 + length)], as: UTF8.self).uppercased()
    }

    /// A command already in RESP (see `RedisCommandBuilder`).
    init(encoded: [UInt8]) { self.encoded = encoded }

    /// Builds a command from binary-safe arguments; the first is the command name.
    public init(_ arguments: [RedisArgument]) {
        precondition(!arguments.isEmpty, "a Redis command needs a name")
        self.init(parts: arguments)
    }

    /// A command whose arguments are the concatenation of `parts` (no intermediate array), e.g. a script call's
    /// head, keys and arguments.
    public init(parts: [RedisArgument]...) {
        var count = 0
        var size = 16
        for part in parts {
            count += part.count
            for argument in part { size += argument.bytes.count + 16 }
        }
        var builder = RedisCommandBuilder(count: count, capacity: size)
        for part in parts {
            for argument in part { builder.append(argument.bytes) }
        }
        self = builder.command
    }

    public init(_ arguments: RedisArgument...) {
        self.init(arguments)
    }
}

/// One binary-safe command argument.
public struct RedisArgument: Sendable, Hashable, ExpressibleByStringInterpolation, ExpressibleByIntegerLiteral {
    public let bytes: [UInt8]

    public init(_ string: String) { self.bytes = Array(string.utf8) }
    public init(bytes: [UInt8]) { self.bytes = bytes }
    public init<I: BinaryInteger>(_ value: I) { self.bytes = Array(String(value).utf8) }
    public init(stringLiteral value: String) { self.init(value) }
    public init(integerLiteral value: Int) { self.init(value) }
}
