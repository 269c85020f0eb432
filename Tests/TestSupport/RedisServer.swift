import Foundation
import Glibc
import RedisClient

/// A throwaway redis-server on a free loopback port, for tests that restart, kill or configure the server.
public final class RedisServer: @unchecked Sendable {
    public let port: Int
    public let directory: URL
    private let extraArguments: [String]
    private var process: Process?

    public init(arguments: [String] = []) throws {
        self.port = try freeLoopbackPort()
        self.directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("smshook-redis-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: self.directory, withIntermediateDirectories: true)
        self.extraArguments = arguments
        try self.start()
    }

    /// A TLS-only server (its plain port off) with a certificate of `certificates`.
    public init(tls certificates: TestCertificates, server kind: TestCertificates.ServerKind = .ip,
                requireClientCertificates: Bool = false, arguments: [String] = []) throws {
        self.port = try freeLoopbackPort()
        self.directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("smshook-redis-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: self.directory, withIntermediateDirectories: true)
        self.extraArguments = certificates.redisArguments(
            port: self.port, server: kind, requireClientCertificates: requireClientCertificates) + arguments
        try self.start()
    }

    public var url: String { "redis://127.0.0.1:\(self.port)" }

    /// Starts (or restarts) the server and waits until it answers PING.
    public func start() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try findExecutable("redis-server"))
        process.arguments = [
            "--port", "\(self.port)", "--bind", "127.0.0.1", "--dir", self.directory.path,
            "--save", "", "--appendonly", "no", "--daemonize", "no", "--logfile", "",
        ] + self.extraArguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        self.process = process
        for _ in 0..<200 {
            if canConnect(port: self.port) { return }
            usleep(10_000)
        }
        throw RedisError(.connectionFailed, "redis-server did not start on port \(self.port)")
    }

    public var isRunning: Bool { self.process?.isRunning ?? false }

    /// Sends `signal` (SIGSTOP to pause it, SIGCONT to resume) without waiting.
    public func signal(_ signal: Int32) {
        guard let process = self.process, process.isRunning else { return }
        kill(process.processIdentifier, signal)
    }

    /// Kills the server (SIGKILL by default) and waits for it to exit.
    public func stop(signal: Int32 = SIGKILL) {
        guard let process = self.process, process.isRunning else { return }
        kill(process.processIdentifier, signal)
        process.waitUntilExit()
        self.process = nil
    }

    deinit {
        self.stop()
        try? FileManager.default.removeItem(at: self.directory)
    }
}

/// The Redis URL given by `make test`, or a local default. With CI=true a missing server fails the tests.
public enum TestRedis {
    public static var url: String {
        ProcessInfo.processInfo.environment["REDIS_URL"] ?? "redis://127.0.0.1:6379"
    }

    /// Integration tests run when REDIS_URL is set or under CI (where a missing Redis must fail, not skip).
    public static var enabled: Bool {
        ProcessInfo.processInfo.environment["REDIS_URL"] != nil
            || ProcessInfo.processInfo.environment["CI"] == "true"
            || canConnect(port: 6379)
    }

    /// A unique key prefix so suites can share one server and run in parallel.
    public static func uniquePrefix(_ name: String = "t") -> String {
        "test:\(name):\(UUID().uuidString.prefix(8))"
    }
}

public func findExecutable(_ name: String) throws -> String {
    for dir in ["/usr/bin", "/usr/local/bin", "/usr/sbin", "/bin"] {
        let path = "\(dir)/\(name)"
        if FileManager.default.isExecutableFile(atPath: path) { return path }
    }
    throw RedisError(.connectionFailed, "\(name) not found; run `make test` to install it")
}

/// A TCP port on 127.0.0.1 that was free a moment ago.
public func freeLoopbackPort() throws -> Int {
    let (fd, port) = try bindLoopbackPort()
    close(fd)
    return port
}

/// A loopback port that refuses connections for as long as this object lives: its socket stays bound but never
/// listens, so a connect gets RST at once and no other test or server can take the port meanwhile.
public final class ClosedPort: @unchecked Sendable {
    public let port: Int
    private let fd: Int32

    public init() throws { (fd, port) = try bindLoopbackPort() }
    deinit { close(fd) }
}

/// A socket bound to a free port on 127.0.0.1 (kernel's choice), and that port.
private func bindLoopbackPort() throws -> (Int32, Int) {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw RedisError(.connectionFailed, "socket() failed") }
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_port = 0
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    var len = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &addr) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { p -> Int32 in
            guard bind(fd, p, len) == 0 else { return -1 }
            return getsockname(fd, p, &len)
        }
    }
    guard bound == 0 else {
        close(fd)
        throw RedisError(.connectionFailed, "bind() failed")
    }
    return (fd, Int(UInt16(bigEndian: addr.sin_port)))
}

/// True when something accepts TCP connections on 127.0.0.1:port.
public func canConnect(port: Int) -> Bool {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { return false }
    defer { close(fd) }
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_port = UInt16(port).bigEndian
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    return withUnsafePointer(to: &addr) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
        }
    }
}

/// Paths inside this repository, for tests that read its shipped files.
public enum RepoFile {
    public static let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    public static func path(_ relative: String) -> String { root.appendingPathComponent(relative).path }
}

/// A redis-server in sentinel mode on a free loopback port, watching `masterName` at `primaryPort`.
public final class SentinelServer: @unchecked Sendable {
    public let port: Int
    private let process: Process
    private let directory: URL

    /// - Parameter tls: a TLS-only sentinel (its plain port off) that also reaches the primary over TLS.
    public init(masterName: String, primaryPort: Int, downAfterMilliseconds: Int = 500, tls: TestCertificates? = nil) throws {
        let port = try freeLoopbackPort()
        self.port = port
        self.directory = FileManager.default.temporaryDirectory.appendingPathComponent("smshook-sentinel-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: self.directory, withIntermediateDirectories: true)
        let config = self.directory.appendingPathComponent("sentinel.conf")
        let listen = tls.map { certificates in
            let (certificate, key) = certificates.server(.ip)
            return """
                port 0
                tls-port \(port)
                tls-cert-file \(certificate)
                tls-key-file \(key)
                tls-ca-cert-file \(certificates.caFile)
                tls-auth-clients no
                tls-replication yes
                """
        } ?? "port \(port)"
        try """
            \(listen)
            bind 127.0.0.1
            dir \(self.directory.path)
            sentinel monitor \(masterName) 127.0.0.1 \(primaryPort) 2
            sentinel down-after-milliseconds \(masterName) \(downAfterMilliseconds)
            sentinel failover-timeout \(masterName) 3000
            sentinel parallel-syncs \(masterName) 1
            """.write(to: config, atomically: true, encoding: .utf8)
        self.process = Process()
        self.process.executableURL = URL(fileURLWithPath: try findExecutable("redis-server"))
        self.process.arguments = [config.path, "--sentinel"]
        self.process.standardOutput = FileHandle.nullDevice
        self.process.standardError = FileHandle.nullDevice
        try self.process.run()
        for _ in 0..<200 {
            if canConnect(port: self.port) { return }
            usleep(10_000)
        }
        throw RedisError(.connectionFailed, "sentinel did not start on port \(self.port)")
    }

    deinit {
        if self.process.isRunning {
            kill(self.process.processIdentifier, SIGKILL)
            self.process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: self.directory)
    }
}
