import Hummingbird
import Logging
import RedisClient

/// Builds the `serve` application: routes, the Redis client as a service (closed on shutdown), the script preloaded.
public enum WebhookApplication {
    public static func make(configuration: ServeConfiguration, redis: RedisClient, logger: Logger)
        -> some ApplicationProtocol
    {
        let router = Router()
        WebhookRoutes(configuration: configuration, redis: redis).add(to: router)
        var app = Application(
            router: router,
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
            logger.info("smshook serve starting", metadata: [
                "redis.url": "\(configuration.redis.redactedURL)", "instance": "\(configuration.instanceID)",
                "address": "\(configuration.host):\(configuration.port)",
            ])
        }
        return app
    }
}
