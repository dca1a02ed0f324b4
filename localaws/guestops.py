"""Reading and changing guest state the way CloneAgent's helpers do (same shapes, same change items)."""
from .payloads import Failed, Run

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


def restore_jobs(run: Run, guest: dict, before: dict) -> None:
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
    for saved in before.get("services") or []:
        svc = service(guest, saved["name"])
        if svc is None:
            run.error(f"service {saved['name']} recorded in the journal does not exist here")
            continue
        if svc["startType"] != saved["startType"] and saved["startType"] not in ("Boot", "System"):
            run.change(f"service/{saved['name']}/startType", svc["startType"], saved["startType"])
            svc["startType"] = saved["startType"]
        if saved["status"] == "Running" and svc["status"] != "Running":
            run.change(f"service/{saved['name']}/status", svc["status"], "Running")
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


def sysprep_blockers(guest: dict) -> list:
    """[{id, reason}] as Get-CloneSysprepBlockers reports them."""
    found = []
    for reason in guest.get("sysprepBlockers") or []:
        ident = "bitlocker" if "BitLocker" in reason else "appx-per-user" if "Appx" in reason else "simulated"
        found.append({"id": ident, "reason": reason})
    if guest.get("pendingReboot"):
        found.append({"id": "reboot-pending", "reason": "a reboot is pending (file rename): reboot the instance, "
                                                          "then run sysprep again"})
    if guest.get("sysprepCount", 0) >= 1001:
        found.append({"id": "sysprep-count", "reason": "the Windows rearm count is exhausted: sysprep /generalize "
                                                       "would fail; build the master from a fresher image"})
    if guest.get("ec2Launch", {}).get("flavour") == "none":
        found.append({"id": "no-ec2launch", "reason": "neither EC2Launch v2, EC2Launch v1 nor EC2Config is "
                                                      "installed: install EC2Launch v2"})
    return found


def read_secret(run: Run, name: str) -> None:
    """Reads the SecureString with the instance's role; the value is used, never reported or logged."""
    try:
        run.ctx.read_secure_parameter(name)
    except KeyError:
        raise Failed(f"could not read the SecureString parameter {name} with the instance's role "
                     "(ParameterNotFound or AccessDenied)") from None
