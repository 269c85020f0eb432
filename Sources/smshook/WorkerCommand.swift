import ArgumentParser
import Foundation
import Logging
import RedisClient
import SMSWorker
import ServiceLifecycle

struct WorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker",
        abstract: "Send queued replies through the configured provider (configuration from the environment, see README.md).")

    @Option(help: "Fetch loops, i.e. sends in flight (overrides WORKER_CONCURRENCY).") var concurrency: Int?

    func run() async throws {
        let logger = Logging.make(label: "smshook.worker")
        var environment = ProcessInfo.processInfo.environment
        if let concurrency { environment["WORKER_CONCURRENCY"] = String(concurrency) }
        let id = "\(ProcessInfo.processInfo.hostName)-\(ProcessInfo.processInfo.processIdentifier)-\(UInt32.random(in: 0...UInt32.max))"
        let configuration: WorkerConfiguration
        do {
            configuration = try WorkerConfiguration(environment: environment, defaultWorkerID: id)
        } catch {
            throw ValidationError("configuration: \(error)")
        }
        let redis = RedisClient(configuration: configuration.redis, logger: logger)
        let worker = Worker(
            configuration: configuration, redis: redis, sender: HTTPSender.make(configuration), logger: logger)
        let group = ServiceGroup(
            configuration: .init(
                services: [.init(service: redis), .init(service: worker, successTerminationBehavior: .gracefullyShutdownGroup)],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger))
        try await group.run()
    }
}
