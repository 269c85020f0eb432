import ArgumentParser
import Foundation
import Logging
import RedisClient
import SMSCore
import SMSSystem
import SMSWebhook
import SMSWorker
import ServiceLifecycle
import UnixSignals
import Hummingbird

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
        var configuration: WorkerConfiguration
        do {
            configuration = try WorkerConfiguration(environment: environment, defaultWorkerID: id)
        } catch {
            throw ValidationError("configuration: \(error)")
        }
        let named: [ChannelSender]
        var events: EventDelivery?
        do {
            let file = try Self.declaredConfig(environment)
            configuration.optOutPerChannel = file?.optOutScope == .channel
            named = try WorkerConfiguration.channelSenders(
                file?.channels ?? [], environment: environment, base: configuration.providerSettings)
            if let config = file?.events, !config.endpoints.isEmpty {
                events = EventDelivery(
                    targets: try EventDelivery.targets(config, environment: environment), schedule: config.schedule,
                    concurrency: configuration.eventsConcurrency, timeout: .milliseconds(configuration.eventsTimeoutMS),
                    deadMax: configuration.deadMax)
            }
        } catch {
            throw ValidationError("configuration: \(error)")
        }
        for channel in named where channel.sender is UnavailableSender {
            logger.warning("channel without credentials: its replies go to the dead list", metadata: ["channel": "\(channel.name)"])
        }
        let fallback = ChannelSender(
            name: "default", sender: HTTPSender.make(configuration), ratePerSecond: configuration.sendRate,
            burst: configuration.sendBurst)
        let redis = RedisClient(configuration: configuration.redis, logger: logger)
        let worker = Worker(
            configuration: configuration, redis: redis, channels: WorkerChannels(default: fallback, named: named),
            events: events, logger: logger)
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(service: redis), .init(service: worker, successTerminationBehavior: .gracefullyShutdownGroup),
            .init(service: HangupLogger(logger: logger)),
        ]
        if configuration.metricsPort != 0 {
            let router = Router()
            router.get("/metrics") { _, _ in PrometheusResponse.make(Bootstrap.registry.emitToString()) }
            router.get("/healthz") { _, _ in "{\"status\":\"ok\"}" }
            let app = Application(
                router: router,
                configuration: .init(address: .hostname(configuration.metricsHost, port: configuration.metricsPort), serverName: "smshook-worker"),
                logger: logger)
            services.append(.init(service: app))
        }
        let group = ServiceGroup(
            configuration: .init(
                services: services,
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger))
        try await group.run()
    }
}

extension WorkerCommand {
    /// The config file (for `channels` and `opt_out_scope`) (SMSHOOK_CONFIG, else ./config or /etc/smshook); none when there is no file and
    /// SMSHOOK_CONFIG is unset. A file that does not parse is an error.
    static func declaredConfig(_ env: [String: String]) throws -> ReplyConfig? {
        do {
            return try ReplyConfig.loadFile(path: env["SMSHOOK_CONFIG"]).config
        } catch let error as ReplyConfigError where env["SMSHOOK_CONFIG"] == nil && error.message.hasPrefix("no config file") {
            return nil
        }
    }
}

/// SIGHUP (`systemctl reload`, supervisorctl signal HUP) must not end a worker: it reads nothing from smshook.yaml
/// today (templates are applied by serve), so it says so and goes on.
struct HangupLogger: Service {
    let logger: Logger

    func run() async throws {
        for await _ in await UnixSignalsSequence(trapping: .sighup).cancelOnGracefulShutdown() {
            self.logger.notice("SIGHUP: nothing to reload in the worker (reply rules are serve's; reload serve)")
        }
    }
}
