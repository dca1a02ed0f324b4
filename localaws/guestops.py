"""Reading and changing guest state the way CloneAgent's helpers do (same shapes, same change items), per released
module version where they differ (1.0.0 as released, flaws included; 1.1.0 fixed)."""
from .payloads import Failed, NotSecureString, Run, at_least

# Module 1.1.0 $script:ProtectedServices (D12): jobs-stop refuses these and any service one of them depends on.
PROTECTED_SERVICES = ("AmazonSSMAgent", "EC2Launch", "Ec2Config", "Winmgmt", "RpcSs", "RpcEptMapper", "DcomLaunch",
                      "LanmanWorkstation", "Netlogon", "Dnscache", "mpssvc", "EventLog", "Schedule")

PROFILES = ("Domain", "Private", "Public")


def user_state(guest: dict, name: str) -> dict:
    user = guest["users"].get(name)
    return {"name": name, "exists": user is not None, "enabled": bool(user and user["enabled"]),
            "inAdministrators": bool(user and user["inAdministrators"])}


def firewall_state(guest: dict, profiles=PROFILES) -> dict:
    return {p: bool(guest["firewall"][p]) for p in profiles}


def set_firewall(run: Run, guest: dict, target: dict) -> None:
    for profile, want in target.items():
        now = bool(guest["firewall"][profile])
        if now != bool(want):
            guest["firewall"][profile] = bool(want)
            run.change("firewall/" + profile, now, bool(want))


def service(guest: dict, name: str) -> dict | None:
    return next((s for s in guest["services"] if s["name"].lower() == str(name).lower()), None)


def start_failure(guest: dict, name: str) -> str | None:
    """Why Start-Service fails for this service now, or None. guest['serviceStartFailures'] = {name: reason}; the
    reason 'domain-account' fails only while the guest is not in a domain (a service logging on as a domain account)."""
    reason = (guest.get("serviceStartFailures") or {}).get(name)
    if reason is None or (reason == "domain-account" and guest.get("domain")):
        return None
    if reason == "domain-account":
        return (f"Service '{name} ({name})' cannot be started due to the following error: Cannot start service {name} "
                "on computer '.'. (The service did not start due to a logon failure)")
    return f"Service '{name} ({name})' cannot be started due to the following error: {reason}"


def restore_jobs(run: Run, guest: dict, before: dict) -> None:
    """Restore-CloneJobs. 1.0.0 stops at the first service that will not start (the throw leaves the loop, the
    items after it keep their state); 1.1.0 sets every start type first, starts last, and reports each failure."""
    for saved in before.get("tasks") or []:
        task = next((t for t in guest["tasks"] if t["path"] == saved["path"] and t["name"] == saved["name"]), None)
        if task is None:
            run.error(f"scheduled task {saved['path']}{saved['name']} recorded in the journal does not exist here")
            continue
        was_disabled, is_disabled = saved["state"] == "Disabled", task["state"] == "Disabled"
        if was_disabled != is_disabled:
            old = task["state"]
            task["state"] = "Disabled" if was_disabled else "Ready"
            run.change(f"task/{saved['path']}{saved['name']}", old, task["state"])
    fixed = at_least(run, "1.1.0")
    to_start = []
    for saved in before.get("services") or []:
        svc = service(guest, saved["name"])
        if svc is None:
            run.error(f"service {saved['name']} recorded in the journal does not exist here")
            continue
        if svc["startType"] != saved["startType"] and saved["startType"] not in ("Boot", "System"):
            run.change(f"service/{saved['name']}/startType", svc["startType"], saved["startType"])
            svc["startType"] = saved["startType"]
        if saved["status"] == "Running" and svc["status"] != "Running":
            if not fixed:
                why = start_failure(guest, saved["name"])
                if why:
                    raise Failed(why)
                run.change(f"service/{saved['name']}/status", svc["status"], "Running")
                svc["status"] = "Running"
            elif saved["startType"] != "Disabled":
                to_start.append(svc)
    for svc in to_start:
        why = start_failure(guest, svc["name"])
        if why:
            run.error(f"service {svc['name']} could not start: {why}; its start type is restored. If it logs on as a "
                      "domain account, join the domain first (domain-join), then run this again")
            continue
        run.change(f"service/{svc['name']}/status", svc["status"], "Running")
        svc["status"] = "Running"


def restore_work_user(run: Run, guest: dict, before: dict, remove_created: bool = False) -> None:
    name = str(before["name"])
    now = user_state(guest, name)
    if not now["exists"]:
        if before["existed"]:
            run.error(f"work user {name} existed before prep but is missing now")
        return
    user = guest["users"][name]
    if not before["existed"]:
        if remove_created:
            del guest["users"][name]
            run.change("user/" + name, "present", "removed")
        elif now["enabled"]:
            user["enabled"] = False
            run.change(f"user/{name}/enabled", True, False)
        return
    if now["inAdministrators"] != bool(before["inAdministrators"]):
        user["inAdministrators"] = bool(before["inAdministrators"])
        run.change(f"user/{name}/inAdministrators", now["inAdministrators"], bool(before["inAdministrators"]))
    if now["enabled"] != bool(before["enabled"]):
        user["enabled"] = bool(before["enabled"])
        run.change(f"user/{name}/enabled", now["enabled"], bool(before["enabled"]))


def ec2launch_tasks(guest: dict) -> list:
    """The active '- task:' lines of EC2Launch v2's agent-config.yml (guest['ec2LaunchTasks'], default AWS's)."""
    return list(guest.get("ec2LaunchTasks", DEFAULT_V2_TASKS))


DEFAULT_V2_TASKS = ("extendRootPartition", "activateWindows", "setDnsSuffix", "setAdminAccount", "setWallpaper",
                    "startSsm")


def appx_per_user(guest: dict, fixed: bool) -> list:
    """Get-CloneSysprepBlockers' AppX check on guest['appx'] = {provisioned: [{name, fullName}], installed: [{name,
    fullName, framework?, system?}]}. 1.0.0 compares full names, so a provisioned bundle
    (Name_<v>_neutral_~_<publisher>) never matches its installed main package (Name_<v>_x64__<publisher>): a false
    blocker (D5). 1.1.0 compares names."""
    appx = guest.get("appx") or {}
    key = "name" if fixed else "fullName"
    provisioned = {p[key] for p in appx.get("provisioned") or []}
    return [p for p in appx.get("installed") or []
            if not p.get("framework") and not p.get("system") and p[key] not in provisioned]


def sysprep_blockers(guest: dict, version: str = "1.1.0") -> list:
    """[{id, reason}] as Get-CloneSysprepBlockers of that module version reports them, from the guest's state:
    injected reasons (sysprepBlockers), BitLocker, AppX, pending reboots, rearm count (1.0.0 only), domain controller,
    cluster, Spot, EC2Launch v2 without startSsm, no EC2Launch."""
    fixed = at_least(version, "1.1.0")
    found = []
    for reason in guest.get("sysprepBlockers") or []:
        ident = "bitlocker" if "BitLocker" in reason else "appx-per-user" if "Appx" in reason else "simulated"
        found.append({"id": ident, "reason": reason})
    if guest.get("bitlocker"):
        found.append({"id": "bitlocker", "reason": "BitLocker is on for C:: decrypt it first (manage-bde -off C:); "
                                                  "sysprep fails with 0x80310039"})
    per_user = appx_per_user(guest, fixed)
    if per_user:
        names = ", ".join(p["name"] for p in per_user[:3])
        found.append({"id": "appx-per-user", "reason": f"{len(per_user)} Appx package(s) installed for a user but not "
                      f"provisioned ({names}): remove them (Remove-AppxPackage -AllUsers); sysprep fails with 0x80073cf2"})
    pending = ["file rename"] if guest.get("pendingReboot") else []
    if fixed and (guest.get("pendingChanges") or {}).get("hostName"):
        pending.append("rename")
    if fixed and (guest.get("pendingChanges") or {}).get("domain"):
        pending.append("domain join")
    if pending:
        found.append({"id": "reboot-pending", "reason": f"a reboot is pending ({', '.join(dict.fromkeys(pending))}): "
                                                        "reboot the instance, then run sysprep again"})
    rearm = guest.get("rearmCount")
    if not fixed and rearm is not None and rearm < 1:
        found.append({"id": "sysprep-count", "reason": "the Windows rearm count is exhausted: sysprep /generalize "
                                                       "would fail; build the master from a fresher image"})
    if guest.get("domainRole", 0) >= 4:
        found.append({"id": "domain-controller", "reason": "this is a domain controller: sysprep is not supported on "
                                                           "one; demote it first"})
    if service(guest, "ClusSvc"):
        found.append({"id": "cluster", "reason": "the Failover Clustering service is installed: remove the node from "
                                                 "its cluster and the feature first"})
    if guest.get("lifecycle") == "spot":
        found.append({"id": "spot", "reason": "this is a Spot instance: a one-time request terminates it at shutdown "
                                              "and the copy is lost; use an On-Demand work copy"})
    flavour = guest.get("ec2Launch", {}).get("flavour")
    if flavour == "v2" and "startSsm" not in ec2launch_tasks(guest):
        found.append({"id": "ec2launch-startssm", "reason": "C:\\ProgramData\\Amazon\\EC2Launch\\config\\agent-config.yml "
                      "has no startSsm task: clones would never start the SSM agent; add it back"})
    if flavour == "none":
        found.append({"id": "no-ec2launch", "reason": "neither EC2Launch v2, EC2Launch v1 nor EC2Config is "
                                                      "installed: install EC2Launch v2"})
    return found


def read_secret(run: Run, name: str) -> None:
    """Reads the SecureString with the instance's role; the value is used, never reported or logged."""
    secret_value(run, name)


def secret_value(run: Run, name: str) -> str:
    """Read-CloneSecureString: the value (used, never reported), or the module's refusal."""
    try:
        return run.ctx.read_secure_parameter(name)
    except KeyError:
        raise Failed(f"could not read the SecureString parameter {name} with the instance's role "
                     "(ParameterNotFound or AccessDenied)") from None
    except NotSecureString as exc:
        raise Failed(f"parameter '{name}' is a {exc.args[0]}, not a SecureString: store secrets as SecureString"
                     + (" (aws ssm put-parameter --type SecureString --overwrite)" if at_least(run, "1.1.0") else "")
                     ) from None
