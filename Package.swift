// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "Moonwire",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "TWSProtocol", targets: ["TWSProtocol"]),
        .library(name: "TWSWire", targets: ["TWSWire"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
    ],
    targets: [
        // The TWS wire codec: frames, fields, every request and message. Pure: no I/O,
        // no dependencies, so the fuzzer can compile it on its own.
        .target(name: "TWSProtocol"),
        // SwiftNIO channel handlers that cut TWS frames out of a byte stream.
        .target(
            name: "TWSWire",
            dependencies: [
                "TWSProtocol",
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        // Emits frames made by our encoder for the Python conformance suite.
        .executableTarget(name: "tws-conformance", dependencies: ["TWSProtocol"]),
        // Codec throughput, run by Scripts/bench-codec (never a timed unit test).
        .executableTarget(name: "tws-bench", dependencies: ["TWSProtocol"]),
        .testTarget(
            name: "TWSProtocolTests",
            dependencies: [
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
