import Foundation
import PaperGateway
import TWSProtocol
#if canImport(Glibc)
import Glibc
#endif

/// A blocking TWS client on a real loopback socket, speaking through our codec: enough to
/// drive the gateway from tests without the TWSClient module.
final class TestClient {
    let fd: Int32
    private var splitter = FrameSplitter()
    private(set) var serverVersion = 0
    private(set) var received: [ServerMessage] = []
    var closed = false

    init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else { throw TestError("connect failed: errno \(errno)") }
        var timeout = timeval(tv_sec: 0, tv_usec: 200_000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { close(fd) }

    func sendRaw(_ bytes: [UInt8]) {
        _ = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }

    /// Hello, server hello, startApi. Returns the negotiated version (0 if the gateway hung up).
    @discardableResult
    func handshake(versions: ClosedRange<Int> = 100...200, clientId: Int?) throws -> Int {
        sendRaw(Handshake.ClientHello(versions: versions).encode())
        let deadline = Date().addingTimeInterval(5)
        while Date() < deadline && !closed {
            pump()
            if let frame = try splitter.next() {
                guard let hello = try Handshake.ServerHello.decode(payload: frame) else { continue }
                serverVersion = hello.serverVersion
                break
            }
        }
        guard serverVersion > 0 else { return 0 }
        if let clientId { try send(.startAPI(StartAPI(clientId: clientId))) }
        return serverVersion
    }

    /// Handshake, startApi, and the startup messages through `nextValidId`, which it returns.
    @discardableResult
    func start(clientId: Int) throws -> Int {
        try handshake(clientId: clientId)
        return try wait(for: "startup") { $0.contains { $0.nextValidId != nil } }.compactMap(\.nextValidId).first ?? 0
    }

    func send(_ request: ClientRequest) throws {
        sendRaw(try request.frame(serverVersion: serverVersion))
    }

    /// Reads what has arrived (waits up to 200 ms).
    private func pump() {
        var buffer = [UInt8](repeating: 0, count: 65536)
        let count = recv(fd, &buffer, buffer.count, 0)
        if count == 0 { closed = true }
        if count > 0 { splitter.append(buffer[0..<count]) }
    }

    /// Receives until `predicate` holds for the messages so far, or throws after `timeout`.
    @discardableResult
    func wait(for what: String, timeout: Double = 10, _ predicate: ([ServerMessage]) -> Bool) throws -> [ServerMessage] {
        let deadline = Date().addingTimeInterval(timeout)
        while !predicate(received) {
            guard Date() < deadline else { throw TestError("timed out waiting for \(what); got \(received.map(\.name))") }
            guard !closed else { throw TestError("connection closed while waiting for \(what); got \(received.map(\.name))") }
            pump()
            while let frame = try splitter.next() {
                received.append(try ServerMessage.decode(payload: frame, serverVersion: serverVersion))
            }
        }
        return received
    }

    /// Reads everything the gateway sent before it answered a request sent now: a round trip
    /// (reqCurrentTime) whose answer comes after every message the gateway wrote earlier.
    /// Call it before asserting that something did NOT arrive: `received` holds only what a
    /// read took off the socket, and nothing reads between two `wait`s.
    func sync(timeout: Double = 10) throws {
        // Only what arrives after the request is looked at, each message once: a client that
        // has read 100,000 ticks must not scan them all again after every read.
        // reqCurrentTimeInMillis where the version has it: an answer to a test's own
        // reqCurrentTime (a burst's, not yet read) must not pass for the sync's.
        var scanned = received.count
        let millis = serverVersion >= ServerVersion.currentTimeInMillis
        try send(millis ? .reqCurrentTimeInMillis(ReqCurrentTimeInMillis()) : .reqCurrentTime(ReqCurrentTime()))
        try wait(for: "the answer to a sync", timeout: timeout) { messages in
            while scanned < messages.count {
                switch messages[scanned] {
                case .currentTimeInMillis where millis: return true
                case .currentTime where !millis: return true
                default: scanned += 1
                }
            }
            return false
        }
    }

    /// Waits until the gateway closes the connection.
    func waitForClose(timeout: Double = 5) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while !closed && Date() < deadline {
            pump()
            while let frame = try? splitter.next() {
                if let message = try? ServerMessage.decode(payload: frame, serverVersion: max(serverVersion, 157)) { received.append(message) }
            }
        }
        return closed
    }

    func errors(_ code: Int) -> [ErrorMessage] {
        received.compactMap { if case let .error(e) = $0, e.errorCode == code { return e } else { return nil } }
    }
}

/// Runs `body` against a fresh gateway and always shuts it down, pass or fail.
func withGateway(_ config: PaperGatewayConfig, _ body: (PaperGatewayServer) async throws -> Void) async throws {
    let server = try await PaperGatewayServer.start(config: config)
    do {
        try await body(server)
    } catch {
        try? await server.shutdown()
        throw error
    }
    try await server.shutdown()
}

struct TestError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

extension ServerMessage {
    var nextValidId: Int? { if case let .nextValidId(m) = self { return m.orderId } else { return nil } }
    var orderStatus: OrderStatus? { if case let .orderStatus(m) = self { return m } else { return nil } }
    var execDetails: ExecDetails? { if case let .execDetails(m) = self { return m } else { return nil } }
    var position: Position? { if case let .position(m) = self { return m } else { return nil } }
}
