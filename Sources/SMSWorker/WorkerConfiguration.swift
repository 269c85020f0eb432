import RedisClient
import SMSCore
import SMSStore

/// Everything `smshook worker` reads from the environment. Every key is documented in README.md.
public struct WorkerConfiguration: Sendable {
    public enum Provider: String, Sendable, CaseIterable {
        case console, smsmobileapi, twilio, http
    }

    public var redis: RedisConfiguration
    public var keyPrefix = "smshook"
    /// `SMSHOOK_SHARDS`: 1 (plain key names) unless Redis is a cluster.
    public var shards = 1
    public var workerID: String
    public var concurrency = 16
    /// Jobs a fetch loop takes per round trip while its queue has more (`WORKER_FETCH_BATCH`): their claims share one
    /// round trip and their finishes another (sends stay one at a time per loop).
    public var fetchBatch = 8
    /// BLMOVE block time; also how quickly a fetch loop notices shutdown.
    public var blockSeconds = 1.0
    /// With several shards, fetch loops poll their shards (no blocking per shard): the longest pause after a round
    /// that found nothing (pauses double from 5 ms up to this). Bounds the pickup delay of a job on an idle shard.
    public var pollMaxMilliseconds = 200
    public var heartbeatTTL = 30
    public var heartbeatInterval = 10.0
    public var reapInterval = 10.0
    public var maxRecoveries = 3
    /// How long a send claim holds (`WorkerScripts.claim`): a job reaped from a worker that may have sent it waits this
    /// long before another worker sends it; a stalled worker that wakes within it finishes its send first.
    public var sendLeaseSeconds = 60
    var sendLeaseMS: Int { self.sendLeaseSeconds * 1000 }
    public var drainSeconds = 25.0
    public var schedulerInterval = 1.0
    public var backoff = Backoff()
    public var deadMax = 10_000
    public var sentMarkerTTL = 7 * 24 * 3600
    public var auditMaxLength = 1_000_000
    /// Sends per second shared by all workers of a provider; 0 = no limit.
    public var sendRate = 0.0
    public var sendBurst = 1
    public var provider: Provider = .console
    /// Port of the worker's own `/metrics` and `/healthz` on 127.0.0.1 (`WORKER_METRICS_HOST` to change); 0 = off.
    public var metricsPort = 0
    public var metricsHost = "127.0.0.1"
    public var providerSettings = ProviderSettings()
    /// How long an API message's record lives after its last change (`SMSHOOK_RECORD_TTL`, as serve's).
    public var recordTTL = 30 * 86400
    /// Event deliveries in flight per endpoint (`EVENTS_CONCURRENCY`), each attempt's timeout (`EVENTS_TIMEOUT_MS`).
    public var eventsConcurrency = 4
    public var eventsTimeoutMS = 15_000
    /// Each channel keeps its own opt-out set (`opt_out_scope: channel` in the config file); default: one global set.
    public var optOutPerChannel = false

    public struct ProviderSettings: Sendable {
        public var connectTimeoutMS = 5000
        public var requestTimeoutMS = 15_000
        /// Keep-alive connections per provider URL (`HTTP1Client`): one per fetch loop, so that no send waits for one.
        public var connectionsPerHost = 16
        public var smsMobileAPIBaseURL = "https://api.smsmobileapi.com"
        public var smsMobileAPIKey = ""
        public var smsMobileAPISender: String?
        public var twilioBaseURL = "https://api.twilio.com"
        public var twilioAccountSID = ""
        public var twilioAuthToken = ""
        public var twilioFrom: String?
        public var twilioMessagingServiceSID: String?
        public var httpURL = ""
        public var httpSecret = ""
        public init() {}
    }

    public init(redis: RedisConfiguration, workerID: String) {
        self.redis = redis
        self.workerID = workerID
    }

    public init(environment env: [String: String], defaultWorkerID: String) throws {
        let redis: RedisConfiguration
        do {
            redis = try RedisConfiguration(environment: env)
        } catch let error as RedisError {
            throw ConfigurationError(variable: "REDIS", message: error.message)
        }
        let r = EnvironmentReader(env)
        self.init(redis: redis, workerID: r.string("WORKER_ID", default: defaultWorkerID))
        self.keyPrefix = r.string("SMSHOOK_KEY_PREFIX", default: self.keyPrefix)
        self.shards = try KeySpace.shardCount(env, cluster: !redis.clusterNodes.isEmpty)
        self.concurrency = try r.int("WORKER_CONCURRENCY", default: 16, range: 1...1024)
        self.fetchBatch = try r.int("WORKER_FETCH_BATCH", default: self.fetchBatch, range: 1...100)
        self.blockSeconds = try r.double("WORKER_BLOCK_SECONDS", default: 1, range: 0.01...60)
        self.pollMaxMilliseconds = try r.int("WORKER_POLL_MAX_MS", default: 200, range: 5...10_000)
        self.heartbeatTTL = try r.int("WORKER_HEARTBEAT_TTL", default: 30, range: 1...3600)
        self.heartbeatInterval = try r.double("WORKER_HEARTBEAT_INTERVAL", default: Double(self.heartbeatTTL) / 3, range: 0.05...3600)
        self.reapInterval = try r.double("WORKER_REAP_INTERVAL", default: 10, range: 0.05...3600)
        self.maxRecoveries = try r.int("WORKER_MAX_RECOVERIES", default: 3, range: 0...1000)
        self.sendLeaseSeconds = try r.int("WORKER_SEND_LEASE", default: 60, range: 1...86400)
        self.drainSeconds = try r.double("WORKER_DRAIN_SECONDS", default: 25, range: 0...3600)
        self.backoff = Backoff(
            baseSeconds: try r.double("RETRY_BASE_SECONDS", default: 5, range: 0.001...86400),
            capSeconds: try r.double("RETRY_CAP_SECONDS", default: 3600, range: 0.001...(7 * 86400)),
            maxAttempts: try r.int("RETRY_MAX_ATTEMPTS", default: 10, range: 1...1000))
        self.deadMax = try r.int("DEAD_MAX", default: 10_000, range: 1...10_000_000)
        self.sentMarkerTTL = try r.int("SENT_MARKER_TTL", default: self.sentMarkerTTL, range: 60...(366 * 86400))
        self.auditMaxLength = try r.int("SMSHOOK_AUDIT_MAXLEN", default: self.auditMaxLength, range: 1...1_000_000_000)
        self.sendRate = try r.double("SEND_RATE_PER_SECOND", default: 0, range: 0...100_000)
        self.sendBurst = try r.int("SEND_BURST", default: 1, range: 1...100_000)
        self.metricsPort = try r.int("WORKER_METRICS_PORT", default: 0, range: 0...65535)
        if env["WORKER_METRICS_PORT"] == nil, env["WORKER_METRICS_PORT_BASE"] != nil {
            // one base for every worker of a host: systemd's smshook-worker@N and supervisord's process N get base + N
            let base = try r.int("WORKER_METRICS_PORT_BASE", default: 0, range: 1...65535)
            let instance = try r.int("WORKER_INSTANCE", default: 0, range: 0...10_000)
            guard base + instance <= 65535 else {
                throw ConfigurationError(variable: "WORKER_INSTANCE", message: "WORKER_METRICS_PORT_BASE + \(instance) is over 65535")
            }
            self.metricsPort = base + instance
        }
        self.metricsHost = r.string("WORKER_METRICS_HOST", default: self.metricsHost)
        self.recordTTL = try r.int("SMSHOOK_RECORD_TTL", default: self.recordTTL, range: 60...(366 * 86400))
        self.eventsConcurrency = try r.int("EVENTS_CONCURRENCY", default: self.eventsConcurrency, range: 1...256)
        self.eventsTimeoutMS = try r.int("EVENTS_TIMEOUT_MS", default: self.eventsTimeoutMS, range: 100...120_000)
        let name = r.string("SMSHOOK_PROVIDER", default: "console")
        guard let provider = Provider(rawValue: name) else {
            throw ConfigurationError(
                variable: "SMSHOOK_PROVIDER",
                message: "unknown provider '\(name)'; one of \(Provider.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        self.provider = provider
        var p = ProviderSettings()
        p.connectTimeoutMS = try r.int("SEND_CONNECT_TIMEOUT_MS", default: 5000, range: 1...120_000)
        p.requestTimeoutMS = try r.int("SEND_TIMEOUT_MS", default: 15_000, range: 1...600_000)
        p.connectionsPerHost = self.concurrency
        switch provider {
        case .console: break
        case .smsmobileapi:
            p.smsMobileAPIBaseURL = r.string("SMSMOBILEAPI_BASE_URL", default: p.smsMobileAPIBaseURL)
            p.smsMobileAPIKey = try r.required("SMSMOBILEAPI_KEY", for: "SMSHOOK_PROVIDER=smsmobileapi")
            p.smsMobileAPISender = env["SMSMOBILEAPI_SENDER"]
        case .twilio:
            p.twilioBaseURL = r.string("TWILIO_BASE_URL", default: p.twilioBaseURL)
            p.twilioAccountSID = try r.required("TWILIO_ACCOUNT_SID", for: "SMSHOOK_PROVIDER=twilio")
            p.twilioAuthToken = try r.required("TWILIO_AUTH_TOKEN", for: "SMSHOOK_PROVIDER=twilio")
            p.twilioFrom = env["TWILIO_FROM"].flatMap { $0.isEmpty ? nil : $0 }
            p.twilioMessagingServiceSID = env["TWILIO_MESSAGING_SERVICE_SID"].flatMap { $0.isEmpty ? nil : $0 }
            guard p.twilioFrom != nil || p.twilioMessagingServiceSID != nil else {
                throw ConfigurationError(variable: "TWILIO_FROM", message: "set TWILIO_FROM or TWILIO_MESSAGING_SERVICE_SID")
            }
        case .http:
            p.httpURL = try r.required("HTTP_PROVIDER_URL", for: "SMSHOOK_PROVIDER=http")
            p.httpSecret = try r.required("HTTP_PROVIDER_SECRET", for: "SMSHOOK_PROVIDER=http")
        }
        // Credentials travel in these requests: https only, unless a test or a lab says otherwise explicitly.
        if env["SMSHOOK_ALLOW_INSECURE_PROVIDER"] != "1" {
            let urls: [(String, String)] = switch provider {
            case .console: []
            case .smsmobileapi: [("SMSMOBILEAPI_BASE_URL", p.smsMobileAPIBaseURL)]
            case .twilio: [("TWILIO_BASE_URL", p.twilioBaseURL)]
            case .http: [("HTTP_PROVIDER_URL", p.httpURL)]
            }
            for (variable, url) in urls where !url.lowercased().hasPrefix("https://") {
                throw ConfigurationError(
                    variable: variable, message: "must be an https:// URL (set SMSHOOK_ALLOW_INSECURE_PROVIDER=1 for a local test provider)")
            }
        }
        self.providerSettings = p
    }
}
