import ArgumentParser
import Foundation
import Hummingbird
import Logging
import RedisClient
import SMSCore
import SMSStore
import SMSWebhook

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the webhook HTTP service (configuration from the environment, see README.md).")

    @Option(help: "Address to listen on (overrides SMSHOOK_HOST).") var host: String?
    @Option(help: "Port to listen on (overrides SMSHOOK_PORT).") var port: Int?
    @Option(help: "Port of the admin listener: /metrics, /readyz (overrides SMSHOOK_ADMIN_PORT; 'off': none).") var adminPort: String?

    func run() async throws {
        let logger = Logging.make(label: "smshook.serve")
        var environment = ProcessInfo.processInfo.environment
        if let host { environment["SMSHOOK_HOST"] = host }
        if let port { environment["SMSHOOK_PORT"] = String(port) }
        if let adminPort { environment["SMSHOOK_ADMIN_PORT"] = adminPort }
        let defaultID = "\(ProcessInfo.processInfo.hostName):\(environment["SMSHOOK_PORT"] ?? "8080")"
        let configuration: ServeConfiguration
        do {
            configuration = try ServeConfiguration(environment: environment, defaultInstanceID: defaultID)
        } catch {
            throw ValidationError("configuration: \(error)")
        }
        let redis = RedisClient(configuration: configuration.redis, logger: logger)
        var spool: Spool?
        if let directory = configuration.spoolDirectory {
            do {
                spool = try Spool(directory: directory, maxBytes: configuration.spoolMaxBytes)
            } catch {
                throw ValidationError("configuration: SMSHOOK_SPOOL_DIR \(directory): \(error)")
            }
        }
        let keys = KeySpace(prefix: configuration.keyPrefix, shards: configuration.shards)
        let app = WebhookApplication.make(configuration: configuration, redis: redis, logger: logger, spool: spool) {
            // queue gauges are sampled at scrape time: one pipelined round trip per shard, plus two
            if let stats = try? await QueueStats.read(redis: redis, keys: keys) { stats.publish() }
            return Bootstrap.registry.emitToString()
        }
        try await app.runService()
    }
}
