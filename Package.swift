// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "smshook",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "smshook", targets: ["smshook"]),
        .library(name: "RedisClient", targets: ["RedisClient"]),
        .library(name: "SMSCore", targets: ["SMSCore"]),
        .library(name: "SMSSystem", targets: ["SMSSystem"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache.git", from: "2.1.1"),
    ],
    targets: [
        .systemLibrary(
            name: "CHiredis",
            pkgConfig: "hiredis",
            providers: [.apt(["libhiredis-dev"])]
        ),
        .target(
            name: "CAllocator",
            // jemalloc as the process's malloc (apt libjemalloc-dev; libjemalloc2 at run time). The shared library,
            // not the archive: a static Swift runtime's link makes an archive's symbols local, and libc's own
            // allocations (strdup) would then come from glibc's malloc and be freed by jemalloc's. Loaded before libc,
            // it serves every malloc of the process. See Sources/CAllocator/allocator.c and docs/ARCHITECTURE.md.
            linkerSettings: [.linkedLibrary("jemalloc", .when(platforms: [.linux]))]
        ),
        .target(
            name: "RedisClient",
            dependencies: [
                "CHiredis",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .target(
            name: "SMSCore",
            dependencies: [
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        .target(
            name: "SMSSystem",
            dependencies: ["SMSCore", "CAllocator"]
        ),
        .target(
            name: "SMSStore",
            dependencies: ["SMSCore", "RedisClient"]
        ),
        .target(
            name: "SMSWebhook",
            dependencies: [
                "SMSCore",
                "SMSSystem",
                "SMSStore",
                "RedisClient",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ]
        ),
        .target(
            name: "SMSWorker",
            dependencies: [
                "SMSCore",
                "SMSSystem",
                "SMSStore",
                "RedisClient",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .executableTarget(
            name: "smshook",
            dependencies: [
                "SMSCore",
                "SMSSystem",
                "SMSStore",
                "RedisClient",
                "SMSWebhook",
                "SMSWorker",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ]
        ),
        .target(
            name: "TestSupport",
            dependencies: ["RedisClient"],
            path: "Tests/TestSupport"
        ),
        .executableTarget(
            name: "smshook-bench",
            dependencies: [
                "RedisClient",
                "SMSCore",
                "SMSStore",
                "SMSSystem",
                "SMSWebhook",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "RedisClientTests",
            dependencies: ["RedisClient", "TestSupport"]
        ),
        .testTarget(
            name: "SMSCoreTests",
            dependencies: ["SMSCore", "SMSSystem"]
        ),
        .testTarget(
            name: "SMSStoreTests",
            dependencies: ["SMSStore", "SMSCore", "RedisClient", "TestSupport"]
        ),
        .testTarget(
            name: "SMSWorkerTests",
            dependencies: [
                "SMSWorker",
                "SMSSystem",
                "SMSStore",
                "SMSWebhook",
                "SMSCore",
                "RedisClient",
                "TestSupport",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]
        ),
        .testTarget(
            name: "SMSWebhookTests",
            dependencies: [
                "SMSWebhook",
                "SMSSystem",
                "SMSStore",
                "SMSCore",
                "RedisClient",
                "TestSupport",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "MetricsTestKit", package: "swift-metrics"),
            ]
        ),
    ]
)
