// Shared by the Node suites: an emulator process per test file, scripted through its base URL.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { randomUUID } from 'node:crypto';

export const KEY = 'ml_test_nodesecretkey_X8p3';

export async function startEmulator() {
  const binary = process.env.MIXERLEAD_EMULATOR;
  if (!binary) throw new Error('MIXERLEAD_EMULATOR must name the emulator binary');
  const child = spawn(binary, ['--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  let line = '';
  for await (const chunk of child.stdout) {
    line += chunk;
    if (line.includes('\n')) break;
  }
  const baseUrl = line.trim().split(' ').pop();
  const root = baseUrl.slice(0, -'/api'.length);
  return {
    baseUrl,
    url: (script) => (script ? `${root}/s/${script}/api` : baseUrl),
    async stats(id) {
      const response = await fetch(`${root}/_emulator/stats?id=${id}`);
      return response.json();
    },
    async waitDisconnects(id, count = 1, within = 1000) {
      const deadline = Date.now() + within;
      let stats = await this.stats(id);
      while (stats.client_disconnects < count && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 10));
        stats = await this.stats(id);
      }
      return stats.client_disconnects;
    },
    async stop() {
      child.kill();
      await once(child, 'exit');
    },
  };
}

export const sid = () => 'n' + randomUUID().slice(0, 8);

export function generated(n) {
  let text = '';
  for (let i = 0; i < n; i++) text += i % 20 === 19 ? `é${i} ` : `w${i} `;
  return text;
}

export const REPLY_START = 'Hello! You said: \u201c';
