import ClonectlLedger
import ClonectlWorkflow

/// Source instance -> source AMI -> work copy -> master AMI -> each clone, from the run state and the resources the
/// ledger recorded (names and IPs as AWS returned them at creation, deletions as the run recorded them).
enum LineageBuilder {
    static func build(state: RunState?, steps: [StepRecord], resources: [ResourceRecord], commands: [CommandRecord],
                      ledger: Ledger) -> RunReport.Lineage {
        guard let state else { return RunReport.Lineage(nodes: [], edges: []) }
        let succeeded = Set(steps.filter { $0.status == "succeeded" }.map(\.name))
        let byId = Dictionary(resources.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        // Host names as the run asked for them: the post-clone command's HostName parameter per clone.
        var hostNames: [String: String] = [:]
        // Parameters are {"common": {...}, "byInstance": {id: {...}}} (GuestRunner) or one flat object.
        for c in commands where c.step == StepName.postClone.rawValue || c.step == StepName.verify.rawValue {
            guard let params = GuestResult.object(c.parametersJSON) else { continue }
            let common = (params["common"] as? [String: Any]) ?? params
            let byInstance = (params["byInstance"] as? [String: [String: Any]]) ?? [:]
            for id in c.instanceIds where hostNames[id] == nil {
                let p = common.merging(byInstance[id] ?? [:]) { _, own in own }
                hostNames[id] = (p["NewName"] ?? p["HostName"] ?? p["ExpectedHostName"]) as? String
            }
        }

        func node(_ id: String, _ kind: String, name: String?, alive: String) -> RunReport.Lineage.Node {
            let resource = byId[id]
            let detail = resource.flatMap { try? ledger.resourceDetail(kind: $0.kind, id: id) } ?? [:]
            let state = resource?.deletedAt != nil ? "deleted" : alive
            return RunReport.Lineage.Node(id: id, kind: kind, name: detail["name"] ?? name,
                                          privateIp: detail["privateIp"].flatMap { $0.isEmpty ? nil : $0 },
                                          hostName: hostNames[id], state: state)
        }

        var nodes: [RunReport.Lineage.Node] = []
        var edges: [RunReport.Lineage.Edge] = []
        // The source: stopped by the run until restore-source ran it again.
        let sourceState = !state.sourceStoppedByUs ? "running"
            : succeeded.contains(StepName.restoreSource.rawValue) ? "running" : "stopped"
        nodes.append(node(state.sourceInstanceId, "source-instance", name: "source", alive: sourceState))
        var last = state.sourceInstanceId
        if let ami = state.sourceImageId {
            nodes.append(node(ami, "source-image", name: nil, alive: "available"))
            edges.append(.init(from: last, to: ami, label: "imaged"))
            last = ami
        }
        if let work = state.workCopyInstanceId {
            // Sysprep shuts the work copy down; it stays stopped until cleanup terminates it.
            let workState = succeeded.contains(StepName.sysprep.rawValue) ? "stopped" : "running"
            nodes.append(node(work, "work-copy", name: "work copy", alive: workState))
            edges.append(.init(from: last, to: work, label: "launched"))
            last = work
        }
        if let master = state.masterImageId {
            nodes.append(node(master, "master-image", name: nil, alive: "available"))
            edges.append(.init(from: last, to: master, label: "imaged"))
            last = master
        }
        for (name, id) in state.clones.sorted(by: { $0.key < $1.key }) {
            var clone = node(id, "clone", name: name, alive: "running")
            clone.name = name
            nodes.append(clone)
            edges.append(.init(from: last, to: id, label: "launched"))
        }
        return RunReport.Lineage(nodes: nodes, edges: edges)
    }
}
