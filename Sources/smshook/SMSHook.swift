import ArgumentParser

@main
struct SMSHook: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "smshook",
        abstract: "Receives inbound-SMS webhooks, deduplicates them in Redis and queues replies.",
        subcommands: [Serve.self, WorkerCommand.self, Classify.self, Audit.self, Dead.self, Events.self, ConsoleCommand.self, Inspect.self, OptOut.self, Healthcheck.self, Doctor.self]
    )
}
