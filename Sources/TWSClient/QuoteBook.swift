import TWSProtocol

/// The live quote of every quote stream, in flat storage.
///
/// This is the hot path of market data: a tick finds its quote with one integer lookup
/// (request id → slot) and updates it in place, without touching the subscription's
/// contract or handler. Quotes changed by one socket read are handed out once each at the
/// end of the read (`flush`), in the order they first changed. Touched on the client's loop only.
struct QuoteBook {
    private struct Slot {
        var quote: MarketQuote
        var subscription: Int
        /// The request id its ticks come under now (nil while disconnected).
        var reqId: Int?
        var handler: @Sendable (QuoteEvent) -> Void
        var dirty = false
        var inUse = true
    }

    private var slots: ContiguousArray<Slot> = []
    private var freeSlots: [Int] = []
    private var slotBySubscription: [Int: Int] = [:]
    private var slotByRequest: [Int: Int] = [:]
    private var dirty: [Int] = []

    var isEmpty: Bool { slotBySubscription.isEmpty }

    mutating func add(subscription: Int, reqId: Int, symbol: String, handler: @escaping @Sendable (QuoteEvent) -> Void) {
        let slot = Slot(quote: MarketQuote(symbol: symbol), subscription: subscription, reqId: reqId, handler: handler)
        let index: Int
        if let free = freeSlots.popLast() {
            slots[free] = slot
            index = free
        } else {
            slots.append(slot)
            index = slots.count - 1
        }
        slotBySubscription[subscription] = index
        slotByRequest[reqId] = index
    }

    /// Forgets a stream; its pending update, if any, is not delivered.
    mutating func remove(subscription: Int) {
        guard let index = slotBySubscription.removeValue(forKey: subscription) else { return }
        bind(index, to: nil)
        slots[index].inUse = false
        slots[index].dirty = false
        dirty.removeAll { $0 == index }
        freeSlots.append(index)
    }

    /// The stream a request id belongs to.
    func subscription(reqId: Int) -> Int? { slotByRequest[reqId].map { slots[$0].subscription } }

    /// The stream's requests are made again under a new id.
    mutating func rebind(subscription: Int, to reqId: Int) {
        guard let index = slotBySubscription[subscription] else { return }
        bind(index, to: reqId)
    }

    /// The connection is gone: no request id means anything until streams subscribe again.
    mutating func forgetRequestIds() {
        for index in slots.indices { slots[index].reqId = nil }
        slotByRequest.removeAll(keepingCapacity: true)
    }

    private mutating func bind(_ index: Int, to reqId: Int?) {
        if let old = slots[index].reqId { slotByRequest[old] = nil }
        slots[index].reqId = reqId
        if let reqId { slotByRequest[reqId] = index }
    }

    /// Applies a tick to the quote its request id belongs to; false when none does.
    /// `readAt` stamps the update with the socket read it came from (latency accounting).
    mutating func apply(_ tick: MarketTick, readAt: UInt64) -> Bool {
        guard let index = slotByRequest[tick.reqId] else { return false }
        let changed = slots.withUnsafeMutableBufferPointer { buffer -> Bool in
            // In place through the buffer: no copy of the slot, no exclusivity bookkeeping per field.
            let changed: Bool
            switch tick {
            case let .price(t): changed = buffer[index].quote.apply(priceTick: t.tickType, price: t.price, size: t.size)
            case let .size(t): changed = buffer[index].quote.apply(sizeTick: t.tickType, size: t.size)
            case let .string(t): changed = buffer[index].quote.apply(stringTick: t.tickType, value: t.value)
            }
            buffer[index].quote.ticks += 1
            guard changed else { return false }
            buffer[index].quote.stale = false
            if buffer[index].quote.receivedAt == 0 { buffer[index].quote.receivedAt = readAt }
            return true
        }
        if changed { markDirty(index) }
        return true
    }

    mutating func setMarketDataType(reqId: Int, _ type: Int) -> Bool {
        guard let index = slotByRequest[reqId] else { return false }
        if slots[index].quote.marketDataType != type {
            slots[index].quote.marketDataType = type
            markDirty(index)
        }
        return true
    }

    /// Tick 49: 0 not halted, 1 halted, 2 halted by volatility; false when the id is no quote's.
    mutating func setHalted(reqId: Int, _ value: Double) -> Bool {
        guard let index = slotByRequest[reqId] else { return false }
        if slots[index].quote.halted != (value > 0) {
            slots[index].quote.halted = value > 0
            markDirty(index)
        }
        return true
    }

    /// Between 1100 and the restore, or after a disconnect: every quote may be old.
    mutating func markAllStale() {
        for index in slots.indices where slots[index].inUse {
            slots[index].quote.stale = true
            markDirty(index)
        }
    }

    /// Hands out every quote changed since the last flush, once each.
    mutating func flush() {
        guard !dirty.isEmpty else { return }
        for index in dirty {
            slots[index].dirty = false
            slots[index].handler(.quote(slots[index].quote))
            slots[index].quote.receivedAt = 0
            slots[index].quote.ticks = 0
        }
        dirty.removeAll(keepingCapacity: true)
    }

    /// Ends a stream with an error (IB refused or dropped it).
    mutating func fail(subscription: Int, _ error: TWSError) {
        guard let index = slotBySubscription[subscription] else { return }
        let handler = slots[index].handler
        remove(subscription: subscription)
        handler(.failed(error))
    }

    private mutating func markDirty(_ index: Int) {
        guard !slots[index].dirty else { return }
        slots[index].dirty = true
        dirty.append(index)
    }
}
