import Foundation
import Glibc
import SMSCore
import TestSupport
import Testing

/// A client that sends its body very slowly is cut off with 408 while others are served.
@Suite(.enabled(if: TestRedis.enabled, "needs Redis: run `make test`"))
struct SlowClientTests {
    @Test func slowBodyTimesOutAndOthersAreServed() async throws {
        let service = try TestService(prefix: TestRedis.uniquePrefix("slow")) { $0.bodyTimeout = .milliseconds(6000) }
        try await service.app.test(.live) { client in
            let port = try #require(client.port)
            let slow = Task.detached { () -> String in
                let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
                defer { close(fd) }
                var addr = sockaddr_in()
                addr.sin_family = sa_family_t(AF_INET)
                addr.sin_port = UInt16(port).bigEndian
                addr.sin_addr.s_addr = inet_addr("127.0.0.1")
                _ = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
                let head = "POST /api/webhook/sms-received HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"mess"
                _ = head.withCString { send(fd, $0, strlen($0), 0) }
                var buffer = [UInt8](repeating: 0, count: 4096)
                var tv = timeval(tv_sec: 15, tv_usec: 0)
                setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
                let n = recv(fd, &buffer, buffer.count, 0)
                return n > 0 ? String(decoding: buffer[..<n], as: UTF8.self) : ""
            }
            // meanwhile an ordinary client is served, long before the slow one is cut off
            let started = ContinuousClock.now
            let (status, _) = try await client.postWebhook(#"{"message":"yes","guid":"fast-1"}"#)
            #expect(status == .ok)
            #expect(ContinuousClock.now - started < .milliseconds(6000))  // before the slow one is cut off
            let answer = await slow.value
            #expect(answer.hasPrefix("HTTP/1.1 408"))
            #expect(answer.contains("request_timeout"))
        }
        await service.check.shutdown()
    }
}
