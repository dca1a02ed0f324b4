import ClonectlPlan

/// How `plan show` prints a plan. The JSON form is stable for scripts: keys as in the plan file.
enum PlanRendering {
    static func json(_ p: Plan) -> [String: Any] {
        var prep: [String: Any] = ["firewall": ["profiles": p.prep.firewallProfiles],
                                   "jobs": ["tasks": p.prep.tasks, "services": p.prep.services]]
        if let w = p.prep.workUser { prep["workUser"] = ["name": w.name, "passwordParameter": w.passwordParameter] }
        var workCopy: [String: Any] = ["subnetId": p.workCopy.subnetId, "securityGroupIds": p.workCopy.securityGroupIds,
                                       "instanceProfile": p.workCopy.instanceProfile]
        workCopy["instanceType"] = p.workCopy.instanceType
        var master: [String: Any] = ["name": p.masterImage.name, "tags": p.masterImage.tags]
        master["description"] = p.masterImage.description
        var out: [String: Any] = [
            "version": p.version, "name": p.name, "source": ["instanceId": p.source.instanceId], "prep": prep,
            "workCopy": workCopy, "sysprep": ["shutdownTimeoutMinutes": p.sysprep.shutdownTimeoutMinutes],
            "masterImage": master, "clones": p.clones.map(clone),
            "postClone": ["restoreFirewall": p.postClone.restoreFirewall, "disableWorkUser": p.postClone.disableWorkUser,
                          "restoreJobs": p.postClone.restoreJobs, "maxConcurrency": p.postClone.maxConcurrency,
                          "maxErrors": p.postClone.maxErrors],
            "cleanup": ["terminateWorkCopy": p.cleanup.terminateWorkCopy,
                        "deregisterSourceImage": p.cleanup.deregisterSourceImage],
        ]
        out["region"] = p.region
        return out
    }

    static func clone(_ c: Plan.Clone) -> [String: Any] {
        var out: [String: Any] = ["name": c.name, "subnetId": c.subnetId, "hostName": c.hostName, "tags": c.tags,
                                  "securityGroupIds": c.securityGroupIds]
        out["privateIp"] = c.privateIp
        out["timeZone"] = c.timeZone
        out["instanceType"] = c.instanceType
        out["instanceProfile"] = c.instanceProfile
        if let d = c.domain {
            var domain: [String: Any] = ["name": d.name, "credentialParameter": d.credentialParameter]
            domain["ouPath"] = d.ouPath
            out["domain"] = domain
        }
        return out
    }

    static func text(_ p: Plan) -> String {
        var lines = ["plan \(p.name) (version \(p.version))\(p.region.map { ", region \($0)" } ?? "")",
                     "  source          \(p.source.instanceId)"]
        if let w = p.prep.workUser { lines.append("  work user       \(w.name) (password from \(w.passwordParameter))") }
        lines.append("  firewall off    \(p.prep.firewallProfiles.isEmpty ? "no" : p.prep.firewallProfiles.joined(separator: ", "))")
        lines.append("  jobs stopped    tasks: \(p.prep.tasks.isEmpty ? "none" : p.prep.tasks.joined(separator: ", ")); services: \(p.prep.services.isEmpty ? "none" : p.prep.services.joined(separator: ", "))")
        lines.append("  work copy       \(p.workCopy.subnetId), \(p.workCopy.securityGroupIds.joined(separator: ", ")), profile \(p.workCopy.instanceProfile)\(p.workCopy.instanceType.map { ", \($0)" } ?? "")")
        lines.append("  sysprep         shutdown within \(p.sysprep.shutdownTimeoutMinutes) min")
        lines.append("  master image    \(p.masterImage.name)")
        for c in p.clones {
            var detail = "\(c.hostName) in \(c.subnetId)"
            if let ip = c.privateIp { detail += " at \(ip)" }
            if let tz = c.timeZone { detail += ", \(tz)" }
            if let d = c.domain { detail += ", joins \(d.name)" }
            lines.append("  clone \(c.name.padding(toLength: 9, withPad: " ", startingAt: 0)) \(detail)")
        }
        lines.append("  post-clone      firewall \(p.postClone.restoreFirewall ? "restored" : "left off"), work user \(p.postClone.disableWorkUser ? "disabled" : "kept"), jobs \(p.postClone.restoreJobs ? "restored" : "left stopped"); MaxConcurrency \(p.postClone.maxConcurrency), MaxErrors \(p.postClone.maxErrors)")
        lines.append("  cleanup         work copy \(p.cleanup.terminateWorkCopy ? "terminated" : "kept"), source AMI \(p.cleanup.deregisterSourceImage ? "deregistered" : "kept")")
        return lines.joined(separator: "\n")
    }
}
