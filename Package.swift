// swift-tools-version:6.0
import PackageDescription

// clonectl: a Linux controller that clones Windows EC2 instances through SSM Run Command.
// AWS is spoken directly: SigV4 on OpenSSL's libcrypto, HTTP on libcurl's multi interface.
let package = Package(
    name: "clonectl",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "clonectl", targets: ["clonectl"]),
        .executable(name: "sigv4-bench", targets: ["sigv4-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
    ],
    targets: [
        // System libraries (see ../shared/NATIVE.md for the pitfalls these shims work around).
        .systemLibrary(
            name: "COpenSSL", pkgConfig: "openssl",
            providers: [.apt(["libssl-dev"])]),
        .systemLibrary(
            name: "CCurl", pkgConfig: "libcurl",
            providers: [.apt(["libcurl4-openssl-dev"])]),
        .systemLibrary(
            name: "CZlib", pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(
            name: "CSQLite", pkgConfig: "sqlite3",
            providers: [.apt(["libsqlite3-dev"])]),

        // SHA-256 and HMAC on libcrypto, shared by the signer and the envelope verifier.
        .target(name: "ClonectlCrypto", dependencies: ["COpenSSL"]),
        // SigV4 as a pure function: request in, every stage out.
        .target(name: "AWSSigV4", dependencies: ["ClonectlCrypto"]),
        // HTTP over curl_multi, one owning thread, async/await on top.
        .target(name: "AWSHTTP", dependencies: ["CCurl", "COpenSSL"]),
        // Shared config/credentials files, the credential chain, region and endpoint resolution.
        .target(name: "AWSCredentials", dependencies: ["AWSHTTP"]),
        // Retry classification, backoff, retry quota and adaptive client-side rate limiting.
        .target(name: "AWSRetry"),
        // Wire protocols (JSON 1.1, EC2 Query, XML), errors, the request pipeline, EC2/SSM/STS clients, waiters.
        .target(name: "AWSCore", dependencies: ["AWSSigV4", "AWSHTTP", "AWSCredentials", "AWSRetry", "ClonectlCrypto"]),
        // The agent side as the controller sees it: payload manifest, loader builder, result envelope verifier.
        .target(name: "ClonectlAgent", dependencies: ["ClonectlCrypto", "CZlib", "ClonectlPlan"]),
        // The plan file: YAML read with line numbers, validated before any AWS call.
        .target(name: "ClonectlPlan", dependencies: [.product(name: "Yams", package: "Yams")]),
        // The durable run ledger: SQLite (WAL, 0600), migrations, runs, steps, commands, invocations, resources, locks.
        .target(name: "ClonectlLedger", dependencies: ["CSQLite"]),
        // The clone workflow: one step per file with its cleanup, a typed run state, resume from the ledger.
        .target(name: "ClonectlWorkflow", dependencies: ["AWSCore", "ClonectlAgent", "ClonectlLedger", "ClonectlPlan"]),
        // The run report: one model built from the ledger, rendered as JSON, Markdown, DOT, Mermaid and HTML.
        .target(name: "ClonectlReport", dependencies: ["ClonectlLedger", "ClonectlWorkflow"]),
        // The command-line interface (thin commands over the libraries).
        .target(name: "ClonectlCLI", dependencies: [
            "AWSCore", "AWSSigV4", "AWSCredentials", "ClonectlAgent", "ClonectlPlan", "ClonectlLedger", "ClonectlWorkflow",
            "ClonectlReport",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "clonectl", dependencies: [
            "ClonectlCLI", .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "sigv4-bench", dependencies: ["AWSSigV4"]),

        .target(name: "TestSupport", dependencies: ["AWSHTTP"], path: "Tests/TestSupport"),
        .testTarget(name: "ClonectlCryptoTests", dependencies: ["ClonectlCrypto"]),
        .testTarget(name: "AWSSigV4Tests", dependencies: ["AWSSigV4", "ClonectlCLI", "TestSupport"]),
        .testTarget(name: "AWSHTTPTests", dependencies: ["AWSHTTP", "TestSupport"]),
        .testTarget(name: "AWSCredentialsTests", dependencies: ["AWSCredentials", "TestSupport"]),
        .testTarget(name: "AWSRetryTests", dependencies: ["AWSRetry"]),
        .testTarget(name: "AWSCoreTests", dependencies: ["AWSCore", "TestSupport"]),
        .testTarget(name: "ClonectlLedgerTests", dependencies: ["ClonectlLedger", "TestSupport"]),
        .testTarget(name: "ClonectlReportTests", dependencies: ["ClonectlReport", "ClonectlLedger", "ClonectlWorkflow", "TestSupport"]),
        .testTarget(name: "ClonectlWorkflowTests", dependencies: ["ClonectlWorkflow", "TestSupport"]),
        .testTarget(name: "ClonectlPlanTests", dependencies: ["ClonectlPlan", "TestSupport"]),
        .testTarget(name: "ClonectlAgentTests", dependencies: ["ClonectlAgent", "ClonectlCLI", "TestSupport"]),
        // The bounded mutation loop over the XML/JSON decoders, config parser, plan loader and envelope verifier.
        .testTarget(name: "FuzzTests", dependencies: [
            "AWSCore", "AWSCredentials", "ClonectlAgent", "ClonectlPlan", "ClonectlCrypto", "AWSHTTP",
        ]),
        .testTarget(name: "IntegrationTests", dependencies: [
            "AWSCore", "ClonectlCLI", "ClonectlWorkflow", "ClonectlLedger", "ClonectlPlan", "ClonectlReport", "TestSupport",
        ]),
    ],
    swiftLanguageModes: [.v6]
)
