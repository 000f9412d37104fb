#!/usr/bin/env bash
# Install the Debian/Ubuntu packages Vox needs, only those missing (fast when all present).
#   run:  PortAudio for the speakers, the Qt/X libraries the pywebview window needs.
#   test: Chromium (Playwright drives it), PulseAudio (null sink), Xvfb + xdotool, ImageMagick.
set -euo pipefail
run_pkgs=(libportaudio2 libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-image0 libxcb-render-util0
          libxcb-xinerama0 libxcb-xkb1 libxkbcommon-x11-0 libegl1 libgl1 libnss3 libxcomposite1 libxdamage1
          libxrandr2 libxtst6 libxkbfile1 libasound2 libdbus-1-3 python3-venv
          libxcb-randr0 libxcb-shape0 libxcb-sync1 libxcb-xfixes0 libxcb-shm0 libxcb-util1 libx11-xcb1
          libxkbcommon0 libgbm1 libdrm2 libfontconfig1 libglib2.0-0 fonts-dejavu-core)
test_pkgs=(chromium pulseaudio pulseaudio-utils libasound2-plugins xvfb xdotool imagemagick x11-utils)
want=("${run_pkgs[@]}")
[ "${1:-run}" = test ] && want+=("${test_pkgs[@]}")
missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if ! command -v apt-get >/dev/null; then
  echo "Vox: please install these system packages with your package manager: ${missing[*]}" >&2
  exit 0
fi
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
echo "Vox: installing system packages: ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
