// Compares two V8 heap snapshots (.heapsnapshot, from v8.writeHeapSnapshot or
// --heapsnapshot-signal) by constructor: the node count and self size of each, the biggest
// changes first. `node heap_compare.mjs EARLY LATE [TOP]`
import fs from 'node:fs';

function byConstructor(file) {
  const snapshot = JSON.parse(fs.readFileSync(file, 'utf8'));
  const { node_fields: fields, node_types: [types] } = snapshot.snapshot.meta;
  const [typeAt, nameAt, sizeAt] = ['type', 'name', 'self_size'].map((f) => fields.indexOf(f));
  const counts = new Map();
  const { nodes, strings } = snapshot;
  for (let i = 0; i < nodes.length; i += fields.length) {
    const type = types[nodes[i + typeAt]];
    // Strings and code by type (their names are their contents); objects by constructor.
    const key = ['object', 'closure', 'native', 'hidden'].includes(type) ? `${type} ${strings[nodes[i + nameAt]]}` : `(${type})`;
    const entry = counts.get(key) ?? { count: 0, bytes: 0 };
    entry.count++;
    entry.bytes += nodes[i + sizeAt];
    counts.set(key, entry);
  }
  return counts;
}

const [early, late, top = '25'] = process.argv.slice(2);
const [a, b] = [byConstructor(early), byConstructor(late)];
const rows = [...new Set([...a.keys(), ...b.keys()])].map((key) => {
  const [x, y] = [a.get(key) ?? { count: 0, bytes: 0 }, b.get(key) ?? { count: 0, bytes: 0 }];
  return { key, early: x.count, late: y.count, count: y.count - x.count, bytes: y.bytes - x.bytes };
});
rows.sort((r, s) => Math.abs(s.bytes) - Math.abs(r.bytes) || Math.abs(s.count) - Math.abs(r.count));
const total = (m) => [...m.values()].reduce((t, e) => ({ count: t.count + e.count, bytes: t.bytes + e.bytes }), { count: 0, bytes: 0 });
const [ta, tb] = [total(a), total(b)];
console.log(`nodes ${ta.count} -> ${tb.count} (${tb.count - ta.count >= 0 ? '+' : ''}${tb.count - ta.count}), ` +
  `self size ${ta.bytes} -> ${tb.bytes} bytes (${tb.bytes - ta.bytes >= 0 ? '+' : ''}${tb.bytes - ta.bytes})`);
console.log(`${'constructor / type'.padEnd(48)} ${'early'.padStart(8)} ${'late'.padStart(8)} ${'count'.padStart(8)} ${'bytes'.padStart(10)}`);
for (const r of rows.slice(0, Number(top))) {
  const sign = (v) => (v > 0 ? `+${v}` : `${v}`);
  console.log(`${r.key.slice(0, 48).padEnd(48)} ${String(r.early).padStart(8)} ${String(r.late).padStart(8)} ${sign(r.count).padStart(8)} ${sign(r.bytes).padStart(10)}`);
}
