import RedisClient
import SMSCore

/// What the ingest script decided for one message.
public enum IngestOutcome: String, Sendable, Hashable {
    case duplicate
    case queued
    case suppressedOptOut = "suppressed_optout"
    case suppressedRate = "suppressed_rate"
    case noReply = "no_reply"
}

/// Stores accepted messages (and the request's rejected items) with the ingest script: ONE call per shard the
/// request touches; the calls of several shards go out as one pipeline per primary, the primaries concurrently. Each call is atomic; a request spanning shards is
/// atomic per shard: when any call fails the whole request fails (503), and the provider's retry finds what was
/// stored as duplicates and stores the rest.
public struct IngestStore: Sendable {
    public let redis: RedisClient
    public let keys: KeySpace
    /// Replicas that must acknowledge the writes before an answer (0 = none), and how long to wait for them.
    public var minReplicasAck = 0
    public var replicaAckTimeout: Duration = .seconds(1)
    /// Ingest calls in flight to a shard at once; requests of up to `MergedCalls.mergeable` messages arriving
    /// meanwhile share the next call (up to 100 messages). 0 (the default): every request its own call. Larger
    /// requests, those over several shards and those with a replica ack always go on their own. Merging saves Redis
    /// about a third of its work per single message and costs serve 4–13% more CPU (see BENCHMARKS.md). Set it before
    /// the first `store` (it starts a new queue).
    public var callsInFlight: Int {
        get { self.merging.limit }
        set { self.merging = MergedCalls(shards: self.keys.shards.count, limit: newValue) }
    }
    private(set) var merging: MergedCalls

    public init(redis: RedisClient, keys: KeySpace, callsInFlight: Int = IngestStore.defaultCallsInFlight) {
        self.redis = redis
        self.keys = keys
        self.merging = MergedCalls(shards: keys.shards.count, limit: callsInFlight)
    }

    public static let defaultCallsInFlight = 0

    public enum Failure: Error, Sendable {
        /// Redis did not take the call (down, timeout, refused the script).
        case unavailable(any Error)
        /// Stored, but on fewer replicas than required in time.
        case notReplicated(acked: Int, required: Int)
        /// The script answered something it never answers.
        case unexpectedReply(String)
    }

    /// Per entry, in order: its outcome. Rejected records go with the call of the first shard (shard 0 when the
    /// request has no valid message).
    public func store(_ entries: [IngestScript.Entry], rejected: [String], settings: IngestScript.Settings)
        async throws(Failure) -> [IngestOutcome]
    {
        if entries.isEmpty && rejected.isEmpty { return [] }
        let script = IngestScript.script(for: settings)  // once per request, for every shard's call
        var groups: [Int: [Int]] = [:]  // shard → entry indices, in order
        if self.keys.isSharded {
            for i in entries.indices {
                groups[self.keys.shardIndex(subscriber: entries[i].subscriber, guid: entries[i].message.guid), default: []].append(i)
            }
        }
        let first = groups.keys.min() ?? 0
        if groups.count <= 1 {
            if self.merging.limit > 0, self.minReplicasAck == 0, entries.count <= MergedCalls.mergeable {
                return try await self.merged(entries[...], rejected: rejected, shard: first, settings: settings, script: script)
            }
            return try await self.call(
                entries[...], rejected: rejected, shard: self.keys.shards[first], settings: settings, script: script)
        }
        let shards = groups.keys.sorted()
        let parts: [Result<[IngestOutcome], Failure>]  // by shard, in `shards` order
        if self.minReplicasAck == 0 {
            // one pipeline per primary for all its shards' calls, the primaries concurrently
            let calls = shards.map { shard in
                Self.call(
                    entries: groups[shard]!.map { entries[$0] }, rejected: shard == first ? rejected : [],
                    keys: self.keys.shards[shard], settings: settings, script: script)
            }
            let replies = await self.redis.evaluateEach(script, calls: calls)
            parts = zip(shards, replies).map { shard, reply in
                Result { () throws(Failure) in
                    try Self.outcomes(reply.mapError { Failure.unavailable($0) }.get(), count: groups[shard]!.count)
                }
            }
        } else {
            // with the replica ack, each shard's call carries its own WAIT (on that shard's connection)
            parts = await withTaskGroup(of: (Int, Result<[IngestOutcome], Failure>).self) { group in
                for (position, shard) in shards.enumerated() {
                    let part = groups[shard]!.map { entries[$0] }
                    let withRejected = shard == first ? rejected : []
                    group.addTask {
                        (position, await self.result(part[...], rejected: withRejected, shard: shard, settings: settings, script: script))
                    }
                }
                var parts = [Result<[IngestOutcome], Failure>](repeating: .success([]), count: shards.count)
                for await (position, part) in group { parts[position] = part }
                return parts
            }
        }
        var outcomes = [IngestOutcome](repeating: .duplicate, count: entries.count)
        var failure: Failure?
        for (shard, part) in zip(shards, parts) {
            switch part {
            case .success(let shardOutcomes): for (i, outcome) in zip(groups[shard]!, shardOutcomes) { outcomes[i] = outcome }
            case .failure(let error): failure = failure ?? error  // the other shards' calls are stored: the retry finds them
            }
        }
        if let failure { throw failure }
        return outcomes
    }

    /// The script's answer for `count` messages; an error reply is a failure of the call.
    private static func outcomes(_ reply: RedisReply, count: Int) throws(Failure) -> [IngestOutcome] {
        if case .error(let message) = reply { throw .unavailable(RedisError(.server, message)) }
        let outcomes = reply.array?.compactMap { $0.string.flatMap(IngestOutcome.init(rawValue:)) } ?? []
        guard outcomes.count == count else { throw .unexpectedReply(String(describing: reply).prefix(200).description) }
        return outcomes
    }

    /// `call` to shard number `shard`, its failure as a value (for callers answering several requests or shards).
    func result(
        _ entries: ArraySlice<IngestScript.Entry>, rejected: [String], shard: Int, settings: IngestScript.Settings,
        script: RedisScript
    ) async -> Result<[IngestOutcome], Failure> {
        do throws(Failure) {
            return .success(try await self.call(entries, rejected: rejected, shard: self.keys.shards[shard], settings: settings, script: script))
        } catch {
            return .failure(error)
        }
    }

    private func call(
        _ entries: ArraySlice<IngestScript.Entry>, rejected: [String], shard: RedisKeys, settings: IngestScript.Settings,
        script: RedisScript
    ) async throws(Failure) -> [IngestOutcome] {
        let call = Self.call(entries: entries, rejected: rejected, keys: shard, settings: settings, script: script)
        let reply: RedisReply
        do {
            if self.minReplicasAck > 0 {
                let (r, acked) = try await self.redis.evaluate(
                    script, call: call, waitForReplicas: self.minReplicasAck, timeout: self.replicaAckTimeout)
                guard acked >= self.minReplicasAck else { throw Failure.notReplicated(acked: acked, required: self.minReplicasAck) }
                reply = r
            } else {
                reply = try await self.redis.evaluate(script, call: call)
            }
        } catch let error as Failure {
            throw error
        } catch {
            throw .unavailable(error)
        }
        return try Self.outcomes(reply, count: entries.count)
    }

    /// One shard's `EVALSHA`: KEYS, ARGV and the JSON records written straight into one RESP buffer.
    /// - Parameter script: `IngestScript.script(for: settings)`, when the caller has it already.
    public static func call<Entries: RandomAccessCollection<IngestScript.Entry>>(
        entries: Entries, rejected: [String], keys: RedisKeys, settings: IngestScript.Settings, script: RedisScript? = nil
    ) -> RedisCommand {
        let counts = IngestScript.counts(entries: entries.count, rejected: rejected.count, settings: settings)
        var builder = RedisCommandBuilder(
            evaluating: script ?? IngestScript.script(for: settings), keys: counts.keys, arguments: counts.arguments,
            capacity: 512 + 1024 * entries.count + rejected.reduce(0) { $0 + $1.utf8.count + 16 })
        IngestScript.write(entries: entries, rejected: rejected, keys: keys, settings: settings) { builder.append($0) }
        return builder.command
    }
}
