import Foundation
import Logging
import Prometheus
import Metrics
import SMSCore
import SMSSystem

enum Logging {
    /// A logger at LOG_LEVEL (default info); `LOG_FORMAT=json` gives one JSON object per line.
    static func make(label: String) -> Logger {
        Bootstrap.once
        var logger = Logger(label: label)
        let level = ProcessInfo.processInfo.environment["LOG_LEVEL"].flatMap { Logger.Level(rawValue: $0.lowercased()) }
        logger.logLevel = level ?? .info
        return logger
    }
}

/// Process-wide set-up, done once: the log format and the Prometheus metrics backend.
enum Bootstrap {
    static let registry = PrometheusCollectorRegistry()

    static let once: Void = {
        if ProcessInfo.processInfo.environment["LOG_FORMAT"] == "json" {
            LoggingSystem.bootstrap { JSONLogHandler(label: $0) }
        } else {
            LoggingSystem.bootstrap { TextLogHandler(label: $0) }
        }
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
    }()
}

/// A handler that keeps its metadata as set and merges an event's own when it writes a line.
protocol LineLogHandler: LogHandler {
    var metadata: Logger.Metadata { get set }
}

extension LineLogHandler {
    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { self.metadata[key] }
        set { self.metadata[key] = newValue }
    }

    func metadata(of event: LogEvent) -> Logger.Metadata {
        guard let extra = event.metadata else { return self.metadata }
        return self.metadata.merging(extra) { $1 }
    }
}

/// One line per event on standard error, as swift-log's `StreamLogHandler` writes it, except that metadata is
/// formatted when a line is written instead of each time it is set: Hummingbird sets a request id on every request,
/// and formatting it then showed in profiles even with nothing logged.
struct TextLogHandler: LineLogHandler {
    let label: String
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]

    func log(event: LogEvent) {
        var line = "\(Timestamp.now()) \(event.level) \(self.label):"
        // Everything but the time and level can come from outside: escaped, so that a line stays one line.
        for (key, value) in self.metadata(of: event).sorted(by: { $0.key < $1.key }) {
            line += " " + LogText.escape(key) + "=" + LogText.escape("\(value)")
        }
        line += " [\(event.source)] " + LogText.escape("\(event.message)")
        if let error = event.error { line += " error=" + LogText.escape("\(error)") }
        line += "\n"
        FileHandle.standardError.write(Data(line.utf8))
    }
}

/// One JSON object per line on standard error: time, level, label, message, metadata, source.
struct JSONLogHandler: LineLogHandler {
    let label: String
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]

    func log(event: LogEvent) {
        var object: [String: Any] = [
            "time": Date().formatted(.iso8601), "level": event.level.rawValue, "label": self.label,
            "message": event.message.description, "source": event.source,
        ]
        if let error = event.error { object["error"] = "\(error)" }
        for (key, value) in self.metadata(of: event) {
            object[key] = "\(value)"
        }
        guard var data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) else { return }
        data.append(0x0A)
        FileHandle.standardError.write(data)
    }
}
