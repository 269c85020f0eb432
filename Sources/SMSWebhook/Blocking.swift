import NIOPosix

/// Work that blocks its thread (an fsync, a password hash) runs on NIO's blocking pool: never on an event loop or a
/// thread of the task executor, where it would hold up every connection served there.
enum Blocking {
    static func run<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await NIOThreadPool.singleton.runIfActive(work)
    }
}
