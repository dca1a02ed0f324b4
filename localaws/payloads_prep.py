"""Models of the source-side payloads: preflight, work-user, firewall-off, jobs-stop, source-restore, sysprep."""
import fnmatch
import re

from .payloads import Failed, check_params, entry, record, utc

PROFILES = ("Domain", "Private", "Public")
SYSPREP_LIMIT = 1001


def blockers(guest: dict) -> list:
    found = list(guest.get("sysprepBlockers") or [])
    if guest.get("pendingReboot"):
        found.append("a reboot is pending (servicing or a rename)")
    if guest.get("sysprepCount", 0) >= SYSPREP_LIMIT:
        found.append(f"the Sysprep count limit ({SYSPREP_LIMIT}) is reached")
    return found


def preflight(guest, params, ctx, out):
    check_params(params, ())
    out.facts = {
        "blockers": blockers(guest), "ec2Launch": dict(guest["ec2Launch"]), "domain": guest.get("domain"),
        "sysprepCount": guest.get("sysprepCount", 0), "firewall": dict(guest["firewall"]),
        "tasks": len(guest["tasks"]), "services": len(guest["services"]),
        "localUsers": sorted(guest["users"]), "imageState": guest["imageState"],
    }


def work_user(guest, params, ctx, out):
    check_params(params, ("UserName", "PasswordParameter", "Region"), ("UserName", "PasswordParameter"))
    name = str(params["UserName"])
    if not 1 <= len(name) <= 20 or re.search(r'[\\/"\[\]:|<>+=;,?*@]', name):
        raise Failed(f"UserName {name!r} is not a valid local user name (1-20 characters, no \\/\"[]:|<>+=;,?*@)")
    try:
        ctx.read_secure_parameter(str(params["PasswordParameter"]))  # read on the instance, never reported
    except KeyError:
        raise Failed(f"the SecureString parameter {params['PasswordParameter']} could not be read "
                     f"with the instance's role") from None
    user = guest["users"].get(name)
    before = {"name": name, "existed": user is not None, "enabled": bool(user and user["enabled"]),
              "inAdministrators": bool(user and user["inAdministrators"])}
    record(guest, ctx, "workUser", before)
    if user is None:
        user = guest["users"][name] = {"enabled": False, "inAdministrators": False}
        out.change(f"user {name}", None, "created")
    if not user["enabled"]:
        user["enabled"] = True
        out.change(f"user {name} enabled", False, True)
    if not user["inAdministrators"]:
        user["inAdministrators"] = True
        out.change(f"user {name} in Administrators", False, True)
    out.facts = {"userName": name}


def _profiles(params) -> list:
    raw = params.get("Profiles", list(PROFILES))
    names = [p.strip() for p in (raw.split(",") if isinstance(raw, str) else raw)]
    bad = [p for p in names if p not in PROFILES]
    if bad or not names:
        raise Failed(f"Profiles must name some of {', '.join(PROFILES)}; got {raw!r}")
    return names


def firewall_off(guest, params, ctx, out):
    check_params(params, ("Profiles",))
    names = _profiles(params)
    record(guest, ctx, "firewall", dict(guest["firewall"]))
    for name in names:
        if guest["firewall"][name]:
            guest["firewall"][name] = False
            out.change(f"firewall {name}", True, False)
    out.facts = {"firewall": dict(guest["firewall"])}


def _match_tasks(guest, patterns) -> list:
    found = []
    for pattern in patterns:
        hits = [t for t in guest["tasks"] if fnmatch.fnmatchcase(t["path"] + t["name"], pattern)]
        if not hits and not any(c in pattern for c in "*?["):
            raise Failed(f"scheduled task {pattern} does not exist")
        found.extend(t for t in hits if t not in found)
    return found


def _match_services(guest, names) -> list:
    found = []
    for name in names:
        svc = next((s for s in guest["services"] if s["name"].lower() == str(name).lower()), None)
        if svc is None:
            raise Failed(f"service {name} does not exist")
        found.append(svc)
    return found


def jobs_stop(guest, params, ctx, out):
    check_params(params, ("Tasks", "Services"))
    tasks = _match_tasks(guest, params.get("Tasks") or [])
    services = _match_services(guest, params.get("Services") or [])
    record(guest, ctx, "jobs", {"tasks": [dict(t) for t in tasks], "services": [dict(s) for s in services]})
    for task in tasks:
        if task["state"] != "Disabled":
            out.change(f"task {task['path']}{task['name']}", task["state"], "Disabled")
            task["state"] = "Disabled"
    for svc in services:
        if svc["startType"] != "Disabled":
            out.change(f"service {svc['name']} startType", svc["startType"], "Disabled")
            svc["startType"] = "Disabled"
        if svc["status"] != "Stopped":
            out.change(f"service {svc['name']} status", svc["status"], "Stopped")
            svc["status"] = "Stopped"
    out.facts = {"tasks": len(tasks), "services": len(services)}


def restore_firewall(guest, before, out):
    for name, enabled in before.items():
        if guest["firewall"].get(name) != enabled:
            out.change(f"firewall {name}", guest["firewall"].get(name), enabled)
            guest["firewall"][name] = enabled


def restore_jobs(guest, before, out):
    for saved in before.get("tasks", []):
        task = next((t for t in guest["tasks"] if t["path"] == saved["path"] and t["name"] == saved["name"]), None)
        if task is None:
            raise Failed(f"scheduled task {saved['path']}{saved['name']} from the journal no longer exists")
        if task["state"] != saved["state"]:
            out.change(f"task {task['path']}{task['name']}", task["state"], saved["state"])
            task["state"] = saved["state"]
    for saved in before.get("services", []):
        svc = next((s for s in guest["services"] if s["name"] == saved["name"]), None)
        if svc is None:
            raise Failed(f"service {saved['name']} from the journal no longer exists")
        for key in ("startType", "status"):
            if svc[key] != saved[key]:
                out.change(f"service {svc['name']} {key}", svc[key], saved[key])
                svc[key] = saved[key]


def source_restore(guest, params, ctx, out):
    check_params(params, ())
    entries = (guest.get("journal") or {}).get("entries") or {}
    present = [k for k in ("firewall", "jobs", "workUser") if k in entries]
    if not present:
        raise Failed("the journal has no firewall, jobs or workUser entry: nothing recorded to restore")
    if "firewall" in entries:
        restore_firewall(guest, entries["firewall"]["before"], out)
    if "jobs" in entries:
        restore_jobs(guest, entries["jobs"]["before"], out)
    if "workUser" in entries:
        before = entries["workUser"]["before"]
        name = before["name"]
        if not before["existed"] and name in guest["users"]:
            del guest["users"][name]
            out.change(f"user {name}", "present", None)
        elif before["existed"] and name in guest["users"]:
            user = guest["users"][name]
            for key in ("enabled", "inAdministrators"):
                if user[key] != before[key]:
                    out.change(f"user {name} {key}", user[key], before[key])
                    user[key] = before[key]
    for key in present:
        entries[key].setdefault("restoredOnSourceAt", utc(ctx.now()))
    out.facts = {"restored": present}


def sysprep(guest, params, ctx, out):
    check_params(params, ("Shutdown",))
    shutdown = params.get("Shutdown", True)
    if not isinstance(shutdown, bool):
        raise Failed("Shutdown must be true or false")
    found = blockers(guest)
    out.facts = {"ec2Launch": dict(guest["ec2Launch"]), "blockers": found, "machineSid": guest["machineSid"]}
    if found:
        raise Failed("Sysprep refused: " + "; ".join(found))
    entry_ok = record(guest, ctx, "sysprep", {"hostName": guest["hostName"], "machineSid": guest["machineSid"]})
    method = {"v2": "EC2Launch.exe sysprep --shutdown", "v1": "InitializeInstance.ps1 -Schedule; SysprepInstance.ps1",
              "ec2config": "Ec2Config.exe -sysprep"}.get(guest["ec2Launch"]["flavour"], "unknown")
    out.facts["method"] = method
    out.change("sysprep", "not started", "started detached" if entry_ok else "started detached again")
    out.after_report = "sysprep-shutdown" if shutdown else "sysprep-quit"


MODELS = {"preflight": preflight, "work-user": work_user, "firewall-off": firewall_off, "jobs-stop": jobs_stop,
          "source-restore": source_restore, "sysprep": sysprep}
