/// A timeout that survives the process being stopped (SIGSTOP, a VM pause): when its timer fires more than a second
/// late, the operation gets half a second more before it is cancelled, so an answer that arrived while the process
/// was stopped (waiting in the socket) is read instead of being declared lost. Declared lost, a provider's answer
/// would make the worker send the SMS again.
enum StallTolerantTimeout {
    static let lateness: Duration = .seconds(1)
    static let grace: Duration = .milliseconds(500)

    /// Runs `operation`, cancelling it after `timeout` (plus the grace after a stall). The operation decides what a
    /// cancellation means: it throws, or returns what it has.
    static func run<T: Sendable>(_ timeout: Duration, _ operation: @escaping @Sendable () async throws -> T) async throws -> T {
        let work = Task { try await operation() }
        let timer = Task {
            let clock = ContinuousClock()
            var due = clock.now + timeout
            var graced = false
            while !Task.isCancelled {
                try? await Task.sleep(until: due, clock: clock)
                if Task.isCancelled { return }
                if !graced && clock.now - due > Self.lateness {
                    graced = true
                    due = clock.now + Self.grace
                    continue
                }
                work.cancel()
                return
            }
        }
        defer { timer.cancel() }
        return try await withTaskCancellationHandler {
            try await work.value
        } onCancel: {
            work.cancel()
        }
    }
}
