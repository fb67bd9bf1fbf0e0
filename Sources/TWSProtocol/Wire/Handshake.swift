/// The connection handshake (protocol.md §1.1).
///
/// Client: `API\0`, then one frame `v<min>..<max>[ options]` with no NUL.
/// Server: one frame of two fields, the negotiated version and the connection time.
/// Client: `startApi`.
public enum Handshake {
    public static let prefix: [UInt8] = Array("API\0".utf8)

    /// What a client says first.
    public struct ClientHello: Sendable, Equatable {
        public var versions: ClosedRange<Int>
        public var options: String

        public init(versions: ClosedRange<Int> = ServerVersion.advertised, options: String = "") {
            self.versions = versions
            self.options = options
        }

        public func encode() -> [UInt8] {
            var text = "v\(versions.lowerBound)..\(versions.upperBound)"
            if !options.isEmpty { text += " " + options }
            return Handshake.prefix + Framing.frame(Array(text.utf8))
        }

        /// Parses the payload of the hello frame (after `API\0` and the length).
        public static func decode(payload: [UInt8]) throws -> ClientHello {
            guard let text = String(validating: payload, as: UTF8.self) else {
                throw TWSProtocolError.badHandshake("the client hello is not text")
            }
            let parts = text.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: false)
            let range = parts[0]
            guard range.hasPrefix("v") else {
                throw TWSProtocolError.badHandshake("the client hello '\(text)' does not start with 'v'")
            }
            let bounds = range.dropFirst().split(separator: ".", omittingEmptySubsequences: true)
            let numbers = bounds.compactMap { Int($0) }
            guard numbers.count == bounds.count, (1...2).contains(numbers.count), numbers.first! <= numbers.last! else {
                throw TWSProtocolError.badHandshake("the client hello '\(text)' is not 'vMIN..MAX'")
            }
            return ClientHello(versions: numbers.first!...numbers.last!,
                               options: parts.count > 1 ? String(parts[1]) : "")
        }
    }

    /// The server's answer: the negotiated version and when the connection was made.
    public struct ServerHello: Sendable, Equatable {
        public var serverVersion: Int
        /// `YYYYMMDD HH:MM:SS <zone>`, the zone possibly several words.
        public var connectionTime: String

        public init(serverVersion: Int, connectionTime: String) {
            self.serverVersion = serverVersion
            self.connectionTime = connectionTime
        }

        /// The time zone part of `connectionTime` (everything after date and time).
        public var timeZone: String {
            let tokens = connectionTime.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: true)
            return tokens.count == 3 ? String(tokens[2]) : ""
        }

        public func encode() -> [UInt8] {
            var payload: [UInt8] = Array(String(serverVersion).utf8)
            payload.append(0)
            payload.append(contentsOf: connectionTime.utf8)
            payload.append(0)
            return Framing.frame(payload)
        }

        /// Nil for a frame that is not a server hello (IB's reader skips such frames: "sometimes
        /// news arrives before the server version").
        public static func decode(payload: [UInt8]) throws -> ServerHello? {
            var fields = payload.split(separator: 0, omittingEmptySubsequences: false)
            if fields.last?.isEmpty == true { fields.removeLast() }
            guard fields.count == 2 else { return nil }
            guard let versionText = String(validating: fields[0], as: UTF8.self), let version = Int(versionText) else {
                throw TWSProtocolError.badHandshake("the server version '\(String(decoding: fields[0], as: UTF8.self))' is not a number")
            }
            let time = String(decoding: fields[1], as: UTF8.self)
            return ServerHello(serverVersion: version, connectionTime: time)
        }
    }

    /// The version a server answers: the client's maximum, capped by its own.
    public static func negotiate(client: ClosedRange<Int>, serverMax: Int = ServerVersion.supported.upperBound) -> Int {
        min(client.upperBound, serverMax)
    }

    /// Checks a version a server answered; throws with a message a person can act on.
    public static func validate(serverVersion: Int) throws {
        guard serverVersion >= ServerVersion.supported.lowerBound else {
            throw TWSProtocolError.unsupportedServerVersion(
                serverVersion,
                reason: "TWS/IB Gateway is too old; Moonwire needs server version \(ServerVersion.supported.lowerBound) or later (TWS/IB Gateway 10.19+)")
        }
        guard serverVersion <= ServerVersion.supported.upperBound else {
            throw TWSProtocolError.unsupportedServerVersion(
                serverVersion,
                reason: "versions above \(ServerVersion.supported.upperBound) switch to binary message ids, which Moonwire does not speak; it advertises at most \(ServerVersion.supported.upperBound)")
        }
    }
}
