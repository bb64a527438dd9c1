import { ConfigError } from '../config';

/** Exit code of a configuration a person must fix (sysexits EX_CONFIG): a supervisor should not restart. */
export const EX_CONFIG = 78;

/**
 * Runs a long-lived service's `main` (the codec server, the webhook receiver) and exits with what it came to:
 * 0 when it stopped, 78 with the message of a {@link ConfigError}, 1 otherwise. Only an error's name and message
 * are printed, never the object, so no field of it (a request, a header) reaches the terminal.
 */
export function runService(name: string, main: () => Promise<void>): void {
  main().then(
    () => process.exit(0),
    (err: unknown) => {
      if (err instanceof ConfigError) {
        console.error(err.message);
        process.exit(EX_CONFIG);
      }
      console.error(err instanceof Error ? `${name} failed: ${err.name}: ${err.message}` : `${name} failed`);
      process.exit(1);
    }
  );
}
