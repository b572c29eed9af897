import type { Command } from 'commander';

// Filled in by the serve work.
export function register(_program: Command): void {}
