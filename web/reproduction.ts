/**
 * The reproduction report of one experiment (study/reproduction.ts) from the database: the JSON API's
 * /api/experiments/:id/reproduction and `melanoma report` both call `reproductionReport`, so they give the same
 * document.
 */
import type { Database } from '../db/index.ts';
import { reproductionInput } from '../db/reproduction.ts';
import { buildReproduction, type ReproductionReport } from '../study/reproduction.ts';

/** Null for an unknown experiment. */
export async function reproductionReport(database: Database, experimentId: number): Promise<ReproductionReport | null> {
  const input = await reproductionInput(database, experimentId);
  return input && buildReproduction(input);
}
