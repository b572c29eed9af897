/** Reading a database folder that a CLI under test has written. */
import { openDatabase, type Database } from '../../db/index.ts';

/** Opens the existing database in `folder`, gives it to `fn` and closes it, whatever `fn` does. */
export async function withDatabase<T>(folder: string, fn: (db: Database) => Promise<T>): Promise<T> {
  const db = await openDatabase(folder, { create: false });
  try {
    return await fn(db);
  } finally {
    await db.close();
  }
}
