import Synchronization

/// A one-shot signal: `wait()` returns once `fire()` was called (or at once if it was), or when the waiting task is
/// cancelled. Lets the worker sleep until it is told to stop instead of polling a flag.
final class StopSignal: Sendable {
    /// Read on every fetch-loop turn: an atomic load, not a lock.
    private let fired = Atomic<Bool>(false)
    private let state = Mutex<(waiters: [UInt64: CheckedContinuation<Void, Never>], next: UInt64)>(([:], 0))

    var isFired: Bool { self.fired.load(ordering: .acquiring) }

    func fire() {
        let waiters = self.state.withLock { s -> [CheckedContinuation<Void, Never>] in
            // set under the lock, so a waiter either sees it or is registered before it is taken here
            guard !self.fired.exchange(true, ordering: .acquiringAndReleasing) else { return [] }
            defer { s.waiters = [:] }
            return Array(s.waiters.values)
        }
        for waiter in waiters { waiter.resume() }
    }

    func wait() async {
        let id = self.state.withLock { s -> UInt64 in
            s.next += 1
            return s.next
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let now = self.state.withLock { s -> Bool in
                    if self.fired.load(ordering: .acquiring) || Task.isCancelled { return true }
                    s.waiters[id] = continuation
                    return false
                }
                if now { continuation.resume() }
            }
        } onCancel: {
            let waiter = self.state.withLock { $0.waiters.removeValue(forKey: id) }
            waiter?.resume()
        }
    }
}
