#!/usr/bin/env node
// Loads the TypeScript sources through tsx, so the CLI runs straight from a checkout without a build step.
import { register } from 'tsx/esm/api';

register();
await import('../cli/melanoma.ts');
