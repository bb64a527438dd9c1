import { describe, expect, it } from 'vitest';
import {
  COMPOSE_SERVICES,
  commandProblems,
  composeEnvProblems,
  dockerfileProblems,
  dockerignoreExcludes,
  healthcheckProblems,
  workerReadinessProblems,
  imageProblems,
  interpolationProblems,
  interpolations,
  jobServices,
  parseCompose,
  pathProblems,
  portProblems,
  readDeployFiles,
  restartProblems,
  schemaProblems,
  servicesOf,
  validateCompose,
  withEditedServices,
  workerEnvProblems,
} from './deploy-checks';

const files = readDeployFiles();
const parsed = parseCompose(files.composeText);

type Rec = Record<string, unknown>;

/** A deep copy of docker-compose.yml with `edit` applied to its services. */
const brokenDoc = (edit: (services: Record<string, Rec>) => void) => withEditedServices(parsed.doc, edit);

const service = (services: Record<string, Rec>, name: string): Rec => {
  const s = services[name];
  if (!s) throw new Error(`no service ${name} in docker-compose.yml`);
  return s;
};

describe('docker-compose.yml', () => {
  it('parses as YAML without errors or duplicate keys', () => {
    expect(parsed.problems).toEqual([]);
    expect(parseCompose('services:\n  a:\n    image: x:1.0\n  a:\n    image: y:1.0\n').problems).not.toEqual([]);
  });

  it('passes every check', () => {
    expect(validateCompose(parsed.doc, files)).toEqual([]);
  });

  it('declares the expected stack', () => {
    expect(Object.keys(servicesOf(parsed.doc)).sort()).toEqual([...COMPOSE_SERVICES].sort());
    expect([...jobServices(parsed.doc)].sort()).toEqual(['temporal-create-namespace', 'temporal-schema-setup']);
  });

  describe('Compose Specification schema', () => {
    it('accepts the file', () => {
      expect(schemaProblems(parsed.doc)).toEqual([]);
    });

    it('rejects an unknown service key and a wrong type', () => {
      const doc = brokenDoc((s) => {
        service(s, 'worker').restart_policy = 'always';
        service(s, 'temporal').ports = '127.0.0.1:7233:7233';
      });
      const problems = schemaProblems(doc);
      expect(problems).toContain('schema: /services/worker must NOT have additional properties (restart_policy)');
      expect(problems.some((p) => p.startsWith('schema: /services/temporal/ports'))).toBe(true);
    });

    it('rejects a depends_on condition Compose does not know', () => {
      const doc = brokenDoc((s) => {
        service(s, 'worker').depends_on = { temporal: { condition: 'service_ready' } };
      });
      expect(schemaProblems(doc).some((p) => p.includes('/services/worker/depends_on'))).toBe(true);
    });
  });

  describe('image pinning', () => {
    it.each([
      ['temporal', 'temporalio/server:latest', 'uses latest'],
      ['temporal', 'temporalio/server', 'has no tag'],
      ['postgresql', 'postgres:16', 'floating tag'],
      ['temporal-ui', 'temporalio/ui:${UI_VERSION}', 'from a variable'],
      ['worker', 'atlas-export-orchestrator:latest', 'uses latest'],
    ])('flags %s with image %s', (name, image, expected) => {
      const doc = brokenDoc((s) => {
        service(s, name).image = image;
      });
      expect(imageProblems(doc)).toEqual([expect.stringContaining(expected)]);
    });

    it('accepts a digest and requires a tag for built images', () => {
      const doc = brokenDoc((s) => {
        service(s, 'postgresql').image = `postgres@sha256:${'a'.repeat(64)}`;
        delete service(s, 'worker').image;
      });
      expect(imageProblems(doc)).toEqual([expect.stringMatching(/^services\.worker: needs an image/)]);
    });
  });

  describe('healthchecks and restart policies', () => {
    it('flags a long-running service without a healthcheck', () => {
      const doc = brokenDoc((s) => {
        delete service(s, 'temporal').healthcheck;
        service(s, 'temporal-ui').healthcheck = { test: ['NONE'] };
        service(s, 'atlas-simulator').healthcheck = { disable: true };
      });
      expect(healthcheckProblems(doc)).toEqual([
        'services.temporal: long-running service without a healthcheck',
        'services.temporal-ui: long-running service without a healthcheck',
        'services.atlas-simulator: long-running service without a healthcheck',
      ]);
    });

    it('requires the worker to be probed too (its metrics endpoint)', () => {
      const doc = brokenDoc((s) => {
        service(s, 'worker').healthcheck = { disable: true };
      });
      expect(healthcheckProblems(doc)).toEqual(['services.worker: long-running service without a healthcheck']);
    });

    it('requires the worker healthcheck to ask /readyz on WORKER_HEALTH_ADDRESS, not /metrics', () => {
      expect(workerReadinessProblems(parsed.doc)).toEqual([]);
      const onMetrics = brokenDoc((s) => {
        const hc = service(s, 'worker').healthcheck as { test: string[] };
        hc.test = hc.test.map((w) => w.replace(/:\d+\/readyz/, ':9464/metrics'));
      });
      expect(workerReadinessProblems(onMetrics)).toEqual([expect.stringContaining('must probe http://127.0.0.1:')]);
      const noAddress = brokenDoc((s) => {
        delete (service(s, 'worker').environment as Record<string, unknown>).WORKER_HEALTH_ADDRESS;
      });
      expect(workerReadinessProblems(noAddress)).toEqual([expect.stringContaining('WORKER_HEALTH_ADDRESS')]);
    });

    it('treats a service that nothing waits on to complete as long-running', () => {
      const doc = brokenDoc((s) => {
        service(s, 'temporal').depends_on = { postgresql: { condition: 'service_healthy' } };
      });
      expect(healthcheckProblems(doc)).toEqual([
        'services.temporal-schema-setup: long-running service without a healthcheck',
      ]);
      expect(restartProblems(doc)).toEqual([
        'services.temporal-schema-setup: long-running service needs restart: unless-stopped or always',
      ]);
    });

    it('flags missing restart policies and restarting jobs', () => {
      const doc = brokenDoc((s) => {
        delete service(s, 'postgresql').restart;
        service(s, 'worker').restart = 'on-failure';
        service(s, 'temporal-create-namespace').restart = 'unless-stopped';
      });
      expect(restartProblems(doc)).toEqual([
        'services.postgresql: long-running service needs restart: unless-stopped or always',
        'services.temporal-create-namespace: one-shot job with restart unless-stopped; use "no" or on-failure',
        'services.worker: long-running service needs restart: unless-stopped or always',
      ]);
    });
  });

  it('publishes ports on the loopback interface only', () => {
    const doc = brokenDoc((s) => {
      service(s, 'temporal').ports = ['7233:7233'];
      service(s, 'temporal-ui').ports = [{ target: 8080, published: 8080, host_ip: '0.0.0.0' }];
      service(s, 'atlas-simulator').ports = ['8090'];
    });
    expect(portProblems(doc)).toEqual([
      'services.temporal: port "7233:7233" is not bound to 127.0.0.1',
      'services.temporal-ui: port {"target":8080,"published":8080,"host_ip":"0.0.0.0"} is not bound to 127.0.0.1',
      'services.atlas-simulator: port "8090" is not bound to 127.0.0.1',
    ]);
  });

  describe('files it references', () => {
    it('flags a missing build context, Dockerfile, env file and bind-mount source', () => {
      const doc = brokenDoc((s) => {
        service(s, 'worker').build = { context: '.', dockerfile: 'deploy/Dockerfile.missing' };
        service(s, 'worker').env_file = [{ path: 'deploy/missing.env', required: false }, 'deploy/required.env'];
        service(s, 'atlas-simulator').build = 'no-such-dir';
        service(s, 'temporal').volumes = ['./deploy/temporal/nope:/etc/temporal/config/dynamicconfig:ro'];
        service(s, 'postgresql').volumes = ['undeclared-volume:/var/lib/postgresql/data'];
      });
      expect(pathProblems(doc, files.root)).toEqual([
        'services.postgresql: volume undeclared-volume is not declared under volumes',
        'services.temporal: bind mount source ./deploy/temporal/nope does not exist',
        'services.worker: deploy/Dockerfile.missing does not exist',
        'services.worker: optional env_file deploy/missing.env needs a committed deploy/missing.env.example',
        'services.worker: env_file deploy/required.env does not exist',
        'services.atlas-simulator: build context no-such-dir does not exist',
      ]);
    });

    it('flags a simulator command whose entry point has no source', () => {
      const doc = brokenDoc((s) => {
        service(s, 'atlas-simulator').command = ['node', 'dist/simulator/cli.js'];
      });
      expect(commandProblems(doc, files.root)).toEqual([
        'services.atlas-simulator: command dist/simulator/cli.js has no source src/simulator/cli.ts',
      ]);
    });
  });

  describe('variable interpolation', () => {
    it('finds variables and their defaults, skipping $$ escapes and comments', () => {
      const text = [
        '# ${IN_COMMENT}',
        'a: ${WITH_DEFAULT:-x}',
        'b: ${DASH_DEFAULT-x}',
        'c: ${REQUIRED:?set it}',
        'd: $BARE',
        'e: $${ESCAPED}',
      ].join('\n');
      expect(interpolations(text)).toEqual([
        { name: 'WITH_DEFAULT', hasDefault: true, required: false },
        { name: 'DASH_DEFAULT', hasDefault: true, required: false },
        { name: 'REQUIRED', hasDefault: false, required: true },
        { name: 'BARE', hasDefault: false, required: false },
      ]);
    });

    it('flags a variable without a default that the example does not document', () => {
      const text = `${files.composeText}\nx-extra: \${UNDOCUMENTED_SETTING}\nx-known: \${ATLAS_CLIENT_ID}\n`;
      expect(interpolationProblems(text, files.workerEnvExample)).toEqual([
        'docker-compose.yml: ${UNDOCUMENTED_SETTING} has no default and is not in deploy/worker.env.example',
      ]);
    });

    it('keeps deploy/compose.env.example in step with the variables the file uses', () => {
      const text = `${files.composeText}\nx-extra: \${NEW_KNOB:-1}\n`;
      const example = files.composeEnvExample.replace(/^ATLAS_SIMULATOR_TIME_SCALE=.*$/m, 'RETIRED_KNOB=1');
      expect(composeEnvProblems(text, example)).toEqual([
        'deploy/compose.env.example: missing ${ATLAS_SIMULATOR_TIME_SCALE}',
        'deploy/compose.env.example: missing ${NEW_KNOB}',
        'deploy/compose.env.example: RETIRED_KNOB is not used',
      ]);
    });
  });
});

describe('deploy/worker.env.example', () => {
  it('takes the variable names from src/config', () => {
    expect(files.configVariables).toEqual(
      expect.arrayContaining([
        'TEMPORAL_ADDRESS',
        'TEMPORAL_NAMESPACE',
        'TEMPORAL_TASK_QUEUE',
        'TEMPORAL_API_KEY',
        'TEMPORAL_TLS',
        'TEMPORAL_PROFILE',
        'TEMPORAL_CONFIG_FILE',
        'ATLAS_BASE_URL',
        'ATLAS_CLIENT_ID',
        'ATLAS_CLIENT_SECRET',
        'ATLAS_PUBLIC_KEY',
        'ATLAS_PRIVATE_KEY',
        'MONGODB_ATLAS_CLIENT_SECRET',
        'ATLAS_REQUEST_TIMEOUT',
        'WORKER_MAX_CACHED_WORKFLOWS',
      ])
    );
    expect(
      files.configVariables.every((n) => /^(TEMPORAL|ATLAS|MONGODB_ATLAS|WORKER|PAYLOAD_ENCRYPTION)_/.test(n))
    ).toBe(true);
  });

  it('documents every variable the worker reads, and no other', () => {
    expect(workerEnvProblems(files)).toEqual([]);
  });

  it('flags a variable the config starts reading and one it stops reading', () => {
    const configVariables = [...files.configVariables, 'WORKER_SHUTDOWN_GRACE'];
    const workerEnvExample = `${files.workerEnvExample.replace(/^ATLAS_REQUEST_TIMEOUT=.*$/m, '')}OLD_SETTING=1\n`;
    const simulatorEnv = `${files.simulatorEnv}ATLAS_BASEURL=http://typo\n`;
    expect(workerEnvProblems({ configVariables, workerEnvExample, simulatorEnv })).toEqual([
      'deploy/worker.env.example: missing ATLAS_REQUEST_TIMEOUT, which src/config reads',
      'deploy/worker.env.example: missing WORKER_SHUTDOWN_GRACE, which src/config reads',
      'deploy/worker.env.example: sets OLD_SETTING, which src/config does not read',
      'deploy/worker.simulator.env: sets ATLAS_BASEURL, which src/config does not read',
    ]);
  });
});

describe('Dockerfile', () => {
  it('passes every check', () => {
    expect(dockerfileProblems(files)).toEqual([]);
  });

  it('flags an Alpine (musl) or unpinned base image', () => {
    const dockerfile = files.dockerfile
      .replace(/^FROM node:\S+ AS build$/m, 'FROM node:26-alpine AS build')
      .replace(/^FROM node:\S+ AS runtime$/m, 'FROM node:latest AS runtime');
    expect(dockerfileProblems({ ...files, dockerfile })).toEqual([
      expect.stringMatching(/node:26-alpine is musl-based/),
      expect.stringMatching(/base image node:26-alpine is a floating tag/),
      expect.stringMatching(/base image node:latest uses latest/),
    ]);
  });

  it('flags a final stage that runs as root', () => {
    expect(dockerfileProblems({ ...files, dockerfile: files.dockerfile.replace(/^USER .*$/m, 'USER root') })).toEqual([
      'Dockerfile: the final stage runs as root',
    ]);
    expect(dockerfileProblems({ ...files, dockerfile: files.dockerfile.replace(/^USER .*$/m, '') })).toEqual([
      'Dockerfile: the final stage sets no USER, so it runs as root',
    ]);
  });

  it('flags COPY sources that are missing or kept out of the build context', () => {
    const dockerfile = files.dockerfile.replace(
      'COPY src ./src',
      'COPY src ./src\nCOPY missing.json ./\nCOPY deploy/worker.env.example ./'
    );
    expect(dockerfileProblems({ ...files, dockerfile })).toEqual([
      expect.stringMatching(/COPY source missing\.json does not exist/),
      expect.stringMatching(/COPY source deploy\/worker\.env\.example is excluded by \.dockerignore/),
    ]);
  });

  it('flags a CMD whose entry point has no source, and a missing STOPSIGNAL', () => {
    const dockerfile = files.dockerfile.replace('"dist/worker.js"', '"dist/main.js"').replace(/^STOPSIGNAL .*$/m, '');
    expect(dockerfileProblems({ ...files, dockerfile })).toEqual([
      'Dockerfile: the final stage should set STOPSIGNAL SIGTERM',
      expect.stringMatching(/CMD dist\/main\.js has no source src\/main\.ts/),
    ]);
  });
});

describe('.dockerignore', () => {
  it('sends only the manifests, the TypeScript configs and src/', () => {
    for (const kept of ['package.json', 'package-lock.json', 'tsconfig.build.json', 'src', 'src/worker.ts']) {
      expect(dockerignoreExcludes(files.dockerignore, kept), kept).toBe(false);
    }
    for (const dropped of ['deploy/worker.env', 'node_modules', 'dist/worker.js', '.git', 'test/deploy']) {
      expect(dockerignoreExcludes(files.dockerignore, dropped), dropped).toBe(true);
    }
  });

  it('applies the last matching pattern', () => {
    expect(dockerignoreExcludes('src\n!src/keep.ts\n', 'src/keep.ts')).toBe(false);
    expect(dockerignoreExcludes('!src\nsrc/**/*.test.ts\n', 'src/a/b.test.ts')).toBe(true);
  });
});
