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
    let client: HTTP1Client
    let timeout: Duration
    let build: @Sendable (ReplyJob) -> (headers: [(String, String)], body: [UInt8])
    let interpret: @Sendable (_ status: Int, _ retryAfter: String?, _ body: [UInt8]) -> SendResult

    public func send(_ job: ReplyJob) async -> SendResult {
        let (headers, body) = self.build(job)
        let client = self.client
        do {
            // The status is the provider's answer; a body cut off afterwards (the timeout, a reset) must not turn an
            // accepted send into a retry, which would send the SMS again: the provider's rules decide with what
            // arrived (`Answer.complete` false).
            let answer = try await StallTolerantTimeout.run(self.timeout) { try await client.post(headers: headers, body: body) }
            return self.interpret(answer.status, answer.headers.first(name: "Retry-After"), answer.body)
        } catch {
            return .retryable(reason: "network: \(error)", retryAfter: nil)
        }
    }

    public func shutdown() async {
        await self.client.shutdown()
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
        // Redirects are not followed (a 3xx is an answer: an api key or a Basic auth header must not go to another
        // host); the request's timeout is `StallTolerantTimeout`, which reads an answer that arrived while the
        // process was stopped instead of declaring it lost.
        func client(_ url: String) -> HTTP1Client {
            HTTP1Client(url: url, connections: p.connectionsPerHost, connectTimeout: .milliseconds(p.connectTimeoutMS))
        }
        let timeout = Duration.milliseconds(p.requestTimeoutMS)
        switch provider {
        case .console:
            return ConsoleSender()
        case .smsmobileapi:
            return HTTPSender(name: "smsmobileapi", client: client(trimSlash(p.smsMobileAPIBaseURL) + "/sendsms/"), timeout: timeout, build: { job in
                var fields = [("apikey", p.smsMobileAPIKey), ("recipients", job.to), ("message", job.body)]
                let inbound = job.channel?.provider == "smsmobileapi" ? job.channel : nil
                if let sender = inbound?.device ?? p.smsMobileAPISender { fields.append(("sIdentifiant", sender)) }
                if let sim = inbound?.sim { fields.append(("port", sim)) }
                return formRequest(fields)
            }, interpret: ProviderResponses.smsMobileAPI)
        case .twilio:
            let auth = "Basic " + Data("\(p.twilioAccountSID):\(p.twilioAuthToken)".utf8).base64EncodedString()
            let url = trimSlash(p.twilioBaseURL) + "/2010-04-01/Accounts/\(p.twilioAccountSID)/Messages.json"
            return HTTPSender(name: "twilio", client: client(url), timeout: timeout, build: { job in
                var fields = [("To", job.to)]
                let inbound = job.channel?.provider == "twilio" ? job.channel : nil
                if let service = inbound?.service ?? (inbound?.number == nil ? p.twilioMessagingServiceSID : nil) {
                    fields.append(("MessagingServiceSid", service))
                } else if let from = inbound?.number ?? p.twilioFrom {
                    fields.append(("From", from))
                }
                fields.append(("Body", job.body))
                return formRequest(fields, headers: [("Authorization", auth)])
            }, interpret: ProviderResponses.twilio)
        case .http:
            let signer = StandardWebhooksSigner(secret: p.httpSecret)
            return HTTPSender(name: "http", client: client(p.httpURL), timeout: timeout, build: { job in
                var w = JSONWriter()
                w.beginObject()
                w.field("to", job.to)
                w.field("body", job.body)
                w.field("job_id", job.id)
                w.field("in_reply_to", job.inReplyTo)
                w.endObject()
                let body = w.bytes
                let timestamp = Int(Date().timeIntervalSince1970)
                let headers = [
                    ("Content-Type", "application/json"), ("webhook-id", job.id), ("webhook-timestamp", String(timestamp)),
                    ("webhook-signature", signer.sign(id: job.id, timestamp: timestamp, body: body)),
                ]
                return (headers, body)
            }, interpret: ProviderResponses.http)
        }
    }
}

func formRequest(_ fields: [(String, String)], headers: [(String, String)] = []) -> (headers: [(String, String)], body: [UInt8]) {
    ([("Content-Type", "application/x-www-form-urlencoded")] + headers, Array(FormEncoding.encode(fields).utf8))
}

func trimSlash(_ url: String) -> String { url.hasSuffix("/") ? String(url.dropLast()) : url }
