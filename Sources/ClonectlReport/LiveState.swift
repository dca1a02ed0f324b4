import Foundation
import ClonectlLedger

/// `report --refresh`: the state now of every instance and image in the lineage, read from AWS by id (read-only).
///
/// The report itself reads only the ledger; this type asks through two closures the CLI wires to EC2
/// (DescribeInstances / DescribeImages with an `instance-id` / `image-id` filter, so an id AWS no longer knows is
/// simply absent instead of failing the whole call with InvalidInstanceID.NotFound). Ids go in batches of
/// `batchSize` (EC2 takes at most 200 values per filter), so 500 clones are three calls, each paged.
///
/// What the report says:
/// - an id AWS answered for: its state now (running, stopped, terminated, available, ...);
/// - an id absent from a batch AWS answered: `gone` (terminated long ago, or deregistered): not an error;
/// - an id in a batch whose call failed: no state now, and the error is listed in `stateAsOf.errors`.
/// `LiveState.readNothing` is true when ids were asked for and not one batch was answered: the CLI then exits
/// non-zero (the report is still written, saying why); a partial read exits 0 and says what could not be read.
public struct LiveState: Sendable, Equatable {
    public static let batchSize = 200

    public var at: String
    public var instances: [String: String] = [:]
    public var images: [String: String] = [:]
    public var errors: [String] = []
    /// Batches asked, and batches answered.
    public var asked = 0
    public var answered = 0

    public var readNothing: Bool { asked > 0 && answered == 0 }

    public init(at: String) { self.at = at }

    /// (id, state) pairs AWS returned for a batch of ids.
    public typealias Reader = @Sendable ([String]) async throws -> [(id: String, state: String)]

    public static func read(instanceIds: [String], imageIds: [String], now: Date = Date(),
                            instances: Reader, images: Reader) async -> LiveState {
        var live = LiveState(at: UTCTimestamp.format(now))
        func unique(_ ids: [String]) -> [String] { Array(Set(ids)).sorted() }
        func batches(_ ids: [String]) -> [[String]] {
            stride(from: 0, to: ids.count, by: batchSize).map { Array(ids[$0..<min($0 + batchSize, ids.count)]) }
        }
        for (isImage, ids) in [(false, unique(instanceIds)), (true, unique(imageIds))] {
            let what = isImage ? "images" : "instances"
            for batch in batches(ids) {
                live.asked += 1
                do {
                    let pairs = isImage ? try await images(batch) : try await instances(batch)
                    var found: [String: String] = [:]
                    for p in pairs where found[p.id] == nil { found[p.id] = p.state }
                    live.answered += 1
                    for id in batch {
                        // Absent from an answered batch: AWS no longer knows it (terminated long ago, deregistered).
                        if isImage { live.images[id] = found[id] ?? "gone" } else { live.instances[id] = found[id] ?? "gone" }
                    }
                } catch {
                    live.errors.append("could not read the state of \(batch.count) \(what) (\(batch[0])\(batch.count > 1 ? " …" : "")): \(error)")
                }
            }
        }
        return live
    }

    /// The ids of every instance and image in these reports' lineages.
    public static func ids(in reports: [RunReport]) -> (instances: [String], images: [String]) {
        let nodes = reports.flatMap(\.lineage.nodes)
        return (nodes.filter { !$0.kind.hasSuffix("image") }.map(\.id), nodes.filter { $0.kind.hasSuffix("image") }.map(\.id))
    }
}

extension RunReport {
    /// The report with the state now from AWS in the lineage and the recap, and the time of the refresh.
    public func refreshed(with live: LiveState) -> RunReport {
        var r = self
        r.stateAsOf = StateAsOf(source: "aws", at: live.at, errors: live.errors)
        for n in r.lineage.nodes.indices {
            let id = r.lineage.nodes[n].id
            r.lineage.nodes[n].stateNow = r.lineage.nodes[n].kind.hasSuffix("image") ? live.images[id] : live.instances[id]
        }
        for n in r.instances.indices { r.instances[n].stateNow = live.instances[r.instances[n].instanceId] }
        return r
    }
}
