import type { Command } from 'commander';

// Filled in by the weights work.
export function register(_program: Command): void {}
