import ArgumentParser
import Foundation
import AWSCore
import ClonectlAgent
import ClonectlLedger
import ClonectlWorkflow

/// The ledger and the output format: what every command that reads or writes the ledger takes.
public struct LedgerOptions: ParsableArguments {
    @Option(help: "The ledger file (default: $XDG_STATE_HOME/clonectl/ledger.sqlite or ~/.local/state/clonectl/ledger.sqlite).")
    public var ledger: String?

    @OptionGroup public var outputOptions: OutputOptions

    public init() {}

    public var output: OutputFormat { outputOptions.format }

    /// `forReading`: the command only reads the ledger, so one this user cannot write is opened read-only.
    public func openLedger(environment: [String: String] = ProcessInfo.processInfo.environment,
                           forReading: Bool = false) throws -> Ledger {
        try Ledger(path: ledger ?? Ledger.defaultPath(environment: environment), forReading: forReading)
    }
}

/// Options of every command that drives instances: AWS, the ledger, the payloads, output.
public struct ControllerOptions: ParsableArguments {
    @OptionGroup public var aws: AWSOptions
    @OptionGroup public var store: LedgerOptions

    @Option(help: "The ps-scripts folder (default: CLONECTL_PAYLOADS, the installed copy, or the source checkout's).")
    public var payloads: String?

    @Flag(name: .shortAndLong, help: "Only errors and the final result.")
    public var quiet = false

    @Option(name: .customLong("max-poll-interval"),
            help: "The longest wait, in seconds, between two polls of a guest command (default 20). Polls start quick and back off for long steps, never past this.")
    public var maxPollInterval: Double?

    public init() {}

    public var output: OutputFormat { store.output }

    public func openLedger() throws -> Ledger { try store.openLedger() }

    public func validate() throws {
        if let seconds = maxPollInterval, !(1...3600).contains(seconds) {
            throw ValidationError("--max-poll-interval must be 1 to 3600 seconds, got \(seconds)")
        }
    }

    public func payloadStore() throws -> PayloadStore {
        try PayloadStore(root: PayloadStore.locate(explicit: payloads))
    }

    /// The options that say which ledger and which AWS, as they were given, to repeat in a hint ("run ... again to
    /// resume"): followed literally, a hint without them would use another ledger or region.
    public var repeatedArguments: [String] {
        var args: [String] = []
        if let v = store.ledger { args += ["--ledger", v] }
        if let v = aws.profile { args += ["--profile", v] }
        if let v = aws.region { args += ["--region", v] }
        if let v = aws.endpointURL { args += ["--endpoint-url", v] }
        if let v = payloads { args += ["--payloads", v] }
        return args
    }
}

/// A command line as an operator would type it: words with shell-special characters in single quotes.
func shellCommand(_ words: [String]) -> String {
    words.map { w in
        let plain = !w.isEmpty && w.allSatisfy { $0.isLetter || $0.isNumber || "-_./:=@,+%".contains($0) }
        return plain ? w : "'" + w.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }.joined(separator: " ")
}

/// Everything a command needs to act on instances, opened together and closed together.
struct Controller {
    let session: AWSSession
    let ledger: Ledger
    let store: PayloadStore
    let services: StepServices
    let guest: GuestRunner

    /// `plan`: the plan acted on, whose `region:` then beats the environment and the profile (PlanRegion).
    static func open(_ options: ControllerOptions, plan: (region: String?, file: String)? = nil) throws -> Controller {
        let settings = try plan.map { try options.aws.settings(planRegion: $0.region, planFile: $0.file) }
            ?? options.aws.settings()
        let ledger = try options.openLedger()
        let store = try options.payloadStore()
        // CLONECTL_HTTP_TIMEOUT_SECONDS: one HTTP attempt's limit (default 60). A SendCommand may land until then,
        // so a resume looks for an unanswered one that long (plus 10 s) before it sends again.
        let attemptTimeout = ProcessInfo.processInfo.environment["CLONECTL_HTTP_TIMEOUT_SECONDS"]
            .flatMap(Double.init).flatMap { $0 > 0 ? Duration.milliseconds(Int64($0 * 1000)) : nil }
        let session = try AWSSession(settings: settings, observer: options.aws.observer, attemptTimeout: attemptTimeout)
        var polling = GuestRunner.Polling()
        var waits = StepServices.Waits()
        if let attemptTimeout {
            polling.inFlightLimit = attemptTimeout + .seconds(10)
            waits.imageInFlight = attemptTimeout + .seconds(10)
            // After a lost answer the attempt is over; a fifth of its limit (at most 10 s) is left for AWS's own lag.
            polling.lostAnswerWindow = min(polling.lostAnswerWindow, attemptTimeout / 5)
            waits.imageLostAnswer = min(waits.imageLostAnswer, attemptTimeout / 5)
        }
        // Faster polling for a local AWS (the demo and tests), where everything answers in milliseconds.
        if let seconds = ProcessInfo.processInfo.environment["CLONECTL_POLL_SECONDS"].flatMap(Double.init), seconds > 0 {
            let d = Duration.milliseconds(Int64(seconds * 1000))
            polling.firstDelay = d
            polling.maxDelay = d * 4
            waits.instance.minDelay = d
            waits.instance.maxDelay = d * 4
            waits.image.minDelay = d
            waits.image.maxDelay = d * 4
            waits.agentOnline.minDelay = d
            waits.agentOnline.maxDelay = d * 4
            polling.agentOnline.minDelay = d
            polling.agentOnline.maxDelay = d * 4
            polling.lookInterval = min(polling.lookInterval, d * 4)
        }
        // A local AWS whose Sysprep fails on purpose (tests): the plan's minutes (at least 5) would be waited out.
        if let seconds = ProcessInfo.processInfo.environment["CLONECTL_SYSPREP_SHUTDOWN_SECONDS"].flatMap(Double.init), seconds > 0 {
            waits.sysprepShutdown = .milliseconds(Int64(seconds * 1000))
        }
        if let seconds = options.maxPollInterval {
            polling.maxDelay = .milliseconds(Int64(seconds * 1000))
            polling.firstDelay = min(polling.firstDelay, polling.maxDelay)
        }
        let services = StepServices(ec2: session.ec2, ssm: session.ssm, waits: waits)
        return Controller(session: session, ledger: ledger, store: store, services: services,
                          guest: GuestRunner(ssm: session.ssm, store: store, ledger: ledger, polling: polling, s3: session.s3))
    }

    func close() {
        session.shutdown()
        ledger.close()
    }
}
