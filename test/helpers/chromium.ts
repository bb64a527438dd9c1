import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/**
 * Where a Chromium binary is: `CHROMIUM_PATH`, else the first of chromium / chromium-browser / google-chrome on
 * PATH (Debian's `chromium` package, which `scripts/ensure-chromium.sh` installs for the test command).
 * Undefined when there is none.
 */
export function resolveChromium(): string | undefined {
  const explicit = process.env.CHROMIUM_PATH?.trim();
  if (explicit) return explicit;
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    for (const name of ['chromium', 'chromium-browser', 'google-chrome-stable', 'google-chrome']) {
      const candidate = join(dir, name);
      try {
        accessSync(candidate, constants.X_OK);
        return candidate;
      } catch {
        // not here
      }
    }
  }
  return undefined;
}
