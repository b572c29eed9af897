/** The study database: open it, write runs as they happen, read results. */
export * from './client.ts';
export { openDatabaseToRead } from './folder-snapshot.ts';
export * from './experiments.ts';
export * from './runs.ts';
export * from './events.ts';
export * from './results.ts';
export { RUN_STATUSES, CURVE_KINDS, type RunStatus, type CurveKind } from './schema.ts';
export * from './run-history.ts';
export * from './prediction-runs.ts';
export * from './epoch-bands.ts';
export * from './ensemble.ts';
export * from './calibration.ts';
