import Hummingbird
import NIOCore
import Logging
import RedisClient
import SMSStore
import SMSSystem
import ServiceLifecycle

/// Builds the `serve` application: routes, the Redis client as a service (closed on shutdown), the script preloaded.
public enum WebhookApplication {
    /// The public application; the admin listener runs beside it as one of its services when
    /// `configuration.adminPort` is set.
    /// - Parameter metrics: renders `GET /metrics` (Prometheus text) on the admin listener; no route when nil.
    public static func make(
        configuration: ServeConfiguration, redis: RedisClient, logger: Logger, spool: Spool? = nil,
        metrics: (@Sendable () async -> String)? = nil
    ) -> some ApplicationProtocol {
        let rules = ReplyRules(configuration.replies, sha256: configuration.repliesSHA256)
        let routes = WebhookRoutes(configuration: configuration, redis: redis, rules: rules, spool: spool)
        let router = Router()
        routes.add(to: router)
        var services: [any Service] = [redis]
        if let spool {
            services.append(SpoolDrainer(spool: spool, ingest: routes.ingest, logger: logger))
        }
        if let path = configuration.repliesPath {
            services.append(ConfigReloader(rules: rules, path: path, logger: logger))
        }
        services.append(StatsFlusher(stats: routes.stats, redis: redis, keys: routes.ingest.keys, instance: configuration.instanceID, rules: rules))
        if let adminPort = configuration.adminPort {
            services.append(self.admin(routes: routes, host: configuration.adminHost, port: adminPort, logger: logger, metrics: metrics))
        }
        var app = Application(
            router: router,
            server: .http1(configuration: .init(idleTimeout: TimeAmount(configuration.bodyTimeout * 2))),
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "smshook"),
            services: services,
            logger: logger
        )
        app.beforeServerStarts {
            do {
                try await routes.ingest.keys.checkLayout(redis)
                try await redis.load(routes.ingest.script)
                if configuration.apiEnabled { try await redis.load(SendScript.script) }
            } catch let error as KeySpace.LayoutError {
                logger.critical("refusing to start", metadata: ["error": "\(error)"])
                throw error
            } catch {
                logger.warning(
                    "redis not reachable at start-up; webhook calls get 503 until it is",
                    metadata: ["redis.error": "\(error)"])
            }
            if configuration.benchRoutes {
                logger.warning("SMSHOOK_BENCH_ROUTES=1: POST /bench/discard is open (for benchmarks only)")
            }
            for (route, auth) in configuration.auth.all {
                if auth.mode == .none {
                    logger.warning("AUTHENTICATION DISABLED: anyone can post to this route", metadata: ["route": "\(route)"])
                } else if auth.secrets.isEmpty {
                    logger.warning("no secret configured: every call to this route gets 401", metadata: ["route": "\(route)", "auth.mode": "\(auth.mode.rawValue)"])
                }
            }
            logger.info("smshook serve starting", metadata: [
                "redis.url": "\(configuration.redis.redactedURL)", "instance": "\(configuration.instanceID)",
                "redis.shards": "\(configuration.shards)", "malloc": "\(Allocator.description)",
                "address": "\(configuration.host):\(configuration.port)",
                "admin": "\(configuration.adminPort.map { "\(configuration.adminHost):\($0)" } ?? "off")",
                "api": "\(configuration.apiEnabled ? "on (\(configuration.apiTokens.count) tokens)" : "off")",
                "events": "\(rules.current.ingestEvents.map(\.name).joined(separator: ",").isEmpty ? "none" : rules.current.ingestEvents.map(\.name).joined(separator: ","))",
            ])
        }
        return app
    }

    /// The admin listener alone: `/healthz`, `/readyz`, `/metrics`. Never on the public port.
    public static func admin(
        configuration: ServeConfiguration, redis: RedisClient, logger: Logger, port: Int? = nil,
        metrics: (@Sendable () async -> String)? = nil
    ) -> some ApplicationProtocol {
        let routes = WebhookRoutes(configuration: configuration, redis: redis)
        return self.admin(
            routes: routes, host: configuration.adminHost, port: port ?? configuration.adminPort ?? 0, logger: logger,
            metrics: metrics)
    }

    static func admin(
        routes: WebhookRoutes, host: String, port: Int, logger: Logger, metrics: (@Sendable () async -> String)?
    ) -> Application<RouterResponder<BasicRequestContext>> {
        let router = Router()
        routes.addAdmin(to: router, metrics: metrics)
        return Application(
            router: router,
            configuration: .init(address: .hostname(host, port: port), serverName: "smshook-admin"),
            onServerRunning: { channel in
                logger.info("admin listener running", metadata: ["address": "\(channel.localAddress.map { "\($0)" } ?? "-")"])
            },
            logger: logger)
    }
}
