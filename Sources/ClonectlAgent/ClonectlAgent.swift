/// The agent side as the controller sees it (payload manifest, loader, envelope): see the files of this module.
public enum ClonectlAgentModule {}
