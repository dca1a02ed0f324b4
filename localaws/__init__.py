"""The project's local AWS: moto behind a front server that plays SSM Run Command and Windows guests.

Modules, one concept each:
  canonjson  the deterministic JSON writer shared with the PowerShell module and the Swift controller
  envelope   the result envelope (format v1) built from a payload model's result
  loader     parses the loader text the controller sends, decodes and hash-checks it
  guest      the Windows guest state model and the image -> guest snapshots
  payloads   Python models of the PowerShell payloads (same inputs, journal and envelope)
  commands   the Run Command store: commands, invocations, MaxConcurrency / MaxErrors bookkeeping
  worker     runs a command's invocations as the SSM agent would (runner threads, bounded by MaxConcurrency)
  ssm_api    the JSON 1.1 SSM operations the simulator serves itself
  model      request checks from AWS's own service models (botocore's SSM and EC2 models)
  documents  AWS-RunPowerShellScript and SendCommand's document and parameter checks
  outputcut  the output cuts the SSM Agent makes (UTF-8 bytes, markers)
  pagetokens signed page tokens (InvalidNextToken for a forged or moved one)
  ec2_validate EC2 requests checked against the model, ClientToken and AMI-name limits
  ec2_front  what moto's EC2 lacks: ClientToken, state phases, guest snapshots on CreateImage
  sigv4      signature checks for the calls the simulator answers itself
  faults     faults on demand and the call log with its exact counters
  ratelimits AWS-like token buckets per account and API
  front      the WSGI front server that routes, forwards to moto and serves /__sim
  server     starts moto + the front server and bootstraps them (used by scripts/localaws.py and tests)
  scalecheck measures the simulator with thousands of instances and commands in flight
"""
