import type { Command } from 'commander';

// Filled in by the data work.
export function register(_program: Command): void {}
