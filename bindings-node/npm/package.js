#!/usr/bin/env node
'use strict';
// Lays out the npm packages (napi-rs' shape), ready for `npm pack`:
//
//   node package.js platform NAME ADDON OUTDIR     @mixerlead/NAME: package.json + mixerlead.NAME.node
//   node package.js main OUTDIR [NAME...]          mixerlead: the JS, the .d.ts, the loader; each
//                                                  @mixerlead/NAME an exact-version optionalDependency
//
// NAME is one of PLATFORMS below; the loader (../loader.js) picks the same names at run time.

const fs = require('node:fs');
const path = require('node:path');

const SOURCE = path.join(__dirname, '..');
const main = JSON.parse(fs.readFileSync(path.join(SOURCE, 'package.json'), 'utf8'));

// npm installs a platform package only where its os, cpu and libc fields match.
const PLATFORMS = {
  'linux-x64-gnu': { os: 'linux', cpu: 'x64', libc: 'glibc', about: 'Linux x64, glibc >= 2.17' },
  'linux-arm64-gnu': { os: 'linux', cpu: 'arm64', libc: 'glibc', about: 'Linux arm64, glibc >= 2.17' },
  'linux-x64-musl': { os: 'linux', cpu: 'x64', libc: 'musl', about: 'Linux x64, musl (Alpine)' },
  'linux-arm64-musl': { os: 'linux', cpu: 'arm64', libc: 'musl', about: 'Linux arm64, musl (Alpine)' },
  'darwin-x64': { os: 'darwin', cpu: 'x64', about: 'macOS x64' },
  'darwin-arm64': { os: 'darwin', cpu: 'arm64', about: 'macOS arm64' },
  'win32-x64-msvc': { os: 'win32', cpu: 'x64', about: 'Windows x64 (MSVC)' },
};

function writeJson(file, value) {
  fs.writeFileSync(file, `${JSON.stringify(value, null, 2)}\n`);
}

function platformPackage(name, addon, outdir) {
  const facts = PLATFORMS[name];
  if (!facts) throw new Error(`unknown platform ${name}: one of ${Object.keys(PLATFORMS).join(', ')}`);
  const file = `mixerlead.${name}.node`;
  fs.mkdirSync(outdir, { recursive: true });
  fs.copyFileSync(addon, path.join(outdir, file));
  writeJson(path.join(outdir, 'package.json'), {
    name: `@mixerlead/${name}`,
    version: main.version,
    description: `The native addon of the mixerlead package for ${facts.about}; installed by mixerlead itself`,
    license: main.license,
    repository: main.repository,
    main: file,
    files: [file],
    os: [facts.os],
    cpu: [facts.cpu],
    ...(facts.libc ? { libc: [facts.libc] } : {}),
    engines: main.engines,
  });
}

function mainPackage(outdir, names) {
  fs.mkdirSync(outdir, { recursive: true });
  for (const file of main.files) fs.copyFileSync(path.join(SOURCE, file), path.join(outdir, file));
  const optionalDependencies = {};
  for (const name of names.sort()) {
    if (!PLATFORMS[name]) throw new Error(`unknown platform ${name}`);
    optionalDependencies[`@mixerlead/${name}`] = main.version;
  }
  writeJson(path.join(outdir, 'package.json'), { ...main, optionalDependencies });
}

const [command, ...args] = process.argv.slice(2);
if (command === 'platform' && args.length === 3) platformPackage(...args);
else if (command === 'main' && args.length >= 1) mainPackage(args[0], args.slice(1));
else {
  console.error('usage: package.js platform NAME ADDON OUTDIR | main OUTDIR [NAME...]');
  process.exit(2);
}
