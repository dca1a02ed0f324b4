"""Models of the clone-side payloads: hostname, time-zone, firewall-restore, work-user-disable, jobs-restore,
domain-join, verify, sysprep-logs. Two of them finish through a reboot: they set guest['pendingChanges'] and
report reboot-pending; the simulated reboot (commands.py) applies the pending changes and runs them again."""
import re

from .payloads import Failed, check_params, entry
from .payloads_prep import restore_firewall, restore_jobs

NETBIOS = re.compile(r"^[A-Za-z0-9-]{1,15}$")
# Windows time zone ids (a subset: Set-TimeZone -Id fails on anything it does not know).
TIME_ZONES = {"UTC", "GMT Standard Time", "W. Europe Standard Time", "Central Europe Standard Time",
              "Romance Standard Time", "Eastern Standard Time", "Central Standard Time", "Mountain Standard Time",
              "Pacific Standard Time", "Tokyo Standard Time", "Korea Standard Time", "China Standard Time",
              "Singapore Standard Time", "India Standard Time", "AUS Eastern Standard Time", "Taipei Standard Time"}


def hostname(guest, params, ctx, out):
    check_params(params, ("NewName",), ("NewName",))
    name = str(params["NewName"])
    if not NETBIOS.match(name) or name.isdigit():
        raise Failed(f"NewName {name!r} is not a NetBIOS name (1-15 letters, digits, hyphen; not only digits)")
    out.facts = {"hostName": guest["hostName"]}
    if guest["hostName"].lower() == name.lower():
        return
    pending = guest.setdefault("pendingChanges", {})
    pending["hostName"] = name
    guest["pendingReboot"] = True
    out.change("hostName", guest["hostName"], name)
    out.status = "reboot-pending"


def time_zone(guest, params, ctx, out):
    check_params(params, ("TimeZoneId",), ("TimeZoneId",))
    tz = str(params["TimeZoneId"])
    if tz not in TIME_ZONES:
        raise Failed(f"time zone id {tz!r} is not known to Windows (use an id such as 'Tokyo Standard Time')")
    if guest["timeZoneId"] != tz:
        out.change("timeZoneId", guest["timeZoneId"], tz)
        guest["timeZoneId"] = tz
    out.facts = {"timeZoneId": tz}


def firewall_restore(guest, params, ctx, out):
    check_params(params, ())
    restore_firewall(guest, entry(guest, "firewall", "firewall-off")["before"], out)
    out.facts = {"firewall": dict(guest["firewall"])}


def work_user_disable(guest, params, ctx, out):
    check_params(params, ())
    before = entry(guest, "workUser", "work-user")["before"]
    name = before["name"]
    user = guest["users"].get(name)
    # A user that was there and enabled before prep is the operator's: leave it as it was.
    keep = before["existed"] and before["enabled"]
    if user is not None and user["enabled"] and not keep:
        user["enabled"] = False
        out.change(f"user {name} enabled", True, False)
    out.facts = {"userName": name, "enabled": bool(user and user["enabled"])}


def jobs_restore(guest, params, ctx, out):
    check_params(params, ())
    before = entry(guest, "jobs", "jobs-stop")["before"]
    restore_jobs(guest, before, out)
    out.facts = {"tasks": len(before.get("tasks", [])), "services": len(before.get("services", []))}


def domain_join(guest, params, ctx, out):
    check_params(params, ("DomainName", "CredentialParameter", "OUPath"), ("DomainName", "CredentialParameter"))
    domain = str(params["DomainName"])
    out.facts = {"domain": guest.get("domain")}
    if (guest.get("domain") or "").lower() == domain.lower():
        return
    try:
        credential = ctx.read_secure_parameter(str(params["CredentialParameter"]))
    except KeyError:
        raise Failed(f"the SecureString parameter {params['CredentialParameter']} could not be read "
                     f"with the instance's role") from None
    if "\n" not in credential or "\\" not in credential.split("\n", 1)[0]:
        raise Failed(f"{params['CredentialParameter']} must hold DOMAIN\\user, a newline, then the password")
    guest.setdefault("pendingChanges", {})["domain"] = domain
    guest["pendingReboot"] = True
    out.change("domain", guest.get("domain"), domain)
    out.status = "reboot-pending"


def verify(guest, params, ctx, out):
    check_params(params, ("ExpectedHostName", "ExpectedTimeZoneId"))
    entries = (guest.get("journal") or {}).get("entries") or {}
    work = entries.get("workUser", {}).get("before", {}).get("name")
    out.facts = {
        "hostName": guest["hostName"], "timeZoneId": guest["timeZoneId"], "firewall": dict(guest["firewall"]),
        "workUser": None if work is None else {
            "name": work, "enabled": bool(guest["users"].get(work, {}).get("enabled"))},
        "disabledTasks": sum(1 for t in guest["tasks"] if t["state"] == "Disabled"),
        "imageState": guest["imageState"], "machineSid": guest["machineSid"],
        "ec2LaunchStatus": 0 if guest["imageState"] == "IMAGE_STATE_COMPLETE" else 2,
        "domain": guest.get("domain"),
    }
    errors = []
    want = params.get("ExpectedHostName")
    if want and guest["hostName"].lower() != str(want).lower():
        errors.append(f"host name is {guest['hostName']}, expected {want}")
    want = params.get("ExpectedTimeZoneId")
    if want and guest["timeZoneId"] != want:
        errors.append(f"time zone is {guest['timeZoneId']}, expected {want}")
    if errors:
        out.errors.extend(errors[:-1])
        raise Failed(errors[-1])


def sysprep_logs(guest, params, ctx, out):
    check_params(params, ("Lines",))
    lines = params.get("Lines", 40)
    if not isinstance(lines, int) or isinstance(lines, bool) or not 1 <= lines <= 200:
        raise Failed("Lines must be an integer from 1 to 200")
    panther = guest.get("pantherLog") or []
    out.facts = {"setupact": panther[-lines:], "setuperr": [l for l in panther if "Error" in l][-lines:]}


MODELS = {"hostname": hostname, "time-zone": time_zone, "firewall-restore": firewall_restore,
          "work-user-disable": work_user_disable, "jobs-restore": jobs_restore, "domain-join": domain_join,
          "verify": verify, "sysprep-logs": sysprep_logs}
