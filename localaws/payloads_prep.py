"""Models of the source-side payloads (ps-scripts/payloads/<name>/<version>.ps1): preflight, work-user,
firewall-off, jobs-stop, source-restore, sysprep. Each is model(guest, params, run); where 1.0.0 and 1.1.0 differ
the model follows the version that runs (at_least(run, "1.1.0"))."""
import fnmatch
import re

from . import guestops as ops
from .payloads import Failed, add_entry, at_least, check_params, journal, set_restored

# work-user's [ValidatePattern('^[A-Za-z0-9._-]+$')] [ValidateLength(1, 20)] (both versions).
USER_NAME = re.compile(r"^[A-Za-z0-9._-]{1,20}$")


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
    blockers = ops.sysprep_blockers(guest, run.ctx.version)
    run.fact("windows", windows_facts(guest))
    run.fact("sysprepBlockers", blockers)
    run.fact("ready", not blockers)
    if at_least(run, "1.1.0"):
        run.fact("rearmCount", guest.get("rearmCount"))
        run.fact("secretReader", {"awsTools": guest.get("awsToolsVersion", "4.1.500"), "awsCli": None,
                                  "problem": None})
        notes = []
        if "setHostName" in ops.ec2launch_tasks(guest) and guest["ec2Launch"]["flavour"] == "v2":
            notes.append("EC2Launch v2 setHostName task is active: hostname will refuse until it is removed")
        run.fact("notes", notes)
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
    if not USER_NAME.match(name):
        raise Failed(f"could not run: Cannot validate argument on parameter 'UserName'. The argument \"{name}\" does "
                     "not match the \"^[A-Za-z0-9._-]+$\" pattern (or is longer than 20 characters).")
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
    # PowerShell binds one string as one element: "Domain,Private" is a single value that ValidateSet refuses.
    names = [raw] if isinstance(raw, str) else [str(p) for p in raw]
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
    tasks, services = list(params.get("Tasks") or []), list(params.get("Services") or [])
    if not tasks and not services:
        raise Failed("name at least one task (Tasks) or service (Services)")
    found_tasks = []
    for pattern in tasks:
        path, name = _split_pattern(str(pattern))
        hits = [t for t in guest["tasks"] if fnmatch.fnmatchcase(t["path"], path) and fnmatch.fnmatchcase(t["name"], name)]
        if not hits:  # the script throws for any pattern that matches nothing, wildcards included
            raise Failed(f"no scheduled task matches '{pattern}' (folder {path}, name {name})")
        found_tasks.extend(t for t in hits if t not in found_tasks)
    found_services = []
    for name in services:
        svc = ops.service(guest, name)
        if svc is None:
            raise Failed(f"no service is named '{name}' (use the service name, not the display name)")
        if svc["startType"] in ("Boot", "System"):
            raise Failed(f"'{name}' is a {svc['startType']}-start driver: clonectl does not stop drivers")
        if at_least(run, "1.1.0"):
            if any(p.lower() == svc["name"].lower() for p in ops.PROTECTED_SERVICES):
                raise Failed(f"refused: '{svc['name']}' is protected: stopping it would stop the SSM agent's command or "
                             "the instance's way back; leave it out of Services")
            for dep in svc.get("dependents") or []:
                if any(p.lower() == dep.lower() for p in ops.PROTECTED_SERVICES):
                    raise Failed(f"refused: stopping '{svc['name']}' would also stop the protected service '{dep}', "
                                 "which depends on it; leave it out of Services")
        found_services.append(svc)
    named = {str(n).lower() for n in services}
    for svc in found_services:
        running = [d for d in svc.get("dependents") or []
                   if (ops.service(guest, d) or {}).get("status", "Stopped") != "Stopped" and d.lower() not in named]
        if running:
            raise Failed(f"service '{svc['name']}' has running dependent services not named in Services: "
                         f"{', '.join(running)}; name them too")
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
            rec_services.append({"name": s["name"], "startType": s["startType"], "status": s["status"]})
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
        try:
            restore(entries[name]["before"])
        except Failed as exc:  # the script's per-part try/catch
            run.error(f"{name}: {exc}")
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
    for blocker in ops.sysprep_blockers(guest, run.ctx.version):
        run.error(f"blocker {blocker['id']}: {blocker['reason']}")
    if run.errors:
        return
    if flavour == "EC2Config" and not shutdown:
        raise Failed("EC2Config always shuts down after Sysprep: Shutdown false needs EC2Launch v1 or v2")
    busy = []
    if flavour == "v2" and guest.get("ec2LaunchStatus") == "running":
        busy.append("EC2Launch v2 is still running its stages (EC2Launch.exe status = 2)")
    if guest.get("servicingBusy"):
        busy.append("Windows servicing is busy (TiWorker.exe is running)")
    fixed = at_least(run, "1.1.0")
    if busy and fixed:  # D11: Wait-CloneInstanceQuiet gave up after 600 s (the model does not wait)
        raise Failed("refused: the instance is not quiet after 600 s: " + "; ".join(busy)
                     + "; wait until it is, then run sysprep again")
    run.fact("enabledLocalUsers", sum(1 for u in guest["users"].values() if u["enabled"]))
    entries = journal(guest)["entries"]
    old = entries.get("sysprep")
    if fixed and old and "restoredAt" not in old and old["before"]["machineSid"] != guest["machineSid"]:
        run.log(f"journal: sysprep entry has SID {old['before']['machineSid']}, this instance is "
                f"{guest['machineSid']}: a new generation")  # D6
        set_restored(run, guest, "sysprep")
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
    if busy or guest.get("sysprepFails"):  # 1.0.0 starts anyway when busy; the sysprepFails fault: Sysprep then
        run.after_report = "sysprep-fails"  # fails after the envelope said changed, and nothing stops


MODELS = {"preflight": preflight, "work-user": work_user, "firewall-off": firewall_off, "jobs-stop": jobs_stop,
          "source-restore": source_restore, "sysprep": sysprep}
