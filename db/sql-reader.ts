/**
 * The read-only role that `melanoma sql` statements run as: SELECT on the study's tables and views, nothing else.
 *
 * On PostgreSQL the role is a login role of its own, and `melanoma sql` connects as it. Dropping rights inside a
 * stronger session is not enough: PostgreSQL checks SET ROLE and SET SESSION AUTHORIZATION against the
 * authenticated user, so a statement run by a superuser session under SET ROLE takes the rights back with
 * `set_config('role', ...)`. The role's rights are checked on every connection (`rightsBeyondReading`); a URL
 * whose role can do more is refused with `notReadOnlyError`, which names `melanoma sql-reader`, the command
 * that creates or refreshes the role (`createReader`).
 *
 * PGlite has a single, superuser, session user; `PGLITE_SANDBOX` is what db/read-only.ts sets up in the
 * throwaway copy of the database that a statement runs in.
 */
import { randomBytes } from 'node:crypto';
import type { Sql } from 'postgres';
import { UserError } from '../common/errors.ts';
import { openDatabase, redact } from './client.ts';
import { onlyRow } from './sql-helpers.ts';

export const READER_ROLE = 'melanoma_reader';

/** The study's tables and views: those of schema public (Drizzle keeps its own bookkeeping in schema drizzle). */
const STUDY_SCHEMA = 'public';

/**
 * Why the role `role` (default: the session user) can do more than read, one phrase per right; empty when it
 * can only read. Two defaults that PUBLIC holds are not counted: TEMPORARY on the database (a READ ONLY
 * transaction cannot create a table, temporary or not) and UPDATE on the system view pg_settings (it is SET).
 */
export async function rightsBeyondReading(conn: Sql, role?: string): Promise<string[]> {
  const rows = await conn.unsafe<{ reason: string }[]>(
    `with me as (select * from pg_roles where rolname = coalesce($1::text, session_user))
    select reason from (
      select 'it is a superuser' as reason from me where rolsuper
      union all select 'it may create roles' from me where rolcreaterole
      union all select 'it may create databases' from me where rolcreatedb
      union all select 'it may start replication' from me where rolreplication
      union all select 'it bypasses row-level security' from me where rolbypassrls
      union all select 'it is a member of ' || string_agg(quote_ident(r.rolname), ', ' order by r.rolname)
        from pg_auth_members m join pg_roles r on r.oid = m.roleid join me on m.member = me.oid having count(*) > 0
      union all select 'it owns ' || count(*) || ' database object(s)'
        from pg_shdepend d join me on d.refobjid = me.oid
        where d.refclassid = 'pg_authid'::regclass and d.deptype = 'o' having count(*) > 0
      union all select 'it may write to ' || c.oid::regclass from pg_class c, me
        where c.relkind in ('r', 'p', 'v', 'm', 'f')
          and (has_table_privilege(me.oid, c.oid, 'INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER')
            or has_any_column_privilege(me.oid, c.oid, 'INSERT, UPDATE, REFERENCES'))
          and not (c.relnamespace in ('pg_catalog'::regnamespace, 'information_schema'::regnamespace)
            and exists (select 1 from aclexplode(c.relacl) a where a.grantee = 0 and a.privilege_type <> 'SELECT'))
      union all select 'it may use sequence ' || c.oid::regclass from pg_class c, me
        where c.relkind = 'S' and has_sequence_privilege(me.oid, c.oid, 'USAGE, UPDATE')
      union all select 'it may create objects in schema ' || quote_ident(n.nspname) from pg_namespace n, me
        where has_schema_privilege(me.oid, n.oid, 'CREATE')
      union all select 'it may create schemas in database ' || quote_ident(current_database()) from me
        where has_database_privilege(me.oid, current_database(), 'CREATE')
      union all select 'it holds TEMPORARY on database ' || quote_ident(d.datname)
        from pg_database d, aclexplode(d.datacl) a, me
        where d.datname = current_database() and a.grantee = me.oid and a.privilege_type = 'TEMPORARY'
      union all select 'it may execute ' || p.oid::regprocedure || ', which PUBLIC may not' from pg_proc p, me
        where p.proacl is not null and has_function_privilege(me.oid, p.oid, 'EXECUTE')
          and not exists (select 1 from aclexplode(p.proacl) a where a.grantee = 0 and a.privilege_type = 'EXECUTE')
      union all select 'it may write large object ' || m.oid from pg_largeobject_metadata m, aclexplode(m.lomacl) a, me
        where a.grantee = me.oid and a.privilege_type = 'UPDATE'
      union all select 'it may use foreign server ' || quote_ident(s.srvname) from pg_foreign_server s, me
        where has_server_privilege(me.oid, s.oid, 'USAGE')
    ) reasons`,
    [role ?? null],
  );
  const reasons = rows.map((r) => r.reason);
  // GRANT SET ON PARAMETER exists from PostgreSQL 15 on.
  const { has } = onlyRow(
    await conn.unsafe<{ has: boolean }[]>(`select to_regclass('pg_catalog.pg_parameter_acl') is not null as has`),
    'looking up pg_parameter_acl',
  );
  if (has) {
    const params = await conn.unsafe<{ reason: string }[]>(
      `select 'it may set parameter ' || p.parname as reason from pg_parameter_acl p, aclexplode(p.paracl) a
      where a.grantee = (select oid from pg_roles where rolname = coalesce($1::text, session_user))`,
      [role ?? null],
    );
    reasons.push(...params.map((r) => r.reason));
  }
  return reasons;
}

/** The one-line refusal for a URL whose role can do more than read. */
export function notReadOnlyError(url: string, role: string, reasons: string[]): UserError {
  const why = reasons.length <= 3 ? reasons.join('; ') : `${reasons.slice(0, 3).join('; ')}; and ${reasons.length - 3} more`;
  return new UserError(
    `the role ${role} of ${redact(url)} can do more than read the study (${why}), and melanoma sql runs statements only as a read-only role: create one with "npx melanoma sql-reader --db ${redact(url)}" and pass the URL it prints to --db (or set $MELANOMA_SQL_DB to it).`,
  );
}

/** SELECT on every table and view of the study, to `role` (an identifier already quoted). */
function grantReadingSql(role: string): string[] {
  return [`grant usage on schema ${STUDY_SCHEMA} to ${role}`, `grant select on all tables in schema ${STUDY_SCHEMA} to ${role}`];
}

/**
 * What db/read-only.ts runs, as PGlite's superuser, in the throwaway copy a statement runs in; the statement then
 * runs under SET LOCAL ROLE `READER_ROLE`. The session user stays a superuser, so the functions and the
 * language through which a statement could take the rights back (set_config on role or session_authorization;
 * RESET ROLE in a DO block) are closed to PUBLIC.
 */
export const PGLITE_SANDBOX: string[] = [
  `create role ${READER_ROLE} nologin`,
  ...grantReadingSql(READER_ROLE),
  'revoke execute on function pg_catalog.set_config(text, text, boolean) from public',
  'revoke usage on language plpgsql from public',
];

export interface ReaderInfo {
  role: string;
  created: boolean;
  /** The URL to give `melanoma sql`; it holds the password only when one was set now. */
  url: string;
  passwordSet: boolean;
  tables: number;
  views: number;
}

/**
 * Creates (or refreshes) the login role `role` on the database of `adminUrl`: no attribute beyond LOGIN, no
 * membership, SELECT on the study's tables and views (those the migrations create; run it again after an upgrade
 * adds some), nothing on other tables of schema public. A new role gets a random password; `newPassword` sets a
 * new one on an existing role. Checks the result with `rightsBeyondReading` and refuses if the role can do more.
 */
export async function createReader(adminUrl: string, opts: { role?: string; newPassword?: boolean } = {}): Promise<ReaderInfo> {
  const role = opts.role ?? READER_ROLE;
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(role)) {
    throw new UserError(`--role '${role}' is not a plain role name (lower-case letters, digits and _, starting with a letter or _).`);
  }
  await (await openDatabase(adminUrl)).close(); // the study's tables and views exist (migrations applied)
  const { default: postgres } = await import('postgres');
  const conn = postgres(adminUrl, { max: 1, onnotice: () => {}, connect_timeout: 10, connection: { application_name: 'melanoma sql-reader' } });
  try {
    const { exists } = onlyRow(
      await conn.unsafe<{ exists: boolean }[]>('select exists (select 1 from pg_roles where rolname = $1) as exists', [role]),
      `looking up role ${role}`,
    );
    const password = !exists || opts.newPassword ? randomBytes(18).toString('base64url') : null;
    const attributes = 'login nosuperuser nocreatedb nocreaterole noreplication nobypassrls noinherit';
    const { ddl } = onlyRow(
      await conn.unsafe<{ ddl: string }[]>(
        `select format('${exists ? 'alter' : 'create'} role %I ${attributes}' || case when $2::text is null then '' else format(' password %L', $2::text) end, $1::text) as ddl`,
        [role, password],
      ),
      'formatting the role statement',
    );
    await conn.begin(async (tx) => {
      await tx.unsafe(ddl);
      const { db } = onlyRow(await tx.unsafe<{ db: string }[]>('select quote_ident(current_database()) as db'), 'reading the database name');
      await tx.unsafe(`grant connect on database ${db} to ${role}`);
      await tx.unsafe(`revoke all on all tables in schema ${STUDY_SCHEMA} from ${role}`);
      await tx.unsafe(`revoke all on all sequences in schema ${STUDY_SCHEMA} from ${role}`);
      for (const statement of grantReadingSql(role)) await tx.unsafe(statement);
    });
    const reasons = await rightsBeyondReading(conn, role);
    if (reasons.length > 0) {
      throw new UserError(
        `the role ${role} can still do more than read the study (${reasons.join('; ')}); remove those rights as the database's owner, then run melanoma sql-reader again.`,
      );
    }
    const counts = onlyRow(
      await conn.unsafe<{ tables: number; views: number }[]>(
        `select count(*) filter (where relkind in ('r', 'p'))::integer as tables, count(*) filter (where relkind in ('v', 'm'))::integer as views
        from pg_class where relnamespace = '${STUDY_SCHEMA}'::regnamespace and has_table_privilege($1::text, oid, 'SELECT')`,
        [role],
      ),
      'counting readable tables',
    );
    return { role, created: !exists, url: readerUrl(adminUrl, role, password), passwordSet: password !== null, ...counts };
  } catch (err) {
    if (err instanceof UserError) throw err;
    throw new UserError(`cannot set up the role ${role} through ${redact(adminUrl)}: ${(err as Error).message}`);
  } finally {
    await conn.end({ timeout: 5 });
  }
}

/** `adminUrl` with its user and password replaced by the reader's (no password: the URL has none). */
export function readerUrl(adminUrl: string, role: string, password: string | null): string {
  const url = new URL(adminUrl);
  url.username = role;
  url.password = password ?? '';
  return url.toString();
}
