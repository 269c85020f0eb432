import HummingbirdTesting
import RedisClient
import SMSCore
import TestSupport
import Testing

/// REDIS_MIN_REPLICAS_ACK: no 2xx until a replica has the message.
@Suite(.enabled(if: TestRedis.enabled, "needs redis-server: run `make test`"))
struct ReplicaAckTests {
    @Test func answers503UntilAReplicaAcknowledges() async throws {
        let primary = try RedisServer(arguments: ["--repl-diskless-sync-delay", "0"])
        let service = try TestService(redisURL: primary.url, prefix: "ack") {
            $0.minReplicasAck = 1
            $0.replicaAckTimeout = .milliseconds(300)
        }
        let (alone, json) = try await service.app.test(.live) { client in
            try await client.postWebhook(#"{"message":"yes","number":"+15550500001","guid":"ack-1"}"#)
        }
        #expect(alone == .serviceUnavailable)
        #expect(json["error"]?["message"]?.stringValue?.contains("0 of 1") == true)

        let replica = try RedisServer(arguments: ["--replicaof", "127.0.0.1", "\(primary.port)"])
        let replicaClient = try makeClientForReplica(replica.url)
        var linked = false
        for _ in 0..<250 where !linked {
            linked = try await replicaClient.send("INFO", "replication").string?.contains("master_link_status:up") == true
            if !linked { try await Task.sleep(for: .milliseconds(20)) }
        }
        #expect(linked)
        // a replica that has just synced may take a moment before it acknowledges writes
        let probe = try makeClientForReplica(primary.url)
        var acking = false
        for _ in 0..<50 where !acking {
            try await probe.send("SET", "ack-probe", "1")
            acking = try await probe.send("WAIT", 1, 200).int == 1
        }
        #expect(acking)
        await probe.shutdown()
        let (status, body) = try await service.app.test(.live) { client in
            try await client.postWebhook(#"{"message":"yes","number":"+15550500001","guid":"ack-2"}"#)
        }
        #expect(status == .ok, "\(body)")
        #expect(try await replicaClient.send("EXISTS", "ack:dedup:ack-2") == .integer(1))
        await replicaClient.shutdown()
        await service.check.shutdown()
        withExtendedLifetime((primary, replica)) {}
    }

    func makeClientForReplica(_ url: String) throws -> RedisClient {
        RedisClient(configuration: try RedisConfiguration(url: url), logger: .init(label: "test.replica"))
    }
}
