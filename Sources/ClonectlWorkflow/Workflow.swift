/// The clone procedure, its steps listed once, in order.
public enum Workflow {
    public static func steps(services: StepServices, guest: GuestRunner, payloadVersions: String) -> [any WorkflowStep] {
        [
            PreflightStep(guest: guest),
            PrepStep(guest: guest, services: services),
            StopSourceStep(services: services),
            ImageSourceStep(services: services),
            RestoreSourceStep(services: services, guest: guest),
            LaunchWorkCopyStep(services: services),
            WorkCopyPrepStep(guest: guest),
            SysprepStep(services: services, guest: guest),
            MasterImageStep(services: services, payloadVersions: payloadVersions),
            LaunchClonesStep(services: services),
            PostCloneStep(guest: guest),
            VerifyStep(guest: guest),
            CleanupStep(services: services),
        ]
    }
}
