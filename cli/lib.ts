/**
 * The library as the CLI sees it: one seam for the parts it uses beyond the C
 * faces (the Promise face and the engine counters).
 */
export { counters, promises, type EngineCounters as Counters } from '../src/index';
