import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Synchronization

/// A local stand-in for an SMS provider's API: records every request exactly and answers as the test says.
final class FakeProvider: Sendable {
    struct Recorded: Sendable {
        let method: String
        let path: String
        let headers: [String: String]
        let body: String
        let at: ContinuousClock.Instant

        var form: [String: String] {
            var out: [String: String] = [:]
            for pair in self.body.split(separator: "&") {
                let kv = pair.split(separator: "=", maxSplits: 1).map { String($0).removingPercentEncoding ?? String($0) }
                out[kv[0]] = kv.count > 1 ? kv[1] : ""
            }
            return out
        }
    }

    struct Answer: Sendable {
        var status: Int = 200
        var headers: [String: String] = [:]
        var body: String = ""
        var delay: Duration = .zero
    }

    let requests = Mutex<[Recorded]>([])
    let answer: @Sendable (Recorded, Int) -> Answer

    init(answer: @escaping @Sendable (Recorded, Int) -> Answer) {
        self.answer = answer
    }

    var recorded: [Recorded] { self.requests.withLock { $0 } }

    var app: some ApplicationProtocol {
        let router = Router()
        router.post("**") { request, _ -> Response in
            let body = try await request.body.collect(upTo: 1 << 20)
            var headers: [String: String] = [:]
            for field in request.headers { headers[field.name.canonicalName] = field.value }  // lower case
            let recorded = Recorded(
                method: request.method.rawValue, path: request.uri.path, headers: headers,
                body: String(buffer: body), at: .now)
            let index = self.requests.withLock { list in
                list.append(recorded)
                return list.count - 1
            }
            let answer = self.answer(recorded, index)
            if answer.delay > .zero { try await Task.sleep(for: answer.delay) }
            var fields = HTTPFields()
            for (k, v) in answer.headers { fields[.init(k)!] = v }
            return Response(
                status: .init(code: answer.status), headers: fields, body: .init(byteBuffer: ByteBuffer(string: answer.body)))
        }
        var logger = Logger(label: "fake.provider")
        logger.logLevel = .warning
        return Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)), logger: logger)
    }

    /// Runs the fake on a free loopback port for the duration of `body`, passing its base URL.
    func run<T: Sendable>(_ body: @Sendable @escaping (String) async throws -> T) async throws -> T {
        try await self.app.test(.live) { client in
            try await body("http://127.0.0.1:\(client.port!)")
        }
    }
}
