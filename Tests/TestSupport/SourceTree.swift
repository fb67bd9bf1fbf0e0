import Foundation

/// The checkout the tests read their fixtures from: golden frames, the hostile corpus, the
/// sample configuration and strategies, the debug `moonwire` binary.
///
/// `MOONWIRE_SOURCE_ROOT` when it is set: `Scripts/test` runs the suites as an ordinary user
/// from a copy of the tree that user owns (the checkout itself may be out of its reach, under
/// root's home). Otherwise the checkout this file was compiled in.
public enum SourceTree {
    public static let root: URL = {
        if let root = ProcessInfo.processInfo.environment["MOONWIRE_SOURCE_ROOT"], !root.isEmpty {
            return URL(fileURLWithPath: root).standardized
        }
        // Tests/TestSupport/SourceTree.swift: two folders up.
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().standardized
    }()

    /// `relative` (`Config/moonwire.yaml`, `Tests/TWSProtocolTests/Golden`) in the checkout.
    public static func url(_ relative: String) -> URL {
        root.appendingPathComponent(relative).standardized
    }
}
