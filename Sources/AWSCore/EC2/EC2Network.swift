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
}
