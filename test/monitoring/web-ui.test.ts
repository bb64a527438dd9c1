import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, describe, expect, inject, it, onTestFailed } from 'vitest';
import { startExport, waitForExport } from '../../src/client';
import { exportStaticSummary } from '../../src/shared/observability/ui-text';
import { resolveChromium } from '../helpers/chromium';
import { useExportSuite } from '../helpers/export-harness';

const ARTIFACTS = resolve(__dirname, '../../test-artifacts');
const executablePath = resolveChromium();
if (!executablePath) {
  const message = '[web-ui] no Chromium found (set CHROMIUM_PATH or install Debian chromium): browser test skipped';
  // The test command installs it; in CI a missing browser is a failure, not a skip.
  if (process.env.CI) throw new Error(message);
  console.warn(message);
}

const suite = useExportSuite();
let browser: Browser | undefined;
afterAll(async () => {
  await browser?.close();
});

describe.skipIf(!executablePath)('the Temporal Web UI', () => {
  it('shows a finished export with its summary, details and search attributes', async () => {
    const { h, temporal, atlas } = suite;
    const snapshotId = h.freshSnapshot();
    atlas.sim.setExportPlan({ queuedMs: 60_000, inProgressMs: 300_000, totalCollections: 7 }, { snapshotId });
    const input = h.input({ snapshotId });
    const { workflowId } = await startExport(temporal.client, input, {
      taskQueue: h.taskQueue,
      workflowId: `ui-export-${snapshotId}`,
    });
    const result = await waitForExport(temporal.client, workflowId);
    expect(result.state).toBe('Successful');

    browser = await chromium.launch({ executablePath, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
    const page = await browser.newPage({ viewport: { width: 1500, height: 1400 } });
    const ui = inject('temporalUiUrl');
    mkdirSync(ARTIFACTS, { recursive: true });
    // Whatever fails below, the page as it was is kept for whoever reads the failure.
    onTestFailed(async () => {
      await page.screenshot({ path: resolve(ARTIFACTS, 'web-ui-failure.png'), fullPage: true }).catch(() => undefined);
    });
    await page.goto(`${ui}/namespaces/default/workflows/${encodeURIComponent(workflowId)}`);
    await page.getByText(workflowId).first().waitFor({ timeout: 30_000 });
    const tabText = async (tab: string) => {
      await page
        .getByRole('tab', { name: tab })
        .or(page.getByRole('link', { name: tab }))
        .first()
        .click();
      await page.waitForLoadState('networkidle');
      return (await page.locator('main').innerText()).replace(/\s+/g, ' ');
    };

    // User metadata: the static summary and details the starter set, and the workflow's current details.
    const summary = exportStaticSummary(input);
    await page
      .getByRole('tab', { name: 'User Metadata' })
      .or(page.getByRole('link', { name: 'User Metadata' }))
      .first()
      .click();
    // The UI renders Markdown (summary, details) in sandboxed frames: read every frame's text.
    const mainText = async () => {
      const texts = await Promise.all(
        page.frames().map((f) =>
          f
            .locator('body')
            .innerText()
            .catch(() => '')
        )
      );
      return texts.join(' ').replace(/\s+/g, ' ');
    };
    await expect.poll(mainText, { timeout: 15_000 }).toContain(summary);
    await expect.poll(mainText, { timeout: 15_000 }).toContain(`project ${input.groupId}`); // current details
    const metadata = await mainText();
    // The UI's Markdown renders "7/7" with a fraction slash.
    expect(metadata).toMatch(/Successful: 7[/⁄]7 collections/); // current details, set by the workflow
    expect(metadata).toContain(`Export bucket ${input.exportBucketId}`); // static details
    await page.screenshot({ path: resolve(ARTIFACTS, 'web-ui-export-summary.png'), fullPage: true });

    // Search attributes with their final values.
    const attributes = await tabText('Search Attributes');
    for (const text of [
      'AtlasExportState',
      'Successful',
      'AtlasExportProgress',
      'AtlasExportJobId',
      result.exportJobId!,
      'AtlasClusterName',
      input.clusterName,
      'AtlasGroupId',
      input.groupId,
    ]) {
      expect(attributes).toContain(text);
    }
    await page.screenshot({ path: resolve(ARTIFACTS, 'web-ui-export-search-attributes.png'), fullPage: true });

    // The workflow list, filtered by a visibility query on the custom attributes, finds it.
    const query = `AtlasExportState="Successful" AND AtlasExportJobId="${result.exportJobId}"`;
    await page.goto(`${ui}/namespaces/default/workflows?query=${encodeURIComponent(query)}`);
    await page.getByText(workflowId).first().waitFor({ timeout: 30_000 });
    await page.screenshot({ path: resolve(ARTIFACTS, 'web-ui-list.png'), fullPage: true });
  }, 120_000);
});
