import CAllocator

/// The process's malloc: jemalloc, with one arena (`Sources/CAllocator`). Against glibc's malloc
/// tuned for serve (one arena, a 64 KiB mmap threshold), the two binaries on one pre-sized Redis, 4 rounds
/// alternating (medians): server CPU per batch of 100 1,102 -> 956 µs (-13%), per single message 86.0 -> 81.8 µs, bare
/// GET and POST -4% and -5%; peak RSS 58 -> 62-64 MB. `MALLOC_CONF` (jemalloc's own variable) adds options.
public enum Allocator {
    /// "jemalloc 5.3.0-0-g54eaed1d8b56b1aa528be3bdd1877e59c56fa90c, 1 arena", or "libc malloc" where it is not
    /// linked (macOS).
    public static var description: String {
        guard let version = smshook_allocator_version(), let arenas = self.arenas else { return "libc malloc" }
        return "jemalloc \(String(cString: version)), \(arenas) arena\(arenas == 1 ? "" : "s")"
    }

    /// Arenas for the threads (`opt.narenas`: one more serves only blocks of 8 MiB and up); nil where malloc is not
    /// jemalloc.
    public static var arenas: Int? {
        let arenas = smshook_allocator_arenas()
        return arenas < 0 ? nil : Int(arenas)
    }

    /// Bytes the calling thread has allocated through jemalloc; nil where malloc is not jemalloc.
    public static var threadAllocatedBytes: Int64? {
        let bytes = smshook_allocator_thread_allocated()
        return bytes < 0 ? nil : bytes
    }

    /// The options the binary gives jemalloc (`narenas:1`).
    public static var options: String { String(cString: smshook_allocator_options()) }
}
