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

    @Test func theAdminListenerIsLoopbackByDefaultAndApartFromThePublicPort() throws {
        let c = try ServeConfiguration(environment: self.base, defaultInstanceID: "t")
        #expect(c.adminHost == "127.0.0.1" && c.adminPort == 9464)
        #expect(try ServeConfiguration(environment: self.base.merging(["SMSHOOK_ADMIN_PORT": "off"]) { $1 }, defaultInstanceID: "t").adminPort == nil)
        #expect(self.error(["SMSHOOK_PORT": "9464"])?.hasPrefix("SMSHOOK_ADMIN_PORT") == true)
        #expect(self.error(["SMSHOOK_ADMIN_PORT": "70000"])?.hasPrefix("SMSHOOK_ADMIN_PORT") == true)
    }

    @Test func aMalformedRedisURLIsReportedWithoutItsPassword() {
        let message = self.error(["REDIS_URL": "redis://:s3cr3t-pw@host:port"]) ?? ""
        #expect(message.contains("REDIS_URL") && !message.contains("s3cr3t-pw"))
    }
}
