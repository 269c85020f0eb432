import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import SMSCore

/// Sends one reply through a provider. Implementations never throw: every failure is a `SendResult`.
public protocol ReplySender: Sendable {
    var name: String { get }
    func send(_ job: ReplyJob) async -> SendResult
    func shutdown() async
}

/// Prints the reply (`make run`'s default): one line per reply on standard output.
public struct ConsoleSender: ReplySender {
    public let name = "console"
    public init() {}

    public func send(_ job: ReplyJob) async -> SendResult {
        print("SMS to \(job.to): \(job.body)")
        return .sent(providerID: nil)
    }

    public func shutdown() async {}
}

/// A provider reached over HTTP: builds the request, reads the answer with the provider's rules.
public struct HTTPSender: ReplySender {
    public let name: String
    let client: HTTPClient
    let timeout: Duration
    let build: @Sendable (ReplyJob) -> HTTPClientRequest
    let interpret: @Sendable (_ status: Int, _ retryAfter: String?, _ body: [UInt8]) -> SendResult

    public func send(_ job: ReplyJob) async -> SendResult {
        let request = self.build(job)
        let client = self.client
        do {
            let (status, retryAfter, body) = try await StallTolerantTimeout.run(self.timeout) {
                let response = try await client.execute(request, deadline: .distantFuture)
                // The status is the provider's answer; a body cut off afterwards (the timeout, a reset) must not turn
                // an accepted send into a retry, which would send the SMS again: the provider's rules decide with
                // what arrived.
                let body = (try? await response.body.collect(upTo: 1 << 20)).map { Array($0.readableBytesView) } ?? []
                return (Int(response.status.code), response.headers.first(name: "Retry-After"), body)
            }
            return self.interpret(status, retryAfter, body)
        } catch {
            return .retryable(reason: "network: \(error)", retryAfter: nil)
        }
    }

    public func shutdown() async {
        try? await self.client.shutdown()
    }
}

extension HTTPSender {
    /// The sender for the configured provider.
    public static func make(_ configuration: WorkerConfiguration) -> any ReplySender {
        self.make(configuration.provider, configuration.providerSettings)
    }

    /// A sender for `provider` with these settings. Replies leave through the job's channel where it names one:
    /// Twilio `From` = the number the message came in on (or its Messaging Service), SMSMobileAPI's device
    /// (`sIdentifiant`) and SIM (`port`).
    public static func make(_ provider: WorkerConfiguration.Provider, _ p: WorkerConfiguration.ProviderSettings) -> any ReplySender {
        var httpConfiguration = HTTPClient.Configuration()
        // no read timeout here: the request's timeout is `StallTolerantTimeout`, which reads an answer that arrived
        // while the process was stopped instead of declaring it lost
        httpConfiguration.timeout = .init(connect: .milliseconds(Int64(p.connectTimeoutMS)))
        httpConfiguration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: max(1, p.connectionsPerHost))
        // A redirect must not carry an api key or a Basic auth header to another host: a 3xx is an answer, not followed.
        httpConfiguration.redirectConfiguration = .disallow
        let timeout = Duration.milliseconds(p.requestTimeoutMS)
        switch provider {
        case .console:
            return ConsoleSender()
        case .smsmobileapi:
            let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: httpConfiguration)
            return HTTPSender(name: "smsmobileapi", client: client, timeout: timeout, build: { job in
                var fields = [("apikey", p.smsMobileAPIKey), ("recipients", job.to), ("message", job.body)]
                let inbound = job.channel?.provider == "smsmobileapi" ? job.channel : nil
                if let sender = inbound?.device ?? p.smsMobileAPISender { fields.append(("sIdentifiant", sender)) }
                if let sim = inbound?.sim { fields.append(("port", sim)) }
                return formRequest(url: trimSlash(p.smsMobileAPIBaseURL) + "/sendsms/", fields: fields)
            }, interpret: ProviderResponses.smsMobileAPI)
        case .twilio:
            let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: httpConfiguration)
            let auth = "Basic " + Data("\(p.twilioAccountSID):\(p.twilioAuthToken)".utf8).base64EncodedString()
            return HTTPSender(name: "twilio", client: client, timeout: timeout, build: { job in
                var fields = [("To", job.to)]
                let inbound = job.channel?.provider == "twilio" ? job.channel : nil
                if let service = inbound?.service ?? (inbound?.number == nil ? p.twilioMessagingServiceSID : nil) {
                    fields.append(("MessagingServiceSid", service))
                } else if let from = inbound?.number ?? p.twilioFrom {
                    fields.append(("From", from))
                }
                fields.append(("Body", job.body))
                var request = formRequest(
                    url: trimSlash(p.twilioBaseURL) + "/2010-04-01/Accounts/\(p.twilioAccountSID)/Messages.json", fields: fields)
                request.headers.add(name: "Authorization", value: auth)
                return request
            }, interpret: ProviderResponses.twilio)
        case .http:
            let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: httpConfiguration)
            return HTTPSender(name: "http", client: client, timeout: timeout, build: { job in
                var w = JSONWriter()
                w.beginObject()
                w.field("to", job.to)
                w.field("body", job.body)
                w.field("job_id", job.id)
                w.field("in_reply_to", job.inReplyTo)
                w.endObject()
                let body = Array(w.text.utf8)
                let timestamp = Int(Date().timeIntervalSince1970)
                var request = HTTPClientRequest(url: p.httpURL)
                request.method = .POST
                request.headers.add(name: "Content-Type", value: "application/json")
                request.headers.add(name: "webhook-id", value: job.id)
                request.headers.add(name: "webhook-timestamp", value: String(timestamp))
                request.headers.add(
                    name: "webhook-signature",
                    value: Signatures.standardWebhooks(secret: p.httpSecret, id: job.id, timestamp: timestamp, body: body))
                request.body = .bytes(ByteBuffer(bytes: body))
                return request
            }, interpret: ProviderResponses.http)
        }
    }
}

func formRequest(url: String, fields: [(String, String)]) -> HTTPClientRequest {
    var request = HTTPClientRequest(url: url)
    request.method = .POST
    request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
    request.body = .bytes(ByteBuffer(string: FormEncoding.encode(fields)))
    return request
}

func trimSlash(_ url: String) -> String { url.hasSuffix("/") ? String(url.dropLast()) : url }
