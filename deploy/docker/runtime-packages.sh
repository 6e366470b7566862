#!/usr/bin/env bash
# Prints, one per line, the Debian packages holding the shared libraries
# that BINARY... load: what the runtime image must install. The Dockerfile
# runs it in its build stage; tests run it on the built binaries.
#
# usage: runtime-packages.sh BINARY...
set -euo pipefail
missing=$(ldd "$@" | grep "not found" || true)
if [[ -n $missing ]]; then
  echo "runtime-packages: unresolved libraries:" >&2
  echo "$missing" >&2
  exit 1
fi
mapfile -t libs < <(ldd "$@" | awk '/=> \//{print $3}' | sort -u)
# With merged /usr, dpkg may know a file under /lib or under /usr/lib: ask
# for both, in one call (each dpkg -S reads the whole file database).
candidates=()
for lib in "${libs[@]}"; do candidates+=("$lib" "/usr${lib#/usr}" "${lib#/usr}"); done
owners=$(dpkg -S "${candidates[@]}" 2>/dev/null || true)  # "pkg:arch: /path" per hit
for lib in "${libs[@]}"; do
  owner=$(awk -v a="$lib" -v b="/usr${lib#/usr}" -v c="${lib#/usr}" \
    '{path=$NF} path==a || path==b || path==c {print $1; exit}' <<<"$owners")
  if [[ -z $owner ]]; then
    echo "runtime-packages: no Debian package holds $lib" >&2
    exit 1
  fi
  owner=${owner%:}
  echo "${owner%%:*}"
done | sort -u
