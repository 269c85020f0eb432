import SMSSystem

/// A send's timeout that survives the process being stopped (SIGSTOP, a VM pause): one shared watchdog
/// (`Deadlines`, stall tolerant) instead of a timer task per send; when it wakes more than a second late, an overdue
/// send gets half a second more before it is cancelled, so an answer that arrived while the process was stopped
/// (waiting in the socket) is read instead of being declared lost. Declared lost, a provider's answer would make the
/// worker send the SMS again.
enum StallTolerantTimeout {
    static let deadlines = Deadlines(stallTolerant: true)

    /// Runs `operation` in a child task, cancelling it after `timeout` (plus the grace after a stall). The operation
    /// decides what a cancellation means: it throws, or returns what it has.
    static func run<T: Sendable>(_ timeout: Duration, _ operation: @escaping @Sendable () async throws -> T) async throws -> T {
        async let result = Self.deadlines.cancelling(after: timeout) { try await operation() }
        return try await result
    }
}
