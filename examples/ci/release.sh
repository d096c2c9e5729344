#!/usr/bin/env bash
# CI step for a model package: validate, then release and wait for the verdict.
# Usage: examples/ci/release.sh <package-dir> [--version V]
#
# Exit codes are paved's, so the job fails for the right reason:
#   0 released          the version serves 100 % behind the gateway
#   2 stopped by a gate  validate, bind, shadow or bias said no; the line says why
#   3 rejected/expired   a reviewer said no, or nobody answered before the deadline
#   4 rolled back        the canary breached against stable (or an operator aborted)
#   1 anything else      paved could not run the release (Temporal, Docker, ...): retry
# In GitHub Actions the verdict is also an annotation (::error:: / ::notice::).
set -uo pipefail

dir="${1:?usage: release.sh <package-dir> [--version V]}"
shift
paved=(npx --no-install paved)

annotate() { # level, message
  if [ -n "${GITHUB_ACTIONS:-}" ]; then echo "::$1::$2"; else echo "$1: $2"; fi
}

"${paved[@]}" validate "$dir"
code=$?
if [ "$code" -ne 0 ]; then
  [ "$code" -eq 2 ] && annotate error "paved validate refused $dir; fix the findings above before releasing"
  [ "$code" -ne 2 ] && annotate error "paved validate could not run (exit $code)"
  exit "$code"
fi

verdict="$("${paved[@]}" release "$dir" --wait "$@")"
code=$?
printf '%s\n' "$verdict"
line="$(printf '%s' "$verdict" | tail -n 1)"
case "$code" in
  0) annotate notice "$line" ;;
  2) annotate error "stopped by a gate: $line" ;;
  3) annotate error "rejected or expired in review: $line" ;;
  4) annotate error "rolled back: $line" ;;
  *) annotate error "paved could not finish the release (exit $code); it is safe to retry: the same content attaches to the same release" ;;
esac
exit "$code"
