import type { Command } from 'commander';
import { Option } from 'commander';
import { startService } from '../../service/index.ts';
import { storeSettingsFrom } from '../../store/index.ts';
import { BUNDLED_RULESETS, BUNDLED_RULESETS_HELP } from '../paths.ts';
import { dataDirOption } from './data-options.ts';

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('Run the HTTP service. Uses PostgreSQL when DATABASE_URL is set, otherwise the embedded database in the data directory.')
    .addOption(dataDirOption())
    .addOption(new Option('--host <host>', 'address to listen on').env('HOST').default('127.0.0.1'))
    .addOption(new Option('--port <port>', 'port to listen on').env('PORT').default('3000'))
    .addOption(new Option('--rules <dir>', 'directory of rule sets to serve').default(BUNDLED_RULESETS, BUNDLED_RULESETS_HELP))
    .addOption(new Option('--shutdown-grace <ms>', 'after SIGTERM, keep serving this long while /ready fails').env('ENTITLE_SHUTDOWN_GRACE_MS').default('0'))
    .action(async (options: { dataDir?: string; host: string; port: string; rules: string; shutdownGrace: string }) => {
      const service = await startService({
        store: storeSettingsFrom(options),
        rulesDir: options.rules,
        host: options.host,
        port: Number(options.port),
        shutdownGraceMs: Number(options.shutdownGrace),
        logLevel: process.env.LOG_LEVEL ?? 'info',
      });
      await new Promise<void>((resolve) => {
        const stop = (signal: string) => {
          service.app.log.info({ event: 'signal', signal }, 'shutting down');
          void service.stop().then(resolve, resolve);
        };
        process.once('SIGTERM', () => stop('SIGTERM'));
        process.once('SIGINT', () => stop('SIGINT'));
      });
    });
}
