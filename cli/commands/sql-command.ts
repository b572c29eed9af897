/**
 * `melanoma sql`: runs the statement read-only and prints the rows as an aligned table, JSON or CSV.
 * `melanoma sql-reader`: creates the PostgreSQL role it connects as.
 */
import { readFileSync } from 'node:fs';
import { UserError } from '../../common/errors.ts';
import { columnWidths, padCells } from '../../common/text-table.ts';
import { type QueryOutput, parseTarget, redact } from '../../db/client.ts';
import { runReadOnly } from '../../db/read-only.ts';
import { createReader } from '../../db/sql-reader.ts';

export interface SqlOptions {
  db?: string;
  json?: boolean;
  csv?: boolean;
  timeout: number;
  raw?: boolean;
  expanded?: boolean;
}

export async function sqlCommand(query: string, opts: SqlOptions): Promise<void> {
  const text = (query === '-' ? readFileSync(0, 'utf8') : query).trim().replace(/;\s*$/, '');
  if (text === '') throw new UserError('the SQL statement is empty.');
  const target = opts.db ?? (process.env.MELANOMA_SQL_DB || undefined);
  const output = await runReadOnly({ target, sql: text, timeoutMs: opts.timeout * 1000 });
  if (output.heldBy) {
    const { pid, holder } = output.heldBy;
    process.stderr.write(
      `melanoma sql: the database folder is held by the running ${holder} (pid ${pid}); the statement ran through it, on a copy of the folder taken now.\n`,
    );
  }
  const width = process.stdout.isTTY ? process.stdout.columns : undefined;
  const table = () => formatTable(output, { raw: opts.raw, expanded: opts.expanded ?? 'auto', width });
  process.stdout.write(opts.json ? formatJson(output) : opts.csv ? formatCsv(output) : table());
}

export async function sqlReaderCommand(opts: { db?: string; role: string; newPassword?: boolean }): Promise<void> {
  const target = parseTarget(opts.db);
  if (target.kind !== 'postgres') {
    throw new UserError(
      `melanoma sql-reader needs a postgres:// URL (--db, $MELANOMA_DB or $DATABASE_URL); on a PGlite folder melanoma sql needs no role of its own.`,
    );
  }
  const reader = await createReader(target.url, { role: opts.role, newPassword: opts.newPassword });
  const password = reader.passwordSet ? 'with a new password' : 'its password is unchanged (--new-password sets a new one)';
  process.stdout.write(
    `${reader.created ? 'created' : 'refreshed'} role ${reader.role}: it may read the ${reader.tables} tables and ${reader.views} views of the study, nothing else; ${password}.\n` +
      `melanoma sql connects as it with --db ${reader.url}\n(or set MELANOMA_SQL_DB to that URL); ${redact(target.url)} stays for the orchestrator and the page.\n`,
  );
}

export interface TableOptions {
  /** Every digit of a float; otherwise floats of an all-numeric column are rounded to DECIMALS places. */
  raw?: boolean;
  /** One line per field, a block per row (psql's \\x); 'auto': when the table is wider than `width`. */
  expanded?: boolean | 'auto';
  /** The terminal's width, for expanded: 'auto'. */
  width?: number;
}

export const DECIMALS = 4;

export function formatTable({ columns, rows }: QueryOutput, opts: TableOptions = {}): string {
  if (columns.length === 0) return 'OK (the statement returns no rows)\n';
  const numeric = columns.map((_, c) => rows.length > 0 && rows.every((r) => r[c] === null || isNumber(r[c])));
  const text = (v: unknown, c: number) => (numeric[c] && !opts.raw ? rounded(v) : plain(v)).replace(/\r?\n/g, '\\n');
  const cells = rows.map((row) => row.map(text));
  const widths = columnWidths(columns, cells);
  const line = (values: string[], alignRight: boolean[]) => padCells(values, widths, (c) => alignRight[c] === true, ' | ').trimEnd();
  const count = `(${rows.length} ${rows.length === 1 ? 'row' : 'rows'})`;
  const tableWidth = widths.reduce((sum, w) => sum + w, 0) + 3 * (widths.length - 1);
  const expanded = opts.expanded === 'auto' ? opts.width !== undefined && tableWidth > opts.width : opts.expanded === true;
  if (expanded) return [...cells.flatMap((row, r) => expandedRecord(columns, row, r + 1)), count].join('\n') + '\n';
  const lines = [
    line(
      columns,
      columns.map(() => false),
    ),
    widths.map((w) => '-'.repeat(w)).join('-+-'),
    ...cells.map((r) => line(r, numeric)),
    count,
  ];
  return lines.join('\n') + '\n';
}

function expandedRecord(columns: string[], cells: string[], n: number): string[] {
  const nameWidth = Math.max(...columns.map((name) => name.length));
  return [`-[ RECORD ${n} ]${'-'.repeat(Math.max(0, nameWidth - 10))}`, ...columns.map((name, c) => `${name.padEnd(nameWidth)} | ${cells[c]}`.trimEnd())];
}

/** A number rounded to DECIMALS places without trailing zeros (0.5, 0.9395, 12); other values as `plain`. */
function rounded(v: unknown): string {
  const x = typeof v === 'number' ? v : typeof v === 'string' && !/^-?\d+$/.test(v.trim()) ? Number(v) : NaN;
  if (!Number.isFinite(x)) return plain(v);
  const r = Number(x.toFixed(DECIMALS));
  return r === 0 && x !== 0 ? x.toExponential(1) : String(r);
}

export function formatJson({ columns, rows }: QueryOutput): string {
  const keys = uniqueNames(columns);
  const objects = rows.map((row) => Object.fromEntries(keys.map((k, c) => [k, jsonValue(row[c])])));
  return JSON.stringify(objects, null, 2) + '\n';
}

export function formatCsv({ columns, rows }: QueryOutput): string {
  const field = (s: string) => (/[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
  return [columns, ...rows.map((row) => row.map(plain))].map((r) => r.map(field).join(',')).join('\n') + '\n';
}

function isNumber(v: unknown): boolean {
  return typeof v === 'number' || typeof v === 'bigint' || (typeof v === 'string' && v.trim() !== '' && !Number.isNaN(Number(v)));
}

/** A value as text: null is empty, dates ISO 8601, JSON values as JSON, bytes as \x hex. */
function plain(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (v instanceof Date) return v.toISOString();
  if (v instanceof Uint8Array) return `\\x${Buffer.from(v).toString('hex')}`;
  if (typeof v === 'object') return JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? x.toString() : x));
  return String(v);
}

/** JSON has no NaN or Infinity (they would become null) and no bigint. */
function jsonValue(v: unknown): unknown {
  if (typeof v === 'number' && !Number.isFinite(v)) return String(v);
  if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
  if (v instanceof Uint8Array) return plain(v);
  return v;
}

function uniqueNames(columns: string[]): string[] {
  const seen = new Map<string, number>();
  return columns.map((name) => {
    const n = (seen.get(name) ?? 0) + 1;
    seen.set(name, n);
    return n === 1 ? name : `${name}_${n}`;
  });
}
