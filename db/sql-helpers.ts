import { type SQL, type SQLWrapper, sql } from 'drizzle-orm';
import type { Database } from './client.ts';

/** `array_position(array['a','b',...], column)`: orders rows by a fixed list (models, splits, metrics). */
export function positionIn(values: readonly string[], column: SQLWrapper): SQL {
  const literal = values.map((v) => `'${v.replace(/'/g, "''")}'`).join(', ');
  return sql`array_position(array[${sql.raw(literal)}]::text[], ${column})`;
}

/** The Drizzle instance, for functions that take either an open Database or a transaction's `tx`. */
export type DbOrTx = Database['db'] | Parameters<Parameters<Database['db']['transaction']>[0]>[0];

/**
 * The row a statement returns by construction (an aggregate, `returning` of a row just written or locked); throws,
 * naming the statement, if there is none.
 */
export function onlyRow<T>(rows: readonly T[], what: string): T {
  const [row] = rows;
  if (row === undefined) throw new Error(`${what} returned no row`);
  return row;
}

/**
 * The rows of one raw statement, for reads the query builder does not express well. The caller names the row type;
 * `execute` answers an array (postgres.js) or `{ rows }` (PGlite), and both become the array.
 */
export async function selectRows<T>(db: DbOrTx, query: SQL): Promise<T[]> {
  const result = (await db.execute(query)) as unknown;
  return (Array.isArray(result) ? result : (result as { rows: T[] }).rows) as T[];
}
