"""Models of the clone-side payloads (ps-scripts/payloads/<name>/<version>.ps1, per version where they differ): hostname, time-zone,
firewall-restore, work-user-disable, jobs-restore, domain-join, verify, sysprep-logs. hostname and domain-join
finish through a reboot: they leave guest['pendingChanges'] and set run.reboot_pending (exit 3010); the simulated
reboot (sim.py) applies the pending changes and the agent runs the same command again."""
import json
import re

from . import guestops as ops
from .payloads import Failed, at_least, check_params, get_entry, journal, set_restored

NETBIOS = re.compile(r"^(?![0-9]+$)(?!-)[A-Za-z0-9-]{1,15}$")
# Windows time zone ids (a subset: FindSystemTimeZoneById fails on anything Windows does not know).
TIME_ZONES = {"UTC", "GMT Standard Time", "W. Europe Standard Time", "Central Europe Standard Time",
              "Romance Standard Time", "Eastern Standard Time", "Central Standard Time", "Mountain Standard Time",
              "Pacific Standard Time", "Tokyo Standard Time", "Korea Standard Time", "China Standard Time",
              "Singapore Standard Time", "India Standard Time", "AUS Eastern Standard Time", "Taipei Standard Time"}
PANTHER = "C:\\Windows\\System32\\Sysprep\\Panther\\"


def hostname(guest, params, run):
    check_params(params, ("NewName",), ("NewName",))
    name = str(params["NewName"])
    if not NETBIOS.match(name):
        raise Failed(f"could not run: Cannot validate argument on parameter 'NewName': {name!r} is not a NetBIOS "
                     "name (1-15 letters, digits, hyphen; not only digits; no leading hyphen)")
    active = guest["hostName"]
    pending = (guest.get("pendingChanges") or {}).get("hostName", active)
    run.fact("activeName", active)
    run.fact("pendingName", pending)
    if active == name:
        run.log(f"the computer is already named {name}")
        return
    run.fact("ec2Launch", guest["ec2Launch"]["flavour"])
    if guest["ec2Launch"]["flavour"] == "v2":
        fights = "setHostName" in ops.ec2launch_tasks(guest)
        run.fact("ec2LaunchSetHostName", fights)
        if fights and at_least(run, "1.1.0"):  # D8; 1.0.0 only logs and loops through 3010 until the limit
            raise Failed("refused: C:\\ProgramData\\Amazon\\EC2Launch\\config\\agent-config.yml has an active "
                         "setHostName task, which sets the host name back at every boot (a reboot loop); remove that "
                         "task from the file (or comment it out), then run hostname again")
        if fights:
            run.log("warning: agent-config.yml has a setHostName task that may rename the instance at boot")
    if pending == name:
        run.log(f"{name} is set and waits for a reboot")
        run.reboot_pending = True
        return
    if guest.get("domain"):
        if at_least(run, "1.1.0"):
            raise Failed(f"this instance is a member of {guest['domain']}: renaming it needs domain credentials; "
                         "rename it before domain-join (the workflow runs hostname first) or leave the domain first")
        raise Failed(f"this instance is a member of {guest['domain']}: renaming it needs domain credentials; run "
                     "domain-join (which can rename) or leave the domain first")
    guest.setdefault("pendingChanges", {})["hostName"] = name
    guest["pendingReboot"] = True
    run.change("computerName", active, name)
    run.reboot_pending = True


def time_zone(guest, params, run):
    check_params(params, ("TimeZoneId",), ("TimeZoneId",))
    tz = str(params["TimeZoneId"])
    if tz not in TIME_ZONES:
        raise Failed(f"'{tz}' is not a time zone id on this Windows: list them with tzutil /l (ids, not display names)")
    before = guest["timeZoneId"]
    run.fact("timeZoneIdBefore", before)
    if before == tz:
        run.log(f"time zone is already {tz}")
    else:
        guest["timeZoneId"] = tz
        run.change("timeZone", before, tz)
    run.fact("timeZoneId", guest["timeZoneId"])


def firewall_restore(guest, params, run):
    check_params(params, ())
    entry = get_entry(guest, "firewall", "firewall-off")
    ops.set_firewall(run, guest, entry["before"])
    set_restored(run, guest, "firewall")
    run.fact("profiles", ops.firewall_state(guest, list(entry["before"])))
    run.fact("defaultOutboundAction", {p: "Allow" for p in entry["before"]}, optional=True)


def work_user_disable(guest, params, run):
    check_params(params, ())
    entry = get_entry(guest, "workUser", "work-user")
    ops.restore_work_user(run, guest, entry["before"])
    if not run.errors:
        set_restored(run, guest, "workUser")
    run.fact("user", ops.user_state(guest, str(entry["before"]["name"])))


def jobs_restore(guest, params, run):
    check_params(params, ())
    entry = get_entry(guest, "jobs", "jobs-stop")
    ops.restore_jobs(run, guest, entry["before"])  # 1.0.0 raises Failed at the first service that will not start
    if not run.errors:
        set_restored(run, guest, "jobs")
    run.fact("tasks", len(entry["before"].get("tasks") or []))
    run.fact("services", len(entry["before"].get("services") or []))


def domain_join(guest, params, run):
    check_params(params, ("DomainName", "CredentialParameter", "OUPath"), ("DomainName", "CredentialParameter"))
    domain = str(params["DomainName"])
    current = guest.get("domain")
    run.fact("domainBefore", {"partOfDomain": bool(current), "domain": current or "WORKGROUP"})
    if current:
        if current == domain:
            run.log(f"already a member of {domain}")
            return
        raise Failed(f"this computer is a member of {current}, not {domain}: leave that domain first")
    pending = (guest.get("pendingChanges") or {}).get("domain")
    if pending is not None and not at_least(run, "1.1.0"):
        # 1.0.0 has no pending-join check: Win32_ComputerSystem already names the new domain after Add-Computer, so
        # the script says "already a member" and reports ok before the reboot (review D10b).
        if pending == domain:
            run.log(f"already a member of {domain}")
            return
    if pending == domain:
        run.log("a domain join waits for its reboot (Netlogon JoinDomain is present)")
        run.reboot_pending = True
        return
    credential = ops.secret_value(run, str(params["CredentialParameter"]))
    if credential.find("\n") < 1 or not credential.split("\n", 1)[1].strip("\r\n"):
        raise Failed(f"the SecureString '{params['CredentialParameter']}' must hold DOMAIN\\user, a newline, "
                     "then the password")
    existing = {str(a).upper() for a in guest.get("domainComputerAccounts") or []}
    if guest["hostName"].upper() in existing:
        if at_least(run, "1.1.0"):
            raise Failed(f"Add-Computer to {domain} failed: a computer account named {guest['hostName']} already exists "
                         "in the domain and this user may not reuse it (KB5020276, 0xAAC). Delete or reset that account "
                         "in Active Directory, or pre-stage it for this user, or allow reuse with the GPO 'Domain "
                         "controller: Allow computer account re-use during domain join'; then run domain-join again "
                         f"(Computer '{guest['hostName']}' failed to join domain '{domain}': 0xAAC)")
        raise Failed(f"Add-Computer to {domain} failed: Computer '{guest['hostName']}' failed to join domain "
                     f"'{domain}' from its current workgroup 'WORKGROUP' with following error message: An account "
                     "with the same name exists in Active Directory. Re-using the account was blocked by security "
                     "policy.")
    guest.setdefault("pendingChanges", {})["domain"] = domain
    guest["pendingReboot"] = True
    run.change("domain", "WORKGROUP", domain)
    run.reboot_pending = True


def verify(guest, params, run):
    check_params(params, ("ExpectedHostName", "ExpectedTimeZoneId"))
    fixed = at_least(run, "1.1.0")
    entries = journal(guest)["entries"]
    not_checked = []
    want_name, want_tz = params.get("ExpectedHostName") or "", params.get("ExpectedTimeZoneId") or ""
    run.fact("hostName", guest["hostName"])
    run.fact("timeZoneId", guest["timeZoneId"])
    if want_name and guest["hostName"] != want_name:
        run.error(f"host name is {guest['hostName']}, expected {want_name}")
    if want_tz and guest["timeZoneId"] != want_tz:
        run.error(f"time zone is {guest['timeZoneId']}, expected {want_tz}")
    fw = ops.firewall_state(guest)
    run.fact("firewall", fw)
    if "firewall" in entries:
        for p, was in entries["firewall"]["before"].items():
            if bool(was) != fw[p]:
                run.error(f"firewall {p} is {fw[p]}, the source had {was}")
    else:
        not_checked.append("firewall")
    if "workUser" in entries:
        before = entries["workUser"]["before"]
        user = ops.user_state(guest, str(before["name"]))
        run.fact("workUser", user)
        want_enabled = bool(before["existed"]) and bool(before["enabled"])
        if user["exists"] and user["enabled"] != want_enabled:
            run.error(f"work user {before['name']} enabled is {user['enabled']}, expected {want_enabled} "
                      "(run work-user-disable)")
        if fixed and not user["exists"] and before["existed"]:
            run.error(f"work user {before['name']} existed on the source before prep but is missing here")
    else:
        not_checked.append("workUser")
    if "jobs" in entries:
        diff = 0
        for t in entries["jobs"]["before"].get("tasks") or []:
            task = next((x for x in guest["tasks"] if x["path"] == t["path"] and x["name"] == t["name"]), None)
            now = task["state"] if task else "missing"
            if (now == "Disabled") != (t["state"] == "Disabled") or now == "missing":
                diff += 1
                run.error(f"task {t['path']}{t['name']} is {now}, the source had {t['state']}")
        for s in entries["jobs"]["before"].get("services") or []:
            svc = ops.service(guest, s["name"])
            kind = svc["startType"] if svc else "missing"
            if kind != s["startType"]:
                diff += 1
                run.error(f"service {s['name']} start type is {kind}, the source had {s['startType']}")
            elif fixed and s["status"] == "Running" and s["startType"] != "Disabled" and svc["status"] != "Running":
                diff += 1
                run.error(f"service {s['name']} is {svc['status']}, the source had it Running (see jobs-restore)")
        run.fact("jobsDiffering", diff)
    else:
        not_checked.append("jobs")
    run.fact("imageState", guest["imageState"])
    run.fact("machineSid", guest["machineSid"])
    if guest["imageState"] != "IMAGE_STATE_COMPLETE":
        run.error(f"ImageState is {guest['imageState']}, expected IMAGE_STATE_COMPLETE (Sysprep did not finish on "
                  "this image)")
    if "sysprep" in entries:
        source_sid = str(entries["sysprep"]["before"]["machineSid"])
        run.fact("sourceMachineSid", source_sid)
        run.fact("sidChanged", guest["machineSid"] != source_sid)
        if guest["machineSid"] == source_sid:
            run.error(f"the machine SID {source_sid} is the source's: the image was not generalized")
        elif fixed and guest["imageState"] == "IMAGE_STATE_COMPLETE":
            set_restored(run, guest, "sysprep")  # D6: the next generation records its own SID
    else:
        not_checked.append("sysprep")
    ec2 = {"flavour": guest["ec2Launch"]["flavour"], "version": guest["ec2Launch"]["version"]}
    if ec2["flavour"] == "v2":
        ec2["status"] = guest.get("ec2LaunchStatus") or (
            "ok" if guest["imageState"] == "IMAGE_STATE_COMPLETE" else "running")
        build = int(guest["osVersion"].rsplit(".", 1)[-1])
        if ec2["status"] == "failed" and fixed and build >= 26100:  # D9: installEgpuManager fails on Server 2025
            ec2["warning"] = ("EC2Launch.exe status 1 on build 26100+: expected when only installEgpuManager failed; "
                              "see sysprep-logs if in doubt")
            run.log("warning: " + ec2["warning"])
        elif ec2["status"] == "failed":
            run.error("EC2Launch.exe status reports failed: see sysprep-logs")
    run.fact("ec2Launch", ec2)
    run.fact("notChecked", not_checked)


WHOLE_RESERVE = 16000  # sysprep-logs 1.2.0 -Whole: what the logs leave of MaxChars for the rest of the envelope


def _json_cost(line: str) -> int:
    """What a line costs in the envelope: its escaped JSON (the module's rules = json.dumps) plus a comma."""
    return len(json.dumps(line)) + 1


def _whole_logs(run, found, max_chars):
    """1.2.0 -Whole: lines not cut; equal shares of MaxChars - 16,000, smallest log first (a log under its share is
    whole and leaves the rest to the others), each log keeping its newest lines; omitted counts the rest."""
    entries = []
    for path, content in found:
        costs = [_json_cost(l) for l in content]
        entries.append({"path": path, "lines": content, "costs": costs, "total": sum(costs), "keep": 0})
    left, k = max_chars - WHOLE_RESERVE, len(entries)
    for e in sorted(entries, key=lambda e: e["total"]):
        share = left // k
        k -= 1
        used, keep, i = 0, 0, len(e["lines"]) - 1
        while i >= 0 and used + e["costs"][i] <= share:
            used += e["costs"][i]
            keep += 1
            i -= 1
        e["keep"] = keep
        left -= used
    logs = []
    for e in entries:
        n, keep = len(e["lines"]), e["keep"]
        logs.append({"path": e["path"], "lines": e["lines"][n - keep:], "omitted": n - keep})
        run.log(f"{e['path']}: {keep} lines whole, {n - keep} omitted")
    return logs


def _tails(run, found, lines):
    """The last Lines lines, each cut to 300 characters; from 1.1.0 each log keeps the newest lines that fit its
    equal share of 20,000 characters (as escaped JSON), as the script does ([int] rounds half to even: round())."""
    logs = []
    share = round(20000 / len(found)) if found else 0
    for path, content in found:
        tail = [l[:297] + "..." if len(l) > 300 else l for l in content[-lines:]]
        kept = tail
        if at_least(run, "1.1.0"):
            kept, used = [], 0
            for l in reversed(tail):
                if used + _json_cost(l) > share:
                    break
                used += _json_cost(l)
                kept.insert(0, l)
        logs.append({"path": path, "lines": kept, "omitted": len(tail) - len(kept)})
    return logs


def sysprep_logs(guest, params, run):
    whole_version = at_least(run, "1.2.0")
    check_params(params, ("Lines", "Whole", "MaxChars") if whole_version else ("Lines",))
    lines = params.get("Lines", 40)
    if not isinstance(lines, int) or isinstance(lines, bool) or not 1 <= lines <= 200:
        raise Failed("could not run: Cannot validate argument on parameter 'Lines': give an integer from 1 to 200")
    whole, max_chars = False, 4000000
    if whole_version:
        whole = params.get("Whole", False)
        if not isinstance(whole, (bool, int)):  # a [bool] parameter takes only Booleans and numbers
            raise Failed(f"could not run: Cannot process argument transformation on parameter 'Whole'. Cannot convert "
                         f"value \"{whole}\" to type \"System.Boolean\". Boolean parameters accept only Boolean values "
                         "and numbers, such as $True, $False, 1 or 0.")
        whole = bool(whole)
        max_chars = params.get("MaxChars", 4000000)
        if not isinstance(max_chars, int) or isinstance(max_chars, bool) or not 100000 <= max_chars <= 16000000:
            raise Failed("could not run: Cannot validate argument on parameter 'MaxChars': give an integer from "
                         "100000 to 16000000")
    if whole:  # New-CloneRun -MaxChars $MaxChars -OutputToS3 (module 1.2.0): the budget is the only cap
        run.max_chars = run.hard_cap = max_chars
    panther = guest.get("pantherLog") or []
    found, missing = [], []
    for name, content in (("setupact.log", panther), ("setuperr.log", [l for l in panther if "Error" in l])):
        if content:
            found.append((PANTHER + name, content))
        else:
            missing.append(PANTHER + name)
    logs = _whole_logs(run, found, max_chars) if whole else _tails(run, found, lines)
    run.fact("imageState", guest["imageState"])
    run.fact("logs", logs)
    run.fact("missing", missing)
    run.log(f"{len(logs)} of {len(logs) + len(missing)} logs found")


MODELS = {"hostname": hostname, "time-zone": time_zone, "firewall-restore": firewall_restore,
          "work-user-disable": work_user_disable, "jobs-restore": jobs_restore, "domain-join": domain_join,
          "verify": verify, "sysprep-logs": sysprep_logs}
