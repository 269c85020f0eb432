import Foundation
import HummingbirdTesting
import NIOCore
import SMSCore
import TestSupport
import Testing

/// `POST /bench/discard` and `POST /bench/ping` exist only with SMSHOOK_BENCH_ROUTES=1, read the body with the
/// webhook's limits and store nothing.
@Suite(.enabled(if: TestRedis.enabled, "needs Redis: run `make test`"))
struct BenchRouteTests {
    @Test func theDiscardRouteIsOffUnlessAskedFor() async throws {
        let off = try TestService(prefix: TestRedis.uniquePrefix("bench-off"))
        try await off.app.test(.router) { client in
            for uri in ["/bench/discard", "/bench/ping"] {
                try await client.execute(uri: uri, method: .post, headers: jsonHeaders, body: ByteBuffer(string: "{}")) {
                    #expect($0.status == .notFound)
                }
            }
        }
        let on = try TestService(prefix: TestRedis.uniquePrefix("bench-on")) {
            $0.benchRoutes = true
            $0.limits.maxBodyBytes = 2048
        }
        try await on.app.test(.router) { client in
            let body = #"{"message":"yes","number":"+15550100","guid":"bench-1"}"#
            for uri in ["/bench/discard", "/bench/ping"] {
                try await client.execute(uri: uri, method: .post, headers: jsonHeaders, body: ByteBuffer(string: body)) {
                    #expect($0.status == .ok)
                    #expect(String(buffer: $0.body).hasPrefix(#"{"status":"success""#))
                }
            }
            try await client.execute(
                uri: "/bench/discard", method: .post, headers: jsonHeaders, body: ByteBuffer(string: String(repeating: "x", count: 4096))
            ) { #expect($0.status == .contentTooLarge) }
        }
        #expect(try await on.check.send("EXISTS", "\(on.keys.dedup("bench-1"))") == .integer(0))  // nothing stored
        await off.check.shutdown()
        await on.check.shutdown()
    }
}
