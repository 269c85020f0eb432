import ArgumentParser
import AsyncHTTPClient
import Foundation
import NIOCore

/// `smshook healthcheck`: the container's HEALTHCHECK without curl in the image.
struct Healthcheck: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "GET http://127.0.0.1:PORT/healthz of a local serve; exit 0 when it answers 200.")

    @Option(help: "Port (default SMSHOOK_PORT, else 8080).") var port: Int?
    @Option(help: "Path to ask.") var path = "/healthz"
    @Option(help: "Seconds to wait for the answer.") var timeout = 3

    func run() async throws {
        let env = ProcessInfo.processInfo.environment
        let port = self.port ?? env["SMSHOOK_PORT"].flatMap { Int($0) } ?? 8080
        guard (1...65535).contains(port), (1...60).contains(self.timeout), self.path.hasPrefix("/") else {
            throw ValidationError("port 1-65535, timeout 1-60 s and a path starting with / are needed")
        }
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        var status = 0
        do {
            let response = try await client.execute(
                HTTPClientRequest(url: "http://127.0.0.1:\(port)\(self.path)"), timeout: .seconds(Int64(self.timeout)))
            status = Int(response.status.code)
            _ = try await response.body.collect(upTo: 1 << 16)
        } catch {
            print("unhealthy: \(error)")
        }
        try? await client.shutdown()
        guard status == 200 else {
            if status != 0 { print("unhealthy: HTTP \(status)") }
            throw ExitCode.failure
        }
        print("healthy")
    }
}
