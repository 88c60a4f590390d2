import { ConfigError, loadConfig } from './config.js';
import { startMockUpstream } from './server.js';

async function main(): Promise<void> {
  const config = loadConfig();
  const mock = await startMockUpstream({ providerPort: config.providerPort, adminPort: config.adminPort, tls: config.tls });
  process.stdout.write(
    `${JSON.stringify({
      level: 'info',
      time: new Date().toISOString(),
      service: 'mock-upstream',
      msg: 'listening',
      provider: { port: mock.providerPort, tls: config.tls !== null },
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
