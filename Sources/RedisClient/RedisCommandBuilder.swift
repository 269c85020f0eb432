/// Writes one command's RESP argument by argument into a single buffer: for calls with many or large arguments,
/// whose text can be written straight into the command instead of into an array per argument first.
public struct RedisCommandBuilder {
    private var out: [UInt8]
    private let count: Int
    private var written = 0

    /// - Parameter count: how many arguments (the command name included) will be appended.
    public init(count: Int, capacity: Int = 256) {
        precondition(count > 0, "a Redis command needs a name")
        self.count = count
        self.out = []
        self.out.reserveCapacity(capacity)
        self.out.append(UInt8(ascii: "*"))
        Self.appendDecimal(count, to: &self.out)
    }

    /// A script call by SHA with `keys` keys and `arguments` arguments still to append.
    public init(evaluating script: RedisScript, keys: Int, arguments: Int, capacity: Int = 256) {
        self.init(count: 3 + keys + arguments, capacity: capacity)
        self.append("EVALSHA")
        self.append(script.sha1)
        self.append(keys)
    }

    public mutating func append(_ bytes: UnsafeRawBufferPointer) {
        precondition(self.written < self.count, "more arguments than announced")
        self.written += 1
        if bytes.count <= 960 {  // `$<length>\r\n<bytes>\r\n` in one append, through a buffer on the stack
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: bytes.count + 32) { buffer in
                buffer[0] = UInt8(ascii: "$")
                var i = 1 + Self.writeDecimal(bytes.count, into: UnsafeMutableBufferPointer(rebasing: buffer[1...]))
                UnsafeMutableRawBufferPointer(rebasing: UnsafeMutableRawBufferPointer(buffer)[i...]).copyMemory(from: bytes)
                i += bytes.count
                buffer[i] = 13
                buffer[i + 1] = 10
                self.out.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[...(i + 1)]))
            }
            return
        }
        self.out.append(UInt8(ascii: "$"))
        Self.appendDecimal(bytes.count, to: &self.out)
        self.out.append(contentsOf: bytes.assumingMemoryBound(to: UInt8.self))  // typed: one memcpy
        self.out.append(13)
        self.out.append(10)
    }

    public mutating func append(_ bytes: [UInt8]) { bytes.withUnsafeBytes { self.append($0) } }

    public mutating func append(_ string: String) {
        var string = string
        string.withUTF8 { self.append(UnsafeRawBufferPointer($0)) }
    }

    public mutating func append(_ value: Int) { self.append(String(value)) }

    /// The finished command; every announced argument must have been appended.
    public var command: RedisCommand {
        precondition(self.written == self.count, "\(self.written) of \(self.count) arguments appended")
        return RedisCommand(encoded: self.out)
    }

    /// `value` in decimal, then CRLF.
    static func appendDecimal(_ value: Int, to out: inout [UInt8]) {
        guard value >= 0 else {
            out.append(contentsOf: String(value).utf8)
            out.append(contentsOf: [13, 10])
            return
        }
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 22) { buffer in
            out.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[..<Self.writeDecimal(value, into: buffer)]))
        }
    }

    /// Writes `value` (not negative) in decimal, then CRLF, at the start of `buffer` (room for 21 bytes); returns how
    /// many bytes it wrote.
    static func writeDecimal(_ value: Int, into buffer: UnsafeMutableBufferPointer<UInt8>) -> Int {
        var divisor = 1
        while divisor <= value / 10 { divisor *= 10 }
        var i = 0
        while divisor > 0 {
            buffer[i] = UInt8(ascii: "0") + UInt8(value / divisor % 10)
            i += 1
            divisor /= 10
        }
        buffer[i] = 13
        buffer[i + 1] = 10
        return i + 2
    }
}
