/// The network ids a plan names, looked up read-only (`run --dry-run --check`): an id that does not exist in the
/// region fails here with EC2's own error (InvalidSubnetID.NotFound, InvalidGroup.NotFound) instead of at RunInstances.
extension EC2Client {
    /// The subnets with these ids, as (subnet id, VPC id).
    public func describeSubnets(ids: [String]) async throws -> [(subnetId: String, vpcId: String?)] {
        var p = params("DescribeSubnets")
        p.addList("SubnetId", ids)
        let root = try await QueryProtocol.call(client: client, parameters: p, eventualConsistency: [])
        return try QueryProtocol.read(client, "DescribeSubnets") {
            root.items("subnetSet").compactMap { s in s.string("subnetId").map { ($0, s.string("vpcId")) } }
        }
    }

    /// The security groups with these ids, as (group id, VPC id).
    public func describeSecurityGroups(ids: [String]) async throws -> [(groupId: String, vpcId: String?)] {
        var p = params("DescribeSecurityGroups")
        p.addList("GroupId", ids)
        let root = try await QueryProtocol.call(client: client, parameters: p, eventualConsistency: [])
        return try QueryProtocol.read(client, "DescribeSecurityGroups") {
            root.items("securityGroupInfo").compactMap { g in g.string("groupId").map { ($0, g.string("vpcId")) } }
        }
    }

    /// A private address in use in a subnet: which network interface holds it, and what that interface belongs to.
    public struct AddressInUse: Sendable, Equatable {
        public var address: String
        public var subnetId: String
        public var networkInterfaceId: String
        /// The instance the interface is attached to, if any.
        public var instanceId: String?
        /// The interface's description or type (a load balancer's, a Lambda's or an endpoint's interfaces have no
        /// instance but hold their address all the same).
        public var owner: String?
    }

    /// Which of `addresses` in `subnetId` are held by a network interface, every page of DescribeNetworkInterfaces
    /// filtered by subnet and address (`addresses.private-ip-address` covers secondary addresses too).
    public func addressesInUse(subnetId: String, addresses: [String]) async throws -> [AddressInUse] {
        guard !addresses.isEmpty else { return [] }
        var found: [AddressInUse] = []
        // The API takes at most 200 values per filter.
        for start in stride(from: 0, to: addresses.count, by: 200) {
            let chunk = Array(addresses[start..<min(start + 200, addresses.count)])
            let wanted = Set(chunk)
            let interfaces = try await Paginator.collect { token -> ([XMLNode], String?) in
                var p = params("DescribeNetworkInterfaces")
                Self.addFilters([EC2Filter("subnet-id", [subnetId]),
                                 EC2Filter("addresses.private-ip-address", chunk)], to: &p)
                p.add("MaxResults", 1000)
                p.add("NextToken", token)
                let root = try await QueryProtocol.call(client: client, parameters: p, eventualConsistency: [])
                return try QueryProtocol.read(client, "DescribeNetworkInterfaces") {
                    (root.items("networkInterfaceSet"), root.string("nextToken"))
                }
            }
            for eni in interfaces {
                guard let id = eni.string("networkInterfaceId") else { continue }
                var held = eni.items("privateIpAddressesSet").compactMap { $0.string("privateIpAddress") }
                if let primary = eni.string("privateIpAddress") { held.append(primary) }
                let owner = [eni.string("description"), eni.string("interfaceType")]
                    .compactMap { $0 }.first { !$0.isEmpty }
                for address in Set(held).intersection(wanted).sorted() {
                    found.append(AddressInUse(address: address, subnetId: eni.string("subnetId") ?? subnetId,
                                              networkInterfaceId: id, instanceId: eni.string("attachment/instanceId"),
                                              owner: owner))
                }
            }
        }
        return found.sorted { ($0.address, $0.networkInterfaceId) < ($1.address, $1.networkInterfaceId) }
    }
}
