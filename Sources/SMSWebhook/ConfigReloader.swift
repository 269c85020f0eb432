import Logging
import Metrics
import SMSCore
import SMSSystem
import ServiceLifecycle
import UnixSignals

/// Reloads the reply rules from their file on SIGHUP. The new file is validated first: a file that does not load
/// is refused with a log line naming what is wrong, and the rules in force stay. `smshook_config_info{sha256}` is 1
/// for the file in force, so an operator can see that every instance runs the same one.
public struct ConfigReloader: Service {
    let rules: ReplyRules
    let path: String
    let logger: Logger

    public init(rules: ReplyRules, path: String, logger: Logger) {
        self.rules = rules
        self.path = path
        self.logger = logger
        Self.publish(sha256: rules.current.sha256, inForce: true)
    }

    public func run() async throws {
        let hangups = await UnixSignalsSequence(trapping: .sighup)
        for await _ in hangups.cancelOnGracefulShutdown() {
            self.reload()
        }
    }

    /// One reload attempt; true when the new file is in force.
    @discardableResult
    public func reload() -> Bool {
        let file: ReplyConfig.File
        do {
            file = try ReplyConfig.loadFile(path: self.path)
        } catch {
            Counter(label: "smshook_config_reloads_total", dimensions: [("result", "refused")]).increment()
            self.logger.error(
                "config reload refused; the rules in force are kept",
                metadata: ["config.path": "\(self.path)", "config.error": "\(error)", "config.sha256": "\(self.rules.current.sha256)"])
            return false
        }
        let previous = self.rules.replace(with: file.config, sha256: file.sha256)
        Counter(label: "smshook_config_reloads_total", dimensions: [("result", "loaded")]).increment()
        if previous.sha256 != file.sha256 { Self.publish(sha256: previous.sha256, inForce: false) }
        Self.publish(sha256: file.sha256, inForce: true)
        self.logger.notice(
            "config reloaded", metadata: ["config.path": "\(file.path)", "config.sha256": "\(file.sha256)", "config.previous": "\(previous.sha256)"])
        return true
    }

    static func publish(sha256: String, inForce: Bool) {
        Gauge(label: "smshook_config_info", dimensions: [("sha256", sha256)]).record(inForce ? 1 : 0)
    }
}
