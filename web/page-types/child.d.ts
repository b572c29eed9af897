/**
 * What an element built by web/public/common.js's el() and fill() holds: nodes and text (strings, numbers); null,
 * undefined and false are skipped, and arrays are flattened. Here rather than in a JSDoc @typedef, which cannot refer
 * to itself through an array.
 */
export type Child = Node | string | number | boolean | null | undefined | Child[];
