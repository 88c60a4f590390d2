import { ConfigError, loadConfig } from './config.js';
import { buildFaultyService } from './faulty-service.js';
import { startMockUpstream } from './server.js';

/** MOCK_ROLE=faulty-lmgate-service: the misbehaving stand-in of faulty-service.ts, on port 8081. */
async function startFaultyService(): Promise<void> {
  const app = buildFaultyService();
  await app.listen({ host: '0.0.0.0', port: 8081 });
  process.stdout.write(`${JSON.stringify({ level: 'info', service: 'faulty-lmgate-service', msg: 'listening', port: 8081 })}\n`);
  const stop = () => void app.close().then(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

async function main(): Promise<void> {
  if (process.env['MOCK_ROLE'] === 'faulty-lmgate-service') return startFaultyService();
  const config = loadConfig();
  const mock = await startMockUpstream({ providerPort: config.providerPort, adminPort: config.adminPort, tls: config.tls });
  process.stdout.write(
    `${JSON.stringify({
      level: 'info',
      time: new Date().toISOString(),
      service: 'mock-upstream',
      msg: 'listening',
      provider: { port: mock.providerPort, tls: config.tls !== null, tlsModes: mock.tlsModes?.available ?? [] },
      admin: { port: mock.adminPort },
    })}\n`,
  );

  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    mock.close().then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`mock-upstream: error while stopping: ${String(error)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((error: unknown) => {
  const message = error instanceof ConfigError ? error.message : ((error as Error)?.stack ?? String(error));
  process.stderr.write(`mock-upstream: cannot start: ${message}\n`);
  process.exit(1);
});
