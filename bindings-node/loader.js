'use strict';
// Finds and loads the native addon, once (require caches it): a `mixerlead.node` beside this file
// (a development build) if there is one, else the platform package that npm installed through
// the main package's optionalDependencies (@mixerlead/<platform>).

const fs = require('node:fs');
const path = require('node:path');

const LOCAL = path.join(__dirname, 'mixerlead.node');

/** 'musl' or 'glibc' on Linux. */
function linuxLibc() {
  // ldd is a script naming its C library: one small read, where Node's report takes ~15 ms.
  try {
    const ldd = fs.readFileSync('/usr/bin/ldd', 'latin1');
    if (ldd.includes('musl')) return 'musl';
    if (ldd.includes('GNU C Library') || ldd.includes('GLIBC')) return 'glibc';
  } catch {
    // No ldd (a slim image): ask Node, below.
  }
  const report = process.report && typeof process.report.getReport === 'function' ? process.report.getReport() : null;
  return report && report.header && report.header.glibcVersionRuntime ? 'glibc' : 'musl';
}

/** The platform package's name here (@mixerlead/<name>), or null when none is built for it. */
function platformPackage() {
  const { platform, arch } = process;
  if (platform === 'linux' && (arch === 'x64' || arch === 'arm64')) {
    return `linux-${arch}-${linuxLibc() === 'musl' ? 'musl' : 'gnu'}`;
  }
  if (platform === 'darwin' && (arch === 'x64' || arch === 'arm64')) return `darwin-${arch}`;
  if (platform === 'win32' && arch === 'x64') return 'win32-x64-msvc';
  return null;
}

/** Whether `error` says that `request` itself is missing (not something it needs in turn). */
function isMissing(error, request) {
  return error && error.code === 'MODULE_NOT_FOUND' && String(error.message).includes(`'${request}'`);
}

function describePlatform() {
  const libc = process.platform === 'linux' ? `, ${linuxLibc()}` : '';
  return `${process.platform}-${process.arch}${libc}`;
}

function load() {
  if (fs.existsSync(LOCAL)) return require(LOCAL);
  const name = platformPackage();
  const here = describePlatform();
  if (name === null) {
    throw new Error(
      `mixerlead: no native addon is built for this platform (${here}); packages exist for ` +
        'linux-x64-gnu, linux-arm64-gnu, linux-x64-musl, linux-arm64-musl, darwin-x64, darwin-arm64, win32-x64-msvc',
    );
  }
  const request = `@mixerlead/${name}`;
  let cause;
  try {
    return require(request);
  } catch (error) {
    cause = error;
  }
  // Missing, or present but unloadable (e.g. a glibc older than 2.17).
  const missing = isMissing(cause, request);
  const error = new Error(
    missing
      ? `mixerlead: the native addon for ${here} is missing: the package ${request} is not installed. ` +
          'npm installs it with mixerlead as an optional dependency; reinstall without --omit=optional ' +
          `(or \`npm install ${request}\`). Cause: ${cause.message.split('\n')[0]}`
      : `mixerlead: the native addon for ${here} (${request}) failed to load: ${cause.message}`,
    { cause },
  );
  error.code = missing ? 'MIXERLEAD_ADDON_MISSING' : 'MIXERLEAD_ADDON_LOAD_FAILED';
  throw error;
}

module.exports = load();
