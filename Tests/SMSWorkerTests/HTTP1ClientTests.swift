import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL
@testable import SMSWorker
import TestSupport
import Testing

/// The worker's HTTP/1.1 client against a real server on 127.0.0.1: keep-alive, its connection limit, closes, cut and
/// chunked bodies, cancellation, TLS verification.
struct HTTP1ClientTests {
    private func withServer<T: Sendable>(
        tls: NIOSSLContext? = nil, reply: @escaping @Sendable (Int) -> TestHTTPServer.Reply = { _ in .init(body: "ok") },
        _ body: (TestHTTPServer) async throws -> T
    ) async throws -> T {
        let server = TestHTTPServer(reply: reply)
        try await server.start(tls: tls)
        do {
            let result = try await body(server)
            await server.stop()
            return result
        } catch {
            await server.stop()
            throw error
        }
    }

    @Test func sequentialRequestsShareOneKeepAliveConnection() async throws {
        try await self.withServer { server in
            let client = HTTP1Client(url: "http://127.0.0.1:\(server.port)/hook?x=1", connections: 4)
            for n in 0..<5 {
                let answer = try await client.post(headers: [("Content-Type", "text/plain")], body: Array("body \(n)".utf8))
                #expect(answer.status == 200 && answer.body == Array("ok".utf8) && answer.complete)
            }
            await client.shutdown()
            #expect(server.connections.withLock { $0 } == 1)
            let requests = server.requests.withLock { $0 }
            #expect(requests.map(\.body) == (0..<5).map { "body \($0)" })
            #expect(requests.first?.head.uri == "/hook?x=1")
            #expect(requests.first?.head.method == .POST)
            #expect(requests.first?.head.headers["Host"] == ["127.0.0.1:\(server.port)"])
            #expect(requests.first?.head.headers["Content-Length"] == ["6"])
            #expect(requests.first?.head.headers["Content-Type"] == ["text/plain"])
        }
    }

    @Test func concurrentRequestsNeverOpenMoreThanTheLimit() async throws {
        try await self.withServer(reply: { _ in .init(body: "ok", delay: .milliseconds(30)) }) { server in
            let client = HTTP1Client(url: "http://127.0.0.1:\(server.port)/", connections: 2)
            let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<10 { group.addTask { try await client.post(headers: [], body: []).status } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            await client.shutdown()
            #expect(statuses == Array(repeating: 200, count: 10))
            #expect(server.connections.withLock { $0 } == 2)
        }
    }

    @Test func aConnectionTheServerClosesOrLeftIdleIsNotReused() async throws {
        try await self.withServer(reply: { n in .init(body: "ok", close: n < 2) }) { server in
            let client = HTTP1Client(url: "http://127.0.0.1:\(server.port)/", connections: 1, idleTimeout: .milliseconds(200))
            for _ in 0..<3 { #expect(try await client.post(headers: [], body: []).status == 200) }
            #expect(server.connections.withLock { $0 } == 3)  // two `Connection: close` answers
            try await Task.sleep(for: .milliseconds(400))  // past the idle timeout: a new connection
            let status = try await client.post(headers: [], body: []).status
            #expect(status == 200)
            #expect(server.connections.withLock { $0 } == 4)
            await client.shutdown()
        }
    }

    @Test func chunkedAndOversizedBodies() async throws {
        let long = String(repeating: "x", count: 100)
        try await self.withServer(reply: { n in n == 0 ? .init(body: "chunked answer", chunked: true) : .init(body: long) }) { server in
            let client = HTTP1Client(url: "http://127.0.0.1:\(server.port)/", connections: 1, bodyLimit: 10)
            let chunked = try await client.post(headers: [], body: [])
            #expect(chunked.body == Array("chunked an".utf8) && chunked.complete)
            let cut = try await client.post(headers: [], body: [])
            #expect(cut.body.count == 10 && cut.complete)  // read to its end, kept to the limit
            #expect(server.connections.withLock { $0 } == 1)
            await client.shutdown()
        }
    }

    @Test func noAnswerIsAnErrorAndFreesTheSlot() async throws {
        try await self.withServer(reply: { n in n == 0 ? .init(drop: true) : .init(body: "ok") }) { server in
            let client = HTTP1Client(url: "http://127.0.0.1:\(server.port)/", connections: 1)
            await #expect(throws: HTTP1ClientError.self) { try await client.post(headers: [], body: []) }
            let status = try await client.post(headers: [], body: []).status
            #expect(status == 200)
            await client.shutdown()
        }
    }

    @Test func cancellingARequestClosesItsConnectionAndAWaitingOneLeavesTheLine() async throws {
        try await self.withServer(reply: { n in .init(body: "ok", delay: n == 0 ? .seconds(5) : .zero) }) { server in
            let client = HTTP1Client(url: "http://127.0.0.1:\(server.port)/", connections: 1)
            let slow = Task { try await client.post(headers: [], body: []) }
            try await Task.sleep(for: .milliseconds(200))
            let waiting = Task { try await client.post(headers: [], body: []) }  // in line behind the slow one
            try await Task.sleep(for: .milliseconds(100))
            let started = ContinuousClock.now
            waiting.cancel()
            await #expect(throws: CancellationError.self) { try await waiting.value }
            slow.cancel()
            await #expect(throws: HTTP1ClientError.self) { try await slow.value }
            #expect(ContinuousClock.now - started < .seconds(2))
            let status = try await client.post(headers: [], body: []).status
            #expect(status == 200)  // the slot is free again
            #expect(server.connections.withLock { $0 } == 2)
            await client.shutdown()
            await #expect(throws: HTTP1ClientError.self) { try await client.post(headers: [], body: []) }
        }
    }

    @Test func httpsVerifiesTheCertificateAndItsName() async throws {
        let certificates = try TestCertificates()
        func serverContext(_ kind: TestCertificates.ServerKind) throws -> NIOSSLContext {
            let (certificate, key) = certificates.server(kind)
            return try NIOSSLContext(configuration: .makeServerConfiguration(
                certificateChain: try NIOSSLCertificate.fromPEMFile(certificate).map { .certificate($0) },
                privateKey: .privateKey(try NIOSSLPrivateKey(file: key, format: .pem))))
        }
        var trusting = TLSConfiguration.makeClientConfiguration()
        trusting.trustRoots = .file(certificates.caFile)
        try await self.withServer(tls: try serverContext(.ip)) { server in
            let url = "https://127.0.0.1:\(server.port)/send"
            let client = HTTP1Client(url: url, connections: 1, tls: trusting)
            let status = try await client.post(headers: [], body: Array("secret".utf8)).status
            #expect(status == 200)
            await client.shutdown()
            // the system's roots do not know the test CA: refused, nothing sent
            let system = HTTP1Client(url: url, connections: 1)
            await #expect(throws: (any Error).self) { try await system.post(headers: [], body: Array("secret".utf8)) }
            await system.shutdown()
            #expect(server.requests.withLock { $0.count } == 1)
        }
        // a certificate for another name (redis.test) from the trusted CA: refused too
        try await self.withServer(tls: try serverContext(.name)) { server in
            let client = HTTP1Client(url: "https://127.0.0.1:\(server.port)/send", connections: 1, tls: trusting)
            await #expect(throws: (any Error).self) { try await client.post(headers: [], body: []) }
            await client.shutdown()
            #expect(server.requests.withLock { $0.isEmpty })
        }
    }

    @Test func aURLItCannotUseIsAClearError() async throws {
        for url in ["ftp://example.com/x", "https://", "not a url", "http://127.0.0.1:0/"] {
            let client = HTTP1Client(url: url, connections: 1)
            await #expect(throws: HTTP1ClientError.self) { try await client.post(headers: [], body: []) }
        }
    }
}
