// @ts-check
// The pages' form controls: a <select> built from a list of values and its value read back as one of them, and a
// control with its label.
/** @import { Child } from '../page-types/child.js' */
import { el } from './common.js';

/**
 * The value of a <select> whose options are `values`, as one of them.
 * @template {string} T
 * @param {HTMLSelectElement} select
 * @param {readonly T[]} values
 * @returns {T}
 */
export function selected(select, values) {
  const value = values.find((v) => v === select.value);
  if (value === undefined) throw new Error(`'${select.value}' is none of ${values.join(', ')}`);
  return value;
}

/**
 * <option>s of `values`, the one equal to `chosen` selected (none: the browser selects the first), each shown as
 * `label(value)`.
 * @template {string} T
 * @param {readonly T[]} values
 * @param {string | null} [chosen]
 * @param {(value: T) => string} [label]
 */
export function optionList(values, chosen = null, label = (v) => v) {
  return values.map((v) => el('option', { value: v, selected: v === chosen }, label(v)));
}

/**
 * A <select> of `values` (optionList), read back with selected().
 * @template {string} T
 * @param {Record<string, unknown>} attrs
 * @param {readonly T[]} values
 * @param {string | null} [chosen]
 * @param {(value: T) => string} [label]
 */
export function picker(attrs, values, chosen, label) {
  return el('select', attrs, optionList(values, chosen, label));
}

/**
 * A control with its label in front: 'Split ' and the <select>.
 * @param {string} text
 * @param {Child[]} inputs
 */
export function control(text, ...inputs) {
  return el('label', { class: 'control' }, `${text} `, ...inputs);
}
