import { notYet } from './not-yet.js';

export const status = notYet('status', 'one row per stream: slices by status, completeness, gaps, lag',
  { json: { type: 'boolean' } }, { '--json': 'machine-readable output' });
