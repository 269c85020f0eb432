import NIOCore
import Synchronization

/// One caller's pipeline: its commands, the replies collected so far (on the event loop), and the caller waiting.
/// The caller is answered exactly once: with the replies, a connection error, or `CancellationError` the moment its
/// task is cancelled, in which case the replies are still read and dropped when they arrive.
final class RedisRequest: @unchecked Sendable {
    let commands: [RedisCommand]
    let timeout: Duration
    /// When the reply is overdue; set when the request is written (time spent connecting does not count).
    var deadline = NIODeadline.distantFuture
    /// Replies read so far; touched only on the channel's event loop.
    var replies: [RedisReply] = []
    /// Set when it was handed back unsent once (a closed channel); a second time it fails.
    var resubmitted = false
    private let waiter = Mutex<Waiter>(.none)

    private enum Waiter {
        case none
        case waiting(UnsafeContinuation<[RedisReply], any Error>)
        case answered
    }

    init(commands: [RedisCommand], timeout: Duration) {
        self.commands = commands
        self.timeout = timeout
        self.replies.reserveCapacity(commands.count)
    }

    /// Starts the reply clock (on the event loop, as it is written).
    func written(at now: NIODeadline) {
        let (seconds, attoseconds) = self.timeout.components
        self.deadline = now + .nanoseconds(min(seconds, 1_000_000) * 1_000_000_000 + attoseconds / 1_000_000_000)
    }

    var isComplete: Bool { self.replies.count == self.commands.count }

    /// Runs `submit` with this request and waits for its answer; a cancelled task is answered at once.
    func run(_ submit: (RedisRequest) -> Void) async throws -> [RedisReply] {
        try await withTaskCancellationHandler {
            try await withUnsafeThrowingContinuation { continuation in
                let cancelledFirst = self.waiter.withLock { waiter -> Bool in
                    if case .answered = waiter { return true }
                    waiter = .waiting(continuation)
                    return false
                }
                if cancelledFirst {
                    continuation.resume(throwing: CancellationError())
                } else {
                    submit(self)
                }
            }
        } onCancel: {
            self.answer(.failure(CancellationError()))
        }
    }

    /// Answers the caller unless it was answered already (cancelled). Returns true when this call answered.
    @discardableResult
    func answer(_ result: Result<[RedisReply], any Error>) -> Bool {
        let continuation = self.waiter.withLock { waiter -> UnsafeContinuation<[RedisReply], any Error>? in
            switch waiter {
            case .waiting(let c):
                waiter = .answered
                return c
            case .none:
                waiter = .answered  // cancelled before it was submitted: `run` answers it
                return nil
            case .answered:
                return nil
            }
        }
        guard let continuation else { return false }
        continuation.resume(with: result)
        return true
    }
}
