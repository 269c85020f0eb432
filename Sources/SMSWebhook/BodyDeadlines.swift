import Synchronization

/// Deadlines for reading request bodies. One watchdog task looks at the reads in flight every `tick` and cancels
/// the task of any read past its deadline: no timer per request. Run the read in a child task (`async let`), so
/// that the cancellation stops the read and leaves the handler's own task free to answer 408.
final class BodyDeadlines: Sendable {
    static let shared = BodyDeadlines()

    /// Only touched under the lock, and only while the task is inside `run` (it deregisters before leaving).
    private struct TaskHandle: @unchecked Sendable { let task: UnsafeCurrentTask }
    private struct Read { let due: ContinuousClock.Instant; let handle: TaskHandle }
    private struct State {
        var next = 0
        var reads: [Int: Read] = [:]
        var expired: Set<Int> = []
        var watching = false
    }

    private let state = Mutex(State())
    let tick: Duration

    init(tick: Duration = .milliseconds(50)) { self.tick = tick }

    /// Runs `read` in the current task; nil when `limit` passed first (the read was cancelled).
    func run<T>(within limit: Duration, _ read: () async throws -> T) async throws -> T? {
        let due = ContinuousClock.now + limit
        let (id, startWatchdog): (Int?, Bool) = withUnsafeCurrentTask { task in
            guard let task else { return (nil, false) }
            return self.state.withLock { s in
                let id = s.next
                s.next += 1
                s.reads[id] = Read(due: due, handle: TaskHandle(task: task))
                defer { s.watching = true }
                return (id, !s.watching)
            }
        }
        if startWatchdog { self.watch() }
        guard let id else { return try await read() }
        func finish() -> Bool {  // true when the deadline passed
            self.state.withLock { s in
                s.reads[id] = nil
                return s.expired.remove(id) != nil
            }
        }
        do {
            let value = try await read()
            return finish() ? nil : value
        } catch {
            if finish() { return nil }
            throw error
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

    /// Cancels the reads past due; true (and the watchdog stops) when none is left.
    private func sweep() -> Bool {
        let now = ContinuousClock.now
        return self.state.withLock { s in
            for (id, read) in s.reads where read.due <= now {
                s.expired.insert(id)
                s.reads[id] = nil
                read.handle.task.cancel()  // under the lock: the task is still inside `run`
            }
            if s.reads.isEmpty { s.watching = false }
            return s.reads.isEmpty
        }
    }
}
