/// What lets a call that acts go out again after its answer was lost: a look at EC2 that tells whether it acted.
///
/// StopInstances, StartInstances, TerminateInstances, CreateTags, DeregisterImage and DeleteSnapshot have no client
/// token. They are sent once (`CallSafety.actsOnce`); when the outcome is unknown (a lost answer, a 5xx), `confirm`
/// reads the resource, and only a resource that does not show the change gets the call again.
enum ActOnce {
    /// Sends, and after an unknown outcome looks before it sends again (at most `maxSends` sends in all).
    static func run<T>(maxSends: Int = 3, _ send: () async throws -> T,
                       confirm: () async throws -> T?) async throws -> T {
        var sends = 0
        while true {
            sends += 1
            do {
                return try await send()
            } catch let error as AWSError where error.outcomeUnknown {
                if let done = try await confirm() { return done }
                guard sends < maxSends else { throw error }
            }
        }
    }
}

extension EC2Client {
    /// The instances' state changes, when every one is already in one of `states` (the call took effect).
    func reached(_ ids: [String], _ states: Set<String>) async throws -> [InstanceStateChange]? {
        let instances = try await describeAllInstances(instanceIds: ids)
        guard Set(instances.map(\.instanceId)) == Set(ids), instances.allSatisfy({ states.contains($0.state) }) else {
            return nil
        }
        return instances.map { InstanceStateChange(instanceId: $0.instanceId, currentState: $0.state, previousState: "unknown") }
    }

    /// Every resource carries every tag (DescribeTags, by resource id).
    func tagged(_ resourceIds: [String], _ tags: [EC2Tag]) async throws -> Bool {
        let have = try await describeTags(resourceIds: resourceIds)
        return resourceIds.allSatisfy { id in tags.allSatisfy { have[id, default: []].contains($0) } }
    }

    /// The image is deregistered or unknown.
    func imageGone(_ imageId: String) async throws -> Bool {
        do {
            let images = try await describeImages(imageIds: [imageId])
            return images.allSatisfy { $0.stateName == .deregistered }
        } catch let error as AWSError where ["InvalidAMIID.NotFound", "InvalidAMIID.Unavailable"].contains(error.code) {
            return true
        }
    }

    /// The snapshot no longer exists.
    func snapshotGone(_ snapshotId: String) async throws -> Bool {
        var p = params("DescribeSnapshots")
        p.addList("SnapshotId", [snapshotId])
        do {
            let root = try await QueryProtocol.call(client: client, parameters: p)
            return root.items("snapshotSet").isEmpty
        } catch let error as AWSError where error.code == "InvalidSnapshot.NotFound" {
            return true
        }
    }
}
