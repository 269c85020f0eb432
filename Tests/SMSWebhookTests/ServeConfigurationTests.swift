import SMSCore
import SMSWebhook
import TestSupport
import Testing

/// Configuration that would weaken a guarantee is refused at start, naming the variable.
@Suite struct ServeConfigurationTests {
    let base = ["SMSHOOK_CONFIG": RepoFile.path("config/smshook.yaml")]

    func error(_ env: [String: String]) -> String? {
        do {
            _ = try ServeConfiguration(environment: self.base.merging(env) { $1 }, defaultInstanceID: "t")
            return nil
        } catch {
            return "\(error)"
        }
    }

    @Test func aSignatureToleranceAsLongAsTheDedupTTLIsRefused() {
        #expect(self.error(["SMSHOOK_SIGNATURE_TOLERANCE": "3600", "SMSHOOK_DEDUP_TTL": "3600"])?.hasPrefix("SMSHOOK_SIGNATURE_TOLERANCE") == true)
        #expect(self.error(["SMSHOOK_SIGNATURE_TOLERANCE": "300", "SMSHOOK_DEDUP_TTL": "301"]) == nil)
    }

    @Test func consoleAndAPILoginsAreCheckedAtStart() throws {
        #expect(self.error(["SMSHOOK_CONSOLE_TOKENS": "ops=short"])?.hasPrefix("SMSHOOK_CONSOLE_TOKENS") == true)
        #expect(self.error(["SMSHOOK_CONSOLE_USERS": "alice:hunter2-plaintext"])?.contains("plaintext passwords are refused") == true)
        #expect(self.error(["SMSHOOK_API_TOKENS": "short"])?.hasPrefix("SMSHOOK_API_TOKENS") == true)
        let hash = try PasswordHash(password: "a long passphrase", salt: Array(repeating: 1, count: 16), rounds: 1024)
        let c = try ServeConfiguration(
            environment: self.base.merging([
                "SMSHOOK_CONSOLE_TOKENS": "ops=0123456789abcdef, 0123456789abcdeg", "SMSHOOK_CONSOLE_USERS": "alice:\(hash)",
                "SMSHOOK_CONSOLE_SECURE_COOKIE": "1",
            ]) { $1 }, defaultInstanceID: "t")
        #expect(c.console.tokens.map(\.name) == ["ops", "token-2"] && c.console.users["alice"] == hash && c.console.secureCookie == true)
        #expect(try ServeConfiguration(environment: self.base, defaultInstanceID: "t").console.enabled == false)
    }

    @Test func theAdminListenerIsLoopbackByDefaultAndApartFromThePublicPort() throws {
        let c = try ServeConfiguration(environment: self.base, defaultInstanceID: "t")
        #expect(c.adminHost == "127.0.0.1" && c.adminPort == 9464)
        #expect(try ServeConfiguration(environment: self.base.merging(["SMSHOOK_ADMIN_PORT": "off"]) { $1 }, defaultInstanceID: "t").adminPort == nil)
        #expect(self.error(["SMSHOOK_PORT": "9464"])?.hasPrefix("SMSHOOK_ADMIN_PORT") == true)
        #expect(self.error(["SMSHOOK_ADMIN_PORT": "70000"])?.hasPrefix("SMSHOOK_ADMIN_PORT") == true)
    }

    @Test func mergedIngestCallsAreOffByDefaultAndBounded() throws {
        #expect(try ServeConfiguration(environment: self.base, defaultInstanceID: "t").ingestCallsInFlight == 0)
        #expect(try ServeConfiguration(environment: self.base.merging(["REDIS_INGEST_CALLS": "2"]) { $1 }, defaultInstanceID: "t").ingestCallsInFlight == 2)
        #expect(self.error(["REDIS_INGEST_CALLS": "65"])?.hasPrefix("REDIS_INGEST_CALLS") == true)
        #expect(self.error(["REDIS_INGEST_CALLS": "two"])?.hasPrefix("REDIS_INGEST_CALLS") == true)
    }

    @Test func aMalformedRedisURLIsReportedWithoutItsPassword() {
        let message = self.error(["REDIS_URL": "redis://:s3cr3t-pw@host:port"]) ?? ""
        #expect(message.contains("REDIS_URL") && !message.contains("s3cr3t-pw"))
    }
}
