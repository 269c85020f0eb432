import ArgumentParser
import Foundation
import Hummingbird
import Logging
import RedisClient
import SMSWebhook

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the webhook HTTP service (configuration from the environment, see README.md).")

    @Option(help: "Address to listen on (overrides SMSHOOK_HOST).") var host: String?
    @Option(help: "Port to listen on (overrides SMSHOOK_PORT).") var port: Int?

    func run() async throws {
        let logger = Logging.make(label: "smshook.serve")
        var environment = ProcessInfo.processInfo.environment
        if let host { environment["SMSHOOK_HOST"] = host }
        if let port { environment["SMSHOOK_PORT"] = String(port) }
        let defaultID = "\(ProcessInfo.processInfo.hostName):\(environment["SMSHOOK_PORT"] ?? "8080")"
        let configuration: ServeConfiguration
        do {
            configuration = try ServeConfiguration(environment: environment, defaultInstanceID: defaultID)
        } catch {
            throw ValidationError("configuration: \(error)")
        }
        let redis = RedisClient(configuration: configuration.redis, logger: logger)
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
                logger.warning("redis not reachable at start-up; requests get 503 until it is", metadata: ["redis.error": "\(error)"])
            }
            logger.info("smshook serve starting", metadata: [
                "redis.url": "\(configuration.redis.redactedURL)", "instance": "\(configuration.instanceID)",
                "address": "\(configuration.host):\(configuration.port)",
            ])
        }
        try await app.runService()
    }
}
