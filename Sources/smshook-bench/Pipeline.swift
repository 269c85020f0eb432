import Foundation
import SMSCore
import SMSSystem
import SMSStore
import SMSWebhook

/// `smshook-bench pipeline CONFIG N`: CPU per step of the pure ingest path for one single-message body, then the
/// whole pure path of a batch of 100 per message. A step's name as a third argument runs that step alone.
enum Pipeline {
    /// - Parameter only: run just the step of this name (to profile it, e.g. under callgrind).
    static func run(config path: String, count: Int, only: String? = nil) throws {
        let (config, _) = try ReplyConfig.load(path: path)
        let classifier = Classifier(config: config.classifier)
        let policy = ReplyPolicy(config: config)
        let keys = RedisKeys(prefix: "smshook")
        let body = Array(#"{"date":"2025-01-20","hour":"10:15:00","time_received":"2025-01-20 10:14:50","message":"Yes","number":"+1555123456","guid":"r1-1-123456"}"#.utf8)
        let limits = IngestLimits()
        var sink = 0
        func time(_ name: String, per: Int = 1, _ body: () throws -> Int) rethrows {
            if let only, only != name { return }
            var best = Double.infinity  // the least disturbed of 5 rounds
            for _ in 0..<5 {
                let start = ContinuousClock.now
                for _ in 0..<count / per { sink &+= try body() }
                let d = ContinuousClock.now - start
                best = min(best, Double(d.components.seconds) * 1e9 + Double(d.components.attoseconds) / 1e9)
            }
            print("\(name.padding(toLength: 12, withPad: " ", startingAt: 0)) \(String(format: "%6.2f", best / Double(count / per * per) / 1000)) us")
        }
        let decoded = try LegacyPayload.decode(body, limits: limits)
        guard case .accepted(let message) = decoded.items[0] else { return }
        let classification = classifier.classify(message.message)
        let now = Timestamp.now()
        guard case .reply(let text) = policy.decide(message, classification: classification) else { return }
        let job = ReplyJob(id: JobID.make(), to: message.number ?? "", body: text, inReplyTo: message.guid,
            intent: classification.intent, provider: message.provider, createdAt: now)
        let entry = IngestScript.Entry(message: message, classification: classification, job: job, instance: "h:8080", receivedAt: now)
        try time("decode") { try LegacyPayload.decode(body, limits: limits).items.count }
        time("classify") { classifier.classify(message.message).matched?.count ?? 0 }
        time("decide") { if case .reply(let t) = policy.decide(message, classification: classification) { t.utf8.count } else { 0 } }
        time("timestamp") { Timestamp.now().utf8.count }
        time("uuid") { JobID.make().utf8.count }
        time("job.json") { job.jsonBytes.count }
        time("dedupValue") { entry.dedupValue.count }
        time("auditRecord") { entry.auditRecord.count }
        time("call") {  // KEYS, ARGV and the JSON records written straight into one EVALSHA command
            IngestStore.call(entries: [entry], rejected: [], keys: keys, settings: .init()).encoded.count
        }
        let summary = IngestSummary(results: [.init(guid: message.guid, outcome: .accepted, intent: classification.intent, index: 0, reply: "queued")])
        time("summary") { summary.json.utf8.count }
        // a batch of 100 from 100 numbers, the whole path before and after Redis (decode, classify and decide, the
        // command, the answer), per message
        let rules = ReplyRules(config).current
        let items = (0..<100).map { #"{"date":"2025-01-20","hour":"10:15:00","time_received":"2025-01-20 10:14:50","message":"Yes","number":"+1555123\#($0 + 1000)","guid":"r1-1-\#($0)"}"# }
        let batch = Array(#"{"messages":[\#(items.joined(separator: ","))]}"#.utf8)
        try time("batch100/msg", per: 100) {
            var call = IngestService.prepare(
                try LegacyPayload.decode(batch, limits: limits), rules: rules, settings: .init(), instance: "h:8080", now: now)
            let command = IngestStore.call(entries: call.entries, rejected: call.rejected, keys: keys, settings: call.settings)
            for i in call.results.indices { call.results[i].reply = "queued" }
            return command.encoded.count + IngestSummary(results: call.results).jsonBytes.count
        }
        if sink == 42 { print("") }
    }
}
