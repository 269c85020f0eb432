#if os(Linux)
/// glibc's `mallopt` (malloc.h, which the Glibc module does not import) and its `M_MMAP_THRESHOLD` parameter.
@_silgen_name("mallopt") private func glibcMallopt(_ parameter: Int32, _ value: Int32) -> Int32
private let mmapThresholdParameter: Int32 = -3
#endif

/// The C allocator's settings for `serve`.
public enum Allocator {
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
}
