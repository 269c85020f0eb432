/// Where and how to connect. Built from a URL with `init(url:)`.
public struct RedisConfiguration: Sendable, Hashable {
    public enum Endpoint: Sendable, Hashable {
        case tcp(host: String, port: Int)
        case unix(path: String)
    }

    public var endpoint: Endpoint
    public var username: String?
    public var password: String?
    public var database: Int
    /// Limit for establishing a connection (TCP connect plus AUTH/SELECT).
    public var connectTimeout: Duration
    /// Limit for a reply; a command without a reply by then fails with `.timeout` and the connection is reset.
    public var commandTimeout: Duration
    /// Multiplexed connections shared by all callers (commands are pipelined on each).
    public var connections: Int
    /// First and largest wait between reconnect attempts after a failure.
    public var reconnectBackoff: Duration
    public var maxReconnectBackoff: Duration
    /// Sentinels to ask for the primary (`SENTINEL get-master-addr-by-name`) on every (re)connect; empty: none.
    public var sentinels: [Endpoint] = []
    /// The primary's name at the sentinels (`REDIS_MASTER_NAME`).
    public var masterName: String?
    /// Password of the sentinels themselves, when they require one.
    public var sentinelPassword: String?
    /// TLS for data connections (`rediss://`, or `REDIS_TLS=1` with sentinels); nil: plain TCP.
    public var tls: TLS?
    /// TLS for the connections to the sentinels (`REDIS_SENTINEL_TLS=1`: the same files); nil: plain TCP.
    public var sentinelTLS: TLS?
    /// Seed nodes of a Redis Cluster (`REDIS_CLUSTER_NODES`); empty: not a cluster. `endpoint` is then unused;
    /// credentials, TLS and timeouts apply to every node, and `connections` is per primary.
    public var clusterNodes: [Endpoint] = []

    /// Certificates for TLS. Verification is always on: the server's certificate must chain to `caFile` (or to the
    /// system's roots) and name the host, or `serverName` when set (SNI and verification; for connecting by IP).
    public struct TLS: Sendable, Hashable {
        public var caFile: String?
        /// Client certificate and key (PEM), for servers that require one (mutual TLS).
        public var certificateFile: String?
        public var keyFile: String?
        public var serverName: String?

        public init(caFile: String? = nil, certificateFile: String? = nil, keyFile: String? = nil, serverName: String? = nil) {
            self.caFile = caFile
            self.certificateFile = certificateFile
            self.keyFile = keyFile
            self.serverName = serverName
        }
    }

    public init(
        endpoint: Endpoint,
        username: String? = nil,
        password: String? = nil,
        database: Int = 0,
        connectTimeout: Duration = .seconds(2),
        commandTimeout: Duration = .seconds(5),
        connections: Int = 1,
        reconnectBackoff: Duration = .milliseconds(50),
        maxReconnectBackoff: Duration = .seconds(1)
    ) {
        self.endpoint = endpoint
        self.username = username
        self.password = password
        self.database = database
        self.connectTimeout = connectTimeout
        self.commandTimeout = commandTimeout
        self.connections = max(1, connections)
        self.reconnectBackoff = reconnectBackoff
        self.maxReconnectBackoff = maxReconnectBackoff
    }

    /// Parses `redis://[user:password@]host:port[/db]`, `rediss://…` (the same over TLS) or
    /// `unix:///path/to/sock[?db=N]`. A password alone is written `redis://:password@host:port`.
    public init(url: String) throws {
        let shown = Self.redact(url)  // errors name the URL without its password
        if url.hasPrefix("unix://") {
            let rest = url.dropFirst("unix://".count)
            let parts = rest.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
            let path = String(parts[0])
            guard path.hasPrefix("/") else { throw RedisError(.invalidURL, "unix URL needs an absolute path: \(shown)") }
            var db = 0
            var password: String?
            if parts.count == 2 {
                for pair in parts[1].split(separator: "&") {
                    let kv = pair.split(separator: "=", maxSplits: 1).map(String.init)
                    guard kv.count == 2 else { continue }
                    if kv[0] == "db" {
                        guard let n = Int(kv[1]), n >= 0 else { throw RedisError(.invalidURL, "bad db in \(shown)") }
                        db = n
                    } else if kv[0] == "password" {
                        password = Self.percentDecode(kv[1])
                    }
                }
            }
            self.init(endpoint: .unix(path: path), password: password, database: db)
            return
        }
        let secure = url.hasPrefix("rediss://")
        guard url.hasPrefix("redis://") || secure else {
            throw RedisError(.invalidURL, "expected redis://host:port[/db], rediss://host:port[/db] or unix:///path, got \(shown)")
        }
        var rest = Substring(url.dropFirst(secure ? "rediss://".count : "redis://".count))
        var username: String?
        var password: String?
        if let at = rest.lastIndex(of: "@") {
            let userinfo = rest[..<at]
            rest = rest[rest.index(after: at)...]
            if let colon = userinfo.firstIndex(of: ":") {
                let user = String(userinfo[..<colon])
                username = user.isEmpty ? nil : Self.percentDecode(user)
                password = Self.percentDecode(String(userinfo[userinfo.index(after: colon)...]))
            } else if !userinfo.isEmpty {
                password = Self.percentDecode(String(userinfo))
            }
        }
        var db = 0
        if let slash = rest.firstIndex(of: "/") {
            let dbText = rest[rest.index(after: slash)...]
            rest = rest[..<slash]
            if !dbText.isEmpty {
                guard let n = Int(dbText), n >= 0 else { throw RedisError(.invalidURL, "bad db in \(shown)") }
                db = n
            }
        }
        var host = String(rest)
        var port = 6379
        if host.hasPrefix("[") {  // [::1]:6379
            guard let close = host.firstIndex(of: "]") else { throw RedisError(.invalidURL, "bad IPv6 host in \(shown)") }
            let after = host[host.index(after: close)...]
            let inner = String(host[host.index(after: host.startIndex)..<close])
            if after.hasPrefix(":") {
                guard let p = Int(after.dropFirst()) else { throw RedisError(.invalidURL, "bad port in \(shown)") }
                port = p
            }
            host = inner
        } else if let colon = host.lastIndex(of: ":") {
            guard let p = Int(host[host.index(after: colon)...]) else { throw RedisError(.invalidURL, "bad port in \(shown)") }
            port = p
            host = String(host[..<colon])
        }
        guard !host.isEmpty else { throw RedisError(.invalidURL, "missing host in \(shown)") }
        guard (1...65535).contains(port) else { throw RedisError(.invalidURL, "port out of range in \(shown)") }
        self.init(endpoint: .tcp(host: host, port: port), username: username, password: password, database: db)
        if secure { self.tls = TLS() }
    }

    /// The URL without its password, for logs.
    public var redactedURL: String {
        if !self.clusterNodes.isEmpty {
            let auth = self.password == nil ? "" : "\(self.username ?? ""):***@"
            return "\(self.tls == nil ? "redis" : "rediss")://\(auth)\(self.clusterNodes.map(\.text).joined(separator: ",")) (cluster)"
        }
        switch self.endpoint {
        case .unix(let path): return "unix://\(path)?db=\(self.database)"
        case .tcp(let host, let port):
            let auth = self.password == nil ? "" : "\(self.username ?? ""):***@"
            let h = host.contains(":") ? "[\(host)]" : host
            return "\(self.tls == nil ? "redis" : "rediss")://\(auth)\(h):\(port)/\(self.database)"
        }
    }

    /// A URL as given, with the password (userinfo after `:`, or a `password=` parameter) replaced by `***`.
    public static func redact(_ url: String) -> String {
        var out = url
        if let scheme = out.range(of: "://"), let at = out[scheme.upperBound...].lastIndex(of: "@") {
            let userinfo = out[scheme.upperBound..<at]
            let user = userinfo.firstIndex(of: ":").map { String(userinfo[..<$0]) + ":" } ?? ""
            out.replaceSubrange(scheme.upperBound..<at, with: user + "***")
        }
        if let range = out.range(of: "password=") {
            let end = out[range.upperBound...].firstIndex(of: "&") ?? out.endIndex
            out.replaceSubrange(range.upperBound..<end, with: "***")
        }
        return out
    }

    private static func percentDecode(_ s: String) -> String {
        guard s.contains("%") else { return s }
        var out: [UInt8] = []
        var bytes = Array(s.utf8)[...]
        while let b = bytes.popFirst() {
            if b == UInt8(ascii: "%"), bytes.count >= 2,
                let v = UInt8(String(decoding: bytes.prefix(2), as: UTF8.self), radix: 16)
            {
                out.append(v)
                bytes = bytes.dropFirst(2)
            } else {
                out.append(b)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
