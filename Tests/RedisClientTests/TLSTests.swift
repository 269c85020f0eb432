import Foundation
import Logging
import RedisClient
import Testing
import TestSupport

/// TLS to Debian's redis-server (`--tls-port`), with certificates made for the test by openssl.
@Suite(.enabled(if: TestRedis.enabled, "needs redis-server: run `make test`"), .serialized)
struct TLSTests {
    static let certificates = Result { try TestCertificates() }

    private func client(_ port: Int, _ configure: (inout RedisConfiguration.TLS) -> Void) throws -> RedisClient {
        var configuration = try RedisConfiguration(url: "rediss://127.0.0.1:\(port)")
        configuration.connectTimeout = .seconds(2)
        var tls = RedisConfiguration.TLS(caFile: try Self.certificates.get().caFile)
        configure(&tls)
        configuration.tls = tls
        var logger = Logger(label: "test.tls")
        logger.logLevel = .critical
        return RedisClient(configuration: configuration, logger: logger)
    }

    /// The error of a first command that must fail, or nil when it succeeded.
    private func failure(_ client: RedisClient) async -> RedisError? {
        defer { _ = client }
        do {
            _ = try await client.send("PING")
            return nil
        } catch {
            return error as? RedisError ?? RedisError(.unexpectedReply, "\(error)")
        }
    }

    @Test func verifiedServerCertificateByIP() async throws {
        let server = try RedisServer(tls: try Self.certificates.get(), server: .ip)
        let client = try self.client(server.port) { _ in }
        try await client.send("SET", "tls-key", "over TLS")
        #expect(try await client.send("GET", "tls-key") == .bulk(Array("over TLS".utf8)))
        await client.shutdown()
        withExtendedLifetime(server) {}
    }

    @Test func serverNameIsSentAndVerifiedWhenConnectingByIP() async throws {
        let server = try RedisServer(tls: try Self.certificates.get(), server: .name)
        // the certificate names redis.test only: by IP it is refused, with REDIS_TLS_SERVER_NAME accepted
        let byIP = try self.client(server.port) { _ in }
        let refused = await self.failure(byIP)
        await byIP.shutdown()
        #expect(refused?.code == .connectionFailed)
        #expect(refused?.message.contains("127.0.0.1:\(server.port)") == true)
        #expect(refused?.message.contains("REDIS_TLS_SERVER_NAME") == true, "\(String(describing: refused))")
        let named = try self.client(server.port) { $0.serverName = "redis.test" }
        #expect(try await named.send("PING") == .status("PONG"))
        await named.shutdown()
        withExtendedLifetime(server) {}
    }

    @Test func aServerSignedByAnotherCAIsRefusedWithAClearError() async throws {
        let server = try RedisServer(tls: try Self.certificates.get(), server: .ip)
        let client = try self.client(server.port) { $0.caFile = try? Self.certificates.get().otherCAFile }
        let error = await self.failure(client)
        #expect(error?.code == .connectionFailed)
        #expect(error?.isUnavailable == true)
        #expect(error?.message.contains("TLS") == true)
        #expect(error?.message.contains("certificate was not accepted") == true, "\(String(describing: error))")
        // and fast again while backing off: no connect per call
        let started = ContinuousClock.now
        #expect(await self.failure(client)?.code == .connectionFailed)
        #expect(ContinuousClock.now - started < .milliseconds(200))
        await client.shutdown()
        withExtendedLifetime(server) {}
    }

    @Test func clientCertificatesWhenTheServerRequiresThem() async throws {
        let certificates = try Self.certificates.get()
        let server = try RedisServer(tls: certificates, server: .ip, requireClientCertificates: true)
        let without = try self.client(server.port) { _ in }
        #expect(await self.failure(without)?.code == .connectionFailed)
        await without.shutdown()
        let with = try self.client(server.port) {
            $0.certificateFile = certificates.clientCertificateFile
            $0.keyFile = certificates.clientKeyFile
        }
        #expect(try await with.send("PING") == .status("PONG"))
        await with.shutdown()
        withExtendedLifetime(server) {}
    }

    @Test func anUnreadableCAFileIsAConfigurationErrorNamingTheVariable() async throws {
        let client = try self.client(1) { $0.caFile = "/nonexistent/ca.pem" }
        let error = await self.failure(client)
        #expect(error?.message.contains("REDIS_TLS") == true)
        #expect(error?.message.contains("/nonexistent/ca.pem") == true)
        await client.shutdown()
    }

    @Test func tlsSurvivesAServerRestart() async throws {
        let server = try RedisServer(tls: try Self.certificates.get(), server: .ip)
        let client = try self.client(server.port) { _ in }
        #expect(try await client.send("PING") == .status("PONG"))
        server.stop()
        try server.start()
        var reply: RedisReply?
        for _ in 0..<40 where reply == nil {
            reply = try? await client.send("PING")
            if reply == nil { try await Task.sleep(for: .milliseconds(50)) }
        }
        #expect(reply == .status("PONG"))
        await client.shutdown()
        withExtendedLifetime(server) {}
    }
}

/// Sentinel over TLS: the sentinel and the primary both TLS-only.
@Suite(.enabled(if: TestRedis.enabled, "needs redis-server: run `make test`"))
struct SentinelTLSTests {
    @Test func findsThePrimaryThroughATLSSentinel() async throws {
        let certificates = try TestCertificates()
        let primary = try RedisServer(tls: certificates, server: .ip)
        let sentinel = try SentinelServer(masterName: "tlsmaster", primaryPort: primary.port, tls: certificates)
        let configuration = try RedisConfiguration(environment: [
            "REDIS_SENTINELS": "127.0.0.1:\(sentinel.port)", "REDIS_MASTER_NAME": "tlsmaster", "REDIS_TLS": "1",
            "REDIS_SENTINEL_TLS": "1", "REDIS_TLS_CA_FILE": certificates.caFile, "REDIS_CONNECT_TIMEOUT_MS": "2000",
        ])
        var logger = Logger(label: "test.sentinel-tls")
        logger.logLevel = .critical
        let client = RedisClient(configuration: configuration, logger: logger)
        try await client.send("SET", "via-tls-sentinel", "yes")
        #expect(try await client.send("GET", "via-tls-sentinel") == .bulk(Array("yes".utf8)))
        await client.shutdown()
        // without REDIS_SENTINEL_TLS the plain-text question to the TLS sentinel fails, with the sentinel named
        var plain = configuration
        plain.sentinelTLS = nil
        let refused = RedisClient(configuration: plain, logger: logger)
        do {
            try await refused.send("PING")
            Issue.record("a plain connection to a TLS-only sentinel worked")
        } catch let error as RedisError {
            #expect(error.code == .connectionFailed && error.message.contains("127.0.0.1:\(sentinel.port)"), "\(error)")
        }
        await refused.shutdown()
        withExtendedLifetime((primary, sentinel, certificates)) {}
    }
}
