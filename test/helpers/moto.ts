/**
 * moto_server for integration tests: a real AWS API emulator (S3, EC2, Auto Scaling, SNS, SQS,
 * DynamoDB) on a free 127.0.0.1 port, started once per test file and stopped after it.
 *
 * Without moto on the machine the integration suites are skipped and say so; with CI=true a
 * missing moto fails the run instead, so CI can never pass without running them.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

export const MOTO_REGION = 'eu-west-1';
export const MOTO_ACCOUNT = '123456789012';

function motoAvailable(): boolean {
  const probe = spawnSync('moto_server', ['--help'], { stdio: 'ignore', timeout: 30_000 });
  return probe.status === 0;
}

export const HAS_MOTO = motoAvailable();

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function waitUntilUp(endpoint: string, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`moto_server exited with ${child.exitCode}`);
    try {
      const res = await fetch(`${endpoint}/moto-api/`);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('moto_server did not start within 30 s');
}

export interface Moto {
  readonly endpoint: string;
  /** Environment for SDK clients and child processes pointed at this moto. */
  readonly env: NodeJS.ProcessEnv;
  reset(): Promise<void>;
}

/**
 * Registers a moto_server for the calling test file and returns a handle filled in by beforeAll.
 * Sets the AWS environment of this process (credentials, region, endpoint) for the file's tests.
 */
export function useMoto(): Moto {
  let child: ChildProcess | undefined;
  const handle = {
    endpoint: '',
    env: {} as NodeJS.ProcessEnv,
    reset: async () => {
      await fetch(`${handle.endpoint}/moto-api/reset`, { method: 'POST' });
    },
  };
  const saved: Record<string, string | undefined> = {};
  beforeAll(async () => {
    const port = await freePort();
    child = spawn('moto_server', ['-H', '127.0.0.1', '-p', String(port)], { stdio: 'ignore' });
    handle.endpoint = `http://127.0.0.1:${port}`;
    await waitUntilUp(handle.endpoint, child);
    handle.env = {
      AWS_ACCESS_KEY_ID: 'testing',
      AWS_SECRET_ACCESS_KEY: 'testing',
      AWS_SESSION_TOKEN: 'testing',
      AWS_REGION: MOTO_REGION,
      AWS_DEFAULT_REGION: MOTO_REGION,
      AWS_ENDPOINT_URL: handle.endpoint,
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      AWS_EC2_METADATA_DISABLED: 'true',
    };
    for (const [key, value] of Object.entries(handle.env)) {
      saved[key] = process.env[key];
      process.env[key] = value;
    }
  }, 60_000);
  beforeEach(async () => {
    await handle.reset();
  });
  afterAll(() => {
    child?.kill('SIGTERM');
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  });
  return handle;
}

/**
 * `describe` for a suite that needs moto: skipped with a warning where moto is not installed,
 * failing under CI=true.
 */
export function describeWithMoto(name: string, body: () => void): void {
  if (HAS_MOTO) {
    describe(name, body);
    return;
  }
  if (process.env.CI === 'true') {
    describe(name, () => {
      it('needs moto_server, which CI must provide (pip install "moto[server]")', () => {
        expect.fail('moto_server is not installed, and CI=true requires the integration tests to run');
      });
    });
    return;
  }
  console.warn(
    `SKIPPED integration suite "${name}": moto_server is not installed (pip install "moto[server]")`,
  );
  describe.skipIf(true)(name, body);
}
