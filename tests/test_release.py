"""The release (issue 16): scripts/release.sh builds a tarball and a .deb that run without the Swift toolchain.

The release is built once per test session from the repository's HEAD (a few minutes: a static release build), or
taken from CLONECTL_RELEASE_DIST when that names a folder release.sh already wrote. Every binary below runs with a
PATH and an environment that do not reach the toolchain's folder, so a library from it would fail to load.
"""
import hashlib
import json
import os
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest

from conftest import ROOT

SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
TOOLCHAIN = Path(shutil.which("swift") or "/opt/swift/usr/bin/swift").resolve().parent.parent


def no_toolchain_env(**extra):
    """The environment of a controller host: the system's PATH only, no library path, no payload override."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("LD_LIBRARY_PATH", "CLONECTL_PAYLOADS", "PATH") and not k.startswith("SWIFT")}
    env["PATH"] = SYSTEM_PATH
    env.update(extra)
    return env


@pytest.fixture(scope="session")
def dist(tmp_path_factory):
    given = os.environ.get("CLONECTL_RELEASE_DIST")
    if given and (Path(given) / "release.json").is_file():
        out = Path(given)
    else:
        out = tmp_path_factory.mktemp("dist")
        r = subprocess.run(["bash", str(ROOT / "scripts" / "release.sh"), "--out", str(out)],
                           capture_output=True, text=True, timeout=3600)
        assert r.returncode == 0, r.stderr[-4000:]
        print(r.stderr.strip().splitlines()[-1])  # the build time and the binary's size
    info = json.loads((out / "release.json").read_text())
    return out, info


@pytest.fixture(scope="session")
def unpacked(dist, tmp_path_factory):
    out, info = dist
    where = tmp_path_factory.mktemp("unpacked")
    with tarfile.open(out / info["tarball"]) as tar:
        tar.extractall(where, filter="tar")
    return where / info["tarball"].removesuffix(".tar.gz")


@pytest.fixture(scope="session")
def installed(unpacked, tmp_path_factory):
    prefix = tmp_path_factory.mktemp("prefix") / "opt" / "clonectl"
    r = subprocess.run(["bash", str(unpacked / "install.sh"), "--prefix", str(prefix)],
                       capture_output=True, text=True, env=no_toolchain_env(), timeout=300)
    assert r.returncode == 0, r.stderr
    assert "files match manifest.json" in r.stdout, r.stdout
    return prefix


def head_commit():
    return subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True, text=True,
                          check=True).stdout.strip()


def test_the_sha256_files_match_the_artifacts(dist):
    out, info = dist
    for name in [info["tarball"], info["deb"]]:
        line = (out / f"{name}.sha256").read_text().split()
        assert line[1] == name
        assert line[0] == hashlib.sha256((out / name).read_bytes()).hexdigest()


def test_the_tarball_holds_the_documented_layout(dist):
    out, info = dist
    top = info["tarball"].removesuffix(".tar.gz")
    with tarfile.open(out / info["tarball"]) as tar:
        members = {m.name: m for m in tar.getmembers()}
    for path in ["bin/clonectl", "share/clonectl/ps-scripts/manifest.json", "share/man/man1/clonectl.1",
                 "share/bash-completion/completions/clonectl", "share/zsh/site-functions/_clonectl",
                 "share/fish/vendor_completions.d/clonectl.fish", "README.md", "LICENSE", "install.sh",
                 "share/doc/clonectl/THIRD-PARTY-NOTICES"]:
        assert f"{top}/{path}" in members, path
    # Root-owned, nothing writable by group or others: clonectl refuses payload folders that others can change.
    for m in members.values():
        assert m.uid == 0 and m.gid == 0, m.name
        assert m.mode & 0o022 == 0, f"{m.name} is group- or world-writable ({oct(m.mode)})"
    assert members[f"{top}/bin/clonectl"].mode & 0o111
    # Only the released payload files, nothing else from the checkout (tests, scratch files).
    payload_files = {n for n in members if n.startswith(f"{top}/share/clonectl/ps-scripts/") and members[n].isfile()}
    repo_files = subprocess.run(["git", "-C", str(ROOT), "ls-files", "ps-scripts"], capture_output=True, text=True,
                                check=True).stdout.split()
    assert {n.removeprefix(f"{top}/share/clonectl/") for n in payload_files} == set(repo_files)


def test_the_binary_links_nothing_from_the_toolchain(unpacked):
    libs = subprocess.run(["ldd", str(unpacked / "bin" / "clonectl")], capture_output=True, text=True,
                          env=no_toolchain_env(), check=True).stdout
    assert "not found" not in libs, libs
    assert str(TOOLCHAIN) not in libs, libs
    for runtime in ["libswiftCore", "libFoundation", "lib_FoundationICU", "libdispatch"]:
        assert runtime not in libs, libs
    # What it does need: the distribution's own libraries.
    for system in ["libcurl", "libcrypto", "libsqlite3"]:
        assert system in libs, libs


def test_version_names_the_commit_the_build_date_and_the_payload_set(installed, dist):
    _, info = dist
    r = subprocess.run([str(installed / "bin" / "clonectl"), "--version"], capture_output=True, text=True,
                       env=no_toolchain_env(), timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[0] == f"clonectl {info['version']}"
    assert f"commit: {info['commit']}" in r.stdout
    assert f"built: {info['buildDate']}" in r.stdout
    manifest = (installed / "share" / "clonectl" / "ps-scripts" / "manifest.json").read_bytes()
    assert f"manifest.json sha256 {hashlib.sha256(manifest).hexdigest()}" in r.stdout
    if not os.environ.get("CLONECTL_RELEASE_DIST"):
        assert info["commit"] == head_commit()


def test_version_json_says_which_payloads_are_in_use(installed, dist):
    _, info = dist
    r = subprocess.run([str(installed / "bin" / "clonectl"), "version", "--output", "json"], capture_output=True,
                       text=True, env=no_toolchain_env(), timeout=60)
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["release"] is True and doc["commit"] == info["commit"]
    # The installed binary found its own share folder, and it is the set it shipped with.
    assert doc["payloads"]["path"] == str(installed / "share" / "clonectl" / "ps-scripts")
    assert doc["payloads"]["manifestSHA256"] == doc["shippedPayloadManifestSHA256"] == info["payloadManifestSHA256"]


def test_the_man_page_and_completions_come_from_the_binary(installed):
    man = (installed / "share" / "man" / "man1" / "clonectl.1").read_text()
    assert man.startswith('.\\" "Generated by swift-argument-parser"'), man[:80]
    assert ".Dt CLONECTL 1" in man
    # Every subcommand of the binary has its entry (the list comes from the binary's own help, not from this test).
    help_text = subprocess.run([str(installed / "bin" / "clonectl"), "--help"], capture_output=True, text=True,
                               env=no_toolchain_env(), check=True).stdout
    listed = [line.split()[0] for line in help_text.split("SUBCOMMANDS:")[1].split("\n\n")[0].splitlines()
              if line.startswith("  ") and not line.startswith("   ")]
    assert "run" in listed and "version" in listed, listed
    for sub in listed:
        assert f".It Em {sub}\n" in man, sub
    bash = (installed / "share" / "bash-completion" / "completions" / "clonectl").read_text()
    assert "complete -o filenames -F _clonectl clonectl" in bash or "-F _clonectl clonectl" in bash, bash[-300:]
    zsh = (installed / "share" / "zsh" / "site-functions" / "_clonectl").read_text()
    assert zsh.startswith("#compdef clonectl")
    fish = (installed / "share" / "fish" / "vendor_completions.d" / "clonectl.fish").read_text()
    assert "complete -c 'clonectl'" in fish
    for sub in listed:
        assert sub in bash and sub in zsh and sub in fish, sub


def test_the_installed_binary_ignores_a_checkout_above_it(installed, tmp_path):
    """Copied into a folder under a checkout-like tree without share/, it must not pick up a stray ps-scripts."""
    fake = tmp_path / "trap"
    fake.mkdir()
    # A complete, valid payload folder above the binary: only a search upwards would find it.
    shutil.copytree(installed / "share" / "clonectl" / "ps-scripts", fake / "ps-scripts")
    (fake / "bin").mkdir()
    shutil.copy2(installed / "bin" / "clonectl", fake / "bin" / "clonectl")
    r = subprocess.run([str(fake / "bin" / "clonectl"), "version", "--output", "json"], capture_output=True,
                       text=True, env=no_toolchain_env(), timeout=60)
    assert r.returncode == 0, r.stderr
    payloads = json.loads(r.stdout)["payloads"]
    assert "path" not in payloads and "share/clonectl/ps-scripts" in payloads["error"], payloads


def test_the_deb_declares_the_system_libraries_and_runs_extracted(dist, tmp_path):
    out, info = dist
    deb = out / info["deb"]
    field = lambda name: subprocess.run(["dpkg-deb", "-f", str(deb), name], capture_output=True, text=True,
                                        check=True).stdout.strip()
    assert field("Package") == "clonectl"
    assert field("Version") == info["version"]
    arch = subprocess.run(["dpkg", "--print-architecture"], capture_output=True, text=True, check=True).stdout.strip()
    assert field("Architecture") == arch
    depends = field("Depends")
    for lib in ["libc6", "libcurl4", "libsqlite3-0"]:
        assert lib in depends, depends
    assert "swift" not in depends.lower()
    files = subprocess.run(["dpkg-deb", "-c", str(deb)], capture_output=True, text=True, check=True).stdout
    for path in ["./usr/bin/clonectl", "./usr/share/clonectl/ps-scripts/manifest.json",
                 "./usr/share/man/man1/clonectl.1.gz", "./usr/share/bash-completion/completions/clonectl",
                 "./usr/share/zsh/vendor-completions/_clonectl", "./usr/share/fish/vendor_completions.d/clonectl.fish",
                 "./usr/share/doc/clonectl/copyright"]:
        assert path in files, path
    assert "root/root" in files and " 0/0 " not in files.replace("root/root", "")
    root = tmp_path / "root"
    subprocess.run(["dpkg-deb", "-x", str(deb), str(root)], check=True)
    binary = root / "usr" / "bin" / "clonectl"
    r = subprocess.run([str(binary), "payloads", "verify"], capture_output=True, text=True,
                       env=no_toolchain_env(), timeout=60)
    assert r.returncode == 0, r.stderr
    assert str(root / "usr" / "share" / "clonectl" / "ps-scripts") in r.stdout


def test_the_demo_workflow_runs_from_the_installed_release(installed):
    """The whole procedure on the local AWS, driven by the installed binary with no toolchain reachable."""
    r = subprocess.run(["bash", str(ROOT / "scripts" / "demo.sh")], capture_output=True, text=True, timeout=900,
                       env=no_toolchain_env(CLONECTL_BIN=str(installed / "bin" / "clonectl")))
    assert r.returncode == 0, (r.stdout[-3000:], r.stderr[-3000:])
    assert "Building clonectl" not in r.stdout
    assert "verify" in r.stdout and "Ledger:" in r.stdout


CHROOT_PACKAGES = "libcurl4,libsqlite3-0,libxml2"
CHROOT_CACHE = Path("/var/cache/clonectl-tests")
def system_tool(name):
    found = shutil.which(name, path=SYSTEM_PATH)
    assert found, f"{name} is not installed"
    return found


def debian12_root(where: Path) -> Path:
    """A minimal Debian 12 (debootstrap minbase plus the release's runtime libraries), with no Swift anywhere.

    The bootstrap takes a few minutes and downloads from Debian's archive, so it is kept as a tarball in
    /var/cache/clonectl-tests and unpacked fresh for each run; delete the tarball to bootstrap again.
    """
    tag = hashlib.sha256(f"bookworm minbase {CHROOT_PACKAGES}".encode()).hexdigest()[:12]
    cached = CHROOT_CACHE / f"debian12-minbase-{tag}.tar"
    root = where / "debian12"
    if not cached.is_file():
        if not shutil.which("debootstrap", path=SYSTEM_PATH):
            subprocess.run(["apt-get", "install", "-y", "-qq", "debootstrap"], check=True, capture_output=True,
                           env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
        r = subprocess.run([system_tool("debootstrap"), "--variant=minbase", f"--include={CHROOT_PACKAGES}", "bookworm", str(root),
                            "http://deb.debian.org/debian"], capture_output=True, text=True, timeout=1800)
        assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
        CHROOT_CACHE.mkdir(parents=True, exist_ok=True)
        partial = cached.with_suffix(".partial")
        subprocess.run(["tar", "-C", str(root), "-cf", str(partial), "."], check=True)
        partial.rename(cached)
    else:
        root.mkdir()
        subprocess.run(["tar", "-C", str(root), "-xf", str(cached)], check=True)
    return root


def test_the_release_runs_in_a_debian_12_chroot_without_swift(dist, tmp_path):
    if os.geteuid() != 0:
        pytest.skip("the chroot check needs root (chroot and a /proc mount); CI runs as root")
    out, info = dist
    root = debian12_root(tmp_path)
    assert not (root / "opt" / "swift").exists() and not list((root / "usr" / "lib").glob("**/libswiftCore.so"))
    with tarfile.open(out / info["tarball"]) as tar:
        tar.extractall(root / "opt", filter="tar")
    top = "/opt/" + info["tarball"].removesuffix(".tar.gz")
    # The example plan of the very commit the release was built from.
    plan = subprocess.run(["git", "-C", str(ROOT), "show", f"{info['commit']}:controller/plans/example-app01.yaml"],
                          capture_output=True, check=True).stdout
    (root / "tmp" / "plan.yaml").write_bytes(plan)
    # Swift reads its arguments from /proc/self/cmdline: every real host has /proc.
    subprocess.run([system_tool("mount"), "-t", "proc", "proc", str(root / "proc")], check=True)
    try:
        def in_chroot(*args):
            return subprocess.run([system_tool("chroot"), str(root), f"{top}/bin/clonectl", *args], capture_output=True, text=True,
                                  env={"PATH": "/usr/bin:/bin", "HOME": "/root", "LANG": "C.UTF-8"}, timeout=120)
        r = in_chroot("--version")
        assert r.returncode == 0 and f"commit: {info['commit']}" in r.stdout, (r.stdout, r.stderr)
        r = in_chroot("payloads", "verify")
        assert r.returncode == 0 and f"{top}/share/clonectl/ps-scripts:" in r.stdout, (r.stdout, r.stderr)
        r = in_chroot("plan", "validate", "/tmp/plan.yaml")
        assert r.returncode == 0, (r.stdout, r.stderr)
    finally:
        subprocess.run([system_tool("umount"), str(root / "proc")], check=False)
