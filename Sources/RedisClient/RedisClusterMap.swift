/// Which primary serves each of the 16384 slots, read from `CLUSTER SLOTS`; updated slot by slot on `MOVED`.
/// A value type without I/O: `RedisCluster` holds one and replaces it.
struct RedisClusterMap: Sendable, Equatable {
    private(set) var primaries: [RedisConfiguration.Endpoint] = []
    /// Per slot, an index into `primaries`; `unassigned` for a slot no primary serves.
    private var owner = [UInt16](repeating: Self.unassigned, count: RedisClusterSlot.count)
    private static let unassigned = UInt16.max

    init() {}

    /// Parses a `CLUSTER SLOTS` reply. A node listed with an empty or `?` address is the one that answered
    /// (`askedHost`). Throws when the reply does not have the documented shape.
    init(slots reply: RedisReply, askedHost: String) throws {
        guard let ranges = reply.array else { throw Self.bad(reply) }
        for range in ranges {
            guard let parts = range.array, parts.count >= 3, let start = parts[0].int, let end = parts[1].int,
                start >= 0, start <= end, end < RedisClusterSlot.count,
                let node = parts[2].array, node.count >= 2, let host = node[0].string, let port = node[1].int,
                (1...65535).contains(port)
            else { throw Self.bad(reply) }
            let endpoint = RedisConfiguration.Endpoint.tcp(
                host: host.isEmpty || host == "?" ? askedHost : host, port: Int(port))
            for slot in Int(start)...Int(end) { self.assign(slot, to: endpoint) }
        }
    }

    private static func bad(_ reply: RedisReply) -> RedisError {
        RedisError(.unexpectedReply, "CLUSTER SLOTS answered an unexpected shape: \(String(describing: reply).prefix(200))")
    }

    func primary(forSlot slot: Int) -> RedisConfiguration.Endpoint? {
        guard slot >= 0, slot < RedisClusterSlot.count else { return nil }
        let index = self.owner[slot]
        return index == Self.unassigned ? nil : self.primaries[Int(index)]
    }

    var coversAllSlots: Bool { !self.owner.contains(Self.unassigned) }

    /// Slots served per primary, for `doctor` and the bench.
    var slotsPerPrimary: [RedisConfiguration.Endpoint: Int] {
        var counts: [RedisConfiguration.Endpoint: Int] = [:]
        for index in self.owner where index != Self.unassigned { counts[self.primaries[Int(index)], default: 0] += 1 }
        return counts
    }

    mutating func assign(_ slot: Int, to endpoint: RedisConfiguration.Endpoint) {
        guard slot >= 0, slot < RedisClusterSlot.count else { return }
        let index: Int
        if let known = self.primaries.firstIndex(of: endpoint) {
            index = known
        } else {
            guard self.primaries.count < Int(Self.unassigned) else { return }
            index = self.primaries.count
            self.primaries.append(endpoint)
        }
        self.owner[slot] = UInt16(index)
    }
}

/// A cluster's answer that the command must go elsewhere or wait.
enum RedisRedirect: Equatable {
    /// The slot lives on another primary now: update the map and send it there.
    case moved(slot: Int, to: RedisConfiguration.Endpoint)
    /// The slot is being migrated and this key is already on the target: send it there once, after `ASKING`.
    case ask(slot: Int, to: RedisConfiguration.Endpoint)
    /// A multi-key command while its slot migrates: retry after a short wait.
    case tryAgain

    /// Reads `MOVED 3999 127.0.0.1:6381`, `ASK 3999 127.0.0.1:6381` (an empty host is `askedHost`) or `TRYAGAIN ...`.
    init?(error message: String, askedHost: String) {
        if message.hasPrefix("TRYAGAIN") {
            self = .tryAgain
            return
        }
        let words = message.split(separator: " ")
        guard words.count == 3, words[0] == "MOVED" || words[0] == "ASK", let slot = Int(words[1]),
            slot >= 0, slot < RedisClusterSlot.count, let colon = words[2].lastIndex(of: ":"),
            let port = Int(words[2][words[2].index(after: colon)...]), (1...65535).contains(port)
        else { return nil }
        var host = String(words[2][..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        let endpoint = RedisConfiguration.Endpoint.tcp(host: host.isEmpty ? askedHost : host, port: port)
        self = words[0] == "MOVED" ? .moved(slot: slot, to: endpoint) : .ask(slot: slot, to: endpoint)
    }
}
