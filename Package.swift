// swift-tools-version: 6.0
import PackageDescription

// Module layout: see ARCHITECTURE in the README. Transports (HTTP, WebSocket) know bytes,
// protocols (AWS, Slack) know their wire format, ConvOpsCore knows neither.
let package = Package(
    name: "convops",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "convops", targets: ["convops"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        // ServiceGroup: start in order, stop in reverse on SIGTERM, with a bound.
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        // Anonymous usage counters and latency histograms, served as Prometheus text on loopback.
        .package(url: "https://github.com/apple/swift-metrics", from: "2.5.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.0.0"),
        // Tests only (generators and shrinking for the grammar fuzz); pinned: a new version is a choice.
        .package(url: "https://github.com/x-sheep/swift-property-based", exact: "2.0.1"),
    ],
    targets: [
        // C libraries from Debian, each behind a system-library target with a thin shim.
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl",
                       providers: [.apt(["libcurl4-openssl-dev"])]),
        .systemLibrary(name: "CWebSockets", pkgConfig: "libwebsockets",
                       providers: [.apt(["libwebsockets-dev"])]),
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3",
                       providers: [.apt(["libsqlite3-dev"])]),
        // AWS answers are XML: read with libxml2's streaming reader, not Foundation's XMLParser.
        .systemLibrary(name: "CXML2", pkgConfig: "libxml-2.0",
                       providers: [.apt(["libxml2-dev"])]),
        // libc's variadic process controls (prctl), for the CLI's start-up hardening.
        .systemLibrary(name: "CSystem"),

        .target(name: "ConvOpsCore"),
        .target(name: "ConvOpsGrammar", dependencies: ["ConvOpsCore"]),
        .target(name: "ConvOpsHTTP", dependencies: [
            "CCurl",
            .product(name: "Logging", package: "swift-log"),
        ]),
        .target(name: "ConvOpsWebSocket", dependencies: [
            "CWebSockets",
            .product(name: "Logging", package: "swift-log"),
        ]),
        .target(name: "ConvOpsAWS", dependencies: [
            "ConvOpsCore", "ConvOpsHTTP", "CXML2",
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        .target(name: "ConvOpsStore", dependencies: [
            "ConvOpsCore", "CSQLite",
            .product(name: "Crypto", package: "swift-crypto"),
        ]),
        .target(name: "ConvOpsSlack", dependencies: [
            "ConvOpsCore", "ConvOpsHTTP", "ConvOpsWebSocket",
            .product(name: "Logging", package: "swift-log"),
        ]),
        .target(name: "ConvOpsWhatsApp", dependencies: [
            "ConvOpsCore", "ConvOpsHTTP", "ConvOpsWebSocket",
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        .target(name: "ConvOpsBot", dependencies: [
            "ConvOpsCore", "ConvOpsGrammar", "ConvOpsHTTP", "ConvOpsAWS", "ConvOpsStore", "ConvOpsSlack", "ConvOpsWebSocket", "ConvOpsWhatsApp",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            .product(name: "Metrics", package: "swift-metrics"),
            .product(name: "Prometheus", package: "swift-prometheus"),
        ]),
        .executableTarget(name: "convops", dependencies: [
            "ConvOpsBot", "ConvOpsCore", "ConvOpsGrammar", "ConvOpsStore", "ConvOpsAWS", "CSystem", "ConvOpsWhatsApp", "ConvOpsWebSocket", "ConvOpsHTTP",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
        ]),

        // Benchmarks: `swift run -c release convops-bench …` prints JSON (see README, Performance).
        .executableTarget(name: "convops-bench", dependencies: ["ConvOpsGrammar", "ConvOpsCore", "ConvOpsStore", "ConvOpsTestSupport",
                                                                 "ConvOpsAWS", "ConvOpsHTTP", "ConvOpsWhatsApp", "ConvOpsWebSocket"],
                          path: "Benchmarks/ConvOpsBench"),

        // The Slack emulator as a process, for `scripts/demo --slack`.
        .executableTarget(name: "convops-slack-emulator", dependencies: ["ConvOpsTestSupport", "ConvOpsSlack"]),
        // The WhatsApp Cloud API emulator as a process, for `scripts/demo --whatsapp`.
        .executableTarget(name: "convops-whatsapp-emulator", dependencies: ["ConvOpsTestSupport", "ConvOpsCore"]),

        // Loopback servers and process launchers that the tests (and the demo) drive.
        .target(name: "ConvOpsTestSupport", dependencies: [
            "ConvOpsWebSocket", "ConvOpsHTTP", "ConvOpsSlack", "ConvOpsCore", "ConvOpsWhatsApp",
            .product(name: "Logging", package: "swift-log"),
        ], resources: [.copy("SlackFixtures"), .copy("AlarmFixtures"), .copy("WhatsAppFixtures")]),

        .testTarget(name: "ConvOpsCoreTests", dependencies: ["ConvOpsCore", "ConvOpsTestSupport"]),
        .testTarget(name: "ConvOpsGrammarTests", dependencies: ["ConvOpsGrammar", "ConvOpsTestSupport", .product(name: "PropertyBased", package: "swift-property-based")],
                    resources: [.copy("Corpus")]),
        .testTarget(name: "ConvOpsHTTPTests", dependencies: ["ConvOpsHTTP", "ConvOpsTestSupport"]),
        .testTarget(name: "ConvOpsWebSocketTests", dependencies: ["ConvOpsWebSocket", "ConvOpsTestSupport"]),
        .testTarget(name: "ConvOpsAWSTests", dependencies: ["ConvOpsAWS", "ConvOpsTestSupport", "ConvOpsWebSocket"],
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "ConvOpsStoreTests", dependencies: ["ConvOpsStore", "ConvOpsTestSupport",
                                                             .product(name: "Crypto", package: "swift-crypto")]),
        .testTarget(name: "ConvOpsWhatsAppTests", dependencies: ["ConvOpsWhatsApp", "ConvOpsTestSupport", "ConvOpsStore", "ConvOpsWebSocket",
                                                                "ConvOpsHTTP", "ConvOpsCore"]),
        .testTarget(name: "ConvOpsSlackTests", dependencies: ["ConvOpsSlack", "ConvOpsTestSupport",
                                                             .product(name: "Logging", package: "swift-log")]),
        // The planner's and the request service's rules with fakes and a manual clock: no moto (the
        // drain tests use the Slack emulator on loopback).
        .testTarget(name: "ConvOpsBotTests", dependencies: ["ConvOpsBot", "ConvOpsCore", "ConvOpsStore", "ConvOpsAWS", "ConvOpsHTTP",
                                                           "ConvOpsGrammar", "ConvOpsSlack", "ConvOpsTestSupport", "ConvOpsWhatsApp"]),
        .testTarget(name: "ConvOpsEndToEndTests", dependencies: ["convops", "ConvOpsBot", "ConvOpsSlack", "ConvOpsStore",
                                                                "ConvOpsTestSupport",
                                                                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")]),
    ],
    swiftLanguageModes: [.v6]
)
