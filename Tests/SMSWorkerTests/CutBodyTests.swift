import Foundation
import Glibc
import SMSCore
@testable import SMSWorker
import TestSupport
import Testing

/// A provider that accepts the send (2xx status) but whose answer body is cut off: the send must count as sent, not be
/// retried (a retry would send the SMS a second time).
struct CutBodyTests {
    /// One connection on 127.0.0.1: reads the request, answers a status line and half of a declared body, closes.
    static func cutServer(status: String) throws -> (port: Int, thread: Thread) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) == 0 && getsockname(fd, $0, &len) == 0 }
        }
        listen(fd, 1)
        let thread = Thread {
            let client = accept(fd, nil, nil)
            var buffer = [UInt8](repeating: 0, count: 65536)
            var received: [UInt8] = []
            while !String(decoding: received, as: UTF8.self).contains("\r\n\r\n") {
                let n = read(client, &buffer, buffer.count)
                if n <= 0 { break }
                received += buffer[..<n]
            }
            let answer = "HTTP/1.1 \(status)\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"sid\":\"SM1\""
            _ = answer.withCString { write(client, $0, strlen($0)) }
            usleep(50_000)
            close(client)
            close(fd)
        }
        thread.start()
        return (Int(UInt16(bigEndian: addr.sin_port)), thread)
    }

    @Test func aCutBodyAfterA2xxStatusIsSentNotRetried() async throws {
        let (port, _) = try Self.cutServer(status: "201 Created")
        let sender = HTTPProviderFixture.sender(url: "http://127.0.0.1:\(port)/hook")
        let result = await sender.send(HTTPProviderFixture.job)
        await sender.shutdown()
        guard case .sent = result else {
            Issue.record("a 201 with a cut body must count as sent, got \(result)")
            return
        }
    }

    @Test func aCutBodyAfterA5xxStatusIsStillRetried() async throws {
        let (port, _) = try Self.cutServer(status: "503 Service Unavailable")
        let sender = HTTPProviderFixture.sender(url: "http://127.0.0.1:\(port)/hook")
        let result = await sender.send(HTTPProviderFixture.job)
        await sender.shutdown()
        guard case .retryable = result else {
            Issue.record("a 503 must be retried, got \(result)")
            return
        }
    }
}

/// The send timeout: a provider that does not answer in time is a retry, after the timeout and not much later.
struct SendTimeoutTests {
    @Test func aProviderThatDoesNotAnswerInTimeIsRetried() async throws {
        let fake = FakeProvider { _, _ in .init(status: 204, delay: .seconds(6)) }
        try await fake.run { base in
            let sender = HTTPProviderFixture.sender(url: base + "/hook", timeoutMS: 300)
            let started = ContinuousClock.now
            let result = await sender.send(HTTPProviderFixture.job)
            let elapsed = ContinuousClock.now - started
            await sender.shutdown()
            guard case .retryable = result else {
                Issue.record("a provider past the timeout must be retried, got \(result)")
                return
            }
            // cut at the timeout, well before the provider's answer (the margin absorbs a loaded machine)
            #expect(elapsed >= .milliseconds(290) && elapsed < .seconds(5), "answered after \(elapsed)")
        }
    }
}

/// The HTTP provider's sender aimed at `url`, and a job for it.
enum HTTPProviderFixture {
    static func sender(url: String, timeoutMS: Int = 5000) -> any ReplySender {
        var settings = WorkerConfiguration.ProviderSettings()
        settings.httpURL = url
        settings.httpSecret = "whsec_" + Data("k".utf8).base64EncodedString()
        settings.requestTimeoutMS = timeoutMS
        return HTTPSender.make(.http, settings)
    }

    static let job = ReplyJob(id: "job-fixture", to: "+15550100", body: "Thanks", inReplyTo: "g", intent: .affirmative,
                              provider: "smsmobileapi", createdAt: "2025-01-20T10:00:00Z")
}
