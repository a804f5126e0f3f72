/**
 * The gap rules live with discovery (shared/discovery/ledger-gaps.ts): the lookup API's runs route applies them too.
 */
export { findGaps } from '../shared/discovery/ledger-gaps.js';
export type { ChainedRun, GapRules, LedgerGap } from '../shared/discovery/ledger-gaps.js';
