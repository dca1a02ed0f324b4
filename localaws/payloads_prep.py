"""Models of the source-side payloads (ps-scripts/payloads/<name>/1.0.0.ps1): preflight, work-user,
firewall-off, jobs-stop, source-restore, sysprep. Each is model(guest, params, run)."""
import fnmatch
import re

from . import guestops as ops
from .payloads import Failed, add_entry, check_params, journal, set_restored


def windows_facts(guest: dict) -> dict:
    return {"osCaption": guest["osName"], "osVersion": guest["osVersion"],
            "osBuild": guest["osVersion"].rsplit(".", 1)[-1], "computerName": guest["hostName"],
            "ec2Launch": {"flavour": guest["ec2Launch"]["flavour"], "version": guest["ec2Launch"]["version"]},
            "machineSid": guest["machineSid"], "imageState": guest["imageState"],
            "partOfDomain": bool(guest.get("domain")), "domain": guest.get("domain") or "WORKGROUP",
            "domainRole": 1 if guest.get("domain") else 2}


def _first(items: list) -> dict:
    return {"count": len(items), "first": items[:10]}


def preflight(guest, params, run):
    check_params(params, ())
    blockers = ops.sysprep_blockers(guest)
    run.fact("windows", windows_facts(guest))
    run.fact("sysprepBlockers", blockers)
    run.fact("ready", not blockers)
    run.fact("firewall", ops.firewall_state(guest))
    users = [n for n, u in guest["users"].items() if u["enabled"]]
    tasks = [t["path"] + t["name"] for t in guest["tasks"] if not t["path"].startswith("\\Microsoft\\")]
    services = [s["name"] for s in guest["services"] if s["startType"] == "Automatic"]
    run.fact("userProfiles", _first(sorted(guest["users"])), optional=True)
    run.fact("enabledLocalUsers", _first(users), optional=True)
    run.fact("scheduledTasks", _first(tasks), optional=True)
    run.fact("automaticServices", _first(services), optional=True)
    run.log(f"{len(blockers)} blocker(s); {len(guest['users'])} profile(s), {len(tasks)} task(s), "
            f"{len(services)} service(s) outside Windows")


def work_user(guest, params, run):
    check_params(params, ("UserName", "PasswordParameter", "Region"), ("UserName", "PasswordParameter"))
    name = str(params["UserName"])
    if not 1 <= len(name) <= 20 or re.search(r'[\\/"\[\]:|<>+=;,?*@]', name):
        raise Failed(f"could not run: Cannot validate argument on parameter 'UserName': {name!r} is not a local "
                     "user name (1-20 characters, none of \\/\"[]:|<>+=;,?*@)")
    before = ops.user_state(guest, name)
    add_entry(run, guest, "workUser", {"name": name, "existed": before["exists"], "enabled": before["enabled"],
                                       "inAdministrators": before["inAdministrators"]})
    if not before["exists"] or not before["enabled"]:
        ops.read_secret(run, str(params["PasswordParameter"]))
        if not before["exists"]:
            guest["users"][name] = {"enabled": True, "inAdministrators": False}
            run.change("user/" + name, "absent", "present")
        else:
            guest["users"][name]["enabled"] = True
            run.change(f"user/{name}/enabled", False, True)
    if not guest["users"][name]["inAdministrators"]:
        guest["users"][name]["inAdministrators"] = True
        run.change(f"user/{name}/inAdministrators", False, True)
    run.fact("user", ops.user_state(guest, name))
    run.fact("passwordParameter", str(params["PasswordParameter"]))


def firewall_off(guest, params, run):
    check_params(params, ("Profiles",))
    raw = params.get("Profiles", list(ops.PROFILES))
    names = [p.strip() for p in (raw.split(",") if isinstance(raw, str) else raw)]
    bad = [p for p in names if p not in ops.PROFILES]
    if bad or not names:
        raise Failed(f"could not run: Cannot validate argument on parameter 'Profiles': {bad or raw} is not in "
                     "the set Domain, Private, Public")
    before = ops.firewall_state(guest)  # all three, so restore knows the whole picture
    add_entry(run, guest, "firewall", before)
    target = {p: False for p in dict.fromkeys(names)}
    ops.set_firewall(run, guest, target)
    run.fact("before", before)
    run.fact("effective", {p: bool(guest["firewall"][p]) for p in target})


def _split_pattern(pattern: str) -> tuple[str, str]:
    p = pattern if pattern.startswith("\\") else "\\" + pattern
    i = p.rfind("\\")
    return p[: i + 1], (p[i + 1:] or "*")


def jobs_stop(guest, params, run):
    check_params(params, ("Tasks", "Services"))
    found_tasks = []
    for pattern in params.get("Tasks") or []:
        path, name = _split_pattern(str(pattern))
        hits = [t for t in guest["tasks"] if fnmatch.fnmatchcase(t["path"], path) and fnmatch.fnmatchcase(t["name"], name)]
        if not hits and not any(c in pattern for c in "*?["):
            raise Failed(f"no scheduled task matches '{pattern}' (give the task path and name, e.g. \\App\\Nightly)")
        found_tasks.extend(t for t in hits if t not in found_tasks)
    found_services = []
    for name in params.get("Services") or []:
        svc = ops.service(guest, name)
        if svc is None:
            raise Failed(f"no service is named '{name}' (use the service name, not the display name)")
        found_services.append(svc)
    entries = journal(guest)["entries"]
    entry = entries.get("jobs")
    if entry is None or "restoredAt" in entry:
        entry = {"recordedBy": f"{run.ctx.payload}@{run.ctx.version}", "recordedAt": run.started,
                 "before": {"tasks": [], "services": []}}
    rec_tasks, rec_services = list(entry["before"]["tasks"]), list(entry["before"]["services"])
    added = 0
    for t in found_tasks:
        if not any(r["path"] == t["path"] and r["name"] == t["name"] for r in rec_tasks):
            rec_tasks.append({"path": t["path"], "name": t["name"], "state": t["state"]})
            added += 1
    for s in found_services:
        if not any(r["name"] == s["name"] for r in rec_services):
            rec_services.append(dict(s))
            added += 1
    if added:
        entry["before"] = {"tasks": rec_tasks, "services": rec_services}
        entries["jobs"] = entry
        run.log(f"journal: recorded {added} job(s)")
    for t in found_tasks:
        if t["state"] != "Disabled":
            run.change(f"task/{t['path']}{t['name']}", t["state"], "Disabled")
            t["state"] = "Disabled"
    for s in found_services:
        if s["status"] != "Stopped":
            run.change(f"service/{s['name']}/status", s["status"], "Stopped")
            s["status"] = "Stopped"
        if s["startType"] != "Disabled":
            run.change(f"service/{s['name']}/startType", s["startType"], "Disabled")
            s["startType"] = "Disabled"
    run.fact("tasks", len(found_tasks))
    run.fact("services", len(found_services))


def source_restore(guest, params, run):
    check_params(params, ())
    entries = journal(guest)["entries"]
    done = []
    parts = {"firewall": lambda b: ops.set_firewall(run, guest, b),
             "jobs": lambda b: ops.restore_jobs(run, guest, b),
             "workUser": lambda b: ops.restore_work_user(run, guest, b, remove_created=True)}
    for name, restore in parts.items():
        if name not in entries:
            run.log(f"journal has no {name} entry: skipped")
            continue
        if "restoredAt" in entries[name]:
            run.log(f"{name} already restored at {entries[name]['restoredAt']}")
            continue
        errors_before = len(run.errors)
        restore(entries[name]["before"])
        if len(run.errors) == errors_before:
            set_restored(run, guest, name)
            done.append(name)
    run.fact("restored", done)


def sysprep(guest, params, run):
    check_params(params, ("Shutdown",))
    shutdown = params.get("Shutdown", True)
    if not isinstance(shutdown, bool):
        raise Failed("could not run: Cannot convert value to type System.Boolean (Shutdown is true or false)")
    flavour = guest["ec2Launch"]["flavour"]
    run.fact("ec2Launch", {"flavour": flavour, "version": guest["ec2Launch"]["version"]})
    run.fact("imageState", guest["imageState"])
    if guest["imageState"].startswith("IMAGE_STATE_GENERALIZE_RESEAL") or guest.get("sysprepStarting"):
        run.fact("sysprep", "already running or awaiting shutdown")
        run.log("sysprep already under way: nothing started")
        return
    for blocker in ops.sysprep_blockers(guest):
        run.error(f"blocker {blocker['id']}: {blocker['reason']}")
    if run.errors:
        return
    if flavour == "EC2Config" and not shutdown:
        raise Failed("EC2Config always shuts down after Sysprep: Shutdown false needs EC2Launch v1 or v2")
    run.fact("enabledLocalUsers", sum(1 for u in guest["users"].values() if u["enabled"]))
    add_entry(run, guest, "sysprep", {"computerName": guest["hostName"], "machineSid": guest["machineSid"],
                                      "imageState": guest["imageState"], "ec2Launch": flavour})
    if flavour == "v2":
        line = "& 'C:\\Program Files\\Amazon\\EC2Launch\\EC2Launch.exe' sysprep" + (" --shutdown" if shutdown else "")
    elif flavour == "v1":
        run.log("EC2Launch v1: InitializeInstance.ps1 -Schedule done")
        line = "& 'C:\\ProgramData\\Amazon\\EC2-Windows\\Launch\\Scripts\\SysprepInstance.ps1'" + (
            "" if shutdown else " -NoShutdown")
    else:
        line = "& 'C:\\Program Files\\Amazon\\Ec2ConfigService\\Ec2Config.exe' -sysprep"
    run.fact("method", line)
    run.change("sysprep", "not started", "starting in 20 s via " + flavour)
    guest["sysprepStarting"] = True
    run.after_report = "sysprep-shutdown" if shutdown or flavour == "EC2Config" else "sysprep-quit"


MODELS = {"preflight": preflight, "work-user": work_user, "firewall-off": firewall_off, "jobs-stop": jobs_stop,
          "source-restore": source_restore, "sysprep": sysprep}
