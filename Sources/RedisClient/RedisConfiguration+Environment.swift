extension RedisConfiguration {
    /// Reads `REDIS_URL`, `REDIS_CONNECTIONS`, `REDIS_CONNECT_TIMEOUT_MS` and `REDIS_COMMAND_TIMEOUT_MS`.
    /// Errors name the variable.
    public init(environment env: [String: String]) throws {
        do {
            try self.init(url: env["REDIS_URL"] ?? "redis://127.0.0.1:6379")
        } catch let error as RedisError {
            throw RedisError(.invalidURL, "REDIS_URL: \(error.message)")
        }
        func int(_ name: String, _ range: ClosedRange<Int>) throws -> Int? {
            guard let text = env[name], !text.isEmpty else { return nil }
            guard let n = Int(text), range.contains(n) else {
                throw RedisError(.invalidURL, "\(name): expected a whole number in \(range), got '\(text)'")
            }
            return n
        }
        if let n = try int("REDIS_CONNECTIONS", 1...64) { self.connections = n }
        if let n = try int("REDIS_CONNECT_TIMEOUT_MS", 1...60_000) { self.connectTimeout = .milliseconds(n) }
        if let n = try int("REDIS_COMMAND_TIMEOUT_MS", 1...600_000) { self.commandTimeout = .milliseconds(n) }
        if let list = env["REDIS_SENTINELS"], !list.isEmpty {
            self.sentinels = try list.split(separator: ",").map { item in
                let text = item.trimmingCharacters(in: " ")
                guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (1...65535).contains(port) else {
                    throw RedisError(.invalidURL, "REDIS_SENTINELS: expected host:port, got '\(text)'")
                }
                return .tcp(host: String(text[..<colon]), port: port)
            }
            guard let name = env["REDIS_MASTER_NAME"], !name.isEmpty else {
                throw RedisError(.invalidURL, "REDIS_MASTER_NAME is required with REDIS_SENTINELS")
            }
            self.masterName = name
            self.sentinelPassword = env["REDIS_SENTINEL_PASSWORD"].flatMap { $0.isEmpty ? nil : $0 }
        }
    }
}

extension Substring {
    func trimmingCharacters(in set: Character) -> String {
        String(self.drop { $0 == set }.reversed().drop { $0 == set }.reversed())
    }
}
