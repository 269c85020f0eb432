/// One command, encoded as RESP on the caller's thread so the I/O thread only copies bytes.
public struct RedisCommand: Sendable, Hashable {
    /// The command in RESP wire format.
    public let encoded: [UInt8]
    /// The command name, upper-cased, for logs and errors.
    public let name: String

    /// Builds a command from binary-safe arguments; the first is the command name.
    public init(_ arguments: [RedisArgument]) {
        precondition(!arguments.isEmpty, "a Redis command needs a name")
        var out: [UInt8] = []
        out.reserveCapacity(16 + arguments.reduce(0) { $0 + $1.bytes.count + 16 })
        out.append(UInt8(ascii: "*"))
        Self.appendDecimal(arguments.count, to: &out)
        for argument in arguments {
            out.append(UInt8(ascii: "$"))
            Self.appendDecimal(argument.bytes.count, to: &out)
            out.append(contentsOf: argument.bytes)
            out.append(13)
            out.append(10)
        }
        self.encoded = out
        self.name = String(decoding: arguments[0].bytes, as: UTF8.self).uppercased()
    }

    public init(_ arguments: RedisArgument...) {
        self.init(arguments)
    }

    private static func appendDecimal(_ value: Int, to out: inout [UInt8]) {
        out.append(contentsOf: String(value).utf8)
        out.append(13)
        out.append(10)
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
