import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { writeWorkflowBundle } from './temporal/workflow-bundle';

/**
 * `npm run build:workflow-bundle [-- --out FILE]`: prebuilds the workflow bundle a worker loads through
 * `WORKER_WORKFLOW_BUNDLE` (default `dist/workflow-bundle.js`; `npm run build` makes it too).
 */
const USAGE =
  'Usage: build-workflow-bundle [--out FILE] [--encode-failures]   (default: dist/workflow-bundle.js)\n' +
  '  --encode-failures  for workers with PAYLOAD_ENCRYPTION_KEYS: workflow failure messages are encoded too';

async function main(): Promise<void> {
  let out: string;
  let encodeFailures: boolean;
  try {
    const { values } = parseArgs({
      args: process.argv.slice(2),
      options: {
        out: { type: 'string' },
        'encode-failures': { type: 'boolean', default: false },
        help: { type: 'boolean', default: false },
      },
      strict: true,
      allowPositionals: false,
    });
    if (values.help) {
      console.log(USAGE);
      return;
    }
    if (values.out !== undefined && values.out.trim() === '') throw new Error('--out must be a file path');
    encodeFailures = values['encode-failures'];
    out = resolve(values.out ?? resolve(__dirname, '..', 'dist', 'workflow-bundle.js'));
  } catch (err) {
    console.error(`${err instanceof Error ? err.message : String(err)}\n${USAGE}`);
    process.exitCode = 64; // EX_USAGE
    return;
  }
  const { bytes } = await writeWorkflowBundle(out, { encodeFailures });
  console.log(`Wrote the workflow bundle (${(bytes / 1024).toFixed(0)} KiB) to ${out}`);
}

main().catch((err: unknown) => {
  console.error(`Could not build the workflow bundle: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
});
