#!/usr/bin/env bash
# Installs clonectl under a prefix (default /usr/local):
#   PREFIX/bin/clonectl, PREFIX/share/clonectl/ps-scripts, the man page and the bash, zsh and fish completions,
# then runs `clonectl payloads verify` from the installed place.
#
#   ./install.sh [--prefix DIR]            from an unpacked release tarball (this script sits at its top)
#   scripts/install.sh [--prefix DIR]      from a source checkout: builds the release first (scripts/release.sh)
#
# Installing again replaces the binary and the payload folder (released payload versions are kept by every release,
# so runs recorded earlier stay reproducible).
set -euo pipefail
prefix=/usr/local
while (($#)); do
    case "$1" in
        --prefix) prefix=${2:?--prefix needs a folder}; shift 2 ;;
        --prefix=*) prefix=${1#--prefix=}; shift ;;
        -h|--help) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "install: unknown option '$1' (usage: install.sh [--prefix DIR])" >&2; exit 64 ;;
    esac
done
log() { printf 'install: %s\n' "$*" >&2; }
die() { printf 'install: %s\n' "$*" >&2; exit 1; }

here=$(cd "$(dirname "$0")" && pwd)
if [ -x "$here/bin/clonectl" ] && [ -f "$here/share/clonectl/ps-scripts/manifest.json" ]; then
    from=$here                                    # an unpacked tarball
elif [ -f "$here/../Package.swift" ] && [ -x "$here/release.sh" ]; then
    log "building a release from the checkout (scripts/release.sh)"
    tarball=$(bash "$here/release.sh" --no-deb | head -1)
    from=$(dirname "$here")/.build-release/$(basename "$tarball" .tar.gz)
    [ -x "$from/bin/clonectl" ] || die "release.sh did not leave $from/bin/clonectl"
else
    die "run this from an unpacked clonectl release (it holds bin/clonectl) or from a source checkout (scripts/)"
fi

case "$prefix" in /*) ;; *) prefix="$(pwd)/$prefix" ;; esac
# Group- or world-writable install folders would let another user swap the payloads (clonectl refuses them).
umask 022
log "installing $("$from/bin/clonectl" --version | head -1) into $prefix"
install -d "$prefix/bin" "$prefix/share/clonectl" "$prefix/share/man/man1" \
    "$prefix/share/bash-completion/completions" "$prefix/share/zsh/site-functions" \
    "$prefix/share/fish/vendor_completions.d" "$prefix/share/doc/clonectl"
install -m 0755 "$from/bin/clonectl" "$prefix/bin/clonectl.new" && mv -f "$prefix/bin/clonectl.new" "$prefix/bin/clonectl"
rm -rf "$prefix/share/clonectl/ps-scripts.new"
cp -R "$from/share/clonectl/ps-scripts" "$prefix/share/clonectl/ps-scripts.new"
chmod -R u=rwX,go=rX "$prefix/share/clonectl/ps-scripts.new"
rm -rf "$prefix/share/clonectl/ps-scripts"
mv "$prefix/share/clonectl/ps-scripts.new" "$prefix/share/clonectl/ps-scripts"
install -m 0644 "$from/share/man/man1/clonectl.1" "$prefix/share/man/man1/clonectl.1"
install -m 0644 "$from/share/bash-completion/completions/clonectl" "$prefix/share/bash-completion/completions/clonectl"
install -m 0644 "$from/share/zsh/site-functions/_clonectl" "$prefix/share/zsh/site-functions/_clonectl"
install -m 0644 "$from/share/fish/vendor_completions.d/clonectl.fish" "$prefix/share/fish/vendor_completions.d/clonectl.fish"
install -m 0644 "$from/share/doc/clonectl/THIRD-PARTY-NOTICES" "$prefix/share/doc/clonectl/THIRD-PARTY-NOTICES"
[ -f "$from/LICENSE" ] && install -m 0644 "$from/LICENSE" "$prefix/share/doc/clonectl/LICENSE"

# The installed binary must find the installed payloads (never a checkout's or $CLONECTL_PAYLOADS).
env -u CLONECTL_PAYLOADS "$prefix/bin/clonectl" payloads verify \
    || die "payloads verify failed for $prefix/share/clonectl/ps-scripts"
log "done: $prefix/bin/clonectl (man clonectl; completions for bash, zsh and fish installed)"
