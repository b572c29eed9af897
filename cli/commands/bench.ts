import type { Command } from 'commander';

// Filled in by the bench work.
export function register(_program: Command): void {}
