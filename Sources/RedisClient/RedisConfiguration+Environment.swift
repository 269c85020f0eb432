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
            self.sentinels = try Self.endpoints(list, variable: "REDIS_SENTINELS")
            guard let name = env["REDIS_MASTER_NAME"], !name.isEmpty else {
                throw RedisError(.invalidURL, "REDIS_MASTER_NAME is required with REDIS_SENTINELS")
            }
            self.masterName = name
            self.sentinelPassword = env["REDIS_SENTINEL_PASSWORD"].flatMap { $0.isEmpty ? nil : $0 }
        }
        if let list = env["REDIS_CLUSTER_NODES"], !list.isEmpty {
            self.clusterNodes = try Self.endpoints(list, variable: "REDIS_CLUSTER_NODES")
            guard self.sentinels.isEmpty else {
                throw RedisError(.invalidURL, "REDIS_CLUSTER_NODES and REDIS_SENTINELS exclude each other (a cluster fails over by itself)")
            }
            guard self.database == 0 else {
                throw RedisError(.invalidURL, "REDIS_URL: a Redis Cluster has only database 0, got /\(self.database)")
            }
        }
        try self.readTLS(env)
    }

    /// `host:port,host:port` (IPv6 as `[::1]:7000`).
    private static func endpoints(_ list: String, variable: String) throws -> [Endpoint] {
        try list.split(separator: ",").map { item in
            let text = item.trimmingCharacters(in: " ")
            guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (1...65535).contains(port),
                colon != text.startIndex
            else {
                throw RedisError(.invalidURL, "\(variable): expected host:port, got '\(text)'")
            }
            var host = String(text[..<colon])
            if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
            return .tcp(host: host, port: port)
        }
    }

    /// `REDIS_TLS`, `REDIS_TLS_CA_FILE`, `REDIS_TLS_CERT_FILE` + `REDIS_TLS_KEY_FILE`, `REDIS_TLS_SERVER_NAME`,
    /// `REDIS_SENTINEL_TLS`. TLS is on with a `rediss://` URL or `REDIS_TLS=1` (for sentinel setups).
    private mutating func readTLS(_ env: [String: String]) throws {
        func value(_ name: String) -> String? { env[name].flatMap { $0.isEmpty ? nil : $0 } }
        func flag(_ name: String) throws -> Bool {
            switch value(name)?.lowercased() {
            case nil, "0", "false", "no", "off": return false
            case "1", "true", "yes", "on": return true
            case let other?: throw RedisError(.invalidURL, "\(name): expected 1 or 0, got '\(other)'")
            }
        }
        if try flag("REDIS_TLS"), self.tls == nil { self.tls = TLS() }
        let sentinelTLS = try flag("REDIS_SENTINEL_TLS")
        let files = ["REDIS_TLS_CA_FILE", "REDIS_TLS_CERT_FILE", "REDIS_TLS_KEY_FILE", "REDIS_TLS_SERVER_NAME"]
        guard self.tls != nil || sentinelTLS else {
            if let set = files.first(where: { value($0) != nil }) {
                throw RedisError(.invalidURL, "\(set) is set but TLS is off: use a rediss:// URL (or REDIS_TLS=1)")
            }
            return
        }
        var tls = TLS()
        tls.caFile = value("REDIS_TLS_CA_FILE")
        tls.certificateFile = value("REDIS_TLS_CERT_FILE")
        tls.keyFile = value("REDIS_TLS_KEY_FILE")
        tls.serverName = value("REDIS_TLS_SERVER_NAME")
        if (tls.certificateFile == nil) != (tls.keyFile == nil) {
            let missing = tls.certificateFile == nil ? "REDIS_TLS_CERT_FILE" : "REDIS_TLS_KEY_FILE"
            throw RedisError(.invalidURL, "\(missing) is required with \(missing == "REDIS_TLS_CERT_FILE" ? "REDIS_TLS_KEY_FILE" : "REDIS_TLS_CERT_FILE") (mutual TLS needs both)")
        }
        if self.tls != nil { self.tls = tls }
        if sentinelTLS { self.sentinelTLS = tls }
    }
}

extension Substring {
    func trimmingCharacters(in set: Character) -> String {
        String(self.drop { $0 == set }.reversed().drop { $0 == set }.reversed())
    }
}
