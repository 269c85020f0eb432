import Foundation
import Logging

enum Logging {
    /// A logger at LOG_LEVEL (default info). Bootstraps swift-log once per process.
    static func make(label: String) -> Logger {
        var logger = Logger(label: label)
        let level = ProcessInfo.processInfo.environment["LOG_LEVEL"].flatMap { Logger.Level(rawValue: $0.lowercased()) }
        logger.logLevel = level ?? .info
        return logger
    }
}
