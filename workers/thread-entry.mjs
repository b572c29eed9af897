// Piscina worker-thread entry: loads the TypeScript task through tsx (each thread has its own module graph).
import { register } from 'tsx/esm/api';

register();
const task = await import('./thread.ts');
export default task.default;
