import HummingbirdTesting
import RedisClient
import SMSCore
import TestSupport
import Testing

@Suite(.enabled(if: TestRedis.enabled, "needs Redis: run `make test`"))
struct MultiInstanceTests {
    /// On a single Redis, and on a 3-primary cluster (64 shards).
    @Test(arguments: [false, true]) func sameGUIDToTwoInstancesConcurrentlyIsAcceptedOnce(cluster: Bool) async throws {
        let prefix = TestRedis.uniquePrefix("multi")
        let a = try TestService(prefix: prefix, instance: "a", cluster: cluster)
        let b = try TestService(prefix: prefix, instance: "b", cluster: cluster)
        let outcomes = try await a.app.test(.live) { clientA in
            try await b.app.test(.live) { clientB in
                try await withThrowingTaskGroup(of: (Int, String).self) { group in
                    for i in 0..<100 {
                        let body = #"{"message":"yes","number":"+1555000\#(i)","guid":"race-\#(i)"}"#
                        for client in [clientA, clientB] as [any TestClientProtocol] {
                            group.addTask {
                                let (status, json) = try await client.postWebhook(body)
                                #expect(status == .ok)
                                return (i, json["results"]?.arrayFirstOutcome ?? "?")
                            }
                        }
                    }
                    return try await group.reduce(into: [Int: [String]]()) { $0[$1.0, default: []].append($1.1) }
                }
            }
        }
        #expect(outcomes.count == 100)
        for (i, list) in outcomes {
            #expect(list.sorted() == ["accepted", "duplicate"], "guid race-\(i): \(list)")
        }
        #expect(try await a.total("LLEN", \.replies) == 100)
        #expect(try await a.total("XLEN", \.audit) == 100)
        await a.check.shutdown()
        await b.check.shutdown()
    }
}

extension JSONValue {
    var arrayFirstOutcome: String? {
        if case .array(let items) = self { return items.first?["outcome"]?.stringValue }
        return nil
    }
}
