export { startService, type RunningService, type ServiceConfig } from './service.ts';
