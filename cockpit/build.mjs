#!/usr/bin/env node
// SPDX-License-Identifier: Apache-2.0
// Bundles the Secrets page (src/) into a Cockpit package directory:
// index.html, manifest.json, index.js, index.css and the fonts PatternFly
// needs, so nothing is fetched at run time.
//
//   node build.mjs --outdir DIR [--modules DIR/node_modules] [--dev]
//
// --modules is where `npm ci` put the dependencies (meson keeps them in the
// build dir, never in the source tree).

import fs from "node:fs";
import path from "node:path";
import process from "node:process";
import zlib from "node:zlib";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const opt = (name, def) => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : def;
};
const outdir = path.resolve(opt("--outdir", path.join(here, "dist")));
const modules = path.resolve(opt("--modules", path.join(here, "node_modules")));
const production = !args.includes("--dev");

const require = createRequire(path.join(modules, "noop.js"));
const esbuild = require("esbuild");

fs.rmSync(outdir, { recursive: true, force: true });
fs.mkdirSync(outdir, { recursive: true });

const result = await esbuild.build({
    entryPoints: [path.join(here, "src/index.jsx")],
    bundle: true,
    outdir,
    entryNames: "index",
    assetNames: "assets/[name]",
    nodePaths: [modules],
    loader: { ".js": "jsx", ".woff2": "file", ".woff": "file", ".svg": "file", ".png": "file", ".jpg": "file" },
    jsx: "automatic",
    define: { "process.env.NODE_ENV": JSON.stringify(production ? "production" : "development") },
    minify: production,
    sourcemap: production ? false : "linked",
    legalComments: "external",
    target: ["es2020"],
    logLevel: "warning",
    metafile: true,
});

for (const f of ["index.html", "manifest.json"])
    fs.copyFileSync(path.join(here, "src", f), path.join(outdir, f));

// cockpit-bridge serves FILE.gz for FILE with Content-Encoding: gzip (as
// Cockpit's own packages ship): the stylesheet shrinks about tenfold.
if (production)
    for (const f of ["index.js", "index.css"]) {
        const file = path.join(outdir, f);
        fs.writeFileSync(file + ".gz", zlib.gzipSync(fs.readFileSync(file), { level: 9 }));
        fs.unlinkSync(file);
    }

const bytes = fs.readdirSync(outdir, { recursive: true })
        .map(f => fs.statSync(path.join(outdir, f)))
        .reduce((n, st) => n + (st.isFile() ? st.size : 0), 0);
console.log(`built ${outdir} (${Math.round(bytes / 1024)} KiB, ${Object.keys(result.metafile.outputs).length} outputs)`);
