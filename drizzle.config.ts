import { defineConfig } from 'drizzle-kit';

// `npm run db:generate` diffs db/schema.ts against the last snapshot and writes the next migration.
export default defineConfig({
  dialect: 'postgresql',
  schema: './db/schema.ts',
  out: './db/migrations',
});
