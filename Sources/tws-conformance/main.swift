// tws-conformance: re-encodes frames with Moonwire's encoder for the Python conformance suite.
//
//     tws-conformance reencode < messages.json > ours.jsonl
//
// Reads the golden incoming messages (Tests/TWSProtocolTests/Golden/messages.json), decodes each
// at each of its server versions with our decoder, encodes the result again with our encoder,
// and prints one JSON object per line: {"name", "version", "hex"} or {"name", "version", "error"}.
// pytest then feeds our bytes to IB's own decoder and to ib_async's.
import Foundation
import TWSProtocol

func hex(_ bytes: [UInt8]) -> String {
    let digits = Array("0123456789abcdef")
    var out = ""
    out.reserveCapacity(bytes.count * 2)
    for byte in bytes {
        out.append(digits[Int(byte >> 4)])
        out.append(digits[Int(byte & 0xF)])
    }
    return out
}

func bytes(fromHex text: String) -> [UInt8]? {
    var out: [UInt8] = []
    var index = text.startIndex
    while index < text.endIndex {
        let next = text.index(index, offsetBy: 2, limitedBy: text.endIndex) ?? text.endIndex
        guard let byte = UInt8(text[index..<next], radix: 16) else { return nil }
        out.append(byte)
        index = next
    }
    return out
}

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("tws-conformance: \(message)\n".utf8))
    exit(2)
}

let arguments = CommandLine.arguments.dropFirst()
guard arguments.first == "reencode" else {
    fail("usage: tws-conformance reencode < messages.json")
}
let input = FileHandle.standardInput.readDataToEndOfFile()
guard let root = try? JSONSerialization.jsonObject(with: input) as? [String: Any],
      let cases = root["cases"] as? [[String: Any]]
else {
    fail("standard input is not a golden messages.json")
}
for item in cases {
    guard let name = item["name"] as? String, let versions = item["versions"] as? [Int], versions.count == 2,
          let text = item["hex"] as? String, let payload = bytes(fromHex: text)
    else {
        fail("a case in messages.json lacks name, versions or hex")
    }
    for version in versions[0]...versions[1] {
        var line: [String: Any] = ["name": name, "version": version]
        do {
            let message = try ServerMessage.decode(payload: payload, serverVersion: version)
            line["hex"] = hex(try message.payload(serverVersion: version))
        } catch {
            line["error"] = "\(error)"
        }
        let data = try JSONSerialization.data(withJSONObject: line, options: [.sortedKeys])
        FileHandle.standardOutput.write(data + Data("\n".utf8))
    }
}
