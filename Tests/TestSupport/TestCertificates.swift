import Foundation

/// Certificates made with openssl for one test run: a CA, a server certificate for the IP 127.0.0.1, one for the name
/// `redis.test` only, a client certificate, and an unrelated CA (for the wrong-CA case). PEM files in `directory`.
public final class TestCertificates: @unchecked Sendable {
    public let directory: URL

    public var caFile: String { self.file("ca.crt") }
    public var otherCAFile: String { self.file("other-ca.crt") }
    public var clientCertificateFile: String { self.file("client.crt") }
    public var clientKeyFile: String { self.file("client.key") }

    /// Certificate and key of a server: `ip` (SAN IP:127.0.0.1) or `name` (SAN DNS:redis.test only).
    public func server(_ kind: ServerKind) -> (certificate: String, key: String) {
        (self.file("\(kind.rawValue).crt"), self.file("\(kind.rawValue).key"))
    }

    /// `node`: for 127.0.0.1 and usable as a client certificate too (cluster nodes connect to each other with it).
    public enum ServerKind: String, Sendable { case ip = "server-ip", name = "server-name", node = "server-node" }

    public init() throws {
        self.directory = FileManager.default.temporaryDirectory.appendingPathComponent("smshook-tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: self.directory, withIntermediateDirectories: true)
        for ca in ["ca", "other-ca"] {
            try self.openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2", "-subj", "/CN=smshook test \(ca)",
                             "-keyout", self.file("\(ca).key"), "-out", self.file("\(ca).crt"))
        }
        try self.issue("server-ip", subject: "/CN=127.0.0.1", extensions: "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth")
        try self.issue("server-name", subject: "/CN=redis.test", extensions: "subjectAltName=DNS:redis.test\nextendedKeyUsage=serverAuth")
        try self.issue("server-node", subject: "/CN=127.0.0.1", extensions: "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth")
        try self.issue("client", subject: "/CN=smshook", extensions: "extendedKeyUsage=clientAuth")
    }

    deinit { try? FileManager.default.removeItem(at: self.directory) }

    /// The redis-server arguments for a TLS-only server on `port` with this server certificate.
    public func redisArguments(port: Int, server kind: ServerKind, requireClientCertificates: Bool) -> [String] {
        let (certificate, key) = self.server(kind)
        return ["--port", "0", "--tls-port", "\(port)", "--tls-cert-file", certificate, "--tls-key-file", key,
                "--tls-ca-cert-file", self.caFile, "--tls-auth-clients", requireClientCertificates ? "yes" : "no"]
    }

    private func issue(_ name: String, subject: String, extensions: String) throws {
        let ext = self.file("\(name).ext")
        try extensions.write(toFile: ext, atomically: true, encoding: .utf8)
        try self.openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-subj", subject, "-keyout", self.file("\(name).key"),
                         "-out", self.file("\(name).csr"))
        try self.openssl("x509", "-req", "-in", self.file("\(name).csr"), "-CA", self.caFile, "-CAkey", self.file("ca.key"),
                         "-CAcreateserial", "-days", "2", "-extfile", ext, "-out", self.file("\(name).crt"))
    }

    private func file(_ name: String) -> String { self.directory.appendingPathComponent(name).path }

    private func openssl(_ arguments: String...) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try findExecutable("openssl"))
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSLocalizedDescriptionKey: "openssl \(arguments.joined(separator: " ")) failed"])
        }
    }
}
