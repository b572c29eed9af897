/** Flag parsers shared by the CLIs: each rejects a bad value with a message naming the value (exit code 2). */
import { InvalidArgumentError, Option, type Command } from 'commander';
import { MAX_IMAGE_SIZE } from '../study/image-size.ts';
import { OVERRIDE_FLAGS, type Overrides } from '../study/protocol.ts';
import { BACKEND_NAMES } from '../study/run.ts';

export function positiveInt(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < 1) {
    throw new InvalidArgumentError(`'${value}' is not a positive integer.`);
  }
  return n;
}

export function nonNegativeInt(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n)) {
    throw new InvalidArgumentError(`'${value}' is not a non-negative integer.`);
  }
  return n;
}

export function positiveNumber(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0) {
    throw new InvalidArgumentError(`'${value}' is not a positive number.`);
  }
  return n;
}

export function oneOf<T extends string>(choices: readonly T[]) {
  return (value: string): T => {
    if (!(choices as readonly string[]).includes(value)) {
      throw new InvalidArgumentError(`'${value}' is not one of ${choices.join(', ')}.`);
    }
    return value as T;
  };
}

/** Comma-separated list whose items must each be one of `choices`. */
export function listOf<T extends string>(choices: readonly T[]) {
  const item = oneOf(choices);
  return (value: string): T[] => {
    const items = value
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    if (items.length === 0) throw new InvalidArgumentError(`'${value}' is an empty list.`);
    return items.map(item);
  };
}

/** A TCP port, 0-65535 (0: the system picks a free one). */
export function port(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || n > 65535) throw new InvalidArgumentError(`'${value}' is not a port number (0-65535).`);
  return n;
}

/** --image-size: a positive integer up to MAX_IMAGE_SIZE (each model's minimum is checked with the models, see study/image-size.ts). */
export function imageSize(value: string): number {
  const n = positiveInt(value);
  if (n > MAX_IMAGE_SIZE)
    throw new InvalidArgumentError(
      `${n} px is over the maximum of ${MAX_IMAGE_SIZE} (a batch of Xception's activations at a larger size outgrows the memory a backend can address).`,
    );
  return n;
}

/** What --help says of --image-size, the same for every command. */
export const IMAGE_SIZE_HELP =
  `images are resized to this square size, at most ${MAX_IMAGE_SIZE} (at the default batch of 32, Xception's largest ` +
  `activations at a larger size outgrow the 4 GiB a backend can address; see study/image-size.ts)`;

/** Each flag that overrides a protocol setting: its argument, its help and its parser, for every command that takes it. */
const OVERRIDES: Record<keyof Overrides, { arg: string; help: string; parse: (value: string) => number }> = {
  runs: { arg: '<n>', help: "runs of every model (default: the protocol's: seed 10, 1 of a fine-tuning model; extended 10)", parse: positiveInt },
  epochs: { arg: '<n>', help: "maximum epochs of a run (default: the protocol's for its model)", parse: positiveInt },
  patience: { arg: '<n>', help: "stop after this many epochs without a val ROC AUC gain (default: the protocol's, 10)", parse: positiveInt },
  learningRate: { arg: '<x>', help: "Adam learning rate (default: the protocol's for the model)", parse: positiveNumber },
  batchSize: { arg: '<n>', help: "images per training step (default: the protocol's, 32)", parse: positiveInt },
  imageSize: { arg: '<px>', help: `${IMAGE_SIZE_HELP} (default: the protocol's, 224)`, parse: imageSize },
};

/** The options of the flags that override protocol settings, in the order given. */
export function overrideOptions(...keys: (keyof Overrides)[]): Option[] {
  return keys.map((key) => new Option(`${OVERRIDE_FLAGS[key]} ${OVERRIDES[key].arg}`, OVERRIDES[key].help).argParser(OVERRIDES[key].parse));
}

/** --backend, the same for every command that trains. */
export function backendOption(): Option {
  return new Option('--backend <name>', `compute backend: ${BACKEND_NAMES.join(', ')}`).argParser(oneOf(BACKEND_NAMES)).default('auto');
}

/**
 * --verbose, the same for every command that may open a WebGPU adapter: those run Dawn in child processes whose
 * stderr passes a filter (common/native-stderr.mjs); `melanoma`'s entry reads the flag before commander does.
 */
export function verboseOption(): Option {
  return new Option('--verbose', 'show the warnings Dawn prints on opening a GPU adapter ("maxDynamic... artificially reduced"); also MELANOMA_VERBOSE=1');
}

/** --data, the same for every command that reads the dataset. */
export function dataOption(): Option {
  return new Option('--data <dir>', 'dataset folder in the Kaggle layout (default: $MELANOMA_DATA, else ./data)');
}

/** --weights, the same for every command that builds a pretrained model. */
export function weightsOption(): Option {
  return new Option('--weights <path>', 'ImageNet weights of the pretrained models, a file or a folder (default: the weights cache, see `melanoma weights`)');
}

/** Adds `options` to `command`, in order; returns the command to chain on. */
export function withOptions(command: Command, options: Option[]): Command {
  for (const option of options) command.addOption(option);
  return command;
}
