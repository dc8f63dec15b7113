// ESM entry point of mixerlead/testing: the same class as the CommonJS one.
import testing from './testing.js';

export const { Emulator } = testing;
export default testing;
