// Copies each Secret volume under SYNC_FROM (<volume>/<key>, as the kubelet writes it: group-readable when the pod
// has an fsGroup) to SYNC_TO/<volume>/<key> as a 0400 file of this user, which the worker's owner-only check
// accepts; then again every SYNC_INTERVAL_MS whenever the content changed (write + rename, so a reader never sees
// half a file). Runs in the project image with plain Node; never prints a file's content.
import fs from 'node:fs';
import path from 'node:path';

const from = process.env.SYNC_FROM;
const to = process.env.SYNC_TO;
const interval = Number(process.env.SYNC_INTERVAL_MS || '10000');
const visible = (name) => !name.startsWith('.');
function syncOnce() {
  let changed = 0;
  for (const volume of fs.readdirSync(from).filter(visible)) {
    const target = path.join(to, volume);
    fs.mkdirSync(target, { recursive: true, mode: 0o700 });
    for (const key of fs.readdirSync(path.join(from, volume)).filter(visible)) {
      const data = fs.readFileSync(path.join(from, volume, key));
      const file = path.join(target, key);
      let same = false;
      try {
        same = fs.readFileSync(file).equals(data);
      } catch {
        // No copy yet.
      }
      if (same) continue;
      const partial = path.join(target, '.' + key + '.partial');
      fs.rmSync(partial, { force: true });
      fs.writeFileSync(partial, data, { mode: 0o400, flag: 'wx' });
      fs.renameSync(partial, file);
      changed++;
      console.log(JSON.stringify({ level: 'INFO', message: 'secret file copied', file }));
    }
  }
  return changed;
}
function loop() {
  try {
    syncOnce();
  } catch (err) {
    console.error(
      JSON.stringify({ level: 'WARN', message: 'secret files not copied', error: String(err.code || err.message) })
    );
  }
}
syncOnce();
fs.writeFileSync(path.join(to, '.synced'), '');
if (process.env.SYNC_ONCE !== 'true') setInterval(loop, interval);
