/// Which orders an order works with: its one-cancels-all group and its bracket's parent, as
/// IB's order fields give them. The paper gateway and the backtest's broker release, cancel
/// and reduce orders by these rules alone.
public struct OrderFamily: Sendable, Hashable {
    /// IB's `ocaGroup`: orders with the same name form one group ("" for none).
    public var ocaGroup: String
    /// IB's `ocaType`: 1 cancels the others at a fill; 2 and 3 reduce them by it.
    public var ocaType: Int
    /// The bracket's parent (0 for none): a child works once it has filled, and the children
    /// of one parent form a group that reduces (IB's brackets).
    public var parentId: Int

    public init(ocaGroup: String = "", ocaType: Int = 1, parentId: Int = 0) {
        self.ocaGroup = ocaGroup
        self.ocaType = ocaType
        self.parentId = parentId
    }

    /// In one group with `other`: the same OCA name, or children of the same parent.
    public func sharesGroup(with other: OrderFamily) -> Bool {
        (!ocaGroup.isEmpty && ocaGroup == other.ocaGroup) || (parentId != 0 && parentId == other.parentId)
    }

    public var isGrouped: Bool { !ocaGroup.isEmpty || parentId != 0 }

    /// A fill of this order reduces its group's others (ocaType 2 or 3, or a bracket's
    /// children) rather than cancelling them (ocaType 1).
    public var reducesGroup: Bool { ocaGroup.isEmpty || ocaType == 2 || ocaType == 3 }

    /// The group as a cancel's reason names it.
    public var groupName: String { ocaGroup.isEmpty ? "bracket \(parentId)" : "OCA group \(ocaGroup)" }

    /// An order works once it is transmitted (itself, or by a later child of its bracket) and,
    /// for a bracket's child, once its parent has filled.
    public static func isReleased(transmitted: Bool, parentId: Int, parentFilled: Bool) -> Bool {
        transmitted && (parentId == 0 || parentFilled)
    }
}

/// A working order of a group, as `GroupSettlement.settle` needs it.
public struct GroupMember: Sendable, Equatable {
    public var id: Int
    public var family: OrderFamily
    /// What is left of it to fill.
    public var remaining: Double

    public init(id: Int, family: OrderFamily, remaining: Double) {
        self.id = id
        self.family = family
        self.remaining = remaining
    }
}

/// What one fill of a group's member does to one of the others.
public enum GroupSettlement: Sendable, Equatable {
    case cancel(id: Int, reason: String)
    /// Its quantity goes down by `by` (a reducing group, with something left of it).
    case reduce(id: Int, by: Double)

    public var id: Int {
        switch self {
        case let .cancel(id, _), let .reduce(id, _): return id
        }
    }

    /// The others of `id`'s group after it filled `filled`, in id order (placement order:
    /// never a collection's, so a group of any size settles the same in every process).
    /// ocaType 1 cancels them; 2, 3 and a bracket's children reduce them by the fill and
    /// cancel those with nothing left. `others` may hold any orders: only its group's count.
    public static func settle(filled: Double, by id: Int, family: OrderFamily, others: [GroupMember]) -> [GroupSettlement] {
        guard family.isGrouped, filled > 0 else { return [] }
        let reason = "\(family.groupName): order \(id) filled"
        return others.filter { $0.id != id && family.sharesGroup(with: $0.family) }
            .sorted { $0.id < $1.id }
            .map { other in
                family.reducesGroup && other.remaining > filled + FillRule.tolerance ? .reduce(id: other.id, by: filled)
                    : .cancel(id: other.id, reason: reason)
            }
    }

    /// The order in which orders that each fill somewhere in one bar's range are taken: as
    /// placed, except that the members of one group go together, at the place of the first:
    ///
    /// * all on one side of the open: the nearest to it first (any path from the open reaches
    ///   it first);
    /// * on both sides (the bar does not say whether its high or its low came first): the side
    ///   with a stop first, the conservative choice (a bracket whose stop and take-profit are
    ///   both inside the range is assumed stopped), which `ambiguous` reports; with stops on
    ///   both sides or neither, the side of the nearest first.
    public static func rangeOrder(_ candidates: [RangeCandidate], open: Double) -> (order: [Int], ambiguous: Bool) {
        // Each candidate's group, as the index of its first member.
        var lead = Array(candidates.indices)
        for index in candidates.indices where candidates[index].family.isGrouped {
            if let first = candidates.indices.first(where: { $0 < index && candidates[$0].family.sharesGroup(with: candidates[index].family) }) {
                lead[index] = lead[first]
            }
        }
        func distance(_ index: Int) -> Double { abs(candidates[index].price - open) }
        func up(_ index: Int) -> Bool { candidates[index].price > open }
        // Per group: which side of the open goes first.
        var upFirst = [Bool](repeating: false, count: candidates.count)
        var ambiguous = false
        for group in candidates.indices where lead[group] == group {
            let members = candidates.indices.filter { lead[$0] == group }
            let stopsUp = members.contains { up($0) && candidates[$0].isStop }, stopsDown = members.contains { !up($0) && candidates[$0].isStop }
            let nearest = members.min { (distance($0), $0) < (distance($1), $1) }!
            if members.contains(where: up) && !members.allSatisfy(up) && stopsUp != stopsDown {
                upFirst[group] = stopsUp
                ambiguous = true
            } else {
                upFirst[group] = up(nearest)
            }
        }
        let order = candidates.indices.sorted { a, b in
            let sideA = up(a) == upFirst[lead[a]] ? 0 : 1, sideB = up(b) == upFirst[lead[b]] ? 0 : 1
            return (lead[a], sideA, distance(a), a) < (lead[b], sideB, distance(b), b)
        }
        return (order, ambiguous)
    }
}

/// An order that would fill within a bar's range, as `GroupSettlement.rangeOrder` weighs it.
public struct RangeCandidate: Sendable, Equatable {
    public var family: OrderFamily
    public var isStop: Bool
    /// Where it would fill.
    public var price: Double

    public init(family: OrderFamily, isStop: Bool, price: Double) {
        self.family = family
        self.isStop = isStop
        self.price = price
    }
}
