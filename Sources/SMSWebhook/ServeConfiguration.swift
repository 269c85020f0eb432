import RedisClient
import SMSCore
import SMSSystem
import SMSStore

/// Everything `smshook serve` reads from the environment. Every key is documented in README.md.
public struct ServeConfiguration: Sendable {
    public var host = "127.0.0.1"
    public var port = 8080
    /// The admin listener (`/metrics`, `/readyz`): loopback; from the environment 9464 by default; nil: none.
    public var adminHost = "127.0.0.1"
    public var adminPort: Int?
    public var redis: RedisConfiguration
    public var keyPrefix = "smshook"
    /// `SMSHOOK_SHARDS`: 1 (plain key names) unless Redis is a cluster.
    public var shards = 1
    /// `SMSHOOK_BENCH_ROUTES=1`: `POST /bench/discard` (reads and drops the body, as the webhook reads it) for
    /// `make bench`'s second ceiling. Off in production.
    public var benchRoutes = false
    public var instanceID: String
    public var limits = IngestLimits()
    public var script = IngestScript.Settings()
    /// Seconds in the `Retry-After` header of a 503.
    public var retryAfterSeconds = 2
    /// Classifier vocabulary, reply templates, loop guard, own numbers (`SMSHOOK_CONFIG`).
    public var replies: ReplyConfig
    /// Where `replies` was read from (reloaded from there on SIGHUP), and the SHA-256 of its text.
    public var repliesPath: String?
    public var repliesSHA256 = ""
    /// Longest time a client may take to send its body (408 after); the connection idle limit is twice this.
    public var bodyTimeout: Duration = .seconds(10)
    /// Replicas that must acknowledge each ingest before a 2xx (`WAIT`); 0 = do not wait.
    public var minReplicasAck = 0
    public var replicaAckTimeout: Duration = .seconds(1)
    /// Ingest script calls in flight per shard; requests arriving meanwhile share the next call (0, the default: no
    /// merging).
    public var ingestCallsInFlight = IngestStore.defaultCallsInFlight
    /// Outage spool (`SMSHOOK_SPOOL_DIR`): calls that Redis cannot take are fsynced there and replayed; nil: 503.
    public var spoolDirectory: String?
    public var spoolMaxBytes = 256 << 20
    /// Per-route authentication; required by default.
    public var auth = RouteAuth()
    /// Bearer tokens of the send/read API (`SMSHOOK_API_TOKENS`, comma-separated); none: the API is off.
    public var apiTokens: [String] = []
    /// What the API keeps: per-number history, message records, idempotency answers.
    public var send = SendScript.Settings()

    public var apiEnabled: Bool { !self.apiTokens.isEmpty }
    /// The operator console on the admin listener (`SMSHOOK_CONSOLE_TOKENS` / `SMSHOOK_CONSOLE_USERS`); off without them.
    public var console = ConsoleConfiguration()

    public init(redis: RedisConfiguration, instanceID: String, replies: ReplyConfig) {
        self.redis = redis
        self.instanceID = instanceID
        self.replies = replies
    }

    /// Reads the configuration; throws `ConfigurationError` naming the variable that is wrong.
    public init(environment env: [String: String], defaultInstanceID: String) throws {
        let redis: RedisConfiguration
        do {
            redis = try RedisConfiguration(environment: env)
        } catch let error as RedisError {
            throw ConfigurationError(variable: "REDIS", message: error.message)
        }
        let reader = EnvironmentReader(env)
        let replies: ReplyConfig.File
        do {
            replies = try ReplyConfig.loadFile(path: env["SMSHOOK_CONFIG"])
        } catch {
            throw ConfigurationError(variable: "SMSHOOK_CONFIG", message: "\(error)")
        }
        self.init(redis: redis, instanceID: env["SMSHOOK_INSTANCE_ID"] ?? defaultInstanceID, replies: replies.config)
        self.repliesPath = replies.path
        self.repliesSHA256 = replies.sha256
        self.host = env["SMSHOOK_HOST"] ?? self.host
        self.port = try reader.int("SMSHOOK_PORT", default: self.port, range: 0...65535)
        self.adminHost = reader.string("SMSHOOK_ADMIN_HOST", default: self.adminHost)
        if env["SMSHOOK_ADMIN_PORT"] == "off" {
            self.adminPort = nil
        } else {
            self.adminPort = try reader.int("SMSHOOK_ADMIN_PORT", default: 9464, range: 0...65535)
        }
        if let admin = self.adminPort, admin == self.port, admin != 0 {
            throw ConfigurationError(variable: "SMSHOOK_ADMIN_PORT", message: "must differ from SMSHOOK_PORT (\(self.port))")
        }
        self.keyPrefix = env["SMSHOOK_KEY_PREFIX"] ?? self.keyPrefix
        guard !self.keyPrefix.isEmpty, !self.keyPrefix.contains(" ") else {
            throw ConfigurationError(variable: "SMSHOOK_KEY_PREFIX", message: "must be non-empty, without spaces")
        }
        self.shards = try KeySpace.shardCount(env, cluster: !redis.clusterNodes.isEmpty)
        self.benchRoutes = env["SMSHOOK_BENCH_ROUTES"] == "1"
        self.limits.maxBodyBytes = try reader.int("SMSHOOK_MAX_BODY_BYTES", default: self.limits.maxBodyBytes, range: 1024...(64 << 20))
        self.limits.maxBatch = try reader.int("SMSHOOK_MAX_BATCH", default: self.limits.maxBatch, range: 1...100_000)
        self.limits.maxMessageLength = try reader.int("SMSHOOK_MAX_MESSAGE_LENGTH", default: self.limits.maxMessageLength, range: 1...1_000_000)
        self.script.dedupTTLSeconds = try reader.int("SMSHOOK_DEDUP_TTL", default: self.script.dedupTTLSeconds, range: 1...(366 * 86400))
        self.script.auditMaxLength = try reader.int("SMSHOOK_AUDIT_MAXLEN", default: self.script.auditMaxLength, range: 1...1_000_000_000)
        self.script.rejectedMaxLength = try reader.int("SMSHOOK_REJECTED_MAXLEN", default: self.script.rejectedMaxLength, range: 1...1_000_000_000)
        self.auth = try RouteAuth(environment: env)
        if let tolerance = self.auth.all.first?.auth.toleranceSeconds, tolerance >= self.script.dedupTTLSeconds {
            throw ConfigurationError(
                variable: "SMSHOOK_SIGNATURE_TOLERANCE",
                message: "\(tolerance) s must be shorter than SMSHOOK_DEDUP_TTL (\(self.script.dedupTTLSeconds) s): "
                    + "a signed request replayed inside the tolerance must still be caught as a duplicate")
        }
        self.bodyTimeout = .milliseconds(try reader.int("SMSHOOK_BODY_TIMEOUT_MS", default: 10_000, range: 100...600_000))
        self.minReplicasAck = try reader.int("REDIS_MIN_REPLICAS_ACK", default: 0, range: 0...16)
        self.replicaAckTimeout = .milliseconds(try reader.int("REDIS_REPLICA_ACK_TIMEOUT_MS", default: 1000, range: 1...60_000))
        self.ingestCallsInFlight = try reader.int(
            "REDIS_INGEST_CALLS", default: IngestStore.defaultCallsInFlight, range: 0...64)
        self.spoolDirectory = env["SMSHOOK_SPOOL_DIR"].flatMap { $0.isEmpty ? nil : $0 }
        self.spoolMaxBytes = try reader.int("SMSHOOK_SPOOL_MAX_BYTES", default: self.spoolMaxBytes, range: 4096...(1 << 40))
        self.retryAfterSeconds = try reader.int("SMSHOOK_RETRY_AFTER", default: self.retryAfterSeconds, range: 1...3600)
        self.apiTokens = (env["SMSHOOK_API_TOKENS"] ?? "").split(separator: ",").map { String($0).trimmingWhitespace() }.filter { !$0.isEmpty }
        if let weak = self.apiTokens.first(where: { $0.utf8.count < 16 }) {
            throw ConfigurationError(
                variable: "SMSHOOK_API_TOKENS", message: "each token needs at least 16 characters (one has \(weak.utf8.count))")
        }
        self.send.historyMaxLength = try reader.int("SMSHOOK_HISTORY_LENGTH", default: self.send.historyMaxLength, range: 1...10_000)
        self.send.recordTTLSeconds = try reader.int("SMSHOOK_RECORD_TTL", default: self.send.recordTTLSeconds, range: 60...(366 * 86400))
        self.send.idempotencyTTLSeconds = try reader.int("SMSHOOK_IDEMPOTENCY_TTL", default: self.send.idempotencyTTLSeconds, range: 60...(30 * 86400))
        self.send.auditMaxLength = self.script.auditMaxLength
        self.console = try ConsoleConfiguration(environment: env)
    }
}

