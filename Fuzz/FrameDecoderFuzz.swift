// libFuzzer target over the frame decoder and both message decoders.
//
// Built by Scripts/fuzz with `swiftc -sanitize=fuzzer,address` together with the TWSProtocol
// sources (the module has no dependencies, so it compiles on its own). The first input byte
// picks a server version in 157...200; the rest is a byte stream cut into frames, each of
// which is decoded as a server message and as a client request. Any trap is a bug.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTWSFrames(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size > 0 else { return 0 }
    let bytes = UnsafeBufferPointer(start: data, count: size)
    let version = 157 + Int(bytes[0]) % 44
    var splitter = FrameSplitter()
    splitter.append(bytes.dropFirst())
    while true {
        guard let frame = try? splitter.next() else { break }
        if let message = try? ServerMessage.decode(payload: frame, serverVersion: version) {
            // What decodes must encode again without trapping.
            _ = try? message.payload(serverVersion: version)
        }
        if let request = try? ClientRequest.decode(payload: frame, serverVersion: version) {
            _ = try? request.payload(serverVersion: version)
        }
    }
    // The same bytes without framing, as one payload.
    _ = try? ServerMessage.decode(payload: Array(bytes.dropFirst()), serverVersion: version)
    _ = try? Handshake.ServerHello.decode(payload: Array(bytes.dropFirst()))
    _ = try? Handshake.ClientHello.decode(payload: Array(bytes.dropFirst()))
    return 0
}
