import Foundation
import Hummingbird
import HummingbirdWebSocket
import Moonwire

/// `GET /api/events` upgraded to a WebSocket: a hello with the status, then every event of
/// the run as JSON (docs/http-api.md, "The event stream").
enum EventStreamRoute {
    struct TooSlow: Error {}

    static func add(to router: Router<ServeContext>, model: ServeModel) {
        router.ws("/api/events") { _, _ in
            .upgrade([:])
        } onUpgrade: { inbound, outbound, _ in
            let (id, client) = model.fanOut.add()
            defer { model.fanOut.remove(id) }
            try await outbound.write(.text(EventFanOut.message("hello", [("status", await ReadRoutes.status(model))]).text))
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    for await text in client.messages { try await outbound.write(.text(text)) }
                }
                group.addTask {
                    // The client's frames (pings are answered by the library; a close ends it).
                    for try await _ in inbound {}
                }
                group.addTask {
                    // Cut off when too far behind: the write it is stuck in is cancelled.
                    for await _ in client.tooSlow { throw TooSlow() }
                    try await Task.sleep(for: .seconds(86_400 * 365))
                }
                _ = try await group.next()
                group.cancelAll()
            }
        }
    }
}
