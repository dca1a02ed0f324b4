/// AWS wire protocols, errors, pipeline and clients.
public enum AWSCoreModule {}
