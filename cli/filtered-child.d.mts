export const FILTERED_COMMANDS: readonly string[];
export function runFilteredChild(script: string, args: string[], verbose: boolean): Promise<void>;
export function adoptFilteredStderr(): boolean;
