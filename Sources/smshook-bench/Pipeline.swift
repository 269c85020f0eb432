import Foundation
import Synchronization
import SMSCore
import SMSSystem
import SMSStore
import SMSWebhook

/// `smshook-bench pipeline CONFIG N`: CPU per step of the pure ingest path for one single-message body, then the
/// whole pure path of a batch of 100 per message, its phases, and a batch of 1,000 on one thread and on two. A step's
/// name as a third argument runs that step alone.
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
        // its phases alone, per message: which of them a batch could spread over cores
        let decodedBatch = try LegacyPayload.decode(batch, limits: limits)
        let prepared = IngestService.prepare(decodedBatch, rules: rules, settings: .init(), instance: "h:8080", now: now)
        try time("b100 decode", per: 100) { try LegacyPayload.decode(batch, limits: limits).items.count }
        time("b100 prepare", per: 100) {
            IngestService.prepare(decodedBatch, rules: rules, settings: .init(), instance: "h:8080", now: now).entries.count
        }
        time("b100 call", per: 100) {
            IngestStore.call(entries: prepared.entries, rejected: [], keys: keys, settings: prepared.settings).encoded.count
        }
        time("b100 answer", per: 100) { IngestSummary(results: prepared.results).jsonBytes.count }
        // a batch of 1,000: its prepare and command on one thread, and split in two halves on two threads (what a
        // parallel decode could save a large batch on idle cores; the halves' commands concatenated)
        let items1000 = (0..<1000).map { #"{"date":"2025-01-20","hour":"10:15:00","time_received":"2025-01-20 10:14:50","message":"Yes","number":"+1555\#($0 + 100000)","guid":"r2-1-\#($0)"}"# }
        let decoded1000 = try LegacyPayload.decode(Array(#"{"messages":[\#(items1000.joined(separator: ","))]}"#.utf8), limits: limits)
        @Sendable func half(_ range: Range<Int>) -> [UInt8] {
            let part = LegacyPayload.Decoded(isBatch: true, items: Array(decoded1000.items[range]))
            let p = IngestService.prepare(part, rules: rules, settings: .init(), instance: "h:8080", now: now)
            return IngestStore.call(entries: p.entries, rejected: [], keys: keys, settings: p.settings).encoded
        }
        time("b1000 serial", per: 1000) { half(0..<1000).count }
        time("b1000 split2", per: 1000) {
            let halves = Mutex<[[UInt8]]>([[], []])
            DispatchQueue.concurrentPerform(iterations: 2) { i in
                let bytes = half(i == 0 ? 0..<500 : 500..<1000)
                halves.withLock { $0[i] = bytes }
            }
            return halves.withLock { $0[0] + $0[1] }.count
        }
        if sink == 42 { print("") }
    }
}
