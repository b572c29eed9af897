// The pages' type check (tsconfig.browser.json) sees the browser's globals only. Were Node's types to reach it
// (through a server type that a page imports), `process` would exist and the directive below would fail the check.
// @ts-expect-error `process` is Node's, not the browser's
export type NodeProcess = typeof process;
