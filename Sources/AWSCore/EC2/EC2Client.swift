/// EC2 over the Query protocol, API version 2016-11-15.
public struct EC2Client: Sendable {
    public let client: AWSClient
    public static let apiVersion = "2016-11-15"
    /// A just-created instance or image can be invisible for a moment.
    static let eventualConsistency: Set<String> = ["InvalidInstanceID.NotFound", "InvalidAMIID.NotFound"]

    public init(client: AWSClient) { self.client = client }

    /// One page of reservations.
    public func describeInstances(instanceIds: [String] = [], filters: [EC2Filter] = [], maxResults: Int? = nil,
                                  nextToken: String? = nil, afterCreate: Bool = false) async throws -> (reservations: [EC2Reservation], nextToken: String?) {
        if let maxResults, !(5...1000).contains(maxResults) {
            throw AWSError(kind: .invalidRequest, code: "InvalidParameterValue",
                           message: "MaxResults must be 5 to 1000, got \(maxResults)", service: "ec2", operation: "DescribeInstances")
        }
        var p = params("DescribeInstances")
        p.addList("InstanceId", instanceIds)
        Self.addFilters(filters, to: &p)
        // EC2 refuses MaxResults together with instance ids.
        if instanceIds.isEmpty { p.add("MaxResults", maxResults) }
        p.add("NextToken", nextToken)
        let root = try await QueryProtocol.call(client: client, parameters: p,
                                                eventualConsistency: afterCreate ? Self.eventualConsistency : [])
        return try QueryProtocol.read(client, "DescribeInstances") {
            (try root.items("reservationSet").map(EC2Reservation.init(xml:)), root.string("nextToken"))
        }
    }

    /// Every instance matching, across pages.
    public func describeAllInstances(instanceIds: [String] = [], filters: [EC2Filter] = [], pageSize: Int = 1000,
                                     afterCreate: Bool = false) async throws -> [EC2Instance] {
        try await Paginator.collect { token in
            let page = try await describeInstances(instanceIds: instanceIds, filters: filters,
                                                   maxResults: instanceIds.isEmpty ? pageSize : nil,
                                                   nextToken: token, afterCreate: afterCreate)
            return (page.reservations.flatMap(\.instances), page.nextToken)
        }
    }

    /// The calls that act are sent once (`CallSafety.actsOnce`); after a lost answer or a 5xx, EC2 is asked whether
    /// the change happened before the call goes out again (EC2Client+ActOnce.swift).
    public func stopInstances(_ ids: [String], force: Bool = false) async throws -> [InstanceStateChange] {
        var p = params("StopInstances")
        p.addList("InstanceId", ids)
        if force { p.add("Force", true) }
        return try await ActOnce.run { try await stateChanges(p) } confirm: {
            try await reached(ids, ["stopping", "stopped"])
        }
    }

    public func startInstances(_ ids: [String]) async throws -> [InstanceStateChange] {
        var p = params("StartInstances")
        p.addList("InstanceId", ids)
        return try await ActOnce.run { try await stateChanges(p) } confirm: {
            try await reached(ids, ["pending", "running"])
        }
    }

    public func terminateInstances(_ ids: [String]) async throws -> [InstanceStateChange] {
        var p = params("TerminateInstances")
        p.addList("InstanceId", ids)
        return try await ActOnce.run { try await stateChanges(p) } confirm: {
            try await reached(ids, ["shutting-down", "terminated"])
        }
    }

    /// CreateImage has no client token: callers must look for their image (by tag) before calling this twice.
    public func createImage(instanceId: String, name: String, description: String? = nil, noReboot: Bool = false,
                            tagSpecifications: [EC2TagSpecification] = []) async throws -> String {
        var p = params("CreateImage")
        p.add("InstanceId", instanceId)
        p.add("Name", name)
        p.add("Description", description)
        if noReboot { p.add("NoReboot", true) }
        Self.addTagSpecifications(tagSpecifications, to: &p)
        // No client token: a lost answer must not lead to a second AMI, so only a refusal is retried here.
        let root = try await QueryProtocol.call(client: client, parameters: p, eventualConsistency: Self.eventualConsistency,
                                                safety: .actsOnce)
        return try QueryProtocol.read(client, "CreateImage") {
            guard let id = root.string("imageId") else { throw MissingField("imageId", in: "CreateImage answer") }
            return id
        }
    }

    public func describeImages(imageIds: [String] = [], owners: [String] = [], filters: [EC2Filter] = [],
                               afterCreate: Bool = false) async throws -> [EC2Image] {
        var p = params("DescribeImages")
        p.addList("ImageId", imageIds)
        p.addList("Owner", owners)
        Self.addFilters(filters, to: &p)
        let root = try await QueryProtocol.call(client: client, parameters: p,
                                                eventualConsistency: afterCreate ? Self.eventualConsistency : [])
        return try QueryProtocol.read(client, "DescribeImages") { try root.items("imagesSet").map(EC2Image.init(xml:)) }
    }

    /// The tags of each resource (DescribeTags by `resource-id`; a resource without tags is absent). One call: the
    /// callers ask about a handful of ids (an image's snapshots), well under a page of tags.
    public func describeTags(resourceIds: [String]) async throws -> [String: [EC2Tag]] {
        guard !resourceIds.isEmpty else { return [:] }
        var p = params("DescribeTags")
        Self.addFilters([EC2Filter("resource-id", resourceIds)], to: &p)
        let root = try await QueryProtocol.call(client: client, parameters: p)
        var out: [String: [EC2Tag]] = [:]
        for item in root.items("tagSet") {
            guard let id = item.string("resourceId"), let key = item.string("key") else { continue }
            out[id, default: []].append(EC2Tag(key, item.string("value") ?? ""))
        }
        return out
    }

    public func runInstances(_ input: RunInstancesInput) async throws -> EC2Reservation {
        // With a ClientToken a repeat returns the first launch's instances; without one it would launch again.
        let root = try await QueryProtocol.call(client: client, parameters: try Self.runInstancesParameters(input),
                                                safety: input.clientToken == nil ? .actsOnce : .idempotentByToken)
        return try QueryProtocol.read(client, "RunInstances") { try EC2Reservation(xml: root) }
    }

    /// The RunInstances request body, checked before anything is sent.
    static func runInstancesParameters(_ input: RunInstancesInput) throws -> QueryParameters {
        if let token = input.clientToken, token.utf8.count > 64 || !token.allSatisfy(\.isASCII) {
            throw AWSError(kind: .invalidRequest, code: "InvalidParameterValue",
                           message: "ClientToken must be at most 64 ASCII characters", service: "ec2", operation: "RunInstances")
        }
        guard input.count >= 1 else {
            throw AWSError(kind: .invalidRequest, code: "InvalidParameterValue",
                           message: "instance count must be at least 1", service: "ec2", operation: "RunInstances")
        }
        var p = QueryParameters(action: "RunInstances", version: apiVersion)
        p.add("ImageId", input.imageId)
        p.add("InstanceType", input.instanceType)
        p.add("MinCount", input.count)
        p.add("MaxCount", input.count)
        p.add("SubnetId", input.subnetId)
        p.addList("SecurityGroupId", input.securityGroupIds)
        p.add("PrivateIpAddress", input.privateIpAddress)
        if let profile = input.iamInstanceProfile {
            p.add(profile.hasPrefix("arn:") ? "IamInstanceProfile.Arn" : "IamInstanceProfile.Name", profile)
        }
        p.add("KeyName", input.keyName)
        p.add("ClientToken", input.clientToken)
        p.add("UserData", input.userData)
        if input.requireIMDSv2 {
            p.add("MetadataOptions.HttpTokens", "required")
            p.add("MetadataOptions.HttpEndpoint", "enabled")
        }
        addTagSpecifications(input.tagSpecifications, to: &p)
        return p
    }

    public func createTags(resourceIds: [String], tags: [EC2Tag]) async throws {
        var p = params("CreateTags")
        p.addList("ResourceId", resourceIds)
        p.addStructList("Tag", tags) { s, t in s.add("Key", t.key); s.add("Value", t.value) }
        try await ActOnce.run {
            _ = try await QueryProtocol.call(client: client, parameters: p, eventualConsistency: Self.eventualConsistency,
                                             safety: .actsOnce)
        } confirm: {
            try await tagged(resourceIds, tags) ? () : nil
        }
    }

    public func deregisterImage(_ imageId: String) async throws {
        var p = params("DeregisterImage")
        p.add("ImageId", imageId)
        try await ActOnce.run {
            _ = try await QueryProtocol.call(client: client, parameters: p, safety: .actsOnce)
        } confirm: {
            try await imageGone(imageId) ? () : nil
        }
    }

    public func deleteSnapshot(_ snapshotId: String) async throws {
        var p = params("DeleteSnapshot")
        p.add("SnapshotId", snapshotId)
        try await ActOnce.run {
            _ = try await QueryProtocol.call(client: client, parameters: p, safety: .actsOnce)
        } confirm: {
            try await snapshotGone(snapshotId) ? () : nil
        }
    }

    // MARK: - Encoding helpers

    func params(_ action: String) -> QueryParameters { QueryParameters(action: action, version: Self.apiVersion) }


    static func addFilters(_ filters: [EC2Filter], to p: inout QueryParameters) {
        p.addStructList("Filter", filters) { s, f in s.add("Name", f.name); s.addList("Value", f.values) }
    }


    static func addTagSpecifications(_ specs: [EC2TagSpecification], to p: inout QueryParameters) {
        p.addStructList("TagSpecification", specs) { s, spec in
            s.add("ResourceType", spec.resourceType)
            s.addStructList("Tag", spec.tags) { t, tag in t.add("Key", tag.key); t.add("Value", tag.value) }
        }
    }

    private func stateChanges(_ p: QueryParameters) async throws -> [InstanceStateChange] {
        let action = p.pairs[0].1
        let root = try await QueryProtocol.call(client: client, parameters: p, eventualConsistency: Self.eventualConsistency,
                                                safety: .actsOnce)
        return try QueryProtocol.read(client, action) { try root.items("instancesSet").map(InstanceStateChange.init(xml:)) }
    }
}
