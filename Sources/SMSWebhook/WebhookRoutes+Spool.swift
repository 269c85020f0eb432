import Logging
import Metrics
import SMSCore
import SMSSystem

/// Storing a call: in Redis, or, when Redis is unreachable and a spool directory is configured, fsynced in the spool
/// (replayed by `SpoolDrainer`). Without a spool, or with the spool full, the caller gets 503 as before.
extension WebhookRoutes {
    enum Stored {
        case stored(IngestSummary)
        case spooled(accepted: Int, rejected: Int)
    }

    func store(_ decoded: LegacyPayload.Decoded, route: String, logger: Logger) async throws(PayloadError) -> Stored {
        do {
            return .stored(try await self.ingest.ingest(decoded, logger: logger))
        } catch {
            guard error.code == .unavailable, let spool = self.spool else { throw error }
            let record = SpoolRecord.encode(.init(
                decoded: decoded, receivedAt: Timestamp.now(), route: route, instance: self.configuration.instanceID))
            do {
                try await Blocking.run { try spool.append(record) }  // two fsyncs
            } catch let refused {
                Counter(label: "smshook_spool_calls_total", dimensions: [("result", "refused")]).increment()
                logger.error("Redis unavailable and the spool refused the call", metadata: ["spool.error": "\(refused)"])
                throw error
            }
            Counter(label: "smshook_spool_calls_total", dimensions: [("result", "spooled")]).increment()
            let accepted = decoded.items.reduce(0) { n, item in if case .accepted = item { n + 1 } else { n } }
            logger.warning("Redis unavailable: call spooled on local disk, stored when Redis answers", metadata: [
                "route": "\(route)", "sms.count": "\(accepted)", "spool.files": "\(spool.count)",
            ])
            return .spooled(accepted: accepted, rejected: decoded.items.count - accepted)
        }
    }

    /// `{"status":"success","message":"Spooled 2 messages ...","processed":0,"skipped":0,"rejected":0,"spooled":2}`
    static func spooledJSON(accepted: Int, rejected: Int) -> String {
        let noun = accepted == 1 ? "message" : "messages"
        return JSONValue.object([
            ("status", .string("success")),
            ("message", .string("Spooled \(accepted) \(noun): stored on this host's disk, recorded when storage is back")),
            ("processed", .number("0")), ("skipped", .number("0")), ("rejected", .number(String(rejected))),
            ("spooled", .number(String(accepted))), ("results", .array([])),
        ]).json
    }
}
