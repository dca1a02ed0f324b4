import AWSSigV4
import Foundation

// sigv4-bench: signs a realistic SSM SendCommand request N times on one thread and prints the rate.
// Build it in release mode: `swift run -c release sigv4-bench [--iterations N]`.
// The signature of the last sign is printed so the optimiser cannot drop the work.

var iterations = 300_000
var arguments = CommandLine.arguments.dropFirst()
while let argument = arguments.popFirst() {
    switch argument {
    case "--iterations", "-n":
        guard let text = arguments.popFirst(), let n = Int(text), n > 0 else {
            FileHandle.standardError.write(Data("sigv4-bench: --iterations needs a positive integer\n".utf8))
            exit(2)
        }
        iterations = n
    case "--help", "-h":
        print("usage: sigv4-bench [--iterations N]   (default 300000; build with -c release)")
        exit(0)
    default:
        FileHandle.standardError.write(Data("sigv4-bench: unknown argument '\(argument)'; try --help\n".utf8))
        exit(2)
    }
}

// A SendCommand body of about 1.5 KB: a PowerShell document with a script, targets and output settings.
let script = (1...16).map { "Write-Output \\\"step \($0): checking service state and registry keys\\\"" }
    .joined(separator: "; ")
let body = """
{"DocumentName":"AWS-RunPowerShellScript","DocumentVersion":"$DEFAULT","InstanceIds":["i-0123456789abcdef0"],\
"Parameters":{"commands":["$ErrorActionPreference = 'Stop'; \(script)"],"executionTimeout":["3600"]},\
"TimeoutSeconds":600,"Comment":"clonectl prep step 3/7","MaxConcurrency":"1","MaxErrors":"0",\
"CloudWatchOutputConfig":{"CloudWatchOutputEnabled":false},\
"OutputS3BucketName":"clonectl-output-123456789012","OutputS3KeyPrefix":"runs/2026-11-28/prep"}
"""
let request = SigV4Request(
    method: "POST", path: "/", query: "",
    headers: [
        SigV4Header(name: "host", value: "ssm.us-east-1.amazonaws.com"),
        SigV4Header(name: "content-type", value: "application/x-amz-json-1.1"),
        SigV4Header(name: "x-amz-target", value: "AmazonSSM.SendCommand"),
        SigV4Header(name: "user-agent", value: "clonectl/0.1.0"),
        SigV4Header(name: "content-length", value: String(body.utf8.count)),
    ],
    body: Array(body.utf8))
let credentials = SigV4Credentials(
    accessKeyId: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
    sessionToken: "IQoJb3JpZ2luX2VjEXAMPLETOKEN/of/about/four/hundred/bytes/" + String(repeating: "Zm9v", count: 90))
let date = Date(timeIntervalSince1970: 1_795_000_000)

// Warm up: fetch the OpenSSL algorithms and fill the signing-key cache outside the timed loop.
var last = SigV4.sign(request, credentials: credentials, region: "us-east-1", service: "ssm", date: date)
let clock = ContinuousClock()
let start = clock.now
for _ in 0..<iterations {
    last = SigV4.sign(request, credentials: credentials, region: "us-east-1", service: "ssm", date: date)
}
let elapsed = clock.now - start
let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
print("body bytes:       \(request.body.count)")
print("iterations:       \(iterations)")
print("elapsed:          \(String(format: "%.3f", seconds)) s")
print("signs/second:     \(String(format: "%.0f", Double(iterations) / seconds))")
print("µs/sign:          \(String(format: "%.3f", seconds * 1e6 / Double(iterations)))")
print("last signature:   \(last.signature)")
