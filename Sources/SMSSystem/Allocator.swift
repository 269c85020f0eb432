import CAllocator

/// The process's malloc: jemalloc, linked statically with one arena (`Sources/CAllocator`). Measured against glibc's
/// malloc tuned for serve (one arena, a 64 KiB mmap threshold), same binary, 3 rounds alternating on one Redis:
/// server CPU per batch of 100 1,058 -> 926 µs (-12%), per single-message request 78-81 -> 75 µs (-4 to -7%), peak
/// RSS 56 -> 62-63 MB. `MALLOC_CONF` in the environment (jemalloc's own variable) changes its options.
public enum Allocator {
    /// "jemalloc 5.3.0-0-g54eaed1d8b56b1aa528be3bdd1877e59c56fa90c, 1 arena", or "libc malloc" where it is not
    /// linked (macOS).
    public static var description: String {
        guard let version = smshook_allocator_version() else { return "libc malloc" }
        let arenas = smshook_allocator_arenas()
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
