#!/usr/bin/env bash
# Install the system libraries that WeasyPrint (PDF export) needs, only if missing:
# pango (text layout) and DejaVu fonts (Cyrillic and Kazakh letters).
# Uses apt-get when run as root on Debian/Ubuntu; otherwise says what to install.
set -euo pipefail
need=()
ldconfig -p 2>/dev/null | grep -q 'libpango-1.0.so' || need+=(libpango-1.0-0)
ldconfig -p 2>/dev/null | grep -q 'libpangoft2-1.0.so' || need+=(libpangoft2-1.0-0)
ldconfig -p 2>/dev/null | grep -q 'libharfbuzz-subset.so' || need+=(libharfbuzz-subset0)
{ command -v fc-list >/dev/null && fc-list 2>/dev/null | grep -qi 'DejaVu Sans'; } || need+=(fontconfig fonts-dejavu-core)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "Installing system packages for PDF export: ${need[*]}"
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
else
  echo "PDF export needs these system packages: ${need[*]} (install them with your package manager)" >&2
  exit 1
fi
