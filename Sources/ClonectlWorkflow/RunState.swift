/// The workflow's steps, in the order they run. Their raw values are what operators type (`--from sysprep`).
public enum StepName: String, Sendable, CaseIterable, Codable, Comparable {
    case preflight
    case prep
    case stopSource = "stop-source"
    case imageSource = "image-source"
    case restoreSource = "restore-source"
    case launchWorkCopy = "launch-work-copy"
    case workCopyPrep = "work-copy-prep"
    case sysprep
    case masterImage = "master-image"
    case launchClones = "launch-clones"
    case postClone = "post-clone"
    case verify
    case cleanup

    var index: Int { Self.allCases.firstIndex(of: self)! }
    public static func < (a: StepName, b: StepName) -> Bool { a.index < b.index }
}

/// What a run has learned and created so far, typed. Saved in the ledger after every step and every checkpoint,
/// so a resumed run knows each id it already has and never creates a thing twice.
public struct RunState: Codable, Sendable, Equatable {
    public var sourceInstanceId: String
    /// The source's machine SID, to prove each clone got a new one.
    public var sourceMachineSid: String?
    public var sourceStoppedByUs = false
    public var sourceImageId: String?
    public var sourceSnapshotIds: [String] = []
    public var workCopyInstanceId: String?
    public var masterImageId: String?
    public var masterSnapshotIds: [String] = []
    /// Clone name -> instance id.
    public var clones: [String: String] = [:]
    /// Image role (source, master) -> the name its CreateImage uses, fixed at the first attempt so that a resume on
    /// another day (the plan's `{date}`) asks for the same name, and EC2's InvalidAMIName.Duplicate catches a repeat.
    public var imageNames: [String: String]?
    /// Image role -> when its latest CreateImage went out (it may land until the attempt's timeout has passed).
    public var imageAttempts: [String: String]?

    public init(sourceInstanceId: String) { self.sourceInstanceId = sourceInstanceId }
}
