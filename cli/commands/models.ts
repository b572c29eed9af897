import type { Command } from 'commander';

// Filled in by the models work.
export function register(_program: Command): void {}
