import ArgumentParser
import Foundation
import AWSCredentials

/// The plan's `region:` is the region of everything done for that plan. It beats AWS_REGION, AWS_DEFAULT_REGION and
/// the profile (a plan that names a region must never run in another one because of a shell variable), and a
/// `--region` flag that disagrees with it is refused before any call rather than silently obeyed.
enum PlanRegion {
    struct Conflict: Error, CustomStringConvertible {
        let flag: String
        let plan: String
        let file: String
        var description: String {
            "--region \(flag) disagrees with the plan's region \(plan) (\(file)): drop --region, or change region: in the plan"
        }
    }

    /// The explicit region to resolve settings with, and a note when the usual chain would have picked another one.
    static func choose(planRegion: String?, planFile: String, flag: String?,
                       chain: () -> ResolvedRegion?) throws -> (region: String?, note: String?) {
        guard let planRegion else { return (flag, nil) }
        if let flag, flag != planRegion { throw Conflict(flag: flag, plan: planRegion, file: planFile) }
        if flag == nil, let other = chain(), other.name != planRegion {
            return (planRegion, "note: using the plan's region \(planRegion) (\(planFile)); \(other.source) says \(other.name)")
        }
        return (planRegion, nil)
    }
}

extension AWSOptions {
    /// Settings for a command that acts on a plan: its `region:` wins (see PlanRegion). The note goes to stderr.
    func settings(planRegion: String?, planFile: String,
                  environment: [String: String] = ProcessInfo.processInfo.environment) throws -> AWSSettings {
        let chosen: (region: String?, note: String?)
        do {
            chosen = try PlanRegion.choose(planRegion: planRegion, planFile: planFile, flag: region) {
                try? AWSSettings.resolve(ExplicitSettings(profile: profile, region: nil, endpointURL: nil),
                                         environment: environment).region
            }
        } catch let conflict as PlanRegion.Conflict {
            throw CLIFailure.usage(conflict.description)  // exit 64, naming both values; no usage block
        }
        if let note = chosen.note { Console.err(note) }
        var copy = self
        copy.region = chosen.region
        return try copy.settings(environment: environment)
    }
}
