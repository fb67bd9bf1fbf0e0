// tws-bench: how fast the codec decodes ticks (run through Scripts/bench-codec, release build).
//
//     tws-bench decode-ticks [COUNT]
//
// Decodes COUNT tickPrice frames (default 20,000,000) cut from one contiguous buffer, as a
// socket read delivers them, with `MarketTick.decode` (the decoder the client runs on market
// data), and prints frames per second. The checksum keeps the optimizer from dropping the work.
import TWSProtocol

#if canImport(Glibc)
import Glibc
#endif

let arguments = Array(CommandLine.arguments.dropFirst())
guard arguments.first == "decode-ticks" else {
    print("usage: tws-bench decode-ticks [COUNT]")
    exit(2)
}
let count = arguments.count > 1 ? Int(arguments[1]) ?? 20_000_000 : 20_000_000

// 1,000 distinct frames in one buffer, read round-robin.
var stream: [UInt8] = []
for index in 0..<1000 {
    let tick = TickPrice(reqId: 1000 + index % 10, tickType: 1 + index % 2, price: 187.25 + Double(index % 50) * 0.01,
                         size: TWSDecimal(100 + index), attrMask: 0)
    stream += Framing.frame(try! tick.payload(serverVersion: 200, style: .java))
}

var checksum = 0.0
var decoded = 0
let clock = ContinuousClock()
let elapsed = try stream.withUnsafeBytes { raw -> Duration in
    let start = clock.now
    var offset = 0
    while decoded < count {
        guard let frame = try Framing.nextFrame(in: raw, at: offset) else {
            offset = 0
            continue
        }
        let payload = UnsafeRawBufferPointer(rebasing: raw[frame.payload])
        if case let .price(tick) = try MarketTick.decode(payload: payload, serverVersion: 200) {
            checksum += tick.price
        }
        offset += frame.consumed
        decoded += 1
    }
    return clock.now - start
}
let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
let milliseconds = Int((seconds * 1000).rounded())
print("decoded \(decoded) tickPrice frames in \(milliseconds) ms: \(Int(Double(decoded) / seconds)) frames/s (checksum \(Int(checksum)))")
