import Foundation
import Glibc
import RedisClient

/// A throwaway Redis Cluster on loopback: `primaries` primaries with one replica each, made with
/// `redis-cli --cluster create --cluster-replicas 1`, ready once every node reports `cluster_state:ok`.
public final class RedisClusterServer: @unchecked Sendable {
    public let nodes: [RedisServer]

    public init(primaries: Int = 3, nodeTimeoutMilliseconds: Int = 1000, arguments: [String] = []) throws {
        var nodes: [RedisServer] = []
        for _ in 0..<(primaries * 2) {
            nodes.append(try RedisServer(arguments: [
                "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
                "--cluster-port", "\(try freeLoopbackPort())",
                "--cluster-node-timeout", "\(nodeTimeoutMilliseconds)", "--cluster-require-full-coverage", "yes",
                "--repl-diskless-sync-delay", "0",  // replicas in sync at once, so a failover can happen right away
            ] + arguments))
        }
        self.nodes = nodes
        try runTool("redis-cli", ["--cluster", "create"] + nodes.map { "127.0.0.1:\($0.port)" } + ["--cluster-replicas", "1", "--cluster-yes"])
        try self.waitUntilReady()
    }

    /// `REDIS_CLUSTER_NODES` for this cluster (every node a seed).
    public var seeds: String { self.nodes.map { "127.0.0.1:\($0.port)" }.joined(separator: ",") }

    /// A client configuration for this cluster.
    public func configuration(connections: Int = 1) throws -> RedisConfiguration {
        try RedisConfiguration(environment: ["REDIS_CLUSTER_NODES": self.seeds, "REDIS_CONNECTIONS": "\(connections)"])
    }

    /// Waits until every running node says the cluster is ok and agrees on the slots, and every replica is in sync.
    public func waitUntilReady(seconds: Double = 30) throws {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            let running = self.nodes.filter(\.isRunning)
            let states = running.map { (try? runTool("redis-cli", ["-p", "\($0.port)", "CLUSTER", "INFO"])) ?? "" }
            let links = running.map { (try? runTool("redis-cli", ["-p", "\($0.port)", "INFO", "replication"])) ?? "" }
            if states.allSatisfy({ $0.contains("cluster_state:ok") && $0.contains("cluster_slots_ok:16384") }),
                links.allSatisfy({ $0.contains("role:master") || $0.contains("master_link_status:up") })
            {
                return
            }
            usleep(100_000)
        }
        throw RedisError(.connectionFailed, "the test cluster did not become ready in \(seconds) s")
    }

    /// Ports of the nodes that are primaries now (per `ROLE`).
    public func primaryPorts() -> [Int] {
        self.nodes.filter(\.isRunning).map(\.port).filter {
            ((try? runTool("redis-cli", ["-p", "\($0)", "ROLE"])) ?? "").hasPrefix("master")
        }
    }
}

/// Runs a tool to completion; its output, or an error naming it and its output when it fails.
@discardableResult
public func runTool(_ name: String, _ arguments: [String]) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: try findExecutable(name))
    process.arguments = arguments
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
