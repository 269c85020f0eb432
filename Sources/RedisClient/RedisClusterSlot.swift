/// Redis Cluster's key → slot function: CRC16 (XMODEM) of the key, or of its hash tag (the text between the first
/// `{` and the next `}`, when not empty), modulo 16384.
public enum RedisClusterSlot {
    public static let count = 16384

    public static func of<Key: Collection<UInt8>>(_ key: Key) -> Int {
        if let open = key.firstIndex(of: UInt8(ascii: "{")) {
            let rest = key[key.index(after: open)...]
            if let close = rest.firstIndex(of: UInt8(ascii: "}")), close != rest.startIndex {
                return Int(self.crc16(rest[..<close]) & 0x3FFF)
            }
        }
        return Int(self.crc16(key) & 0x3FFF)
    }

    public static func of(_ key: String) -> Int { self.of(Array(key.utf8)) }

    static func crc16<Bytes: Collection<UInt8>>(_ bytes: Bytes) -> UInt16 {
        var crc: UInt16 = 0
        for byte in bytes {
            crc = (crc << 8) ^ self.table[Int(UInt8(truncatingIfNeeded: crc >> 8) ^ byte)]
        }
        return crc
    }

    private static let table: [UInt16] = (0..<256).map { i in
        var crc = UInt16(i) << 8
        for _ in 0..<8 { crc = crc & 0x8000 != 0 ? (crc << 1) ^ 0x1021 : crc << 1 }
        return crc
    }
}

extension RedisCommand {
    /// The key that decides where a command runs in a cluster: the first key of a script call (`EVALSHA`/`EVAL`/
    /// `FCALL` with keys), none for commands without keys, else the first argument. Read from the RESP bytes.
    var routingKey: ArraySlice<UInt8>? {
        var reader = RESPArgumentReader(self.encoded)
        guard let count = reader.count, count >= 1, let name = reader.next() else { return nil }
        let upper = name.map { $0 >= 97 && $0 <= 122 ? $0 - 32 : $0 }
        switch String(decoding: upper, as: UTF8.self) {
        case "EVALSHA", "EVAL", "EVALSHA_RO", "EVAL_RO", "FCALL", "FCALL_RO":
            guard count >= 4, reader.next() != nil, let keys = reader.next(),
                let n = Int(String(decoding: keys, as: UTF8.self)), n > 0
            else { return nil }
            return reader.next()
        case "MULTI", "EXEC", "DISCARD", "WAIT", "PING", "SCRIPT", "INFO", "CLUSTER", "ASKING", "READONLY", "AUTH",
            "SELECT", "ROLE", "DBSIZE", "CONFIG", "CLIENT", "COMMAND", "TIME", "FLUSHALL", "FLUSHDB", "SCAN", "ECHO",
            "HELLO", "QUIT", "LASTSAVE", "BGSAVE", "SAVE", "MEMORY", "LATENCY", "SLOWLOG", "ACL", "FUNCTION":
            return nil
        default:
            return count >= 2 ? reader.next() : nil
        }
    }

    /// The cluster slot of `routingKey`; nil for a command without keys.
    var slot: Int? { self.routingKey.map { RedisClusterSlot.of($0) } }
}

/// Walks the bulk strings of one encoded command (`*N\r\n$L\r\n...\r\n`...).
private struct RESPArgumentReader {
    let bytes: [UInt8]
    var index = 0
    var count: Int?

    init(_ bytes: [UInt8]) {
        self.bytes = bytes
        if bytes.first == UInt8(ascii: "*") {
            self.index = 1
            self.count = self.number()
        }
    }

    private mutating func number() -> Int? {
        var n = 0
        var digits = 0
        while self.index < self.bytes.count, self.bytes[self.index] != 13 {
            let d = Int(self.bytes[self.index]) - 48
            guard d >= 0, d <= 9, digits < 12 else { return nil }
            n = n * 10 + d
            digits += 1
            self.index += 1
        }
        guard digits > 0, self.index + 1 < self.bytes.count else { return nil }
        self.index += 2  // \r\n
        return n
    }

    mutating func next() -> ArraySlice<UInt8>? {
        guard self.index < self.bytes.count, self.bytes[self.index] == UInt8(ascii: "$") else { return nil }
        self.index += 1
        guard let length = self.number(), length <= self.bytes.count - self.index else { return nil }
        let value = self.bytes[self.index..<(self.index + length)]
        self.index += length + 2
        return value
    }
}
