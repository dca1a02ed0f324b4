#!/usr/bin/env bash
# Builds a clonectl release that a controller host can run without the Swift toolchain:
#   dist/clonectl-VERSION-linux-ARCH.tar.gz (+ .sha256) and dist/clonectl_VERSION_DEBARCH.deb (+ .sha256).
#
# The binary links the Swift runtime and Foundation statically (--static-swift-stdlib); what it still needs are the
# distribution's own libcurl, OpenSSL, SQLite, zlib and libxml2, and the script refuses a binary that links anything
# from the toolchain's folder. It builds from `git archive` of a commit (HEAD by default), never from the working
# tree, and stamps that commit, the build date and the payload set (SHA-256 of ps-scripts/manifest.json) into the
# binary (Sources/ClonectlCLI/BuildInfo.swift). The man page and the shell completions come from
# swift-argument-parser's own generators run on the built binary.
#
#   scripts/release.sh [--out DIR] [--commit REV] [--no-deb]
#
# SOURCE_DATE_EPOCH, when set, fixes the build date and the archive timestamps. Prints the build time and the
# binary's size, and writes DIR/release.json with them.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
out="$repo/dist"
rev=HEAD
deb=1
while (($#)); do
    case "$1" in
        --out) out=$2; shift 2 ;;
        --commit) rev=$2; shift 2 ;;
        --no-deb) deb=0; shift ;;
        -h|--help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "release: unknown option '$1' (see --help)" >&2; exit 64 ;;
    esac
done
log() { printf 'release: %s\n' "$*" >&2; }
die() { printf 'release: %s\n' "$*" >&2; exit 1; }

command -v swift >/dev/null || die "swift is not on PATH: the release is built with Swift 6 (see swift.org)"
need=()
command -v dpkg-shlibdeps >/dev/null || need+=(dpkg-dev)
dpkg-query -W -f='${Status}' libcurl4-openssl-dev 2>/dev/null | grep -q "install ok installed" || need+=(libcurl4-openssl-dev)
if ((${#need[@]})); then
    sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
    log "installing Debian packages: ${need[*]}"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >/dev/null
fi

commit=$(git -C "$repo" rev-parse --verify "$rev^{commit}") || die "'$rev' is not a commit of $repo"
if [ "$rev" = HEAD ] && [ -n "$(git -C "$repo" status --porcelain --untracked-files=no)" ]; then
    log "warning: the working tree has uncommitted changes; the release is built from commit $commit without them"
fi
epoch=${SOURCE_DATE_EPOCH:-$(date +%s)}
build_date=$(date -u -d "@$epoch" +%Y-%m-%dT%H:%M:%SZ)
arch=$(uname -m)
deb_arch=$(dpkg --print-architecture)

# A stable staging path, so that a second release reuses the scratch folder's compiled dependencies.
work="$repo/.build-release"
stage="$work/src"
rm -rf "$stage" && mkdir -p "$stage"
git -C "$repo" archive "$commit" | tar -x -C "$stage"
version=$(sed -n 's/^ *public static let version = "\(.*\)"$/\1/p' "$stage/Sources/ClonectlCLI/BuildInfo.swift")
[ -n "$version" ] || die "no version found in Sources/ClonectlCLI/BuildInfo.swift at $commit"
manifest_sha=$(sha256sum "$stage/ps-scripts/manifest.json" | cut -d' ' -f1)

# Stamp the staged copy; a stamp that did not take would give a release that cannot say what it is.
info="$stage/Sources/ClonectlCLI/BuildInfo.swift"
sed -i -e "s|^\( *public static let commit = \)\".*\"$|\1\"$commit\"|" \
       -e "s|^\( *public static let buildDate = \)\".*\"$|\1\"$build_date\"|" \
       -e "s|^\( *public static let payloadManifestSHA256 = \)\".*\"$|\1\"$manifest_sha\"|" "$info"
for want in "$commit" "$build_date" "$manifest_sha"; do
    grep -q "\"$want\"" "$info" || die "could not stamp $want into BuildInfo.swift (its layout changed?)"
done

# The man page first: swift-argument-parser's generate-manual plugin builds the package in release mode (dynamically
# linked) and reads the tool's own help; the static link below then replaces that binary.
log "generating the man page (swift-argument-parser's generate-manual plugin)"
start=$(date +%s)
mandir="$work/build/plugins/GenerateManual/outputs/clonectl"
rm -rf "$mandir"
swift package --package-path "$stage" --scratch-path "$work/build" generate-manual \
    --date "$(date -u -d "@$epoch" +%Y-%m-%d)" >"$work/build.log" 2>&1 \
    || { tail -50 "$work/build.log" >&2; die "generate-manual failed (whole log: $work/build.log)"; }
[ -s "$mandir/clonectl.1" ] || die "generate-manual wrote no $mandir/clonectl.1"

log "building clonectl $version ($commit) for linux-$arch with the Swift runtime linked statically"
swift build -c release --static-swift-stdlib --product clonectl \
    --package-path "$stage" --scratch-path "$work/build" >>"$work/build.log" 2>&1 \
    || { tail -50 "$work/build.log" >&2; die "release build failed (whole log: $work/build.log)"; }
build_seconds=$(( $(date +%s) - start ))
bin="$work/build/release/clonectl"
strip "$bin" 2>/dev/null || true

# No library may come from the toolchain: the host that runs this has no Swift.
toolchain=$(dirname "$(dirname "$(readlink -f "$(command -v swift)")")")
libs=$(ldd "$bin")
if grep -q "not found" <<<"$libs"; then die "the binary needs libraries this machine lacks:
$libs"; fi
if grep -qF "$toolchain" <<<"$libs" || grep -qE 'libswift|libFoundation|lib_Foundation|libdispatch|libBlocksRuntime' <<<"$libs"; then
    die "the binary still links the Swift toolchain's libraries ($toolchain):
$libs"
fi
"$bin" --version | grep -qF "$commit" || die "the built binary does not report commit $commit"
# The newest glibc symbol version it needs decides the oldest host it starts on (a host with an older glibc says
# "version GLIBC_2.xx not found").
glibc=$(objdump -T "$bin" | grep -o 'GLIBC_2\.[0-9]*' | sort -uV | tail -1)

name="clonectl-$version-linux-$arch"
root="$work/$name"
rm -rf "$root"
install -d "$root/bin" "$root/share/clonectl" "$root/share/man/man1" "$root/share/bash-completion/completions" \
    "$root/share/zsh/site-functions" "$root/share/fish/vendor_completions.d" "$root/share/doc/clonectl"
install -m 0755 "$bin" "$root/bin/clonectl"
cp -R "$stage/ps-scripts" "$root/share/clonectl/ps-scripts"
install -m 0644 "$mandir/clonectl.1" "$root/share/man/man1/clonectl.1"
"$bin" --generate-completion-script bash >"$root/share/bash-completion/completions/clonectl"
"$bin" --generate-completion-script zsh >"$root/share/zsh/site-functions/_clonectl"
"$bin" --generate-completion-script fish >"$root/share/fish/vendor_completions.d/clonectl.fish"
install -m 0644 "$stage/README.md" "$root/README.md"
install -m 0644 "$stage/LICENSE" "$root/LICENSE"
install -m 0755 "$stage/scripts/install.sh" "$root/install.sh"
# What the static binary carries from other projects, with their licences.
{
    echo "clonectl $version links these packages statically; their licences follow."
    for dir in "$work/build/checkouts"/*/; do
        lic=$(ls "$dir" | grep -iE '^(LICENSE|LICENCE|COPYING)' | head -1) || true
        [ -n "$lic" ] || continue
        printf '\n==== %s ====\n\n' "$(basename "$dir")"
        cat "$dir/$lic"
    done
    printf '\n==== Swift runtime, standard library and Foundation ====\n\n'
    echo "Apache License 2.0 with Runtime Library Exception (https://swift.org/LICENSE.txt)."
} >"$root/share/doc/clonectl/THIRD-PARTY-NOTICES"
chmod -R u=rwX,go=rX "$root"

mkdir -p "$out"
tar_opts=(--sort=name --owner=0 --group=0 --numeric-owner --mtime="@$epoch")
tar -C "$work" "${tar_opts[@]}" -cf - "$name" | gzip -9n >"$out/$name.tar.gz"
(cd "$out" && sha256sum "$name.tar.gz" >"$name.tar.gz.sha256")

if ((deb)); then
    # The .deb installs under /usr; the binary then finds /usr/share/clonectl/ps-scripts beside it.
    pkg="$work/deb" && rm -rf "$pkg"
    install -d "$pkg/DEBIAN" "$pkg/usr/bin" "$pkg/usr/share/clonectl" "$pkg/usr/share/man/man1" \
        "$pkg/usr/share/bash-completion/completions" "$pkg/usr/share/zsh/vendor-completions" \
        "$pkg/usr/share/fish/vendor_completions.d" "$pkg/usr/share/doc/clonectl"
    install -m 0755 "$root/bin/clonectl" "$pkg/usr/bin/clonectl"
    cp -R "$root/share/clonectl/ps-scripts" "$pkg/usr/share/clonectl/ps-scripts"
    gzip -9n <"$root/share/man/man1/clonectl.1" >"$pkg/usr/share/man/man1/clonectl.1.gz"
    cp "$root/share/bash-completion/completions/clonectl" "$pkg/usr/share/bash-completion/completions/"
    cp "$root/share/zsh/site-functions/_clonectl" "$pkg/usr/share/zsh/vendor-completions/"
    cp "$root/share/fish/vendor_completions.d/clonectl.fish" "$pkg/usr/share/fish/vendor_completions.d/"
    cp "$root/LICENSE" "$pkg/usr/share/doc/clonectl/copyright"
    cp "$root/share/doc/clonectl/THIRD-PARTY-NOTICES" "$pkg/usr/share/doc/clonectl/"
    # Depends computed from the binary's own dynamic symbols, as Debian's tooling does.
    shl="$work/shlibdeps" && rm -rf "$shl" && mkdir -p "$shl/debian"
    printf 'Source: clonectl\n\nPackage: clonectl\nArchitecture: any\n' >"$shl/debian/control"
    depends=$(cd "$shl" && dpkg-shlibdeps -O -e"$pkg/usr/bin/clonectl" 2>/dev/null | sed -n 's/^shlibs:Depends=//p')
    [ -n "$depends" ] || die "dpkg-shlibdeps found no dependencies for the binary"
    installed_kb=$(du -sk "$pkg/usr" | cut -f1)
    cat >"$pkg/DEBIAN/control" <<CONTROL
Package: clonectl
Version: $version
Architecture: $deb_arch
Maintainer: clonectl maintainers <clonectl@localhost>
Installed-Size: $installed_kb
Depends: $depends
Section: admin
Priority: optional
Homepage: https://github.com/clonectl/clonectl
Description: clone running Windows EC2 servers through Sysprep and SSM Run Command
 clonectl drives the whole procedure of turning a live Windows server on EC2 into a
 master image and launching configured clones through AWS APIs: SSM Run Command for
 every guest step, EC2 for stopping, imaging and launching. It keeps a durable ledger,
 resumes after a crash and verifies every guest result. Built from commit $commit.
CONTROL
    chmod -R u=rwX,go=rX "$pkg"
    debfile="clonectl_${version}_${deb_arch}.deb"
    SOURCE_DATE_EPOCH=$epoch dpkg-deb --root-owner-group --build "$pkg" "$out/$debfile" >/dev/null
    (cd "$out" && sha256sum "$debfile" >"$debfile.sha256")
fi

size=$(stat -c %s "$root/bin/clonectl")
cat >"$out/release.json" <<JSON
{"version": "$version", "commit": "$commit", "buildDate": "$build_date", "arch": "$arch",
 "payloadManifestSHA256": "$manifest_sha", "tarball": "$name.tar.gz", "deb": $( ((deb)) && echo "\"$debfile\"" || echo null),
 "buildSeconds": $build_seconds, "binaryBytes": $size, "glibcMinimum": "${glibc#GLIBC_}"}
JSON
awk -v v="$version" -v c="${commit:0:12}" -v t="$build_seconds" -v s="$size" -v g="${glibc#GLIBC_}" \
    'BEGIN { printf "release: clonectl %s (%s), built in %d s, binary %d bytes (%.1f MiB, stripped), needs glibc >= %s\n", v, c, t, s, s / 1048576, g }' >&2
echo "$out/$name.tar.gz"
((deb)) && echo "$out/$debfile"
exit 0
