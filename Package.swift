// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "Moonwire",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "TWSProtocol", targets: ["TWSProtocol"]),
        .library(name: "Money", targets: ["Money"]),
        .library(name: "TWSWire", targets: ["TWSWire"]),
        .library(name: "PaperGateway", targets: ["PaperGateway"]),
        .library(name: "TWSClient", targets: ["TWSClient"]),
        .library(name: "TradingState", targets: ["TradingState"]),
        .library(name: "LuaRuntime", targets: ["LuaRuntime"]),
        // Moonwire as a library: the runtime `moonwire run` is made of, for Swift applications.
        .library(name: "Moonwire", targets: ["Moonwire"]),
        .library(name: "MarketHistory", targets: ["MarketHistory"]),
        .library(name: "PostgresBarStore", targets: ["PostgresBarStore"]),
        .library(name: "Backtest", targets: ["Backtest"]),
        .executable(name: "moonwire", targets: ["MoonwireCLI"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.2.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket", from: "2.8.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
    ],
    targets: [
        // The TWS wire codec: frames, fields, every request and message. Pure: no I/O,
        // no dependencies, so the fuzzer can compile it on its own.
        .target(name: "TWSProtocol"),
        // Files that hold an account's data (the journal, the paper gateway's state): the
        // user's alone, or refused. No dependencies.
        .target(name: "PrivateFiles"),
        // Money, computed once: the ledger (positions, average cost, realized and unrealized
        // PnL, commissions, currencies), the commission schedule and the fill rules, shared by
        // backtests, the paper gateway and live runs. Value types, no I/O, no dependencies.
        .target(name: "Money"),
        // SwiftNIO channel handlers that cut TWS frames out of a byte stream.
        .target(
            name: "TWSWire",
            dependencies: [
                "TWSProtocol",
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        // The one connection to TWS / IB Gateway: reconnects, pacing, requests as async calls.
        .target(
            name: "TWSClient",
            dependencies: [
                "TWSProtocol",
                "TWSWire",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Debian's Lua 5.4, and the C frames that may raise or yield on Swift's behalf.
        .systemLibrary(name: "CLua", pkgConfig: "lua5.4", providers: [.apt(["liblua5.4-dev"]), .brew(["lua"])]),
        .target(name: "CLuaShim", dependencies: ["CLua"]),
        // Lua states, values, sandbox, budgets, coroutines, tracebacks.
        .target(name: "LuaRuntime", dependencies: ["CLua", "CLuaShim"]),
        // Orders, executions, positions, account: kept from TWS's reports, journaled, reconciled.
        .target(
            name: "TradingState",
            dependencies: [
                "Money",
                "TWSProtocol",
                "TWSClient",
                "PrivateFiles",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "GRDB", package: "GRDB.swift"),
            ]
        ),
        // Runs Lua strategies: one event loop and one Lua state each, the Lua API, the risk gate.
        .target(
            name: "StrategyHost",
            dependencies: [
                "Money",
                "LuaRuntime",
                "TWSProtocol",
                "TWSClient",
                "TradingState",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "Metrics", package: "swift-metrics"),
            ]
        ),
        // A TWS-protocol server with a simulated market and paper account.
        .target(
            name: "PaperGateway",
            dependencies: [
                "Money",
                "TWSProtocol",
                "TWSWire",
                "PrivateFiles",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "GRDB", package: "GRDB.swift"),
            ]
        ),
        // Historical bars: planned within IB's limits, downloaded through the client's pacing,
        // kept in a bar store (SQLite), resumed where a download stopped.
        .target(
            name: "MarketHistory",
            dependencies: [
                "Money",
                "TWSProtocol",
                "TWSClient",
                .product(name: "GRDB", package: "GRDB.swift"),
            ]
        ),
        // The bar store in PostgreSQL (COPY for bulk loads). A target of its own: an application
        // that embeds Moonwire does not build PostgresNIO unless it asks for it.
        .target(
            name: "PostgresBarStore",
            dependencies: [
                "MarketHistory",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        // Backtesting: the simulated broker and its fill rules, and the driver that runs a
        // strategy file through the host's own Strategy over stored bars on a simulated clock.
        .target(
            name: "Backtest",
            dependencies: [
                "Money",
                "MarketHistory",
                "StrategyHost",
                "TWSClient",
                "TWSProtocol",
                "TradingState",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ]
        ),
        // The facade: one connection, the journal, the trading state and many strategies.
        .target(
            name: "Moonwire",
            dependencies: [
                "Money",
                "StrategyHost",
                "MarketHistory",
                "PaperGateway",
                "TWSClient",
                "TWSProtocol",
                "TradingState",
                "LuaRuntime",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        // `moonwire serve`: the runtime's HTTP face (JSON API, WebSocket events, the dashboard
        // page, Prometheus metrics, scheduled ingest), beside the runtime in one ServiceGroup.
        // A target of its own: an application embedding Moonwire builds no HTTP server unless asked.
        .target(
            name: "MoonwireServe",
            dependencies: [
                "Moonwire",
                "MarketHistory",
                "StrategyHost",
                "TradingState",
                "TWSClient",
                "TWSProtocol",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        // The command line (`moonwire run`, `gateway`, `check`, ...), a thin layer over Moonwire.
        .executableTarget(
            name: "MoonwireCLI",
            dependencies: [
                "Money",
                "Moonwire",
                "MoonwireServe",
                "Backtest",
                "PostgresBarStore",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                "PaperGateway",
                "TWSClient",
                "TradingState",
                "StrategyHost",
                "LuaRuntime",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        // Emits frames made by our encoder for the Python conformance suite.
        .executableTarget(name: "tws-conformance", dependencies: ["TWSProtocol"]),
        // Strategy throughput and latency against the paper gateway, run by Scripts/bench.
        .executableTarget(
            name: "moonwire-bench",
            dependencies: [
                "PaperGateway",
                "TWSClient",
                "TradingState",
                "StrategyHost",
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        // Backtest throughput over a million stored bars, run by Scripts/bench.
        .executableTarget(
            name: "backtest-bench",
            dependencies: [
                "Backtest",
                "MarketHistory",
                "StrategyHost",
                "TWSProtocol",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        // Examples/EmbeddedMoonwire's application, built in this package too: Scripts/test runs it
        // from this build (a package of its own would build every dependency again). Its own
        // manifest, the one users copy, depends on the `Moonwire` product alone, as this does;
        // Scripts/check-example-manifest holds the two together.
        .executableTarget(name: "embedded-moonwire", dependencies: ["Moonwire"], path: "Examples/EmbeddedMoonwire/Sources/embedded-moonwire"),
        // Codec throughput, run by Scripts/bench-codec (never a timed unit test).
        .executableTarget(name: "tws-bench", dependencies: ["TWSProtocol"]),
        // What the test targets share: where the checkout's fixtures are (SourceTree).
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .testTarget(
            name: "MoonwireTests",
            dependencies: [
                "Moonwire",
                "StrategyHost",
                "PaperGateway",
                "Backtest",  // the backtest/replay parity: one strategy file through both
                "MarketHistory",
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ]
        ),
        .testTarget(name: "MoneyTests", dependencies: ["Money"]),
        .testTarget(
            name: "MoonwireServeTests",
            dependencies: [
                "MoonwireServe",
                "Moonwire",
                "PaperGateway",  // the gateway's own count of working orders
                "StrategyHost",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "MarketHistoryTests",
            dependencies: ["MarketHistory", "PostgresBarStore", "TWSProtocol", .product(name: "GRDB", package: "GRDB.swift")]
        ),
        .testTarget(
            name: "BacktestTests",
            dependencies: [
                "Money",
                "Backtest",
                .product(name: "GRDB", package: "GRDB.swift"),  // a store another tool wrote, a store that fails mid-run
                "PaperGateway",  // the fill rules' parity: the gateway's quote path against the backtest's bars
                "LuaRuntime",
                "MarketHistory",
                "StrategyHost",
                "TWSProtocol",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        .testTarget(name: "LuaRuntimeTests", dependencies: ["LuaRuntime", "CLua", "CLuaShim"]),
        .testTarget(
            name: "StrategyHostTests",
            dependencies: [
                "TestSupport",
                "Money",
                "StrategyHost",
                "LuaRuntime",
                "TradingState",
                "TWSClient",
                "PaperGateway",
                "TWSProtocol",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "GRDB", package: "GRDB.swift"),
            ]
        ),
        .testTarget(
            name: "TradingStateTests",
            dependencies: [
                "TestSupport",
                "TradingState",
                "TWSClient",
                "PaperGateway",
                "TWSProtocol",
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "TWSClientTests",
            dependencies: [
                "TWSClient",
                "PaperGateway",
                "TWSProtocol",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "PaperGatewayTests",
            dependencies: [
                "TestSupport",
                "Money",
                "PaperGateway",
                // Its trading-hours tests read the gateway's contract details as a strategy does.
                "StrategyHost",
                "TWSProtocol",
                "TWSWire",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "TWSProtocolTests",
            dependencies: [
                "TestSupport",
                "TWSProtocol",
                "TWSWire",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ],
            // Golden vectors are read from the source tree (see GoldenVectors.swift).
            exclude: ["Golden"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
