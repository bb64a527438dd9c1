import type { Command } from 'commander';
import { UsageError } from './common';

/** The `--poll-*` and `--timeout` options `export`, `schedule create` and `schedule update` share. */
export interface PollingOptions {
  pollMode?: string;
  pollMin?: string;
  pollInterval?: string;
  pollInitial?: string;
  pollMax?: string;
  pollBackoff?: string;
  timeout?: string;
  reportInterval?: string;
  timeScale?: string;
}

export function addPollingOptions(command: Command): Command {
  return command
    .option('--poll-mode <mode>', 'adaptive (default), fixed or exponential')
    .option('--poll-min <duration>', 'adaptive: finest step near the estimated finish (10s)')
    .option('--poll-interval <duration>', 'fixed: the interval (default 60s)')
    .option('--poll-initial <duration>', 'fixed, exponential: first poll after creating the job')
    .option('--poll-max <duration>', 'adaptive, exponential: longest wait between reads')
    .option('--poll-backoff <number>', 'exponential: backoff coefficient (e.g. 1.5)')
    .option('--timeout <duration>', 'stop waiting after this long (e.g. 48h)')
    .option('--report-interval <duration>', 'update the UI and progress this often (5m)')
    .option('--time-scale <number>', "simulator only: Atlas's clock runs N times ours");
}

/** `polling` input from the `--poll-*` options and `--timeout` (only those given). */
export function pollingFromOptions(o: PollingOptions): Record<string, string | number> {
  const backoff = numberOption('--poll-backoff', o.pollBackoff);
  const timeScale = numberOption('--time-scale', o.timeScale);
  return Object.fromEntries(
    Object.entries({
      mode: o.pollMode,
      minimumInterval: o.pollMin,
      interval: o.pollInterval,
      initialInterval: o.pollInitial,
      maximumInterval: o.pollMax,
      backoffCoefficient: backoff,
      timeout: o.timeout,
      reportInterval: o.reportInterval,
      timeScale,
    }).filter((e): e is [string, string | number] => e[1] !== undefined)
  );
}

function numberOption(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+(\.\d+)?$/.test(value)) throw new UsageError(`${flag} "${value}": expected a number`);
  return Number(value);
}
