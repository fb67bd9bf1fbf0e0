import Testing
@testable import Money

/// The fill rules and the group rules, alone: each decision by hand.
@Suite struct FillRuleTests {
    @Test func stopsTriggerAtOrBeyondTheStopByTheSideTheOrderTakes() {
        let quote = PricePoint(bid: 99.99, ask: 100.01, last: 100)
        #expect(FillRule.triggers(stop: 100.01, buy: true, at: quote))    // offered at the stop
        #expect(!FillRule.triggers(stop: 100.02, buy: true, at: quote))
        #expect(FillRule.triggers(stop: 99.99, buy: false, at: quote))    // bid at the stop
        #expect(!FillRule.triggers(stop: 99.98, buy: false, at: quote))
        // 0.1 + 0.2 is 0.30000000000000004: a quote of it reaches a sell stop at 0.3.
        #expect(FillRule.triggers(stop: 0.3, buy: false, at: PricePoint(0.1 + 0.2)))
        #expect(FillRule.marketable(limit: 0.3, buy: true, at: PricePoint(0.1 + 0.2)))
    }

    @Test func theQuotePathFillsAtTheSideTheOrderTakes() {
        let quote = PricePoint(bid: 99.99, ask: 100.01, last: 100)
        var market = FillOrder(buy: true, kind: .market)
        #expect(market.meet(quote) == FillPrice(price: 100.01, atMarket: true))
        var limit = FillOrder(buy: false, kind: .limit(99.99))
        #expect(limit.meet(quote) == FillPrice(price: 99.99, atMarket: false))
        var stopLimit = FillOrder(buy: false, kind: .stopLimit(stop: 100, limit: 99.995))
        #expect(stopLimit.meet(quote) == nil && stopLimit.triggered)  // triggered (bid 99.99 <= 100), bid under the limit
        #expect(stopLimit.meet(PricePoint(bid: 100, ask: 100.02, last: 100.01)) == FillPrice(price: 100, atMarket: false))
    }

    @Test func aTrailingStopFollowsAndNeverMovesBack() {
        var trail = FillOrder(buy: false, kind: .trailing(.amount(1)))
        #expect(trail.meet(PricePoint(100)) == nil && trail.trailStop == 99)
        #expect(trail.meet(PricePoint(102)) == nil && trail.trailStop == 101)
        #expect(trail.meet(PricePoint(101.5)) == nil && trail.trailStop == 101)
        #expect(trail.meet(PricePoint(101)) == FillPrice(price: 101, atMarket: true))
        var percent = FillOrder(buy: true, kind: .trailing(.percent(2)))
        #expect(percent.meet(PricePoint(100)) == nil && percent.trailStop == 102)
    }

    @Test func aBarIsItsOpenThenItsRange() {
        let gap = BarPrices(open: 94, high: 106, low: 93, close: 100)
        var stop = FillOrder(buy: false, kind: .stop(95))
        #expect(stop.meetOpen(of: gap) == FillPrice(price: 94, atMarket: true))   // the worse price
        var limit = FillOrder(buy: true, kind: .limit(95))
        #expect(limit.meetOpen(of: gap) == FillPrice(price: 94, atMarket: false))  // the better price
        var profit = FillOrder(buy: false, kind: .limit(105))
        #expect(profit.meetOpen(of: gap) == nil)
        #expect(profit.meetRange(of: gap) == FillPrice(price: 105, atMarket: false))
        // Triggered inside the range above its limit: filled at the limit only when the close,
        // which surely came after the trigger, is through it.
        var buyStopLimit = FillOrder(buy: true, kind: .stopLimit(stop: 101, limit: 100.5))
        let rises = BarPrices(open: 100, high: 102, low: 99, close: 100.8)
        #expect(buyStopLimit.meetOpen(of: rises) == nil && buyStopLimit.meetRange(of: rises) == nil && buyStopLimit.triggered)
        var again = FillOrder(buy: true, kind: .stopLimit(stop: 101, limit: 100.5))
        let closesBelow = BarPrices(open: 100, high: 102, low: 99, close: 100.4)
        #expect(again.meetOpen(of: closesBelow) == nil)
        #expect(again.meetRange(of: closesBelow) == FillPrice(price: 100.5, atMarket: false))
        // A sell trailing 1 from an open of 100 (stop 99): a range down to 98.5 sells at 99,
        // the lowest stop it could have had.
        var trail = FillOrder(buy: false, kind: .trailing(.amount(1)))
        let falls = BarPrices(open: 100, high: 103, low: 98.5, close: 102)
        #expect(trail.meetOpen(of: falls) == nil)
        #expect(trail.meetRange(of: falls) == FillPrice(price: 99, atMarket: true))
    }

    @Test func aGroupSettlesInIdOrderWhateverOrderItIsGivenIn() {
        let cancel = OrderFamily(ocaGroup: "g", ocaType: 1)
        let others = [GroupMember(id: 9, family: cancel, remaining: 10), GroupMember(id: 4, family: cancel, remaining: 10),
                      GroupMember(id: 7, family: OrderFamily(), remaining: 10), GroupMember(id: 5, family: cancel, remaining: 10)]
        let settled = GroupSettlement.settle(filled: 10, by: 3, family: cancel, others: others)
        #expect(settled == [.cancel(id: 4, reason: "OCA group g: order 3 filled"), .cancel(id: 5, reason: "OCA group g: order 3 filled"),
                            .cancel(id: 9, reason: "OCA group g: order 3 filled")])
        #expect(GroupSettlement.settle(filled: 10, by: 3, family: cancel, others: others.reversed()) == settled)
        // Reducing: by the fill, cancelled when nothing would be left; a bracket's children reduce.
        let reduce = OrderFamily(ocaGroup: "r", ocaType: 3)
        #expect(GroupSettlement.settle(filled: 4, by: 1, family: reduce, others: [GroupMember(id: 2, family: reduce, remaining: 10),
                                                                                  GroupMember(id: 3, family: reduce, remaining: 4)])
                == [.reduce(id: 2, by: 4), .cancel(id: 3, reason: "OCA group r: order 1 filled")])
        let child = OrderFamily(parentId: 1)
        #expect(GroupSettlement.settle(filled: 30, by: 2, family: child, others: [GroupMember(id: 3, family: child, remaining: 100)])
                == [.reduce(id: 3, by: 30)])
    }

    @Test func inARangeTheStopGoesFirstWhenTheBarCannotTell() {
        let bracket = OrderFamily(parentId: 1)
        // Take-profit (placed first, above the open) and stop (below): both sides, the stop first.
        let both = GroupSettlement.rangeOrder([RangeCandidate(family: bracket, isStop: false, price: 105),
                                               RangeCandidate(family: bracket, isStop: true, price: 95)], open: 100)
        #expect(both.order == [1, 0] && both.ambiguous)
        // One side: the nearer the open first, nothing ambiguous; an order of no group keeps its place.
        let oneSide = GroupSettlement.rangeOrder([RangeCandidate(family: OrderFamily(), isStop: false, price: 99),
                                                  RangeCandidate(family: OrderFamily(ocaGroup: "g"), isStop: false, price: 97),
                                                  RangeCandidate(family: OrderFamily(ocaGroup: "g"), isStop: false, price: 98)], open: 100)
        #expect(oneSide.order == [0, 2, 1] && !oneSide.ambiguous)
    }

    @Test func anOrderWorksOnceTransmittedAndItsParentFilled() {
        #expect(OrderFamily.isReleased(transmitted: true, parentId: 0, parentFilled: false))
        #expect(!OrderFamily.isReleased(transmitted: false, parentId: 0, parentFilled: false))
        #expect(!OrderFamily.isReleased(transmitted: true, parentId: 5, parentFilled: false))
        #expect(OrderFamily.isReleased(transmitted: true, parentId: 5, parentFilled: true))
    }
}
