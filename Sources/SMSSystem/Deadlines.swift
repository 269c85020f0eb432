import Synchronization

/// Deadlines for many concurrent operations without a timer each: one watchdog task looks at the operations in
/// flight every `tick` and cancels the task of any one past its deadline. Run the operation in a child task
/// (`async let`), so that the cancellation stops it and leaves the caller's own task free to answer.
///
/// With `stallTolerant`, a sweep that comes more than `lateness` late (the process was stopped: SIGSTOP, a VM pause)
/// gives every operation it finds overdue `grace` more, once, instead of cancelling it: an answer that arrived while
/// the process was stopped is waiting in its socket and is read rather than declared lost.
public final class Deadlines: Sendable {
    /// Only touched under the lock, and only while the task is inside `run` (it deregisters before leaving).
    private struct TaskHandle: @unchecked Sendable { let task: UnsafeCurrentTask }
    private struct Operation {
        var due: ContinuousClock.Instant
        var graced = false
        let handle: TaskHandle
    }
    private struct State {
        var next = 0
        var operations: [Int: Operation] = [:]
        var expired: Set<Int> = []
        var watching = false
        var lastSweep = ContinuousClock.now
    }

    private let state = Mutex(State())
    let tick: Duration
    let stallTolerant: Bool
    public static let lateness: Duration = .seconds(1)
    public static let grace: Duration = .milliseconds(500)

    public init(tick: Duration = .milliseconds(50), stallTolerant: Bool = false) {
        self.tick = tick
        self.stallTolerant = stallTolerant
    }

    /// Runs `operation` in the current task; nil when `limit` passed first (the operation was cancelled).
    public func run<T>(within limit: Duration, _ operation: () async throws -> T) async throws -> T? {
        let (result, expired) = await self.watched(limit, operation)
        return expired ? nil : try result.get()
    }

    /// Runs `operation` in the current task, cancelling that task when `limit` passes; the operation decides what a
    /// cancellation means: it throws, or returns what it has (which is returned as it is).
    public func cancelling<T>(after limit: Duration, _ operation: () async throws -> T) async throws -> T {
        try await self.watched(limit, operation).result.get()
    }

    private func watched<T>(_ limit: Duration, _ operation: () async throws -> T) async -> (result: Result<T, any Error>, expired: Bool) {
        let due = ContinuousClock.now + limit
        let (id, startWatchdog): (Int?, Bool) = withUnsafeCurrentTask { task in
            guard let task else { return (nil, false) }
            return self.state.withLock { s in
                let id = s.next
                s.next += 1
                s.operations[id] = Operation(due: due, handle: TaskHandle(task: task))
                defer { s.watching = true }
                if !s.watching { s.lastSweep = .now }
                return (id, !s.watching)
            }
        }
        if startWatchdog { self.watch() }
        guard let id else {
            do { return (.success(try await operation()), false) } catch { return (.failure(error), false) }
        }
        func finish() -> Bool {  // true when the deadline passed
            self.state.withLock { s in
                s.operations[id] = nil
                return s.expired.remove(id) != nil
            }
        }
        do {
            let value = try await operation()
            return (.success(value), finish())
        } catch {
            return (.failure(error), finish())
        }
    }

    private func watch() {
        Task.detached { [self] in
            while true {
                try? await Task.sleep(for: self.tick)
                if self.sweep() { return }
            }
        }
    }

    /// Cancels the operations past due; true (and the watchdog stops) when none is left.
    private func sweep() -> Bool {
        let now = ContinuousClock.now
        return self.state.withLock { s in
            let stalled = self.stallTolerant && now - s.lastSweep > self.tick + Self.lateness
            s.lastSweep = now
            for (id, operation) in s.operations where operation.due <= now {
                if stalled && !operation.graced {
                    s.operations[id]?.due = now + Self.grace
                    s.operations[id]?.graced = true
                    continue
                }
                s.expired.insert(id)
                s.operations[id] = nil
                operation.handle.task.cancel()  // under the lock: the task is still inside `run`
            }
            if s.operations.isEmpty { s.watching = false }
            return s.operations.isEmpty
        }
    }
}
