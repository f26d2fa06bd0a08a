#!/usr/bin/env bash
# Print the path of a Chromium or Google Chrome that is already installed and runs, or
# exit 1 (with the candidates that were rejected on stderr). `.ci/run` passes what this
# prints to the browser tests as CALCML_CHROMIUM (tests/test_browser.py,
# benchmarks/page_weight.py); tests/test_find_chromium.py runs it against fake ones.
#
#   scripts/find_chromium.sh
#
# CALCML_FS_ROOT (for tests only; default: unset, i.e. /) prefixes the fixed paths below,
# so that a test can point the script at a fake file system; PATH is searched as it is.
#
# Order: $CALCML_CHROMIUM when set (an explicit choice: if it does not run, that is an
# error, not a reason to pick another browser), then chromium, chromium-browser,
# google-chrome and google-chrome-stable on PATH, then the fixed install locations.
#
# Where this finds what (nothing here can run GitHub's runners; this is read from
# actions/runner-images, images/ubuntu/scripts/build/install-google-chrome.sh):
# - Debian (the machines CI runs on here): apt's `chromium` puts a shell wrapper at
#   /usr/bin/chromium that execs /usr/lib/chromium/chromium.
# - GitHub's ubuntu-latest: Google Chrome from Google's .deb (/usr/bin/google-chrome ->
#   /opt/google/chrome/google-chrome; CHROME_BIN points there) and a Chromium snapshot
#   unzipped to /usr/local/share/chromium/chrome-linux/chrome, symlinked as
#   /usr/bin/chromium and /usr/bin/chromium-browser. Neither is a dpkg package named
#   `chromium`, which is why .ci/run asks this script before it asks apt.
# - Plain Ubuntu: apt's `chromium-browser` is a transitional package whose
#   /usr/bin/chromium-browser only runs (or asks for) the snap. A snap Chromium cannot be
#   driven by Playwright as root with a private /tmp, so it is rejected: anything that
#   resolves into /snap/ or is a script that mentions /snap/.
# A candidate must also answer `--version` with "Chromium N" or "Chrome N".
set -uo pipefail

root=${CALCML_FS_ROOT:-}
rejected=()

usable() {
  local candidate=$1 real version
  [ -f "$candidate" ] && [ -x "$candidate" ] || { rejected+=("$candidate: not an executable file"); return 1; }
  real=$(readlink -f -- "$candidate")
  case "$real" in
    /snap/* | "$root"/snap/*) rejected+=("$candidate: a snap ($real)"); return 1 ;;
  esac
  # A script (not an ELF binary) that hands over to a snap: Ubuntu's transitional stub.
  if [ "$(head -c 4 -- "$real" | od -An -c | tr -d ' ')" != '177ELF' ] &&
     grep -q '/snap/' -- "$real" 2>/dev/null; then
    rejected+=("$candidate: a script that runs a snap ($real)"); return 1
  fi
  version=$(timeout 30 "$candidate" --version 2>/dev/null) || true
  if [[ ! "$version" =~ (Chromium|Chrome)\ [0-9]+ ]]; then
    rejected+=("$candidate: '--version' printed '${version:-nothing}'"); return 1
  fi
  return 0
}

if [ -n "${CALCML_CHROMIUM:-}" ]; then
  if usable "$CALCML_CHROMIUM"; then
    echo "$CALCML_CHROMIUM"; exit 0
  fi
  echo "find_chromium: CALCML_CHROMIUM=$CALCML_CHROMIUM does not run: ${rejected[*]}" >&2
  exit 1
fi

candidates=()
for name in chromium chromium-browser google-chrome google-chrome-stable; do
  found=$(command -v "$name" 2>/dev/null) && candidates+=("$found")
done
candidates+=("$root/usr/bin/chromium" "$root/usr/bin/chromium-browser"
             "$root/usr/bin/google-chrome" "$root/usr/bin/google-chrome-stable"
             "$root/opt/google/chrome/chrome" "$root/usr/lib/chromium/chromium")

seen=" "
for candidate in "${candidates[@]}"; do
  case "$seen" in *" $candidate "*) continue ;; esac
  seen+="$candidate "
  [ -e "$candidate" ] || continue
  if usable "$candidate"; then
    echo "$candidate"; exit 0
  fi
done

echo "find_chromium: no usable Chromium or Chrome" >&2
for reason in "${rejected[@]}"; do echo "  rejected $reason" >&2; done
exit 1
