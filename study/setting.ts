/** A setting's value with where it comes from: a line of the article, the project's choice with why, or a flag. */

/** Where a setting's value comes from. `override`: a flag replaced the protocol's value (the flag as typed). */
export type Source = { article: string } | { choice: string } | { override: string };

export interface Setting<T> {
  value: T;
  source: Source;
}

/** Lines of the article (`../shared/study/README.md` renders each line), e.g. '103: 50 epochs'. */
export const article = (lines: string): Source => ({ article: lines });
/** The project's choice where the article is silent, with the reason. */
export const choice = (why: string): Source => ({ choice: why });
export const set = <T>(value: T, source: Source): Setting<T> => ({ value, source });
