import Hummingbird
import NIOCore
import Logging
import RedisClient

/// Builds the `serve` application: routes, the Redis client as a service (closed on shutdown), the script preloaded.
public enum WebhookApplication {
    /// - Parameter metrics: renders `GET /metrics` (Prometheus text); no route when nil.
    public static func make(
        configuration: ServeConfiguration, redis: RedisClient, logger: Logger,
        metrics: (@Sendable () async -> String)? = nil
    ) -> some ApplicationProtocol {
        let router = Router()
        WebhookRoutes(configuration: configuration, redis: redis).add(to: router, metrics: metrics)
        var app = Application(
            router: router,
            server: .http1(configuration: .init(idleTimeout: Self.timeAmount(configuration.bodyTimeout * 2))),
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "smshook"),
            services: [redis],
            logger: logger
        )
        app.beforeServerStarts {
            do {
                try await redis.load(IngestService.script)
            } catch {
                logger.warning(
                    "redis not reachable at start-up; webhook calls get 503 until it is",
                    metadata: ["redis.error": "\(error)"])
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
                "address": "\(configuration.host):\(configuration.port)",
            ])
        }
        return app
    }

    static func timeAmount(_ d: Duration) -> TimeAmount {
        .nanoseconds(d.components.seconds * 1_000_000_000 + d.components.attoseconds / 1_000_000_000)
    }
}
