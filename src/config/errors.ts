/** A configuration problem a person must fix; the message names the variables and never their values. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}
