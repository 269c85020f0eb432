import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import RedisClient
import SMSCore
import SMSSystem
import SMSStore
import SMSWebhook
import TestSupport
import Testing

/// One `serve` instance on a free loopback port, with its own key prefix.
struct TestService {
    let configuration: ServeConfiguration
    let redisConfiguration: RedisConfiguration
    /// A separate client for the test's own checks.
    let check: RedisClient
    /// All shards' keys; `keys` is the first shard's (the only one on a single Redis).
    let space: KeySpace
    var keys: RedisKeys { self.space.shards[0] }

    /// - Parameter cluster: on the shared test cluster, with the cluster's default shard count.
    init(
        redisURL: String = TestRedis.url, tls: RedisConfiguration.TLS? = nil, prefix: String, instance: String = "test",
        cluster: Bool = false, configure: (inout ServeConfiguration) -> Void = { _ in }
    ) throws {
        var redisConfiguration = cluster ? try TestCluster.shared().configuration() : try RedisConfiguration(url: redisURL)
        redisConfiguration.connectTimeout = .milliseconds(500)
        if let tls { redisConfiguration.tls = tls }
        let replies = try ReplyConfig.load(path: RepoFile.path("config/smshook.yaml")).0
        var configuration = ServeConfiguration(redis: redisConfiguration, instanceID: instance, replies: replies)
        configuration.port = 0
        configuration.adminPort = nil
        configuration.keyPrefix = prefix
        configuration.shards = cluster ? KeySpace.defaultClusterShards : 1
        configuration.auth = .none
        configure(&configuration)
        self.configuration = configuration
        var logger = Logger(label: "test.serve")
        logger.logLevel = .warning
        self.redisConfiguration = redisConfiguration
        self.check = RedisClient(configuration: redisConfiguration, logger: logger)
        self.space = KeySpace(prefix: prefix, shards: configuration.shards)
    }

    /// A new application with its own Redis client, which the application closes when it stops.
    var app: some ApplicationProtocol {
        var logger = Logger(label: "test.serve")
        logger.logLevel = .warning
        let redis = RedisClient(configuration: self.redisConfiguration, logger: logger)
        return WebhookApplication.make(configuration: self.configuration, redis: redis, logger: logger)
    }

    /// The keys of a message's shard (by its number as the service normalises it, or its guid).
    func shard(number: String?, guid: String) -> RedisKeys {
        self.space.shard(subscriber: number.map(ReplyPolicy(config: self.configuration.replies).subscriber), guid: guid)
    }

    /// A count summed over every shard, e.g. `total("LLEN", \.replies)`.
    func total(_ command: String, _ key: (RedisKeys) -> String) async throws -> Int {
        var n = 0
        for shard in self.space.shards { n += Int(try await self.check.send(RedisArgument(command), RedisArgument(key(shard))).int ?? 0) }
        return n
    }

    /// The application with an outage spool (and its drainer).
    func app(spool: Spool) -> some ApplicationProtocol {
        var logger = Logger(label: "test.serve")
        logger.logLevel = .critical
        let redis = RedisClient(configuration: self.redisConfiguration, logger: logger)
        return WebhookApplication.make(configuration: self.configuration, redis: redis, logger: logger, spool: spool)
    }

    /// The admin listener alone (`/readyz`, `/metrics`), with its own Redis client.
    var admin: some ApplicationProtocol {
        var logger = Logger(label: "test.admin")
        logger.logLevel = .warning
        let redis = RedisClient(configuration: self.redisConfiguration, logger: logger)
        return WebhookApplication.admin(configuration: self.configuration, redis: redis, logger: logger, port: 0) { "metrics\n" }
    }
}

let jsonHeaders: HTTPFields = [.contentType: "application/json"]

extension TestClientProtocol {
    /// POSTs JSON to the legacy webhook and returns status and parsed body.
    func postWebhook(_ body: String, headers: HTTPFields = jsonHeaders) async throws -> (HTTPResponse.Status, JSONValue) {
        try await self.execute(uri: "/api/webhook/sms-received", method: .post, headers: headers, body: ByteBuffer(string: body)) { response in
            let parsed = try JSONParser.parse(response.body.readableBytesView)
            return (response.status, parsed)
        }
    }
}

extension JSONValue {
    var int: Int? { if case .number(let n) = self { Int(n) } else { nil } }
}
