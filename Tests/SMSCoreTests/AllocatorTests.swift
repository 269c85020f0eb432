import SMSSystem
import Testing

#if os(Linux)
import Glibc

@Suite struct AllocatorTests {
    @Test func jemallocServesTheProcessWithOneArena() throws {
        #expect(Allocator.description.hasPrefix("jemalloc 5."), "\(Allocator.description)")
        #expect(Allocator.options == "narenas:1")
        // MALLOC_CONF (jemalloc's own variable) wins over the built-in options; the test runs without it.
        if getenv("MALLOC_CONF") == nil { #expect(Allocator.arenas == 1) }
    }

    /// malloc itself (what the Swift runtime and every C library call) goes to jemalloc, not glibc's.
    @Test func mallocIsJemallocs() throws {
        let before = try #require(Allocator.threadAllocatedBytes)
        let block = try #require(malloc(1 << 20))
        let after = try #require(Allocator.threadAllocatedBytes)
        free(block)
        #expect(after - before >= 1 << 20)
    }
}
#endif
