import Hummingbird
import HummingbirdTesting
import RedisClient
import SMSCore
import TestSupport
import Testing

@Suite(.enabled(if: TestRedis.enabled, "needs redis-server: run `make test`"))
struct RedisOutageTests {
    @Test func redisDownGives503ThenRecoversWithoutRestart() async throws {
        let server = try RedisServer()
        let service = try TestService(redisURL: server.url, prefix: "outage")
        try await service.admin.test(.live) { admin in
        try await service.app.test(.live) { client in
            try await admin.execute(uri: "/readyz", method: .get) { #expect($0.status == .ok) }
            let (ok, _) = try await client.postWebhook(#"{"message":"yes","number":"+15550100","guid":"before"}"#)
            #expect(ok == .ok)

            server.stop()
            for i in 0..<5 {
                try await client.execute(
                    uri: "/api/webhook/sms-received", method: .post, headers: jsonHeaders,
                    body: .init(string: #"{"message":"yes","number":"+15550100","guid":"during-\#(i)"}"#)
                ) { response in
                    #expect(response.status == .serviceUnavailable)
                    #expect(response.headers[.retryAfter] == "2")
                    let json = try JSONParser.parse(response.body.readableBytesView)
                    #expect(json["error"]?["code"] == .string("unavailable"))
                }
            }
            try await admin.execute(uri: "/readyz", method: .get) { #expect($0.status == .serviceUnavailable) }

            try server.start()
            var status: HTTPResponse.Status = .serviceUnavailable
            let started = ContinuousClock.now
            while status != .ok && ContinuousClock.now - started < .seconds(3) {
                (status, _) = try await client.postWebhook(#"{"message":"yes","number":"+15550100","guid":"during-0"}"#)
                if status != .ok { try await Task.sleep(for: .milliseconds(50)) }
            }
            #expect(status == .ok)
            #expect(ContinuousClock.now - started < .seconds(2))
            // the admin listener has a Redis client of its own: it recovers too, within its reconnect backoff
            var ready: HTTPResponse.Status = .serviceUnavailable
            let readyStarted = ContinuousClock.now
            while ready != .ok && ContinuousClock.now - readyStarted < .seconds(3) {
                ready = try await admin.execute(uri: "/readyz", method: .get) { $0.status }
                if ready != .ok { try await Task.sleep(for: .milliseconds(50)) }
            }
            #expect(ready == .ok)
        }
        }
        // the server restarted empty (no persistence here): only the retried message is stored
        #expect(try await service.check.send("EXISTS", "outage:dedup:during-0") == .integer(1))
        #expect(try await service.check.send("EXISTS", "outage:dedup:during-1") == .integer(0))
        await service.check.shutdown()
        withExtendedLifetime(server) {}
    }
}
