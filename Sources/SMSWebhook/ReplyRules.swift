import SMSCore
import Synchronization

/// The reply rules in force (classifier vocabulary, templates, loop guard), replaced whole when the config file is
/// reloaded (SIGHUP). Each request reads one snapshot, so a reload never mixes two files within a request.
public final class ReplyRules: Sendable {
    public struct Snapshot: Sendable {
        public let classifier: Classifier
        public let policy: ReplyPolicy
        /// Declared channels; nil when the file declares none.
        public let channels: [ChannelConfig]?
        /// True when each channel keeps its own opt-out set.
        public let optOutPerChannel: Bool
        /// SHA-256 of the file's text; "" when the rules were not read from a file.
        public let sha256: String
        /// Endpoints taking the events the ingest script publishes (`message.received`, `optout.changed`).
        public let ingestEvents: [EventEndpoint]
        /// Every event endpoint of the file.
        public let eventEndpoints: [EventEndpoint]
        /// The classifier's vocabulary by language (the console shows it).
        public let languages: [String: ReplyConfig.Vocabulary]
    }

    private let state: Mutex<Snapshot>

    public init(_ config: ReplyConfig, sha256: String = "") {
        self.state = Mutex(Self.snapshot(config, sha256: sha256))
    }

    public var current: Snapshot { self.state.withLock { $0 } }

    /// Puts `config` in force; returns the snapshot it replaced.
    @discardableResult
    public func replace(with config: ReplyConfig, sha256: String) -> Snapshot {
        let next = Self.snapshot(config, sha256: sha256)
        return self.state.withLock { state in
            let previous = state
            state = next
            return previous
        }
    }

    static func snapshot(_ config: ReplyConfig, sha256: String) -> Snapshot {
        Snapshot(
            classifier: Classifier(config: config.classifier), policy: ReplyPolicy(config: config),
            channels: config.channels.flatMap { $0.isEmpty ? nil : $0 }, optOutPerChannel: config.optOutScope == .channel,
            sha256: sha256,
            ingestEvents: (config.events?.endpoints ?? []).filter { $0.accepts(.messageReceived) || $0.accepts(.optOutChanged) },
            eventEndpoints: config.events?.endpoints ?? [], languages: config.classifier.languages)
    }
}
