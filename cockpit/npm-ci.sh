#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# npm-ci.sh PACKAGE_JSON PACKAGE_LOCK OUTDIR STAMP: installs the page's npm
# dependencies, exactly as locked, into OUTDIR/node_modules (the build dir,
# never the source tree). Only the build needs the npm registry; the
# installed page needs no network.
set -eu
pj=$1 lock=$2 out=$3 stamp=$4
cp "$pj" "$out/package.json"
cp "$lock" "$out/package-lock.json"
(cd "$out" && npm ci --no-audit --no-fund --loglevel=error)
touch "$stamp"
