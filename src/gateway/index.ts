/** The gateway: `startGateway({ config, port?, host? })`, its configuration, and its state stores. */
export {
  DEFAULT_SERVER,
  type GatewayConfig,
  type GatewayState,
  gatewayConfigFrom,
  loadGatewayConfig,
  type ServerSettings,
  validateGatewayConfig,
} from './config.ts';
export { GatewayError, type GatewayErrorKind } from './errors.ts';
export { tuneGatewayProcess } from './process-tuning.ts';
export { type Gateway, type GatewayOptions, startGateway } from './server.ts';
export * from './state/index.ts';
