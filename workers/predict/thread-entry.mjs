// Piscina worker-thread entry of the results page's predictions: loads the TypeScript task through tsx.
import { register } from 'tsx/esm/api';

register();
const task = await import('./thread.ts');
export default task.default;
