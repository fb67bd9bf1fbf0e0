import Foundation
import Testing
@testable import TWSProtocol

/// Incoming frames built from the official layouts and checked against ibapi's own decoder
/// (Tests/Conformance/message_cases.py) decode to the expected values, and our encoder
/// writes them back byte for byte.
@Suite("Messages decode as IB's decoder reads them")
struct MessageConformanceTests {
    @Test("golden frames at every server version 157–200", arguments: GoldenVectors.messageCases)
    func decodesGolden(_ golden: GoldenVectors.MessageCase) throws {
        for version in golden.versions {
            let message = try ServerMessage.decode(payload: golden.payload, serverVersion: version)
            var flat: [String: Any?] = [:]
            flatten(Mirror(reflecting: message).children.first!.value, into: &flat)
            for (path, expected) in golden.values {
                guard let actual = flat[path] else {
                    Issue.record("\(golden.name)@\(version): our model has no '\(path)'")
                    continue
                }
                #expect(leaf(actual, equals: expected), "\(golden.name)@\(version): \(path) = \(String(describing: actual)), expected \(expected)")
            }
            let encoded = try message.payload(serverVersion: version)
            #expect(difference(encoded, golden.payload) == nil, "\(golden.name)@\(version) re-encoded")
        }
    }

    @Test("the golden set covers every message type")
    func coversEveryMessage() throws {
        var seen = Set<String>()
        for golden in GoldenVectors.messageCases {
            seen.insert(try ServerMessage.decode(payload: golden.payload, serverVersion: golden.versions.upperBound).name)
        }
        let all = Set(ServerMessage.allTypes.map { "\($0.name)" })
        #expect(all.subtracting(seen).isEmpty, "messages without a golden frame: \(all.subtracting(seen).sorted())")
    }

    @Test("the example frames of protocol.md §3 decode")
    func protocolExamples() throws {
        // 00 00 00 18  1·6·1001·1·187.25·300·0·
        let tick = try ServerMessage.decode(payload: Array("1\u{0}6\u{0}1001\u{0}1\u{0}187.25\u{0}300\u{0}0\u{0}".utf8), serverVersion: 200)
        #expect(tick == .tickPrice(TickPrice(reqId: 1001, tickType: 1, price: 187.25, size: 300)))
        let notice = try ServerMessage.decode(
            payload: Array("4\u{0}-1\u{0}2104\u{0}Market data farm connection is OK:usfarm\u{0}\u{0}1717000000123\u{0}".utf8),
            serverVersion: 200)
        #expect(notice == .error(ErrorMessage(reqId: -1, errorCode: 2104, errorString: "Market data farm connection is OK:usfarm",
                                              errorTime: 1_717_000_000_123)))
        #expect(try ServerMessage.decode(payload: Array("9\u{0}1\u{0}1\u{0}".utf8), serverVersion: 200) == .nextValidId(NextValidId(orderId: 1)))
    }
}
