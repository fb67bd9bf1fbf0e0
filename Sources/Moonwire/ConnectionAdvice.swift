import TWSClient

/// What to check when the connection to TWS fails, in TWS's own words for its settings: the
/// user reads one message that says what happened and where to look.
public enum ConnectionAdvice {
    static let apiSettings = "TWS: File > Global Configuration > API > Settings (IB Gateway: Configure > Settings > API > Settings)"

    public static func message(for error: any Error, host: String, port: Int, clientId: Int, seconds: Double) -> String {
        let endpoint = "\(host):\(port)"
        switch error as? TWSError {
        case let .cannotConnect(_, _, reason)?:
            return "could not connect to \(endpoint): \(reason). Check that TWS or IB Gateway is running and logged in; "
                + "that in \(apiSettings) \"Enable ActiveX and Socket Clients\" is checked and \"Socket port\" is \(port) "
                + "(TWS: 7497 paper, 7496 live; IB Gateway: 4002 paper, 4001 live); and, from another machine, that its address "
                + "is in \"Trusted IPs\" and \"Allow connections from localhost only\" is off"
        case .handshakeTimeout?:
            return "\(error)"
        case let .ib(code, message, _)? where code == 326:
            return "client id \(clientId) is already in use at \(endpoint) (TWS: \"\(message)\"): another program, or another "
                + "moonwire run, is connected with it. Stop that one, or use another id: --client-id \(clientId + 1) "
                + "(or IB_CLIENT_ID, or connection.client_id)"
        case let .ib(code, message, _)? where code == 502:
            return "TWS at \(endpoint) refused the connection (502: \(message)). Check \"Enable ActiveX and Socket Clients\" and "
                + "\"Trusted IPs\" in \(apiSettings); TWS takes at most 32 API clients at once"
        case let .unsupportedServerVersion(version, reason)?:
            return "TWS at \(endpoint) speaks API server version \(version), which Moonwire cannot use (\(reason)). "
                + "Update TWS or IB Gateway (version 10.19 or later)"
        case .timeout?:
            return "could not connect to \(endpoint): no answer within \(seconds) s (client id \(clientId)). Check that TWS is "
                + "running and logged in, and that no dialog in TWS waits for an answer"
        default:
            return "could not connect to \(endpoint): \(error)"
        }
    }
}
