import type { Command } from 'commander';

// Filled in by the sql work.
export function register(_program: Command): void {}
