/// The waiters clonectl needs: instance state, image state, command completion.
extension EC2Client {
    /// Waits until every instance is in `target`. Fails at once when one reaches a state it cannot leave for `target`
    /// (terminated while waiting for running or stopped). A fleet is described 200 ids per call.
    @discardableResult
    public func waitForInstances(_ ids: [String], toBe target: InstanceStateName,
                                 configuration: WaiterConfiguration = .instanceState,
                                 progress: (@Sendable (String) -> Void)? = nil) async throws -> [EC2Instance] {
        let named = ids.count <= 3 ? "instances \(ids.joined(separator: ", "))" : "\(ids.count) instances"
        return try await Waiter.wait("\(named) to be \(target.rawValue)", configuration: configuration, progress: progress) {
            var byId: [String: EC2Instance] = [:]
            for chunk in ids.chunks(of: Self.maxIdsPerDescribe) {
                for instance in try await describeAllInstances(instanceIds: chunk, afterCreate: true) where byId[instance.instanceId] == nil {
                    byId[instance.instanceId] = instance
                }
            }
            var waiting: [String] = []
            for id in ids {
                guard let instance = byId[id] else { waiting.append("\(id) not visible yet"); continue }
                if instance.state == target.rawValue { continue }
                if target != .terminated, instance.stateName == .terminated || instance.stateName == .shuttingDown {
                    return .failed("\(id) is \(instance.state)\(instance.stateReason.map { " (\($0))" } ?? "")")
                }
                waiting.append("\(id) \(instance.state)")
            }
            return waiting.isEmpty ? .done(ids.compactMap { byId[$0] }) : .pending(Waiter.summary(waiting, of: ids.count))
        }
    }

    /// Instance ids per DescribeInstances call in a fleet wait.
    public static let maxIdsPerDescribe = 200

    /// Waits until the image is `available`; fails when it is `failed`, `invalid`, `error` or `deregistered`.
    @discardableResult
    public func waitForImageAvailable(_ imageId: String, configuration: WaiterConfiguration = .imageAvailable,
                                      progress: (@Sendable (String) -> Void)? = nil) async throws -> EC2Image {
        try await Waiter.wait("image \(imageId) to be available", configuration: configuration, progress: progress) {
            guard let image = try await describeImages(imageIds: [imageId], afterCreate: true).first else {
                return .pending("\(imageId) not visible yet")
            }
            switch image.stateName {
            case .available: return .done(image)
            case .failed, .invalid, .error, .deregistered, .disabled:
                return .failed("image is \(image.state)\(image.stateReason.map { " (\($0))" } ?? "")")
            case .pending, .transient, .none: return .pending("image \(image.state)")
            }
        }
    }
}

extension SSMClient {
    /// Waits until the invocation reaches a terminal status (Success, Failed, Cancelled, TimedOut) and returns it.
    /// A terminal failure is returned, not thrown: the caller decides what a failed guest step means.
    public func waitForCommand(commandId: String, instanceId: String,
                               configuration: WaiterConfiguration = .commandComplete,
                               progress: (@Sendable (String) -> Void)? = nil) async throws -> GetCommandInvocationOutput {
        try await Waiter.wait("command \(commandId) on \(instanceId) to finish", configuration: configuration, progress: progress) {
            let invocation = try await getCommandInvocation(commandId: commandId, instanceId: instanceId)
            guard let status = invocation.invocationStatus else {
                return .failed("unknown invocation status '\(invocation.status)'")
            }
            return status.isTerminal ? .done(invocation) : .pending(invocation.status)
        }
    }
}
