/// SigV4 signer: implemented in Signer.swift.
public enum SigV4 {}
