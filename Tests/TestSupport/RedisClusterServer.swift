import Foundation
import Glibc
import RedisClient

/// A throwaway Redis Cluster on loopback: `primaries` primaries with one replica each, made with
/// `redis-cli --cluster create --cluster-replicas 1`, ready once every node reports `cluster_state:ok`.
public final class RedisClusterServer: @unchecked Sendable {
    public let nodes: [RedisServer]
    /// What redis-cli needs to reach a node (TLS files, password).
    let cli: [String]
    let tls: TestCertificates?
    let password: String?

    /// - Parameters:
    ///   - tls: TLS-only nodes (plain ports off; the cluster bus and replication over TLS too).
    ///   - password: `requirepass` (and `masterauth`) on every node.
    ///   - replicas: per primary (0 for tests that need no failover: fewer processes on a loaded machine).
    public init(primaries: Int = 3, replicas: Int = 1, nodeTimeoutMilliseconds: Int = 1000, tls: TestCertificates? = nil,
                password: String? = nil, arguments: [String] = []) throws {
        self.tls = tls
        self.password = password
        self.cli = (tls.map { ["--tls", "--cacert", $0.caFile] } ?? []) + (password.map { ["-a", $0, "--no-auth-warning"] } ?? [])
        var secure: [String] = []
        if tls != nil { secure += ["--tls-cluster", "yes", "--tls-replication", "yes"] }
        if let password { secure += ["--requirepass", password, "--masterauth", password] }
        var nodes: [RedisServer] = []
        for _ in 0..<(primaries * (1 + replicas)) {
            let settings = [
                "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
                "--cluster-port", "\(try freeLoopbackPort())",
                "--cluster-node-timeout", "\(nodeTimeoutMilliseconds)", "--cluster-require-full-coverage", "yes",
                "--repl-diskless-sync-delay", "0",  // replicas in sync at once, so a failover can happen right away
            ] + secure + arguments
            nodes.append(try tls.map { try RedisServer(tls: $0, server: .node, arguments: settings) } ?? RedisServer(arguments: settings))
        }
        self.nodes = nodes
        try runTool("redis-cli", self.cli + ["--cluster", "create"] + nodes.map { "127.0.0.1:\($0.port)" } + ["--cluster-replicas", "\(replicas)", "--cluster-yes"])
        try self.waitUntilReady()
    }

    /// `REDIS_CLUSTER_NODES` for this cluster (every node a seed).
    public var seeds: String { self.nodes.map { "127.0.0.1:\($0.port)" }.joined(separator: ",") }

    /// A client configuration for this cluster.
    public func configuration(connections: Int = 1) throws -> RedisConfiguration {
        try RedisConfiguration(environment: self.environment.merging(["REDIS_CONNECTIONS": "\(connections)"]) { $1 })
    }

    /// The environment a serve or worker needs for this cluster.
    public var environment: [String: String] {
        var env = ["REDIS_CLUSTER_NODES": self.seeds]
        if let tls = self.tls {
            env["REDIS_URL"] = "rediss://\(self.password.map { ":\($0)@" } ?? "")127.0.0.1:1"
            env["REDIS_TLS_CA_FILE"] = tls.caFile
        } else if let password = self.password {
            env["REDIS_URL"] = "redis://:\(password)@127.0.0.1:1"
        }
        return env
    }

    /// Waits until every running node says the cluster is ok and agrees on the slots, and every replica is in sync.
    public func waitUntilReady(seconds: Double = 30) throws {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            let running = self.nodes.filter(\.isRunning)
            let states = running.map { (try? runTool("redis-cli", self.cli + ["-p", "\($0.port)", "CLUSTER", "INFO"])) ?? "" }
            let links = running.map { (try? runTool("redis-cli", self.cli + ["-p", "\($0.port)", "INFO", "replication"])) ?? "" }
            if states.allSatisfy({ $0.contains("cluster_state:ok") && $0.contains("cluster_slots_ok:16384") }),
                links.allSatisfy({ $0.contains("role:master") || $0.contains("master_link_status:up") })
            {
                return
            }
            usleep(100_000)
        }
        throw RedisError(.connectionFailed, "the test cluster did not become ready in \(seconds) s")
    }

    /// The node replicating the primary on `port` (per `ROLE`).
    public func replica(of port: Int) -> RedisServer? {
        self.nodes.first { node in
            let role = ((try? runTool("redis-cli", self.cli + ["-p", "\(node.port)", "ROLE"])) ?? "").split(separator: "\n")
            return role.first == "slave" && role.count > 2 && role[2] == "\(port)"
        }
    }

    /// Ports of the nodes that are primaries now (per `ROLE`).
    public func primaryPorts() -> [Int] {
        self.nodes.filter(\.isRunning).map(\.port).filter {
            ((try? runTool("redis-cli", self.cli + ["-p", "\($0)", "ROLE"])) ?? "").hasPrefix("master")
        }
    }
}

/// Runs a tool to completion (killed after 120 s: a test must not hang); its output, or an error naming it and its
/// output when it fails.
@discardableResult
public func runTool(_ name: String, _ arguments: [String]) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: try findExecutable("timeout"))
    process.arguments = ["120", try findExecutable(name)] + arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    try process.run()
    let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
        throw RedisError(.connectionFailed, "\(name) \(arguments.prefix(3).joined(separator: " ")) failed: \(output.suffix(500))")
    }
    return output
}

/// One cluster shared by the suites of a test process (each test uses its own key prefix); made on first use and
/// stopped when the process exits (a static is never deinitialised, so its nodes would outlive the tests).
public enum TestCluster {
    private static let made = Result {
        let cluster = try RedisClusterServer()
        atexit { TestCluster.stop() }
        return cluster
    }

    public static func shared() throws -> RedisClusterServer { try self.made.get() }

    private static func stop() {
        guard case .success(let cluster) = self.made else { return }
        for node in cluster.nodes { node.stop() }
    }
}
