#!/bin/sh
# Refresh headers/CL from Debian's opencl-c-headers package, unmodified.
# Afterwards: python3 tools/generate.py, then review and commit both.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
apt-get download opencl-c-headers
dpkg -x opencl-c-headers_*.deb unpacked
rm -f "$root"/headers/CL/*.h
cp unpacked/usr/include/CL/*.h "$root/headers/CL/"
cp unpacked/usr/share/doc/opencl-c-headers/copyright "$root/headers/COPYRIGHT.debian"
version=$(dpkg-deb -f opencl-c-headers_*.deb Version)
echo "headers/CL now holds opencl-c-headers $version; update headers/README.md if it changed."
