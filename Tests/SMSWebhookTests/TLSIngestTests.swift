import Hummingbird
import HummingbirdTesting
import RedisClient
import SMSCore
import TestSupport
import Testing

/// Ingest over TLS: stored with the right CA; with a certificate it cannot verify, 503 and nothing acknowledged.
@Suite(.enabled(if: TestRedis.enabled, "needs redis-server: run `make test`"))
struct TLSIngestTests {
    @Test func aServerCertificateThatCannotBeVerifiedGives503NeverA2xx() async throws {
        let certificates = try TestCertificates()
        let server = try RedisServer(tls: certificates, server: .ip)
        let url = "rediss://127.0.0.1:\(server.port)"
        let wrong = try TestService(redisURL: url, tls: .init(caFile: certificates.otherCAFile), prefix: TestRedis.uniquePrefix("tls-wrong"))
        try await wrong.app.test(.live) { client in
            for i in 0..<3 {
                let (status, body) = try await client.postWebhook(#"{"message":"yes","number":"+15550100","guid":"tls-\#(i)"}"#)
                #expect(status == .serviceUnavailable)
                #expect(body["error"]?["code"] == .string("unavailable"))
            }
        }
        let right = try TestService(redisURL: url, tls: .init(caFile: certificates.caFile), prefix: TestRedis.uniquePrefix("tls-right"))
        try await right.app.test(.live) { client in
            let (status, _) = try await client.postWebhook(#"{"message":"yes","number":"+15550100","guid":"tls-0"}"#)
            #expect(status == .ok)
        }
        #expect(try await right.check.send("EXISTS", RedisArgument(right.keys.dedup("tls-0"))) == .integer(1))
        #expect(try await right.check.send("EXISTS", RedisArgument(wrong.keys.dedup("tls-0"))) == .integer(0))
        await wrong.check.shutdown()
        await right.check.shutdown()
        withExtendedLifetime((server, certificates)) {}
    }
}
