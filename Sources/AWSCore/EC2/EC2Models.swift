/// EC2 shapes, read from the Query protocol's XML. Only the members clonectl uses.

public struct EC2Tag: Sendable, Equatable, Hashable {
    public var key: String
    public var value: String
    public init(_ key: String, _ value: String) { self.key = key; self.value = value }
}

/// A filter for Describe* calls: `Filter.N.Name` / `Filter.N.Value.M`.
public struct EC2Filter: Sendable, Equatable {
    public var name: String
    public var values: [String]
    public init(_ name: String, _ values: [String]) { self.name = name; self.values = values }
}

/// Tags applied at creation: `TagSpecification.N.ResourceType` / `.Tag.M.Key`.
public struct EC2TagSpecification: Sendable, Equatable {
    public var resourceType: String
    public var tags: [EC2Tag]
    public init(resourceType: String, tags: [EC2Tag]) { self.resourceType = resourceType; self.tags = tags }
}

public enum InstanceStateName: String, Sendable, CaseIterable {
    case pending, running, stopping, stopped
    case shuttingDown = "shutting-down"
    case terminated
}

public struct EC2Instance: Sendable, Equatable {
    public var instanceId: String
    public var imageId: String?
    public var state: String
    public var stateCode: Int?
    public var stateReason: String?
    public var instanceType: String?
    public var platform: String?
    public var platformDetails: String?
    public var privateIpAddress: String?
    public var subnetId: String?
    public var vpcId: String?
    public var launchTime: String?
    public var iamInstanceProfileArn: String?
    public var securityGroupIds: [String]
    public var clientToken: String?
    public var tags: [EC2Tag]

    public var stateName: InstanceStateName? { InstanceStateName(rawValue: state) }
    public func tag(_ key: String) -> String? { tags.first { $0.key == key }?.value }

    init(xml: XMLNode) throws {
        guard let id = xml.string("instanceId") else { throw MissingField("instanceId", in: "instance") }
        instanceId = id
        imageId = xml.string("imageId")
        state = xml.string("instanceState/name") ?? "unknown"
        stateCode = xml.string("instanceState/code").flatMap { Int($0) }
        stateReason = xml.string("stateReason/message")
        instanceType = xml.string("instanceType")
        platform = xml.string("platform")
        platformDetails = xml.string("platformDetails")
        privateIpAddress = xml.string("privateIpAddress")
        subnetId = xml.string("subnetId")
        vpcId = xml.string("vpcId")
        launchTime = xml.string("launchTime")
        iamInstanceProfileArn = xml.string("iamInstanceProfile/arn")
        securityGroupIds = xml.items("groupSet").compactMap { $0.string("groupId") }
        clientToken = xml.string("clientToken").flatMap { $0.isEmpty ? nil : $0 }
        tags = EC2Tag.list(xml)
    }
}

public struct EC2Reservation: Sendable, Equatable {
    public var reservationId: String?
    public var instances: [EC2Instance]
    init(xml: XMLNode) throws {
        reservationId = xml.string("reservationId")
        instances = try xml.items("instancesSet").map(EC2Instance.init(xml:))
    }
}

public struct InstanceStateChange: Sendable, Equatable {
    public var instanceId: String
    public var currentState: String
    public var previousState: String
    public init(instanceId: String, currentState: String, previousState: String) {
        self.instanceId = instanceId
        self.currentState = currentState
        self.previousState = previousState
    }
    init(xml: XMLNode) throws {
        guard let id = xml.string("instanceId") else { throw MissingField("instanceId", in: "instance state change") }
        instanceId = id
        currentState = xml.string("currentState/name") ?? "unknown"
        previousState = xml.string("previousState/name") ?? "unknown"
    }
}

public enum ImageStateName: String, Sendable, CaseIterable {
    case pending, available, invalid, deregistered, transient, failed, error, disabled
}

public struct EC2Image: Sendable, Equatable {
    public var imageId: String
    public var name: String?
    public var state: String
    public var stateReason: String?
    public var creationDate: String?
    public var ownerId: String?
    public var platform: String?
    public var snapshotIds: [String]
    public var tags: [EC2Tag]

    public var stateName: ImageStateName? { ImageStateName(rawValue: state) }
    public func tag(_ key: String) -> String? { tags.first { $0.key == key }?.value }

    init(xml: XMLNode) throws {
        guard let id = xml.string("imageId") else { throw MissingField("imageId", in: "image") }
        imageId = id
        name = xml.string("name")
        state = xml.string("imageState") ?? "unknown"
        stateReason = xml.string("stateReason/message")
        creationDate = xml.string("creationDate")
        ownerId = xml.string("imageOwnerId")
        platform = xml.string("platform")
        snapshotIds = xml.items("blockDeviceMapping").compactMap { $0.string("ebs/snapshotId") }
        tags = EC2Tag.list(xml)
    }
}

/// Input to RunInstances. `clientToken` makes the call idempotent (at most 64 ASCII characters).
public struct RunInstancesInput: Sendable {
    public var imageId: String
    public var instanceType: String
    public var count: Int = 1
    public var subnetId: String?
    public var securityGroupIds: [String] = []
    public var privateIpAddress: String?
    /// An instance profile name, or an ARN (starts with "arn:").
    public var iamInstanceProfile: String?
    public var keyName: String?
    public var clientToken: String?
    public var tagSpecifications: [EC2TagSpecification] = []
    /// IMDSv2 only (`HttpTokens=required`): the guest payloads use tokens anyway.
    public var requireIMDSv2: Bool = true
    /// Base64 user data, rarely needed.
    public var userData: String?

    public init(imageId: String, instanceType: String) {
        self.imageId = imageId
        self.instanceType = instanceType
    }
}

extension EC2Tag {
    static func list(_ xml: XMLNode) -> [EC2Tag] {
        xml.items("tagSet").compactMap { item in
            item.string("key").map { EC2Tag($0, item.string("value") ?? "") }
        }
    }
}

/// An answer lacked a member the API reference says is always there.
struct MissingField: Error, CustomStringConvertible {
    let field: String
    let shape: String
    init(_ field: String, in shape: String) { self.field = field; self.shape = shape }
    var description: String { "the \(shape) in the answer has no \(field)" }
}
