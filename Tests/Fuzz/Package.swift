// swift-tools-version:6.1
// libFuzzer targets, one executable per entry point, sharing no state. Built and run by ops/scripts/fuzz.sh
// (`make fuzz`; a short run in `make test`) with `-sanitize=fuzzer,address`; seeds in corpus/<target>/.
import PackageDescription

/// Target name and the smshook library it exercises.
let targets: [(name: String, library: String)] = [
    ("json", "SMSCore"),
    ("legacy", "SMSCore"),
    ("v2", "SMSCore"),
    ("asg", "SMSCore"),
    ("form", "SMSCore"),
    ("auth", "SMSCore"),
    ("classifier", "SMSCore"),
    ("resp", "RedisClient"),
    ("reply", "RedisClient"),
    ("provider-responses", "SMSCore"),
]

let package = Package(
    name: "smshook-fuzz",
    dependencies: [.package(name: "smshook", path: "../..")],
    targets: [.target(name: "FuzzSupport", path: "Sources/FuzzSupport")] + targets.map { target in
        .executableTarget(
            name: "fuzz-\(target.name)",
            dependencies: [.product(name: target.library, package: "smshook"), "FuzzSupport"],
            path: "Sources/\(target.name)",
            // libFuzzer brings main(); each target's file defines LLVMFuzzerTestOneInput.
            swiftSettings: [.unsafeFlags(["-parse-as-library"])]
        )
    }
)
