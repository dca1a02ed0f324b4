import AWSCore
import ClonectlLedger
import ClonectlWorkflow

/// What an operator should do after a run stopped on an error. A transient failure (throttling, a dropped connection,
/// a timeout) is worth resuming as it is; a plan or permission error is not, so its advice names what to fix and
/// never says "run again to resume" (that would just fail the same way).
enum AWSErrorHints {
    /// The sentence printed after the error: what to check, or how to resume.
    static func advice(for error: Error, region: String, plan: String) -> String {
        if let hint = hint(for: error, region: region) { return hint }
        return "Run `clonectl run \(plan)` again to resume"
    }

    /// A specific hint for the common AWS and plan errors; nil when resuming is the right thing to do.
    static func hint(for error: Error, region: String) -> String? {
        if let aws = error as? AWSError { return hint(code: aws.code, message: aws.message, region: region) }
        if let workflow = error as? WorkflowError, case .precondition = workflow {
            return "Fix that first (the plan, or the instance it names; `clonectl doctor PLAN` checks both); the run is recorded and goes on from this step once it is fixed"
        }
        if error is SourceClaim.Held { return "Another run holds the source; see above" }
        return nil
    }

    /// Hints by AWS error code. Each names what to check, in the order an operator would look.
    static func hint(code: String, message: String, region: String) -> String? {
        switch code {
        case "InvalidOutputFolder":
            // SendCommand's code for an OutputS3BucketName it cannot use: nothing was sent.
            return "The plan's output.s3Bucket (or --output-s3-bucket) names a bucket Run Command cannot use: check that it exists in "
                + "this account (`aws s3api head-bucket --bucket NAME`) and its name, or remove output: to keep only what the API returns. "
                + "Nothing was sent"
        case "InvalidInstanceId":
            // SSM's code: the instance is unknown to Run Command, stopped, or its agent is not connected.
            return "Check that the instance id is right and in region \(region) (the plan's region:, --region), that it is running, "
                + "and that its SSM agent is Online with an instance profile allowing SSM (`clonectl doctor PLAN` checks all three). "
                + "This does not pass by itself: fix it before running again"
        case "InvalidInstanceID.NotFound", "InvalidInstanceID.Malformed":
            return "No such instance in region \(region): check the id for a typo and that the plan's region: (or --region) is where it lives. "
                + "This does not pass by itself: fix the plan before running again"
        case "InvalidIPAddress.InUse":
            return "A clone's privateIp is already used in its subnet: by the source, by a clone of an earlier run (`clonectl status` lists them; "
                + "`clonectl cleanup RUN --all` removes a run's clones), or by another instance. Change privateIp in the plan or free the address"
        case "UnauthorizedOperation", "AccessDenied", "AccessDeniedException":
            return "The identity lacks a permission (`clonectl doctor PLAN` lists which; controller/iam/controller-policy.json has them all). "
                + "Grant it before running again"
        case "IncorrectInstanceState":
            return "An instance was not in the state this call needs (e.g. stopping or pending, or changed by someone else meanwhile): "
                + "check it with `clonectl status` and the EC2 console, wait until it settles, then run again to resume"
        case "InvalidSubnetID.NotFound", "InvalidSubnetID.Malformed", "InvalidGroup.NotFound", "InvalidGroupId.Malformed",
             "InvalidParameterValue", "InvalidParameterCombination",
             "MissingParameter":
            return "AWS refused a value from the plan: check the subnet, security group, instance type and profile ids in region \(region). "
                + "Fix the plan before running again"
        default:
            if code.hasPrefix("InvalidAMIID.") {
                return "The image is not usable (\(code)): it may have been deregistered (by `clonectl cleanup` or by hand) or be in another region "
                    + "than \(region). If this run's image is gone, start another round with `clonectl run PLAN --new`"
            }
            return nil
        }
    }
}
