import AWSCore

/// Until every instance's SSM agent reports Online: Run Command refuses an instance whose agent is offline
/// (InvalidInstanceId), which is the case during a reboot and for a while after a launch or a start.
enum AgentWait {
    /// One DescribeInstanceInformation per 50 ids per round; the progress line names what is awaited and the limit.
    /// `registeredOnly`: wait only for agents SSM knows that are not Online (a reboot, a start); an instance SSM has
    /// never heard of is left to Run Command, whose InvalidInstanceId says at once what is wrong. Returns whether it
    /// had to wait for anything.
    @discardableResult
    static func untilOnline(ssm: SSMClient, _ ids: [String], configuration: WaiterConfiguration,
                            registeredOnly: Bool = false, progress: (@Sendable (String) -> Void)?) async throws -> Bool {
        guard !ids.isEmpty else { return false }
        let named = ids.count == 1 ? "the SSM agent on \(ids[0])" : "the SSM agents on \(ids.count) instances"
        let limit = "limit \(configuration.timeout)"
        var announced = false
        _ = try await Waiter.wait("\(named) to be Online", configuration: configuration,
                                  progress: { state in progress?("waiting for \(named) to be Online (\(limit)): \(state)") }) {
            () async throws -> WaitState<Bool> in
            var ping: [String: String] = [:]
            for chunk in ids.chunks(of: SSMClient.maxInstancesPerCommand) {
                let info = try await ssm.describeAllInstanceInformation(
                    filters: [InstanceInformationFilter(key: "InstanceIds", values: chunk)])
                for item in info { ping[item.instanceId] = item.pingStatus ?? "unknown" }
            }
            let waiting = ids.compactMap { id -> (id: String, state: String)? in
                guard let status = ping[id] else { return registeredOnly ? nil : (id, "not registered with SSM yet") }
                return status == "Online" ? nil : (id, "agent \(status)")
            }
            guard let first = waiting.first else { return .done(true) }
            announced = true
            // One instance: its state (the caller names it); a fleet: which ones, summed up.
            return .pending(ids.count == 1 ? first.state
                                           : Waiter.summary(waiting.map { "\($0.id) \($0.state)" }, of: ids.count))
        }
        if announced { progress?("\(named) Online") }
        return announced
    }
}
