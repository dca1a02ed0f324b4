import Foundation
import Yams

/// Reads and checks a plan file. Every problem is reported at once, each with file, line and field.
public enum PlanLoader {
    /// The most clones one plan may hold: the largest fleet clonectl is measured on (the fleet benchmark's memory
    /// phase launches 5,000). More than that is also beyond what an account's default EC2 quotas launch in a run.
    public static let maxClones = 5_000

    public static func load(path: String) throws -> Plan {
        try parse(PlanFile.read(path: path), file: path)
    }

    public static func parse(_ text: String, file: String) throws -> Plan {
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            throw PlanError(issues: [PlanYAMLError.issue(error, text: text, file: file)])
        }
        let r = YAMLReader(file: file)
        guard let root else {
            throw PlanError(issues: [PlanIssue(file: file, line: nil, column: nil, field: "", message: "the file is empty")])
        }
        let plan = read(root, r)
        if let plan, r.issues.isEmpty { return plan }
        throw PlanError(issues: r.issues)
    }

    static func read(_ root: Node, _ r: YAMLReader) -> Plan? {
        let top = r.mapping(root, "", allowed: ["version", "name", "region", "source", "prep", "workCopy", "sysprep",
                                                "masterImage", "clones", "postClone", "cleanup", "payloads", "documents"],
                            required: ["version", "name", "source", "workCopy", "masterImage", "clones"])
        let version = r.int(top, "version", range: 1...1)
        let name = r.string(top, "name", check: Check.planName)
        let region = r.string(top, "region", check: Check.region)

        let sourceMap = r.member(top, "source").flatMap { r.mapping($0.0, $0.1, allowed: ["instanceId"], required: ["instanceId"]) }
        let sourceId = r.string(sourceMap, "instanceId", check: Check.resourceId("i"))

        let prep = readPrep(top, r)
        let workCopy = readWorkCopy(top, r)
        let sysprepMap = r.member(top, "sysprep").flatMap { r.mapping($0.0, $0.1, allowed: ["shutdownTimeoutMinutes"]) }
        let sysprep = Plan.Sysprep(shutdownTimeoutMinutes: r.int(sysprepMap, "shutdownTimeoutMinutes", range: 5...720) ?? 90)
        let master = readMasterImage(top, r)
        if let (node, path) = r.member(top, "clones"), case .sequence(let seq) = node, seq.count > maxClones {
            // Refused before each clone is read: a plan of 100,000 clones is a mistake, not a fleet.
            r.issue(node, path, "\(seq.count) clones is more than the \(maxClones) one plan may hold; "
                + "split the fleet into plans of at most \(maxClones) clones")
            return nil
        }
        let clones = r.list(top, "clones") { readClone($0, $1, r) } ?? []
        if let (node, path) = r.member(top, "clones"), clones.isEmpty, r.issues.isEmpty {
            r.issue(node, path, "list at least one clone")
        }
        checkUnique(clones, top, r)
        let post = readPostClone(top, r)
        let cleanupMap = r.member(top, "cleanup").flatMap {
            r.mapping($0.0, $0.1, allowed: ["terminateWorkCopy", "deregisterSourceImage"])
        }
        let cleanup = Plan.Cleanup(terminateWorkCopy: r.bool(cleanupMap, "terminateWorkCopy") ?? true,
                                   deregisterSourceImage: r.bool(cleanupMap, "deregisterSourceImage") ?? false)
        let pins = r.stringMap(top, "payloads", check: Check.payloadPin) ?? [:]
        let documentsMap = r.member(top, "documents").flatMap { r.mapping($0.0, $0.1, allowed: ["mode", "prefix"]) }
        let mode = r.string(documentsMap, "mode", check: Check.documentsMode).flatMap(Plan.DocumentDelivery.Mode.init)
        let prefix = r.string(documentsMap, "prefix", check: Check.documentsPrefix)
        guard let version, let name, let sourceId, let prep, let workCopy, let master else { return nil }
        var plan = Plan(version: version, name: name, region: region, source: .init(instanceId: sourceId), prep: prep,
                        workCopy: workCopy, sysprep: sysprep, masterImage: master, clones: clones, postClone: post,
                        cleanup: cleanup)
        plan.payloadPins = pins
        plan.documents = Plan.DocumentDelivery(mode: mode ?? .inline, prefix: prefix ?? "clonectl-")
        return plan
    }

    static func readPrep(_ top: YAMLReader.Mapping?, _ r: YAMLReader) -> Plan.Prep? {
        guard let (node, path) = r.member(top, "prep") else {
            return Plan.Prep(workUser: nil, accessAidsOn: .workCopy, firewallProfiles: [], tasks: [], services: [])
        }
        let m = r.mapping(node, path, allowed: ["workUser", "firewall", "jobs", "accessAidsOn"])
        let placement = r.string(m, "accessAidsOn", check: { v in
            Plan.Prep.Placement(rawValue: v) == nil ? "'\(v)' must be workCopy (the default: work user and firewall change on the isolated work copy only) or source (both on the live source, the old placement)" : nil
        }).flatMap(Plan.Prep.Placement.init(rawValue:)) ?? .workCopy
        var workUser: Plan.WorkUser?
        if let (wn, wp) = r.member(m, "workUser") {
            let w = r.mapping(wn, wp, allowed: ["name", "passwordParameter", "password"], required: ["name", "passwordParameter"])
            if let (pn, pp) = r.member(w, "password") {
                r.issue(pn, pp, "a password never goes in a plan: store it as a SecureString in Parameter Store and name it in passwordParameter")
            }
            let name = r.string(w, "name", check: Check.windowsUserName)
            let parameter = r.string(w, "passwordParameter", check: Check.parameterName)
            if let name, let parameter {
                workUser = Plan.WorkUser(name: name, passwordParameter: parameter)
            }
        }
        let firewall = r.member(m, "firewall").flatMap { r.mapping($0.0, $0.1, allowed: ["profiles"]) }
        let jobs = r.member(m, "jobs").flatMap { r.mapping($0.0, $0.1, allowed: ["tasks", "services"]) }
        let taskPattern: (String) -> String? = { v in
            Check.matches(v, "^\\\\") && !v.contains("'") ? nil
                : "'\(v)' is not a task path: write it from the root, e.g. \\App\\Nightly or \\App\\* (no quotes)"
        }
        let servicePattern: (String) -> String? = Check.service
        return Plan.Prep(workUser: workUser, accessAidsOn: placement,
                         firewallProfiles: r.stringList(firewall, "profiles", check: Check.firewallProfile)
                            ?? (firewall == nil ? [] : ["Domain", "Private", "Public"]),
                         tasks: r.stringList(jobs, "tasks", check: taskPattern) ?? [],
                         services: r.stringList(jobs, "services", check: servicePattern) ?? [])
    }

    static func readWorkCopy(_ top: YAMLReader.Mapping?, _ r: YAMLReader) -> Plan.WorkCopy? {
        guard let (node, path) = r.member(top, "workCopy") else { return nil }
        let m = r.mapping(node, path, allowed: ["subnetId", "securityGroupIds", "instanceProfile", "instanceType"],
                          required: ["subnetId", "securityGroupIds", "instanceProfile"])
        // Read every field before deciding, so each mistake is reported.
        let subnet = r.string(m, "subnetId", check: Check.resourceId("subnet"))
        let groups = r.stringList(m, "securityGroupIds", check: Check.resourceId("sg"))
        let profile = r.string(m, "instanceProfile", check: Check.instanceProfile)
        let type = r.string(m, "instanceType", check: Check.instanceType)
        guard let subnet, let groups, let profile else { return nil }
        return Plan.WorkCopy(subnetId: subnet, securityGroupIds: groups, instanceProfile: profile, instanceType: type)
    }

    static func readMasterImage(_ top: YAMLReader.Mapping?, _ r: YAMLReader) -> Plan.MasterImage? {
        guard let (node, path) = r.member(top, "masterImage") else { return nil }
        let m = r.mapping(node, path, allowed: ["name", "description", "tags"], required: ["name"])
        guard let name = r.string(m, "name", check: Check.imageName) else { return nil }
        return Plan.MasterImage(name: name, description: r.string(m, "description"),
                                tags: r.stringMap(m, "tags", check: Check.tag) ?? [:])
    }

    static func readClone(_ node: Node, _ path: String, _ r: YAMLReader) -> Plan.Clone? {
        let m = r.mapping(node, path, allowed: ["name", "subnetId", "privateIp", "hostName", "timeZone", "instanceType",
                                                "securityGroupIds", "instanceProfile", "tags", "domain"],
                          required: ["name", "subnetId", "hostName"])
        var domain: Plan.Domain?
        if let (dn, dp) = r.member(m, "domain") {
            let d = r.mapping(dn, dp, allowed: ["name", "credentialParameter", "ouPath"], required: ["name", "credentialParameter"])
            let name = r.string(d, "name", check: { Check.matches($0, "^[A-Za-z0-9-]+(\\.[A-Za-z0-9-]+)+$") ? nil : "'\($0)' is not a DNS domain name such as corp.example.com" })
            let cred = r.string(d, "credentialParameter", check: Check.parameterName)
            let ou = r.string(d, "ouPath")
            if let name, let cred {
                domain = Plan.Domain(name: name, credentialParameter: cred, ouPath: ou)
            }
        }
        // Read every field before deciding, so each mistake is reported.
        let name = r.string(m, "name", check: { $0.isEmpty || $0.count > 64 ? "give each clone a name of 1 to 64 characters" : nil })
        let subnet = r.string(m, "subnetId", check: Check.resourceId("subnet"))
        let host = r.string(m, "hostName", check: Check.hostName)
        let privateIp = r.string(m, "privateIp", check: Check.ipv4)
        let timeZone = r.string(m, "timeZone", check: Check.timeZone)
        let type = r.string(m, "instanceType", check: Check.instanceType)
        let groups = r.stringList(m, "securityGroupIds", check: Check.resourceId("sg")) ?? []
        let profile = r.string(m, "instanceProfile", check: Check.instanceProfile)
        let tags = r.stringMap(m, "tags", check: Check.tag) ?? [:]
        guard let name, let subnet, let host else { return nil }
        return Plan.Clone(name: name, subnetId: subnet, privateIp: privateIp, hostName: host, timeZone: timeZone,
                          instanceType: type, securityGroupIds: groups, instanceProfile: profile, tags: tags, domain: domain)
    }

    static func readPostClone(_ top: YAMLReader.Mapping?, _ r: YAMLReader) -> Plan.PostClone {
        let m = r.member(top, "postClone").flatMap {
            r.mapping($0.0, $0.1, allowed: ["restoreFirewall", "disableWorkUser", "restoreJobs", "maxConcurrency", "maxErrors"])
        }
        return Plan.PostClone(restoreFirewall: r.bool(m, "restoreFirewall") ?? true,
                              disableWorkUser: r.bool(m, "disableWorkUser") ?? true,
                              restoreJobs: r.bool(m, "restoreJobs") ?? true,
                              maxConcurrency: r.string(m, "maxConcurrency", check: Check.maxConcurrency) ?? "50",
                              maxErrors: r.string(m, "maxErrors", check: Check.maxErrors) ?? "0")
    }

    /// Clone names, host names and private addresses must not repeat.
    static func checkUnique(_ clones: [Plan.Clone], _ top: YAMLReader.Mapping?, _ r: YAMLReader) {
        guard let (node, path) = r.member(top, "clones") else { return }
        func report<K: Hashable>(_ what: String, _ key: (Plan.Clone) -> K?) {
            var seen: [K: String] = [:]
            for clone in clones {
                guard let k = key(clone) else { continue }
                if let first = seen[k] {
                    r.issue(node, path, "clones '\(first)' and '\(clone.name)' have the same \(what)")
                } else {
                    seen[k] = clone.name
                }
            }
        }
        report("name") { $0.name }
        report("host name") { $0.hostName.uppercased() }
        report("private IP") { $0.privateIp }
    }
}
