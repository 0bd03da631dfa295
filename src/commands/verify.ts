import { notYet } from './not-yet.js';

export const verify = notYet('verify', 'check every slice, payload and summary against the invariants',
  { json: { type: 'boolean' } }, { '--json': 'machine-readable output' });
