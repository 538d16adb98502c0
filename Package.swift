// swift-tools-version:6.1
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "LeagueOps",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "leagueops", targets: ["LeagueOpsCLI"]),
        .executable(name: "leagueops-bench", targets: ["LeagueBench"]),
        // For the libFuzzer package in Fuzz/, which depends on this one by path.
        .library(name: "LeagueFuzzing", targets: ["LeagueFuzzing"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.0"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.0.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.6.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.6.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.0"..<"5.0.0"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.30.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket.git", from: "2.8.1"),
        // Reading .xlsx rosters (issue 13): the zip container; the XML inside is read with Foundation's XMLParser.
        .package(url: "https://github.com/weichsel/ZIPFoundation.git", from: "0.9.20"),
    ],
    targets: [
        // Plain values and pure functions: org tree, command catalogue and parser,
        // task/escalation policy, deliberation schedule, assessment. Foundation only.
        .target(name: "LeagueCore", swiftSettings: swiftSettings),
        // YAML config and command catalogue loading with file:line errors.
        .target(
            name: "LeagueConfig",
            // Crypto: robot aliases are SHA-256 hashes of their credentials (issue 11).
            dependencies: [
                "LeagueCore", .product(name: "Yams", package: "Yams"), .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "ZIPFoundation", package: "ZIPFoundation"),
            ],
            swiftSettings: swiftSettings
        ),
        // The durable store: protocol + SQLite (GRDB) implementation.
        .target(
            name: "LeagueStore",
            dependencies: ["LeagueCore", .product(name: "GRDB", package: "GRDB.swift")],
            swiftSettings: swiftSettings
        ),
        // Chat platforms: wire formats, signatures, crypto, the `HTTPTransport` protocol. No NIO.
        .target(
            name: "LeaguePlatforms",
            dependencies: [
                "LeagueCore",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        // The production `HTTPTransport`: AsyncHTTPClient on SwiftNIO. Its own target, so LeaguePlatforms
        // (and the fuzz build, which depends on it) carries no NIO or BoringSSL.
        .target(
            name: "LeagueTransport",
            dependencies: ["LeaguePlatforms", .product(name: "AsyncHTTPClient", package: "async-http-client")],
            swiftSettings: swiftSettings
        ),
        // The imperative shell: engine, HTTP routes, timer and outbox services.
        .target(
            name: "LeagueServer",
            dependencies: [
                "LeagueCore", "LeagueConfig", "LeagueStore", "LeaguePlatforms",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                // The WebSocket client of the stream / long-connection modes (Connections/).
                .product(name: "HummingbirdWSClient", package: "hummingbird-websocket"),
            ],
            swiftSettings: swiftSettings
        ),
        // Fuzz target bodies (issue 6): the parser and each platform decoder fed raw bytes, with
        // invariant checks. Run by libFuzzer (Fuzz/, scripts/fuzz) and by seeded tests.
        .target(
            name: "LeagueFuzzing",
            dependencies: ["LeagueCore", "LeagueConfig", "LeaguePlatforms"],
            swiftSettings: swiftSettings
        ),
        // The one test harness (issue 15): the bot builder (engine and live modes, scoped stop), the fake
        // platform and stream gateways, the child-process bot, the signal-driven wait. A regular target the
        // test targets and LeagueBench depend on (it does not import Testing, so the bench links no test framework).
        .target(
            name: "LeagueTestSupport",
            dependencies: [
                "LeagueCore", "LeagueConfig", "LeagueStore", "LeaguePlatforms", "LeagueServer", "LeagueTransport",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "LeagueOpsCLI",
            dependencies: [
                "LeagueCore", "LeagueConfig", "LeagueStore", "LeaguePlatforms", "LeagueServer", "LeagueTransport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // The benchmark suite (issue 6): starts the real `leagueops serve` as a child process on
        // loopback, drives it with a socket load client and receives its notices on a fake platform.
        .executableTarget(
            name: "LeagueBench",
            dependencies: [
                "LeagueCore", "LeagueConfig", "LeagueStore", "LeaguePlatforms", "LeagueServer", "LeagueTestSupport",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            swiftSettings: swiftSettings
        ),
        // The catalogue in commands/ is the parser tests' fixture, read with LeagueConfig.
        .testTarget(name: "LeagueCoreTests", dependencies: ["LeagueCore", "LeagueConfig", "LeagueTestSupport"], swiftSettings: swiftSettings),
        .testTarget(
            name: "LeagueConfigTests",
            dependencies: ["LeagueCore", "LeagueConfig", "LeagueTestSupport", .product(name: "ZIPFoundation", package: "ZIPFoundation")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "LeagueStoreTests",
            dependencies: ["LeagueCore", "LeagueStore", .product(name: "GRDB", package: "GRDB.swift")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "LeaguePlatformsTests", dependencies: ["LeagueCore", "LeaguePlatforms", "LeagueTestSupport"],
            exclude: ["Vectors"], swiftSettings: swiftSettings
        ),
        .testTarget(name: "LeagueFuzzingTests", dependencies: ["LeagueCore", "LeagueFuzzing", "LeagueTestSupport"], swiftSettings: swiftSettings),
        .testTarget(
            name: "LeagueServerTests",
            dependencies: [
                "LeagueCore", "LeagueConfig", "LeagueStore", "LeaguePlatforms", "LeagueServer", "LeagueTransport", "LeagueTestSupport",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                // The fake platform gateways (DingTalk Stream, Feishu, WeCom) are WebSocket servers.
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                .product(name: "HummingbirdWSClient", package: "hummingbird-websocket"),
            ],
            swiftSettings: swiftSettings
        ),
    ]
)
