import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { bundleWorkflowCode, type Logger } from '@temporalio/worker';
import { encodingFailureConverterPath } from '../codec/data-converter';

/**
 * The module the worker registers its workflows from (`src/workflows` under tsx, `dist/workflows` when built);
 * resolved on use, since test runners that transform modules cannot resolve it at import.
 */
export function workflowsPath(): string {
  return require.resolve('../workflows');
}

/**
 * Bundles this project's workflows, as `Worker.create({ workflowsPath })` would at every start, and writes the
 * code to `outFile` (atomically, so a worker never loads half a file). A worker given it through
 * `WORKER_WORKFLOW_BUNDLE` skips webpack at start: it is ready sooner and does not keep webpack's memory.
 * Build it from the same source as the worker that loads it, as the Docker image does.
 */
export async function writeWorkflowBundle(
  outFile: string,
  options: { logger?: Logger; encodeFailures?: boolean } = {}
): Promise<{ bytes: number }> {
  const { code } = await bundleWorkflowCode({
    workflowsPath: workflowsPath(),
    ...(options.logger ? { logger: options.logger } : {}),
    // With payload encryption, the workflows' own failures must be encoded too (failure-converter.ts).
    ...(options.encodeFailures ? { failureConverterPath: encodingFailureConverterPath() } : {}),
  });
  await mkdir(dirname(outFile), { recursive: true });
  const tmp = `${outFile}.${process.pid}.tmp`;
  await writeFile(tmp, code);
  await rename(tmp, outFile);
  return { bytes: Buffer.byteLength(code) };
}
