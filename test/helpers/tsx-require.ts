import { register } from 'tsx/cjs/api';

/**
 * Test processes `require` TypeScript through tsx, as `npm run worker` and the CLI do under tsx: the SDK loads a
 * data converter's `failureConverterPath` (src/codec/failure-converter.ts here, a .js file when built) with a
 * plain `require`, which vitest does not see. Node 20 ran that .ts file by guessing it was an ES module; Node 22.18
 * and later strip its types and load it as CommonJS (package.json "type"), where its `import` is a SyntaxError.
 */
register();
