import Logging
import Metrics
import SMSCore
import ServiceLifecycle

/// Replays the outage spool into Redis through the same ingest call, oldest first, as soon as Redis answers: dedup,
/// opt-out and the loop guard apply as if the messages had arrived late. A file is removed only after its call was
/// stored; a process killed mid-drain resumes from the files at start.
public struct SpoolDrainer: Service {
    let spool: Spool
    let ingest: IngestService
    let logger: Logger
    let interval: Duration

    public init(spool: Spool, ingest: IngestService, logger: Logger, interval: Duration = .milliseconds(500)) {
        self.spool = spool
        self.ingest = ingest
        self.logger = logger
        self.interval = interval
    }

    public func run() async throws {
        if self.spool.count > 0 {
            self.logger.notice("spooled calls found at start; replaying them", metadata: ["spool.files": "\(self.spool.count)"])
        }
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                if self.spool.count > 0 { await self.drain() }
                self.publish()
                try await Task.sleep(for: self.interval)
            }
        }
    }

    /// Replays until the spool is empty or Redis fails again. Returns the files replayed.
    @discardableResult
    public func drain() async -> Int {
        var replayed = 0
        while true {
            let batch = self.spool.oldest(limit: 64)
            if batch.isEmpty { return replayed }
            for name in batch {
                let contents: SpoolRecord.Contents
                do {
                    contents = try SpoolRecord.decode(try self.spool.read(name))
                } catch {
                    self.logger.error("spool file cannot be replayed; moved to bad/", metadata: ["spool.file": "\(name)", "error": "\(error)"])
                    self.spool.quarantine(name)
                    continue
                }
                do {
                    _ = try await self.ingest.ingest(contents.decoded, logger: self.logger, receivedAt: contents.receivedAt)
                } catch {
                    return replayed  // Redis still away: try again later, nothing removed
                }
                self.spool.remove(name)
                replayed += 1
                Counter(label: "smshook_spool_calls_total", dimensions: [("result", "drained")]).increment()
            }
            self.publish()
            self.logger.info("spool drained into Redis", metadata: ["spool.replayed": "\(replayed)", "spool.left": "\(self.spool.count)"])
        }
    }

    func publish() {
        Gauge(label: "smshook_spool_bytes").record(self.spool.bytes)
        Gauge(label: "smshook_spool_files").record(self.spool.count)
        Gauge(label: "smshook_spool_oldest_seconds").record(self.spool.oldestAge)
    }
}
