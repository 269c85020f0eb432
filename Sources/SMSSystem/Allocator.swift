#if os(Linux)
/// glibc's `mallopt` (malloc.h, which the Glibc module does not import) and its `M_MMAP_THRESHOLD` and
/// `M_ARENA_MAX` parameters.
@_silgen_name("mallopt") private func glibcMallopt(_ parameter: Int32, _ value: Int32) -> Int32
private let mmapThresholdParameter: Int32 = -3
private let arenaMaxParameter: Int32 = -8
#endif

/// The C allocator's settings for `serve`.
public enum Allocator {
    /// All of `serve`'s settings, from `main.swift` on the main thread before any other thread allocates.
    public static func configureServe(environment: [String: String]) {
        self.shareOneArena(environment: environment)
        self.returnLargeBlocks(environment: environment)
    }

    /// Blocks of at least `threshold` bytes come from `mmap` and go back to the system when freed. A batch call's
    /// buffers (its EVALSHA command and the copy written to the socket: 100-230 KB for 100 messages) are such blocks;
    /// from the heap, 50 of them in flight left a burst's peak in the process for good. Measured with batches of
    /// 100: peak RSS 65.6-67.2 -> 61.9-63.0 MB, +0.6-1 µs of server CPU per message; single messages use no such
    /// block. An operator's own `MALLOC_MMAP_THRESHOLD_` wins.
    public static func returnLargeBlocks(threshold: Int = 64 << 10, environment: [String: String]) {
        #if os(Linux)
        guard environment["MALLOC_MMAP_THRESHOLD_"] == nil, let value = Int32(exactly: threshold) else { return }
        _ = glibcMallopt(mmapThresholdParameter, value)
        #endif
    }

    /// Every thread allocates from one arena (glibc otherwise gives threads arenas of their own, up to 8 per core).
    /// Memory a burst freed in one thread's arena served no other thread, so the peak under batches kept growing
    /// with each burst. Measured with batches of 100 after single-message load: peak RSS 61-64 -> 54-56 MB, for
    /// +0-3% server CPU per request (each thread's tcache still takes most allocations without the arena's lock).
    /// An operator's own `MALLOC_ARENA_MAX` wins. Call it first thing, on the main thread: a thread that allocated
    /// before keeps an arena of its own.
    public static func shareOneArena(environment: [String: String]) {
        #if os(Linux)
        guard environment["MALLOC_ARENA_MAX"] == nil else { return }
        _ = glibcMallopt(arenaMaxParameter, 1)
        #endif
    }
}
