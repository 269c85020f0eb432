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
    }
}
