export { assembleApp, type AppSettings } from './app.ts';
export { startService, type RunningService, type ServiceConfig } from './service.ts';
