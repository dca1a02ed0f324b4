/// Whether the caller may make a call, found without making it.
public enum PermissionVerdict: Sendable, Equatable {
    case allowed
    case denied(String)
    /// The probe could not tell (another error); the text says why.
    case unknown(String)
}

extension EC2Client {
    /// EC2's DryRun: asks whether the caller may make `action` with these parameters, without doing it.
    /// EC2 answers DryRunOperation when it would have succeeded and UnauthorizedOperation when it is not allowed.
    public func checkPermission(_ action: String, _ build: (inout QueryParameters) -> Void) async -> PermissionVerdict {
        var p = params(action)
        build(&p)
        p.add("DryRun", true)
        do {
            _ = try await QueryProtocol.call(client: client, parameters: p)
            return .unknown("EC2 answered a dry run of \(action) as if it had been done")
        } catch let error as AWSError {
            return Self.verdict(error)
        } catch {
            return .unknown("\(error)")
        }
    }

    static func verdict(_ error: AWSError) -> PermissionVerdict {
        switch error.code {
        case "DryRunOperation": return .allowed
        case "UnauthorizedOperation", "AccessDenied", "AccessDeniedException": return .denied(error.message)
        default: return .unknown("\(error.code): \(error.message)")
        }
    }
}
