"""What the SSM Agent does with a plugin's output when SendCommand names a bucket or CloudWatch Logs: it uploads
the whole stdout and stderr (not the API's 24,000 / 8,000 bytes) to S3, and streams them to a log group.

Key layout (amazon-ssm-agent, read for this, no code copied): messageservice/utils/messageutil.go joins
OutputS3KeyPrefix, the command id and the instance id with path.Join; docparser.go adds the plugin name through
fileutil.BuildS3Path (which drops every ':'); iohandler.go Init adds the step name and the file name ('stdout',
'stderr'). The step is the property id for a schema 1.2 document such as AWS-RunPowerShellScript
('0.aws:runPowerShellScript') and the mainSteps name for schema 2.x (runpluginutil.go getStepName). So:
    PREFIX/COMMAND/INSTANCE/awsrunPowerShellScript/0.awsrunPowerShellScript/stdout
CloudWatch: group CloudWatchLogGroupName or /aws/ssm/DOCUMENT (messageutil.go), created if missing; stream
COMMAND/INSTANCE/PLUGIN-ID/stdout with ':' and '*' as '-' (runpluginutil.go); PLUGIN-ID is the action for 1.2.

The upload happens before the invocation reports its final status (the agent closes the plugin's IO handler,
which uploads, before it sends the reply), so a controller that sees the status can read the object.
"""
import posixpath
import time

from botocore.exceptions import ClientError

ACTION = "aws:runPowerShellScript"


def step_name(cmd) -> str:
    """The step the agent names the output after: the 1.2 property id, or a 2.x document's mainSteps name."""
    plugin = getattr(cmd, "plugin", ACTION)  # commands.py: a 2.2 document's plugin is its step's name
    return "0." + ACTION if ":" in plugin else plugin


def key(prefix: str, command_id: str, instance_id: str, step: str, file: str) -> str:
    parts = [p.replace(":", "") for p in (prefix or "", command_id, instance_id, ACTION, step, file)]
    joined = posixpath.normpath(posixpath.join(*[p for p in parts if p]))
    return joined.lstrip("/")


def plugin_prefix(prefix: str, command_id: str, instance_id: str) -> str:
    """A plugin's OutputS3KeyPrefix as ListCommandInvocations reports it (runpluginutil.go: prefix + plugin name)."""
    parts = [p.replace(":", "") for p in (prefix or "", command_id, instance_id, ACTION) if p]
    return posixpath.normpath(posixpath.join(*parts)).lstrip("/")


def url(region: str, bucket: str, object_key: str) -> str:
    """StandardOutputUrl / StandardErrorUrl as Run Command gives them: the object's path-style https URL."""
    return f"https://s3.{region}.amazonaws.com/{bucket}/{object_key}"


def write(sim, cmd, inv, stdout: str, stderr: str) -> None:
    """Uploads the whole stdout and stderr, and streams them to CloudWatch Logs, as the command asked."""
    outputs = cmd.outputs
    bucket = outputs.get("OutputS3BucketName")
    step = step_name(cmd)
    if bucket:
        prefix = outputs.get("OutputS3KeyPrefix", "")
        for name, text in (("stdout", stdout), ("stderr", stderr)):
            if name == "stderr" and not text:
                continue  # the agent uploads a file only when the plugin wrote to it
            try:
                sim._s3.put_object(Bucket=bucket, Key=key(prefix, cmd.command_id, inv.instance_id, step, name),
                                   Body=text.encode("utf-8"), ContentType="text/plain")
            except ClientError as exc:  # the agent logs a failed upload and carries on; so does the simulator
                sim.log_note(f"S3 upload of {name} for {cmd.command_id}/{inv.instance_id} failed: {exc}")
    logs = outputs.get("CloudWatchOutputConfig") or {}
    if logs.get("CloudWatchOutputEnabled"):
        group = logs.get("CloudWatchLogGroupName") or "/aws/ssm/" + cmd.document
        plugin_id = ACTION if step.startswith("0.") else step
        stream_base = f"{cmd.command_id}/{inv.instance_id}/{plugin_id}".replace(":", "-").replace("*", "-")
        client = sim._logs
        try:
            client.create_log_group(logGroupName=group)
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ResourceAlreadyExistsException":
                sim.log_note(f"CloudWatch Logs group {group}: {exc}")
                return
        for name, text in (("stdout", stdout), ("stderr", stderr)):
            if not text:
                continue
            stream = f"{stream_base}/{name}"
            try:
                client.create_log_stream(logGroupName=group, logStreamName=stream)
                client.put_log_events(logGroupName=group, logStreamName=stream,
                                      logEvents=[{"timestamp": int(time.time() * 1000), "message": text}])
            except ClientError as exc:
                sim.log_note(f"CloudWatch Logs stream {stream}: {exc}")
