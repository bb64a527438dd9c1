import { resolveTemporalCli } from '../src/dev/temporal-cli';

// Prints the path of the Temporal CLI, installing it into .tools/ when it is nowhere to be found.
console.log(resolveTemporalCli());
