// swift-tools-version:6.0
import Foundation
import PackageDescription

// The Moonwire checkout this example sits in (two folders up). SwiftPM names a package
// that is a folder by the folder's name, which depends on where it was cloned.
let moonwire = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../..").standardizedFileURL

let package = Package(
    name: "EmbeddedMoonwire",
    platforms: [.macOS(.v14)],
    dependencies: [
        // In an application of your own: .package(url: "<Moonwire's git URL>", from: "...")
        .package(path: moonwire.path)
    ],
    targets: [
        .executableTarget(
            name: "embedded-moonwire",
            dependencies: [.product(name: "Moonwire", package: moonwire.lastPathComponent)]
        )
    ],
    swiftLanguageModes: [.v6]
)
